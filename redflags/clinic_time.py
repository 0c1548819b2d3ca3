"""Clinic-local time versus stored UTC time.

Dates in CSV files and on screen are the clinic's local time (naive ISO 8601);
the database stores naive UTC. ``CLINIC_TIMEZONE`` (an IANA name such as
``Europe/London``) sets the clinic's zone; unset means UTC.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ClinicTimezoneError(ValueError):
    """CLINIC_TIMEZONE is not a known time zone."""


def clinic_timezone() -> ZoneInfo:
    """The clinic's time zone from ``CLINIC_TIMEZONE`` (default UTC)."""
    name = os.environ.get("CLINIC_TIMEZONE", "").strip() or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ClinicTimezoneError(
            f"CLINIC_TIMEZONE={name!r} is not a time zone; use an IANA name such as Europe/London"
        ) from error


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive clinic-local time (or an aware one) as naive UTC."""
    aware = local if local.tzinfo else local.replace(tzinfo=tz)
    return aware.astimezone(UTC).replace(tzinfo=None)


def utc_to_local(utc: datetime, tz: ZoneInfo) -> datetime:
    """A naive UTC time as naive clinic-local time."""
    return utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """Today's date at the clinic (``now`` is an aware or UTC-naive instant)."""
    instant = now or datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(tz).date()
