"""The weekly review: the rules evaluated for the whole caseload, straight from the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from models import queries
from redflags.clinic_time import clinic_timezone, local_to_utc
from redflags.config import RulesConfig
from redflags.engine import Review, Window, evaluate
from services.access import Actor, Permission, require


def end_of_day_utc(as_of: date, tz: ZoneInfo) -> datetime:
    """The first instant after the clinic-local day ``as_of``, in naive UTC."""
    return local_to_utc(datetime.combine(as_of + timedelta(days=1), time()), tz)


def weekly_review(
    *,
    engine: Engine,
    actor: Actor,
    as_of: date,
    config: RulesConfig,
    patient_codes: Sequence[str] | None = None,
) -> Review:
    """The rules of rules.md for every patient (or those listed) as of ``as_of``.

    Reads only each patient's recent window and PHQ-9 summary (index seeks), and
    the decisions up to the as-of day, in one read transaction.
    """
    require(actor, Permission.VIEW_PATIENTS)
    tz = clinic_timezone()
    end_utc = end_of_day_utc(as_of, tz)
    with engine.connect() as connection:
        codes = (
            list(patient_codes) if patient_codes is not None else queries.patient_codes(connection)
        )
        recent, summary = queries.load_recent_window(
            connection,
            end_utc=end_utc,
            sessions=config.window.sessions,
            count_cap=config.outcome.review_after,
            tz=tz,
            patient_codes=patient_codes,
        )
        decisions = queries.decisions_frame(
            connection, end_utc=end_utc, tz=tz, patient_codes=patient_codes
        )
    return evaluate(Window(recent=recent, summary=summary), decisions, codes, as_of, config)
