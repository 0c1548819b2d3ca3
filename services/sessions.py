"""Logging and editing one dosing session, with the importer's validators; audited."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import wraps
from typing import Any, ParamSpec, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import queries, store
from models.db import DATABASE_DOWN, read_session, write_session
from models.tables import DosingSession, Patient, utc_now
from redflags.clinic_time import clinic_timezone, local_today, utc_to_local
from redflags.csv_format import format_number
from redflags.fields import SESSION_FIELDS, VALUE_COLUMNS, Kind
from redflags.validation import Problem, validate_session_row
from services import audit
from services.access import Actor, Permission, require
from services.report import record_patient_view
from services.review import end_of_day_utc

P = ParamSpec("P")
DATABASE_UNAVAILABLE = (
    "the database did not answer in time (a large import may be holding it, or the "
    "connection was lost): nothing was saved; save again in a moment, and tell your "
    "administrator if it keeps happening"
)
#: The field of a problem saying the session was saved by someone else since it was
#: loaded, or is gone: the form shows it by the chooser of the session to edit.
CHANGED_SINCE_FIELD = "edit_id"
#: How the problem of a session saved by someone else since it was loaded begins.
CHANGED_SINCE = "someone else saved this session at"
GONE = Problem(
    "this session is no longer stored: someone removed it as entered in error (the audit "
    "log says who and why); nothing was saved",
    None,
    CHANGED_SINCE_FIELD,
)
EDIT_REASON_NEEDED = "say why the stored session is changed (e.g. a typo, a reading added later)"
MAX_EDIT_REASON_CHARS = 1_000
NOTHING_CHANGED = Problem(
    "nothing has changed: every value is as stored; change one before saving, or choose "
    "another session"
)
REMOVE_REASON_NEEDED = (
    "say why the session was entered in error (e.g. logged for the wrong patient, a duplicate)"
)


@dataclass(frozen=True)
class SaveResult:
    """The outcome of saving a form: the row's id, or the problems to show."""

    record_id: int | None
    problems: list[Problem] = field(default_factory=list)
    #: The saved row's version (its ``updated_at``), to edit it again.
    version: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.record_id is not None and not self.problems


def refused_by_database_as_problem(
    field_name: str,
) -> Callable[[Callable[P, SaveResult]], Callable[P, SaveResult]]:
    """Turn the database refusing a save into a problem shown under ``field_name``.

    The checks before a save read first and write after; on PostgreSQL a
    colleague's save can land in between (the same session time, the same
    code). The unique constraint then refuses ours: the user is told, not
    shown an error, and nothing is written.

    The database not answering in time (SQLite still locked by a large import
    after the busy timeout; a PostgreSQL connection lost) is said the same way,
    as a problem of the whole form: the transaction was rolled back.
    """

    def decorate(save: Callable[P, SaveResult]) -> Callable[P, SaveResult]:
        @wraps(save)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> SaveResult:
            try:
                return save(*args, **kwargs)
            except DATABASE_DOWN:
                return SaveResult(None, [Problem(DATABASE_UNAVAILABLE, None, None)])
            except IntegrityError:
                return SaveResult(
                    None,
                    [
                        Problem(
                            "the database refused this (a colleague may have saved the same "
                            "record a moment ago): nothing was saved; check, then save again",
                            None,
                            field_name,
                        )
                    ],
                )

        return guarded

    return decorate


def _audit_values(row: DosingSession) -> dict[str, Any]:
    values: dict[str, Any] = {"session_at_utc": row.session_at.isoformat()}
    values.update({name: getattr(row, name) for name in VALUE_COLUMNS})
    return values


def _validated(
    values: Mapping[str, str], today: date | None
) -> tuple[dict[str, object] | None, list[Problem]]:
    """The form's values checked as the importer checks a row.

    Without ``today`` (the dashboard), a session time later than now is refused;
    with it (tests, replays), any time on that clinic day is accepted.
    """
    tz = clinic_timezone()
    now = None if today is not None else datetime.now(UTC)
    return validate_session_row(values, today=today or local_today(tz, now), tz=tz, now=now)


@refused_by_database_as_problem("session_date")
def log_session(
    *, engine: Engine, actor: Actor, values: Mapping[str, str], today: date | None = None
) -> SaveResult:
    """Save a new session from the form's text values (rules.md §1 field names).

    The patient must exist; a session at the same time for the same patient is
    refused (edit that one instead). Audited with the values saved.
    """
    require(actor, Permission.WRITE_CLINICAL)
    record, problems = _validated(values, today)
    if record is None:
        return SaveResult(None, problems)
    with write_session(engine) as session:
        patient = queries.patient_by_code(session, str(record["patient_code"]))
        if patient is None or patient.id is None:
            return SaveResult(
                None,
                [Problem("no patient has this code: add the patient first", None, "patient_id")],
            )
        undated = _undated_against_a_decision(session, patient_id=patient.id, record=record)
        if undated:
            return SaveResult(None, undated)
        at = cast(datetime, record["session_at"])  # typed by the validator
        if queries.session_time_taken(session, patient_id=patient.id, session_at=at):
            return SaveResult(
                None,
                [
                    Problem(
                        "this patient already has a session at this date and time: "
                        "edit that session instead",
                        None,
                        "session_date",
                    )
                ],
            )
        row = DosingSession.model_validate(
            {
                "patient_id": patient.id,
                "session_at": record["session_at"],
                "time_recorded": bool(record["time_recorded"]),
                "recorded_by": actor.username,
                **{name: record[name] for name in VALUE_COLUMNS},
            }
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="session_created",
            entity="dosing_session",
            entity_id=str(row.id),
            patient_code=patient.code,
            details={"after": _audit_values(row)},
        )
        return SaveResult(row.id)


def _unchanged(row: DosingSession, record: Mapping[str, object]) -> bool:
    """Whether saving ``record`` over the stored session would change nothing."""
    return (
        row.session_at == record["session_at"]
        and row.time_recorded == bool(record["time_recorded"])
        and all(getattr(row, name) == record[name] for name in VALUE_COLUMNS)
    )


def _undated_against_a_decision(
    session: Session, *, patient_id: int, record: Mapping[str, object]
) -> list[Problem]:
    """A session without a time on a day that has a decision of this patient: the problem.

    A session given only its date is stored at the start of that day, so any
    decision recorded later that day would count as after it and address its
    flags (rules.md §8), even one taken in the morning about an afternoon
    session. On such a day the session's time is asked for instead.
    """
    if record["time_recorded"]:
        return []
    tz = clinic_timezone()
    start = cast(datetime, record["session_at"])  # the clinic day's start, naive UTC
    day = utc_to_local(start, tz).date()
    decided = queries.first_decision_between(
        session, patient_id=patient_id, start_utc=start, end_utc=end_of_day_utc(day, tz)
    )
    if decided is None:
        return []
    return [undated_on_a_decision_day(decided, tz, fix="enter the session's time too")]


def undated_on_a_decision_day(
    decided: datetime, tz: ZoneInfo, *, fix: str, row: int | None = None
) -> Problem:
    """The problem of a session given only its date, on a day when its patient has a
    decision recorded at ``decided`` (naive UTC): the form and the importer say the same."""
    return Problem(
        f"this patient has a care-team decision recorded at {utc_to_local(decided, tz):%H:%M} "
        f"that day: {fix}, so that the review can tell whether the decision came before or "
        "after the session",
        row,
        "session_date",
    )


def reason_given(text: str, needed: str, field_name: str) -> tuple[str, list[Problem]]:
    """The trimmed reason for changing a stored record, or the problem with it."""
    why = text.strip()
    if not why:
        return why, [Problem(needed, None, field_name)]
    if len(why) > MAX_EDIT_REASON_CHARS:
        return why, [Problem(f"at most {MAX_EDIT_REASON_CHARS:,} characters", None, field_name)]
    return why, []


def _changed_since(row: DosingSession, version: datetime | None) -> list[Problem]:
    """The problem when ``row`` was saved by someone else after the form loaded ``version``.

    Two people can have one session open at once. Without this check the later
    save would silently put back the values the earlier one corrected.
    """
    if version is None or row.updated_at == version:
        return []
    at = utc_to_local(row.updated_at, clinic_timezone())
    return [
        Problem(
            f"{CHANGED_SINCE} {at:%Y-%m-%dT%H:%M}, after you opened it, so "
            "nothing was saved: load it again to see what is stored now (the audit log shows "
            "the change), then make your change again",
            None,
            CHANGED_SINCE_FIELD,
        )
    ]


@refused_by_database_as_problem("session_date")
def edit_session(
    *,
    engine: Engine,
    actor: Actor,
    session_id: int,
    values: Mapping[str, str],
    reason: str,
    version: datetime | None = None,
    today: date | None = None,
) -> SaveResult:
    """Change a stored session; the audit row keeps the old and the new values and why.

    A recorded session is part of the chart: changing it needs a reason
    (a typo, a late reading …), kept with the change. ``version`` is the
    :attr:`StoredSession.version` the form was loaded with: if the session was
    saved since, nothing is written and the problem says so.
    """
    require(actor, Permission.WRITE_CLINICAL)
    record, problems = _validated(values, today)
    why, reason_problems = reason_given(reason, EDIT_REASON_NEEDED, "edit_reason")
    if record is None or problems:
        return SaveResult(None, [*problems, *reason_problems])
    with write_session(engine) as session:
        # FOR UPDATE on PostgreSQL: a colleague's save waits for ours, then sees the
        # new version. SQLite's write transaction (BEGIN IMMEDIATE) already excludes it.
        row = session.get(DosingSession, session_id, with_for_update=True)
        if row is None:
            return SaveResult(None, [GONE])
        changed_since = _changed_since(row, version)
        if changed_since:
            return SaveResult(None, changed_since)
        patient = session.get(Patient, row.patient_id)
        if patient is None or patient.code != record["patient_code"]:
            return SaveResult(
                None,
                [Problem("a session cannot move to another patient", None, "patient_id")],
            )
        if _unchanged(row, record):
            return SaveResult(None, [NOTHING_CHANGED])
        if reason_problems:
            return SaveResult(None, reason_problems)
        undated = _undated_against_a_decision(session, patient_id=row.patient_id, record=record)
        if undated:
            return SaveResult(None, undated)
        at = cast(datetime, record["session_at"])  # typed by the validator
        if queries.session_time_taken(
            session, patient_id=row.patient_id, session_at=at, other_than=session_id
        ):
            return SaveResult(
                None,
                [Problem("another session of this patient has this time", None, "session_date")],
            )
        before = _audit_values(row)
        for name in ("session_at", *VALUE_COLUMNS):
            setattr(row, name, record[name])
        row.time_recorded = bool(record["time_recorded"])
        row.updated_at = utc_now()
        session.add(row)
        session.flush()
        after = _audit_values(row)
        changed = sorted(k for k in after if after[k] != before[k])
        audit.record(
            session,
            actor=actor,
            action="session_edited",
            entity="dosing_session",
            entity_id=str(row.id),
            patient_code=patient.code,
            details={
                "changed": changed,
                "before": {k: before[k] for k in changed},
                "after": {k: after[k] for k in changed},
                "reason": why,
            },
        )
        return SaveResult(row.id, version=row.updated_at)


@refused_by_database_as_problem("remove_reason")
def remove_session(
    *,
    engine: Engine,
    actor: Actor,
    session_id: int,
    reason: str,
    version: datetime | None = None,
) -> SaveResult:
    """Remove a session entered in error (the wrong patient, a duplicate); audited.

    A session cannot move to another patient (:func:`edit_session`), so one
    logged for the wrong patient would otherwise stay in that patient's
    review for good. The audit row keeps every value the session had and the
    reason; the row itself leaves the table, so the review, the report and
    the exports no longer count it. ``SaveResult.record_id`` is the removed id.
    ``version`` as for :func:`edit_session`: a session changed since the form
    loaded it is not removed unseen.
    """
    require(actor, Permission.WRITE_CLINICAL)
    why, problems = reason_given(reason, REMOVE_REASON_NEEDED, "remove_reason")
    if problems:
        return SaveResult(None, problems)
    with write_session(engine) as session:
        row = session.get(DosingSession, session_id, with_for_update=True)
        if row is None:
            return SaveResult(None, [GONE])
        changed_since = _changed_since(row, version)
        if changed_since:
            return SaveResult(None, changed_since)
        patient = session.get(Patient, row.patient_id)
        before = _audit_values(row)
        session.delete(row)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action=store.SESSION_REMOVED_ACTION,
            entity="dosing_session",
            entity_id=str(session_id),
            patient_code=patient.code if patient else "",
            details={"before": before, "reason": why},
        )
        return SaveResult(session_id)


@dataclass(frozen=True)
class StoredSession:
    """A stored session as the form's text values (the CSV's formats), and its version."""

    values: dict[str, str]
    #: The row's ``updated_at`` when read: pass it back to :func:`edit_session`.
    version: datetime | None


def session_form_values(*, engine: Engine, actor: Actor, session_id: int) -> StoredSession:
    """A stored session as the form's text values (the CSV's formats), to edit it.

    Showing a stored session is a read of the patient's record: audited. A
    session that no longer exists gives no values and no version.
    """
    require(actor, Permission.VIEW_PATIENTS)
    tz = clinic_timezone()
    with read_session(engine) as session:
        row = session.get(DosingSession, session_id)
        if row is None:
            return StoredSession({}, None)
        version = row.updated_at
        patient = session.get(Patient, row.patient_id)
        local = utc_to_local(row.session_at, tz)
        when = (
            local.isoformat(timespec="minutes") if row.time_recorded else local.date().isoformat()
        )
        values = {"patient_id": patient.code if patient else "", "session_date": when}
        for spec in SESSION_FIELDS:
            if spec.name in values:
                continue
            value = getattr(row, spec.name)
            if value is None:
                values[spec.name] = ""
            elif spec.kind in (Kind.NUMBER, Kind.INTEGER):
                values[spec.name] = format_number(value)
            else:
                values[spec.name] = str(value)
    record_patient_view(
        engine=engine,
        actor=actor,
        patient_code=values["patient_id"],
        entity="dosing_session",
        entity_id=str(session_id),
    )
    return StoredSession(values, version)
