"""Database tables, the engine and the queries that return DataFrames.

Nothing outside this package writes SQL.
"""
