"""Rules in force: which rules file the dashboard uses, and every value in it."""

import streamlit as st

from redflags.config import RULES_FILE_ENV, SHIPPED_RULES_FILE, rules_file_in_force
from redflags.labels import plain
from services.access import Permission
from services.rules_info import rules_table
from ui import state

actor = state.require_login()
st.title("Rules in force")

path = rules_file_in_force().resolve()
source = (
    "the rules file shipped with the dashboard (the defaults of the clinical rules)"
    if path == SHIPPED_RULES_FILE.resolve()
    else f"the clinic's own file, named by {RULES_FILE_ENV}"
)
# The server's folders are the administrator's business; everyone sees which file it is.
administrator = actor.can(Permission.MANAGE_USERS)
st.markdown(f"Rules file: `{path if administrator else path.name}`")
st.caption(
    f"This is {source}. It was read and checked when the dashboard started; a change to "
    "the file takes effect after a restart. "
    + (
        f"To change a value, copy the file, edit it, point {RULES_FILE_ENV} at the copy and "
        "restart."
        if administrator
        else "The clinic's administrator can change a value."
    )
)
table = rules_table(state.rules(), path)
st.dataframe(
    table,
    hide_index=True,
    height=35 * (len(table) + 1) + 3,
    column_config={
        "key": st.column_config.TextColumn("Setting", pinned=True),
        "value": st.column_config.TextColumn("Value", width="small"),
        "meaning": st.column_config.TextColumn("What it does", width="large"),
    },
)
st.caption(
    "Every flag and recommendation cites these thresholds in its evidence. "
    f"{plain('Status order: urgent > red > amber > green.')}"
)
