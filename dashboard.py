"""Entry point: page frame, login gate and navigation.

``st.navigation`` is called on every run — with only the login page while
nobody is logged in — so no page is reachable by URL without a login.
"""

import streamlit as st

from services import demo
from ui import state

st.set_page_config(
    page_title="Red-flag review",
    page_icon=":material/monitor_heart:",
    layout="wide",
)

actor = state.current_actor()

if actor is None:
    page = st.navigation([st.Page("pages/login.py", title="Log in", icon=":material/login:")])
else:
    sections: dict[str, list[st.Page]] = {
        "Review": [
            st.Page(
                "pages/weekly_review.py",
                title="Weekly review",
                icon=":material/patient_list:",
                default=True,
            ),
        ],
    }
    page = st.navigation(sections)
    with st.sidebar:
        st.write(f"**{actor.username}** · {actor.role.value}")
        if st.button("Log out", icon=":material/logout:"):
            state.log_out()
            st.rerun()
    if demo.is_demo(engine=state.engine()):
        st.warning(
            "**Synthetic demo data.** Every patient here is invented; nothing is a real record.",
            icon=":material/science:",
        )

page.run()
