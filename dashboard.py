"""Entry point: page frame, login gate and navigation.

``st.navigation`` is called on every run — with only the login page while
nobody is logged in — so no page is reachable by URL without a login. The
pages a role may not use are left out of the navigation (ui/navigation.py).
"""

from datetime import timedelta
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from redflags.labels import plain
from services import demo
from services.access import Actor
from ui import log_privacy, navigation, state

log_privacy.withhold_exception_messages()
st.set_page_config(
    page_title="Red-flag review",
    # A file served by the dashboard itself: a Material icon here is fetched from
    # Google's font servers on every page load.
    page_icon=str(Path(__file__).parent / "ui" / "favicon.png"),
    layout="wide",
)


DEMO_BANNER = "**Synthetic demo data.** Every patient here is invented; nothing is a real record."


@st.fragment(run_every=timedelta(seconds=state.LOGIN_WATCH_SECONDS))
def watch_login() -> None:
    """Between clicks, end a login that ran out: a screen left open does not stay open."""
    try:
        lapsed = state.login_has_lapsed()
    except state.DATABASE_DOWN:
        return  # the database is not answering: the next click's run says so
    if lapsed:
        st.rerun(scope="app")


def setup_not_valid() -> None:
    """Shown instead of every page while the setup is not usable (rules.md §10, settings)."""
    problem = state.setup_problem()
    if problem is None:
        return
    st.title("The dashboard cannot start")
    st.error(f"{problem.what}:\n\n{plain(problem.problem)}", icon=":material/rule:")
    st.info(problem.remedy, icon=":material/build:")


def login_only() -> StreamlitPage:
    """Only the login page, under every page's URL: a link to a report leads to the
    report once logged in (the URL and its ?patient= stay as they were)."""
    return st.navigation(
        [
            st.Page("pages/login.py", title="Log in", icon=":material/login:", default=True),
            *(
                st.Page("pages/login.py", title="Log in", url_path=url_path)
                for url_path in navigation.url_paths_behind_login()
            ),
        ],
        position="hidden",
    )


def menu_for(actor: Actor) -> StreamlitPage:
    """The pages ``actor``'s role may use, in a menu of their own; the sidebar's user box."""
    sections = {
        section: [
            st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec.default)
            for spec in specs
        ]
        for section, specs in navigation.visible_pages(actor).items()
    }
    # The pages this role may not open keep their URLs, to say so: never in the menu,
    # and their scripts never run (each also checks the permission itself).
    refused = [
        st.Page(
            partial(state.refuse_page, actor, spec.permission, spec.title, Path(spec.path).stem),
            title=spec.title,
            url_path=Path(spec.path).stem,
        )
        for spec in navigation.refused_pages(actor)
    ]
    page = st.navigation({**sections, "Not for this role": refused} if refused else sections)
    with st.sidebar:
        # .streamlit/config.toml hides Streamlit's own menu (showSidebarNavigation =
        # false, so that pages/ is never auto-listed); the menu is drawn here instead.
        for section, pages in sections.items():
            st.caption(section)
            for item in pages:
                st.page_link(item)
        st.divider()
        st.markdown(f"**{plain(actor.username)}** · {actor.role.value}")
        if st.button("Log out", icon=":material/logout:"):
            state.log_out()
            st.rerun()
    watch_login()
    state.note_page(page.url_path)
    if demo.is_demo(engine=state.engine()):
        st.warning(DEMO_BANNER, icon=":material/science:")
    return page


state.keep_typed_forms()
try:
    if state.setup_problem() is not None:
        page = st.navigation([st.Page(setup_not_valid, title="Setup not valid")])
    else:
        actor = state.current_actor()
        page = login_only() if actor is None else menu_for(actor)
    page.run()
except state.DATABASE_DOWN:
    # The database stopped answering (PostgreSQL restarted, the network dropped, SQLite
    # held past its busy timeout): said plainly, not Streamlit's error page. The engine
    # checks its connections before use, so the next click reconnects by itself.
    state.database_unavailable()
