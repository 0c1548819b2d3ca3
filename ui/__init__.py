"""Streamlit helpers shared by the pages: the engine, the login state, common widgets."""
