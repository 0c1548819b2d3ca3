"""Installation settings read from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass


class SettingsError(ValueError):
    """An environment setting has a value this program cannot use."""


def _int_env(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} must be from {low} to {high}")
    return value


#: How a date is typed in the dashboard's date fields (REDFLAGS_DATE_INPUT_FORMAT): the
#: clinic's own order. Shown dates are always unambiguous ("3 Nov 2026").
DATE_INPUT_FORMATS: tuple[str, ...] = ("DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD")
DATE_INPUT_FORMAT_ENV = "REDFLAGS_DATE_INPUT_FORMAT"


def date_input_format() -> str:
    """The date fields' format from the environment (default DD/MM/YYYY)."""
    raw = os.environ.get(DATE_INPUT_FORMAT_ENV, "").strip()
    if not raw:
        return DATE_INPUT_FORMATS[0]
    if raw.upper() not in DATE_INPUT_FORMATS:
        raise SettingsError(
            f"{DATE_INPUT_FORMAT_ENV}={raw!r} must be one of {', '.join(DATE_INPUT_FORMATS)}"
        )
    return raw.upper()


@dataclass(frozen=True)
class AccessSettings:
    """Login and session limits."""

    #: Failed logins in a row that lock an account.
    max_failed_logins: int = 5
    #: How long a locked account stays locked, minutes (REDFLAGS_LOCKOUT_MINUTES).
    lockout_minutes: int = 15
    #: Idle time after which a user is logged off, minutes (REDFLAGS_IDLE_MINUTES).
    idle_minutes: int = 15
    #: Longest a login lasts however active, hours (REDFLAGS_SESSION_HOURS).
    session_hours: int = 12


def access_settings() -> AccessSettings:
    """The access settings from the environment (defaults above)."""
    return AccessSettings(
        lockout_minutes=_int_env("REDFLAGS_LOCKOUT_MINUTES", 15, 1, 24 * 60),
        idle_minutes=_int_env("REDFLAGS_IDLE_MINUTES", 15, 1, 24 * 60),
        session_hours=_int_env("REDFLAGS_SESSION_HOURS", 12, 1, 72),
    )
