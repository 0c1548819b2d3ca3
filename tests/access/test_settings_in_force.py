"""The settings in force, shown to administrators: what the program uses, password hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from streamlit.testing.v1 import AppTest

from redflags.codes import Role
from services.access import Actor, PermissionDenied
from services.installation import settings_in_force
from tests.access.conftest import ADMIN, CLINICIAN
from ui import state

ROOT = Path(__file__).resolve().parents[2]


def _by_setting(engine: Engine) -> dict[str, tuple[str, str, bool]]:
    return {
        item.setting: (item.value, item.variable, item.set_here)
        for item in settings_in_force(engine=engine, actor=ADMIN)
    }


def test_defaults_and_set_values_are_told_apart(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "CLINIC_TIMEZONE",
        "REDFLAGS_IDLE_MINUTES",
        "REDFLAGS_IMPORT_MAX_BYTES",
        "REDFLAGS_DATE_INPUT_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDFLAGS_LOCKOUT_MINUTES", "30")
    said = _by_setting(engine)
    assert said["Clinic time zone"] == ("UTC", "CLINIC_TIMEZONE", False)
    assert said["Idle logoff"] == ("after 15 min without activity", "REDFLAGS_IDLE_MINUTES", False)
    assert said["Lockout"] == (
        "5 failed logins in a row lock an account for 30 min",
        "REDFLAGS_LOCKOUT_MINUTES",
        True,
    )
    assert said["Largest CSV an import accepts"][0] == "200 MB"
    assert said["Dates typed as"][0] == "DD/MM/YYYY"
    monkeypatch.setenv("CLINIC_TIMEZONE", "Europe/London")
    monkeypatch.setenv("REDFLAGS_IMPORT_MAX_BYTES", "1000")
    said = _by_setting(engine)
    assert said["Clinic time zone"] == ("Europe/London", "CLINIC_TIMEZONE", True)
    assert said["Largest CSV an import accepts"][0] == "1,000 bytes"
    assert said["Rules file"][0].endswith("rules.toml")


def test_the_database_is_named_without_its_password() -> None:
    engine = create_engine("postgresql+psycopg://clinic:s3cret-pass@db.example:5432/redflags")
    (database,) = [
        i for i in settings_in_force(engine=engine, actor=ADMIN) if i.variable == "DATABASE_URL"
    ]
    assert "s3cret-pass" not in database.value
    assert database.value == "postgresql+psycopg://clinic:***@db.example:5432/redflags"


def test_only_administrators_see_them(engine: Engine) -> None:
    for actor in (CLINICIAN, Actor("vic", Role.VIEWER)):
        with pytest.raises(PermissionDenied):
            settings_in_force(engine=engine, actor=actor)


def test_the_users_page_shows_them(app_database: tuple[str, Engine]) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "users.py"), default_timeout=30)
    now = state.clock()
    at.session_state[state.ACTOR_KEY] = Actor("ada", Role.ADMIN)
    at.session_state[state.LOGGED_IN_AT_KEY] = now
    at.session_state[state.LAST_ACTIVITY_KEY] = now
    at.run()
    assert not at.exception
    assert "Settings in force" in [s.value for s in at.subheader]
    (table,) = [d.value for d in at.dataframe if "variable" in d.value.columns]
    assert "REDFLAGS_IDLE_MINUTES" in set(table["variable"])
    url = app_database[0]
    assert set(table.loc[table["variable"] == "DATABASE_URL", "value"]) == {url}
