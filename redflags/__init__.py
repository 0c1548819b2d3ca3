"""Domain logic of the red-flag dashboard: codes, session fields, rules, records.

Nothing in this package imports Streamlit or the database; it works on plain
Python values and pandas DataFrames so that it can be tested on its own.
"""
