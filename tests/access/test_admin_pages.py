"""The two administration pages, used by an admin: the audit log and user management."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from redflags.codes import Role
from services import audit, auth
from services.access import Actor, command_line_actor
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
    assert "Logged in" in at.selectbox(key="audit_log.action").options
    at.selectbox(key="audit_log.action").select("login").run()
    shown = at.dataframe[0].value
    assert set(shown["action"]) == {"login"} and set(shown["what"]) == {"Logged in"}
    columns = list(shown.columns)
    assert columns.index("what") + 1 == columns.index("action")
    assert at.get("download_button")
    at.button(key="audit_log.verify").click().run()
    assert not at.exception
    assert "The audit trail is intact" in at.success[0].value
    head = at.success[0].value.split("Newest hash: `")[1].rstrip("`")
    assert len(head) == 64


def test_the_audit_log_page_counts_its_rows_in_words(app_database: tuple[str, Engine]) -> None:
    _, engine = app_database
    auth.login(engine=engine, username="cleo", password=PASSWORD)
    at = _as_admin("audit_log.py")

    def counts() -> list[str]:
        return [c.value for c in at.caption if "matching row" in c.value]

    at.text_input(key="audit_log.patient").input("NOPE").run()
    assert not at.exception
    assert counts() == ["No matching rows."]
    at.text_input(key="audit_log.patient").input("").run()
    at.selectbox(key="audit_log.action").select("login").run()
    assert counts() == ["1 matching row."]
    at.selectbox(key="audit_log.action").select("user_created").run()
    assert counts() == ["3 matching rows, newest first."]


def test_the_audit_log_page_checks_a_noted_hash(app_database: tuple[str, Engine]) -> None:
    _, engine = app_database
    at = _as_admin("audit_log.py")
    at.text_input(key="audit_log.noted_hash").input("not a hash")
    at.button(key="audit_log.verify").click().run()
    assert not at.exception
    assert "not an audit hash" in at.error[0].value
    at.text_input(key="audit_log.noted_hash").input("f" * 64)
    at.button(key="audit_log.verify").click().run()
    assert not at.exception and not at.success
    assert "noted hash is not in the trail" in " ".join(m.value for m in at.markdown)
    noted = audit.verify_audit(engine=engine, actor=command_line_actor()).head_hash
    at.text_input(key="audit_log.noted_hash").input(noted.upper()).run()
    at.button(key="audit_log.verify").click().run()
    assert "the noted hash is in it" in at.success[0].value


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


def _new_user_fields(at: AppTest) -> tuple[object, ...]:
    return (
        at.text_input[0].value,
        at.selectbox[0].value,
        at.text_input[1].value,
        at.text_input[2].value,
    )


def _submit_passwords(at: AppTest, password: str, repeat: str) -> AppTest:
    at.text_input[1].input(password)
    at.text_input[2].input(repeat)
    at.button[0].click().run()
    assert not at.exception
    return at


def test_a_refused_new_user_keeps_the_name_and_role_and_clears_the_passwords(
    app_database: tuple[str, Engine],
) -> None:
    _, engine = app_database
    at = _as_admin("users.py")
    at.text_input[0].input("cleo")
    at.selectbox[0].select("viewer")
    for password, repeat, error in (
        ("a long enough password", "a long enough password", "already exists"),
        ("short", "short", "at least"),
        ("a long enough password", "another long password", "two passwords differ"),
    ):
        _submit_passwords(at, password, repeat)
        assert any(error in e.value for e in at.error), [e.value for e in at.error]
        assert _new_user_fields(at) == ("cleo", "viewer", "", "")
    at.text_input[0].input("nurse.kim")  # only the name corrected: the role is kept
    _submit_passwords(at, "a long enough password", "a long enough password")
    assert not at.error
    assert "nurse.kim (viewer) added" in at.success[0].value.replace("\\", "")
    assert [r.entity_id for r in audit_rows(engine, "user_created")][-1] == "nurse.kim"
    assert _new_user_fields(at) == ("", "clinician", "", ""), "cleared once the user is added"


def test_the_users_page_refuses_disabling_the_last_admin(
    app_database: tuple[str, Engine],
) -> None:
    at = _as_admin("users.py")
    at.selectbox(key="users.chosen").select("ada").run()
    at.button(key="users.toggle").click().run()
    assert not at.exception
    assert any("last active administrator" in e.value for e in at.error)


def test_a_second_admins_disable_click_does_not_switch_the_account_back_on(
    app_database: tuple[str, Engine],
) -> None:
    from services.users import list_users

    _, engine = app_database

    def active(username: str) -> bool:
        accounts = list_users(engine=engine, actor=Actor("ada", Role.ADMIN))
        return next(a.active for a in accounts if a.username == username)

    first, second = _as_admin("users.py"), _as_admin("users.py")
    for at in (first, second):
        at.selectbox(key="users.chosen").select("cleo").run()
        assert at.button(key="users.toggle").label == "Disable cleo"
    first.button(key="users.toggle").click().run()
    assert not first.exception and "cleo is disabled" in first.success[0].value
    assert not active("cleo")
    second.button(key="users.toggle").click().run()
    assert not second.exception
    assert any("cleo is already disabled" in e.value for e in second.error)
    assert not active("cleo"), "the second 'Disable' left the account disabled"
    assert second.button(key="users.toggle").label == "Enable cleo", "the page shows it now"
    second.button(key="users.toggle").click().run()
    assert "cleo is enabled" in second.success[0].value and active("cleo")
    assert [r.action for r in audit_rows(engine, "user_disabled")] == ["user_disabled"]


def test_the_administration_section_is_in_the_menu_of_admins_only() -> None:
    from ui.navigation import ADMINISTRATION, visible_pages

    def titles(actor: Actor) -> list[str]:
        return [spec.title for spec in visible_pages(actor).get(ADMINISTRATION, [])]

    assert titles(Actor("ada", Role.ADMIN)) == ["Audit log", "Users"]
    assert titles(Actor("cleo", Role.CLINICIAN)) == []
    assert titles(Actor("vic", Role.VIEWER)) == []


def test_disabling_an_account_ends_its_open_login_at_the_next_click(
    app_database: tuple[str, Engine],
) -> None:
    from services import users
    from tests.access.test_session_limits import run_entry

    _, engine = app_database
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    at.text_input[0].input("cleo")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    run_entry(at)
    assert state.ACTOR_KEY in at.session_state
    users.set_active(engine=engine, actor=Actor("ada", Role.ADMIN), username="cleo", active=False)
    run_entry(at)
    assert state.ACTOR_KEY not in at.session_state
    assert [t.value for t in at.title] == ["Log in"]
    assert any("account was disabled" in i.value for i in at.info)


def test_a_demoted_admin_loses_the_admin_pages_at_the_next_click(
    app_database: tuple[str, Engine],
) -> None:
    from services import users

    _, engine = app_database
    users.create_user(
        engine=engine,
        actor=Actor("ada", Role.ADMIN),
        username="boss",
        role=Role.ADMIN,
        password=PASSWORD,
    )
    at = AppTest.from_file(str(ROOT / "pages" / "users.py"), default_timeout=30)
    now = state.clock()
    at.session_state[state.ACTOR_KEY] = Actor("boss", Role.ADMIN)
    at.session_state[state.LOGGED_IN_AT_KEY] = now
    at.session_state[state.LAST_ACTIVITY_KEY] = now
    at.run()
    assert [t.value for t in at.title] == ["Users"]
    users.change_role(
        engine=engine, actor=Actor("ada", Role.ADMIN), username="boss", role=Role.VIEWER
    )
    at.run()
    assert not at.title
    assert [e.value for e in at.error] == ["Your role (viewer) does not give access to this page."]


def test_the_dashboard_records_its_rules_file_once_however_often_it_reruns(
    app_database: tuple[str, Engine],
) -> None:
    from tests.access.test_session_limits import run_entry

    _, engine = app_database
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    at.text_input[0].input("ada")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    for _ in range(3):
        run_entry(at)
        assert not at.exception
    rows = audit_rows(engine, "rules_loaded")
    assert len(rows) == 1
    assert rows[0].username == "process:dashboard"


def test_the_users_page_shows_the_settings_in_force(app_database: tuple[str, Engine]) -> None:
    at = _as_admin("users.py")
    assert not at.exception
    assert "Settings in force" in [s.value for s in at.subheader]
    (table,) = [d.value for d in at.dataframe if "variable" in d.value.columns]
    assert "REDFLAGS_IDLE_MINUTES" in set(table["variable"])
    url = app_database[0]
    assert set(table.loc[table["variable"] == "DATABASE_URL", "value"]) == {url}
