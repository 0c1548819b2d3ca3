"""The two administration pages, used by an admin: the audit log and user management."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from redflags.codes import Role
from services import auth
from services.access import Actor
from tests.access.conftest import PASSWORD, audit_rows
from ui import state

ROOT = Path(__file__).resolve().parents[2]


def _as_admin(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=30)
    now = state.clock()
    at.session_state[state.ACTOR_KEY] = Actor("ada", Role.ADMIN)
    at.session_state[state.LOGGED_IN_AT_KEY] = now
    at.session_state[state.LAST_ACTIVITY_KEY] = now
    return at.run()


def test_the_audit_log_page_lists_rows_filters_and_verifies_the_chain(
    app_database: tuple[str, Engine],
) -> None:
    _, engine = app_database
    auth.login(engine=engine, username="cleo", password=PASSWORD)
    at = _as_admin("audit_log.py")
    assert not at.exception
    assert [t.value for t in at.title] == ["Audit log"]
    table = at.dataframe[0].value
    assert {"user_created", "login"} <= set(table["action"])
    at.selectbox(key="audit_log.action").select("login").run()
    assert set(at.dataframe[0].value["action"]) == {"login"}
    assert at.get("download_button")
    at.button(key="audit_log.verify").click().run()
    assert not at.exception
    assert "The audit trail is intact" in at.success[0].value


def test_the_users_page_adds_a_user_and_the_change_is_audited(
    app_database: tuple[str, Engine],
) -> None:
    _, engine = app_database
    at = _as_admin("users.py")
    assert not at.exception
    assert list(at.dataframe[0].value["username"]) == ["ada", "cleo", "vic"]
    at.text_input[0].input("nurse.kim")
    at.text_input[1].input("a long enough password")
    at.text_input[2].input("a long enough password")
    at.button[0].click().run()
    assert not at.exception
    assert "nurse.kim" in list(at.dataframe[0].value["username"])
    assert [r.entity_id for r in audit_rows(engine, "user_created")][-1] == "nurse.kim"
    assert auth.login(engine=engine, username="nurse.kim", password="a long enough password").actor


def test_the_users_page_refuses_disabling_the_last_admin(
    app_database: tuple[str, Engine],
) -> None:
    at = _as_admin("users.py")
    at.selectbox(key="users.chosen").select("ada").run()
    at.button(key="users.toggle").click().run()
    assert not at.exception
    assert any("last active administrator" in e.value for e in at.error)
