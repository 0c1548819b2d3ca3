"""The installation's settings in force, for administrators (read only).

The settings live in the server's environment (README, "Configuration"): an
administrator changes them there and restarts the dashboard. This shows what
the running program actually uses, so that a change can be checked, and which
ones are still at their default. The database is named without its password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine

from redflags.clinic_time import clinic_timezone
from redflags.config import rules_file_in_force
from services.access import Actor, Permission, require
from services.records import MAX_BYTES_VARIABLE, max_import_bytes
from services.settings import DATE_INPUT_FORMAT_ENV, access_settings, date_input_format


@dataclass(frozen=True)
class SettingInForce:
    """One setting: what it is, the value in force, where it is set, and if it was set."""

    setting: str
    value: str
    variable: str
    set_here: bool


def _item(setting: str, value: str, variable: str) -> SettingInForce:
    return SettingInForce(setting, value, variable, bool(os.environ.get(variable, "").strip()))


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size:,} bytes"


def settings_in_force(*, engine: Engine, actor: Actor) -> list[SettingInForce]:
    """The settings this program runs with. Needs MANAGE_USERS (administrators)."""
    require(actor, Permission.MANAGE_USERS)
    access = access_settings()
    database = engine.url.render_as_string(hide_password=True)
    return [
        _item("Database", database, "DATABASE_URL"),
        _item("Rules file", str(rules_file_in_force()), "REDFLAGS_RULES_FILE"),
        _item("Clinic time zone", clinic_timezone().key, "CLINIC_TIMEZONE"),
        _item("Dates typed as", date_input_format(), DATE_INPUT_FORMAT_ENV),
        _item("Largest CSV an import accepts", _megabytes(max_import_bytes()), MAX_BYTES_VARIABLE),
        _item(
            "Lockout",
            f"{access.max_failed_logins} failed logins in a row lock an account for "
            f"{access.lockout_minutes} min",
            "REDFLAGS_LOCKOUT_MINUTES",
        ),
        _item(
            "Idle logoff",
            f"after {access.idle_minutes} min without activity",
            "REDFLAGS_IDLE_MINUTES",
        ),
        _item(
            "Longest login",
            f"{access.session_hours} h, however active",
            "REDFLAGS_SESSION_HOURS",
        ),
    ]
