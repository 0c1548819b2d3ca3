"""No page is reachable without a login: not through the entry script, not by its own path.

``dashboard.py`` registers only the login page while nobody is logged in, and
every page checks the login itself, so that even a run that goes straight to a
page file (Streamlit's legacy ``pages/`` routing, used until a session has
called ``st.navigation``) shows a warning and nothing of the page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from tests.access.conftest import audit_rows, details

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "dashboard.py"
PAGES = sorted(p for p in (ROOT / "pages").glob("*.py") if p.name != "login.py")
LOGIN_WARNING = "Please [log in](./) to see this page."
TIMEOUT = 30


def _page_ids() -> list[str]:
    return [p.name for p in PAGES]


def test_the_admin_pages_exist() -> None:
    assert {"audit_log.py", "users.py"} <= {p.name for p in PAGES}


def test_logged_out_the_entry_script_shows_only_the_login_page(
    app_database: tuple[str, Engine],
) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Log in"]
    registered = {str(info.get("script_path")) for info in at._registered_pages.values()}
    assert registered == {str(ROOT / "pages" / "login.py")}, "every URL shows the login page"


@pytest.mark.parametrize("page", PAGES, ids=_page_ids())
def test_logged_out_switching_to_a_page_still_shows_no_page(
    page: Path, app_database: tuple[str, Engine]
) -> None:
    at = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT).run()
    # The page is not registered while logged out, so it cannot be switched to...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"pages/{page.name}")
    # ...and asking for its URL (the page hash a browser sends) shows no content either.
    at._page_hash = calc_hash(page.stem)
    at.run()
    assert not at.exception
    titles = [t.value for t in at.title]
    warnings = [w.value for w in at.warning]
    assert titles == ["Log in"] or (warnings == [LOGIN_WARNING] and len(at.main.children) == 1)


@pytest.mark.parametrize("page", PAGES, ids=_page_ids())
def test_logged_out_a_page_run_by_its_own_path_shows_the_warning_and_nothing_else(
    page: Path, app_database: tuple[str, Engine]
) -> None:
    at = AppTest.from_file(str(page), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [LOGIN_WARNING]
    assert len(at.main.children) == 1
    assert not at.title and not at.dataframe and not at.sidebar.children


@pytest.mark.parametrize(
    ("page", "role_name"),
    [("audit_log.py", "cleo"), ("users.py", "cleo"), ("audit_log.py", "vic"), ("users.py", "vic")],
)
def test_the_admin_pages_refuse_other_roles_by_their_own_check(
    page: str, role_name: str, app_database: tuple[str, Engine]
) -> None:
    from redflags.codes import Role
    from services.access import Actor
    from ui import state

    role = Role.CLINICIAN if role_name == "cleo" else Role.VIEWER
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=TIMEOUT)
    now = state.clock()
    at.session_state[state.ACTOR_KEY] = Actor(role_name, role)
    at.session_state[state.LOGGED_IN_AT_KEY] = now
    at.session_state[state.LAST_ACTIVITY_KEY] = now
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"Your role ({role.value}) does not give access to this page."
    ]
    assert not at.title and not at.dataframe
    [denied] = audit_rows(app_database[1], "access_denied")
    assert (denied.username, denied.role) == (role_name, role.value)
    assert denied.entity_id == ("view_audit" if page == "audit_log.py" else "manage_users")
    assert details(denied) == {"where": "page opened by its path"}


def test_a_new_database_without_users_shows_how_to_create_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    from models import db

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    db.get_engine.cache_clear()
    st.cache_resource.clear()
    try:
        db.upgrade(db.get_engine())
        at = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT).run()
        assert not at.exception
        hints = " ".join(w.value for w in at.warning)
        assert "No account exists yet" in hints
        assert "manage.py create-user" in hints
        assert "demo" not in " ".join(i.value for i in at.info)
    finally:
        st.cache_resource.clear()
        db.get_engine.cache_clear()
