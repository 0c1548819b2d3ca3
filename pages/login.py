"""Log in: the only page anyone sees before logging in."""

import streamlit as st

from services import auth, demo, users
from ui import state

st.title("Log in")
st.caption("Ketamine and esketamine red-flag review. Authorised care-team members only.")

notice = st.session_state.pop("logout_notice", None)
if notice:
    st.info(notice)

engine = state.engine()
if users.count_users(engine=engine) == 0:
    st.warning(
        "No account exists yet. On the server, create the first administrator with "
        "`python manage.py create-user NAME --role admin` (the password is asked for at a prompt)."
    )
elif demo.is_demo(engine=engine):
    st.info("This is the synthetic demo clinic: log in as **demo** with the password **demo**.")

with st.form("login"):
    username = st.text_input("Username", autocomplete="username")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    submitted = st.form_submit_button("Log in", type="primary")

if submitted:
    result = auth.login(engine=engine, username=username, password=password)
    if result.actor is None:
        st.error(result.message)
    else:
        state.log_in(result.actor)
        st.rerun()
