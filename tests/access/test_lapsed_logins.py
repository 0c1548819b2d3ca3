"""Work that Streamlit runs outside a page's login check obeys the login as it is *now*.

Widget callbacks run before the entry script, and a deferred download is
built in a thread of its own when it is clicked, however much later. Both
must refuse once the login has lapsed (idle, session limit), the account was
disabled, or its role no longer allows the work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from models.tables import patient_table
from redflags.codes import Role
from services import auth, users
from services.access import Actor, Permission, PermissionDenied, command_line_actor
from services.settings import AccessSettings
from tests.access.conftest import ADMIN, CLINICIAN, VIEWER, audit_rows, details
from tests.access.test_session_limits import FakeClock, run_entry
from tests.pages.helpers import ENTRY, TIMEOUT
from ui import navigation, state

T0 = datetime(2026, 11, 20, 8, 0)
SETTINGS = AccessSettings(idle_minutes=15, session_hours=12)


def _snapshot(actor: Actor, *, idle: timedelta = timedelta(0)) -> auth.LoginSnapshot:
    return auth.LoginSnapshot(actor=actor, logged_in_at=T0, last_activity_at=T0 - idle)


def test_a_click_within_the_limits_runs_for_the_account_as_it_is(accounts: Engine) -> None:
    actor = auth.actor_at_click(
        engine=accounts,
        login=_snapshot(CLINICIAN),
        permission=Permission.EXPORT_RECORDS,
        now=T0 + timedelta(minutes=14),
        settings=SETTINGS,
    )
    assert actor == CLINICIAN


@pytest.mark.parametrize(
    ("since_page", "reason"),
    [(timedelta(minutes=15), "idle"), (timedelta(hours=12), "session limit")],
)
def test_a_click_after_the_login_lapsed_is_refused(
    accounts: Engine, since_page: timedelta, reason: str
) -> None:
    login = auth.LoginSnapshot(actor=CLINICIAN, logged_in_at=T0, last_activity_at=T0)
    if reason == "session limit":  # active until a minute ago, but twelve hours old
        login = auth.LoginSnapshot(
            actor=CLINICIAN,
            logged_in_at=T0,
            last_activity_at=T0 + since_page - timedelta(minutes=1),
        )
    with pytest.raises(auth.LoginExpired, match=reason):
        auth.actor_at_click(
            engine=accounts,
            login=login,
            permission=Permission.EXPORT_RECORDS,
            now=T0 + since_page,
            settings=SETTINGS,
        )


def test_a_click_after_the_account_was_disabled_is_refused(accounts: Engine) -> None:
    users.set_active(engine=accounts, actor=ADMIN, username=CLINICIAN.username, active=False)
    with pytest.raises(auth.LoginExpired, match="disabled"):
        auth.actor_at_click(
            engine=accounts,
            login=_snapshot(CLINICIAN),
            permission=Permission.EXPORT_RECORDS,
            now=T0,
            settings=SETTINGS,
        )


def test_a_click_after_the_role_was_lowered_is_refused(accounts: Engine) -> None:
    users.change_role(engine=accounts, actor=ADMIN, username=CLINICIAN.username, role=Role.VIEWER)
    with pytest.raises(PermissionDenied, match="viewer"):
        auth.actor_at_click(
            engine=accounts,
            login=_snapshot(CLINICIAN),
            permission=Permission.EXPORT_RECORDS,
            now=T0,
            settings=SETTINGS,
        )
    [denied] = audit_rows(accounts, "access_denied")
    assert (denied.username, denied.role, denied.entity_id) == ("cleo", "viewer", "export_records")
    assert details(denied) == {"where": "download"}


def test_a_click_after_a_role_was_raised_runs_with_the_new_role(accounts: Engine) -> None:
    users.change_role(engine=accounts, actor=ADMIN, username=VIEWER.username, role=Role.CLINICIAN)
    actor = auth.actor_at_click(
        engine=accounts,
        login=_snapshot(VIEWER),
        permission=Permission.EXPORT_RECORDS,
        now=T0,
        settings=SETTINGS,
    )
    assert actor.role is Role.CLINICIAN


# ------------------------------------------------------------------ in the dashboard


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(T0)
    monkeypatch.setattr(state, "clock", fake)
    return fake


def _log_session_page(clock: FakeClock) -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT)
    at.session_state[state.ACTOR_KEY] = CLINICIAN
    at.session_state[state.LOGGED_IN_AT_KEY] = clock.now
    at.session_state[state.LAST_ACTIVITY_KEY] = clock.now
    at.run()
    at.switch_page(navigation.LOG_SESSION.path).run()
    assert not at.exception
    at.text_input(key="log.new_code").input("NEW-1")
    at.text_input(key="log.new_name").input("Robin Example")
    return at


def _patients(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(patient_table)).scalar_one())


def test_a_save_clicked_in_time_is_written(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = _log_session_page(clock)
    clock.now += timedelta(minutes=14)
    at.button(key="log.add").click().run()
    assert not at.exception
    assert _patients(engine) == 1


def test_a_save_clicked_after_the_idle_limit_writes_nothing_and_logs_off(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = _log_session_page(clock)
    clock.now += timedelta(minutes=20)
    at.button(key="log.add").click()
    run_entry(at)
    assert not at.exception
    assert _patients(engine) == 0
    assert state.ACTOR_KEY not in at.session_state
    assert [t.value for t in at.title] == ["Log in"]


def test_a_save_clicked_after_the_role_was_lowered_writes_nothing(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = _log_session_page(clock)
    users.change_role(
        engine=engine, actor=command_line_actor(), username=CLINICIAN.username, role=Role.VIEWER
    )
    at.button(key="log.add").click()
    run_entry(at)
    assert not at.exception
    assert _patients(engine) == 0
    assert at.session_state[state.ACTOR_KEY] == Actor(CLINICIAN.username, Role.VIEWER)
    [denied] = audit_rows(engine, "access_denied")
    assert (denied.username, denied.role, denied.entity_id) == ("cleo", "viewer", "write_clinical")
    assert details(denied) == {"where": "button"}


def _builder_script() -> None:
    import streamlit as st

    from services.access import Permission
    from ui import state

    st.session_state["build"] = state.at_click(
        Permission.EXPORT_RECORDS, lambda who: f"{who.username},{who.role.value}".encode()
    )


def test_a_deferred_download_builds_for_the_login_still_valid_at_the_click(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = AppTest.from_function(_builder_script, default_timeout=TIMEOUT)
    at.session_state[state.ACTOR_KEY] = CLINICIAN
    at.session_state[state.LOGGED_IN_AT_KEY] = clock.now
    at.session_state[state.LAST_ACTIVITY_KEY] = clock.now
    at.run()
    build = at.session_state["build"]
    clock.now += timedelta(minutes=10)
    assert build() == b"cleo,clinician"
    clock.now += timedelta(minutes=6)  # sixteen minutes after the page was drawn
    with pytest.raises(auth.LoginExpired):
        build()
    clock.now = T0
    users.set_active(engine=engine, actor=command_line_actor(), username="cleo", active=False)
    with pytest.raises(auth.LoginExpired):
        build()


def test_an_open_page_notices_a_lapsed_login_between_clicks(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database

    def lapsed_script() -> None:
        import streamlit as st

        from ui import state

        st.session_state["lapsed"] = state.login_has_lapsed()

    at = AppTest.from_function(lapsed_script, default_timeout=TIMEOUT)
    at.session_state[state.ACTOR_KEY] = CLINICIAN
    at.session_state[state.LOGGED_IN_AT_KEY] = clock.now
    at.session_state[state.LAST_ACTIVITY_KEY] = clock.now
    assert at.run().session_state["lapsed"] is False
    clock.now += timedelta(minutes=15)
    assert at.run().session_state["lapsed"] is True
    assert at.session_state[state.LAST_ACTIVITY_KEY] == T0, "polling is not activity"
    clock.now = T0
    users.change_role(engine=engine, actor=command_line_actor(), username="cleo", role=Role.VIEWER)
    assert at.run().session_state["lapsed"] is True
