"""Idle logoff and the absolute session limit: the pure rule, and the dashboard obeying it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from services.auth import session_expiry_reason
from services.settings import AccessSettings, SettingsError, access_settings
from tests.access.conftest import PASSWORD, audit_rows, details
from ui import state

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 8, 0)
SETTINGS = AccessSettings(idle_minutes=15, session_hours=12)


def _reason(*, since_login: timedelta, idle: timedelta) -> str | None:
    now = T0 + since_login
    return session_expiry_reason(
        logged_in_at=T0, last_activity_at=now - idle, now=now, settings=SETTINGS
    )


def test_a_login_in_use_stays_valid() -> None:
    assert _reason(since_login=timedelta(hours=3), idle=timedelta(minutes=14, seconds=59)) is None


def test_fifteen_idle_minutes_log_off() -> None:
    assert _reason(since_login=timedelta(minutes=15), idle=timedelta(minutes=15)) == "idle"


def test_the_absolute_limit_logs_off_however_active() -> None:
    assert _reason(since_login=timedelta(hours=12), idle=timedelta(seconds=1)) == "session limit"
    assert _reason(since_login=timedelta(hours=11, minutes=59), idle=timedelta(0)) is None


def test_the_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDFLAGS_IDLE_MINUTES", "5")
    monkeypatch.setenv("REDFLAGS_SESSION_HOURS", "8")
    monkeypatch.setenv("REDFLAGS_LOCKOUT_MINUTES", "30")
    assert access_settings() == AccessSettings(
        max_failed_logins=5, lockout_minutes=30, idle_minutes=5, session_hours=8
    )
    monkeypatch.setenv("REDFLAGS_IDLE_MINUTES", "0")
    with pytest.raises(SettingsError, match="REDFLAGS_IDLE_MINUTES"):
        access_settings()


class FakeClock:
    """A clock the test moves by hand (ui.state.clock is replaced by it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock(T0)
    monkeypatch.setattr(state, "clock", fake)
    yield fake


def run_entry(at: AppTest) -> AppTest:
    """Run the app from dashboard.py, as a browser's reload does.

    AppTest resets Streamlit's class-wide "legacy pages/ folder" flag before
    every run, so a rerun on a page's hash executes that page file alone; the
    real server drops that flag for good once st.navigation has been called.
    Requesting the main script makes each run go through the entry script.
    """
    at._page_hash = ""
    at._finished_page_script_hash = ""
    return at.run()


def _logged_in(clock: FakeClock) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    at.text_input[0].input("ada")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    run_entry(at)
    assert not at.exception
    assert "Log in" not in [t.value for t in at.title]
    assert state.ACTOR_KEY in at.session_state
    # Something of a patient's that the session held, to see it go.
    at.session_state["patient"] = "P-001"
    return at


def test_idle_minutes_in_the_dashboard_log_off_and_clear_the_session(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = _logged_in(clock)
    clock.now = T0 + timedelta(minutes=14)
    run_entry(at)
    assert at.session_state[state.LAST_ACTIVITY_KEY] == clock.now  # activity renews the login
    clock.now = T0 + timedelta(minutes=14 + 15)
    run_entry(at)
    assert not at.exception
    assert state.ACTOR_KEY not in at.session_state
    assert "patient" not in at.session_state
    assert [t.value for t in at.title] == ["Log in"]
    assert any("15 minutes without activity" in i.value for i in at.info)
    logouts = audit_rows(engine, "logout")
    assert [details(e)["reason"] for e in logouts] == ["idle"]
    assert logouts[0].username == "ada"


def test_the_absolute_limit_in_the_dashboard_logs_off_an_active_user(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = _logged_in(clock)
    for hours in range(1, 12):  # in use every hour (never idle) ...
        clock.now = T0 + timedelta(hours=hours)
        at.session_state[state.LAST_ACTIVITY_KEY] = clock.now - timedelta(minutes=1)
        run_entry(at)
        assert state.ACTOR_KEY in at.session_state
    clock.now = T0 + timedelta(hours=12)  # ... until the login is twelve hours old
    at.session_state[state.LAST_ACTIVITY_KEY] = clock.now - timedelta(minutes=1)
    run_entry(at)
    assert state.ACTOR_KEY not in at.session_state
    assert "patient" not in at.session_state
    assert [t.value for t in at.title] == ["Log in"]
    assert [details(e)["reason"] for e in audit_rows(engine, "logout")] == ["session limit"]


def test_logging_out_by_the_button_clears_the_session_and_is_audited(
    app_database: tuple[str, Engine], clock: FakeClock
) -> None:
    _, engine = app_database
    at = _logged_in(clock)
    at.sidebar.button[0].click()
    run_entry(at)
    assert state.ACTOR_KEY not in at.session_state
    assert "patient" not in at.session_state
    assert [t.value for t in at.title] == ["Log in"]
    assert [details(e)["reason"] for e in audit_rows(engine, "logout")] == ["user"]
