"""The settings in force, shown to administrators: what the program uses, password hidden."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine

from redflags.codes import Role
from services.access import Actor, PermissionDenied
from services.installation import settings_in_force
from tests.access.conftest import ADMIN, CLINICIAN


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
