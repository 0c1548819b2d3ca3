"""Import and export of records as CSV (records.md): what manage.py and the dashboard call.

Bad input never raises: an import returns an :class:`ImportResult` with every
problem and writes nothing unless the whole file is valid. Every import
attempt (refused ones included) and every export leaves an audit row with the
file's SHA-256 and the counts, never row contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from models import queries, store
from models.db import read_session, write_session
from models.tables import utc_now
from redflags import records as csv_records
from redflags.clinic_time import clinic_timezone, local_to_utc, local_today, utc_to_local
from redflags.fields import REVIEW_COLUMNS
from redflags.records import paused_gc
from redflags.validation import (
    SESSION_RECORD_KEYS,
    Invalid,
    Problem,
    parse_flag_list,
    parse_patient_code,
)
from services import audit
from services.access import Actor, Permission, require
from services.review import end_of_day_utc
from services.sessions import undated_on_a_decision_day

if TYPE_CHECKING:
    from redflags.config import RulesConfig

#: Environment variable that sets the largest file an import reads, in bytes.
MAX_BYTES_VARIABLE = "REDFLAGS_IMPORT_MAX_BYTES"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024


class RecordsError(ValueError):
    """An export or import request that cannot be carried out; the message says why."""


class Outcome(StrEnum):
    """How an import attempt ended."""

    IMPORTED = "imported"  # written (possibly nothing new: every row unchanged)
    VALID = "valid"  # a dry run of a valid file: nothing written
    REFUSED = "refused"  # problems found: nothing written
    FAILED = "failed"  # the database failed mid-way: nothing written


@dataclass(frozen=True)
class ImportResult:
    """What an import did, or would do (dry run), or why it refused."""

    what: str
    filename: str
    sha256: str
    size_bytes: int
    outcome: Outcome
    dry_run: bool
    rows_read: int = 0
    imported: int = 0
    unchanged: int = 0
    patients_created: int = 0
    problems: tuple[Problem, ...] = ()
    problem_count: int = 0
    problem_lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """Whether the file was valid (and, unless a dry run, written)."""
        return self.outcome in (Outcome.IMPORTED, Outcome.VALID)

    def messages(self) -> list[str]:
        """One line per problem (``row N, column C: reason``), then a summary of the rest."""
        return list(self.problem_lines)

    def trimmed(self, listed: int) -> ImportResult:
        """This result with at most ``listed`` problems listed one by one and the rest
        counted (what a page keeps: a browser cannot lay out a million lines)."""
        if len(self.problems) <= listed:
            return self
        rest = self.problems[listed:]
        complete = len(self.problems) == self.problem_count
        by_column = Counter(p.column or "(row)" for p in rest) if complete else None
        summary = csv_records.unlisted_line(self.problem_count - listed, by_column)
        return replace(
            self,
            problems=self.problems[:listed],
            problem_lines=(*self.problem_lines[:listed], summary),
        )

    def summary(self) -> str:
        """A one-line account of the counts."""
        if self.outcome is Outcome.VALID:
            return (
                f"Dry run: the file is valid; nothing was written. Rows read: {self.rows_read}, "
                f"would import: {self.imported}, unchanged: {self.unchanged}, "
                f"new patients: {self.patients_created}."
            )
        if self.outcome is Outcome.IMPORTED:
            return (
                f"Rows read: {self.rows_read}, imported: {self.imported}, "
                f"unchanged: {self.unchanged}, new patients: {self.patients_created}."
            )
        return (
            f"Nothing was imported: {self.problem_count} problem"
            f"{'' if self.problem_count == 1 else 's'} in {self.filename or 'the file'}. "
            "Correct the file and import it again."
        )


@dataclass(frozen=True)
class ExportResult:
    """An export's CSV bytes with what the audit recorded about them."""

    what: str
    data: bytes
    rows: int
    sha256: str
    filename: str


# ---------------------------------------------------------------- reading the input


def max_import_bytes() -> int:
    """The size limit from ``REDFLAGS_IMPORT_MAX_BYTES`` (default 200 MiB)."""
    text = os.environ.get(MAX_BYTES_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise RecordsError(f"{MAX_BYTES_VARIABLE}={text!r} must be a whole number of bytes above 0")
    return value


def _megabytes(size: int) -> str:
    """A size people read: MB with one decimal, or bytes below a tenth of a MB."""
    if size < 104_858:
        return f"{size:,} bytes"
    return f"{size / 1_048_576:,.1f} MB"


@dataclass(frozen=True)
class _Input:
    data: bytes | None
    filename: str
    size: int
    sha256: str
    problem: Problem | None


def _read_input(data: bytes | str | os.PathLike[str], filename: str | None, limit: int) -> _Input:
    """The bytes to import, refused before reading when over ``limit``."""
    if isinstance(data, bytes | bytearray | memoryview):
        content = bytes(data)
        name = filename or ""
        if len(content) > limit:
            return _Input(None, name, len(content), "", _too_big(len(content), limit))
        return _Input(content, name, len(content), hashlib.sha256(content).hexdigest(), None)
    path = Path(data)
    name = filename or path.name
    try:
        size = path.stat().st_size
        if size > limit:
            return _Input(None, name, size, "", _too_big(size, limit))
        if not path.is_file():
            raise IsADirectoryError(f"{path} is not a file")
        content = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        return _Input(None, name, 0, "", Problem(f"cannot read the file {name}: {reason}"))
    return _Input(content, name, len(content), hashlib.sha256(content).hexdigest(), None)


def _too_big(size: int, limit: int) -> Problem:
    return Problem(
        f"the file is {_megabytes(size)}, over the import limit of {_megabytes(limit)}: split it "
        f"into smaller files, or raise {MAX_BYTES_VARIABLE} (in bytes)"
    )


# ---------------------------------------------------------------- the import, common part


@dataclass
class _Plan:
    """Which validated records are new, which unchanged, and the conflicts."""

    new: list[tuple[int, tuple[object, ...]]] = field(default_factory=list)  # (row, record)
    unchanged: int = 0
    new_codes: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    conflicts: csv_records.ProblemLog = field(default_factory=csv_records.ProblemLog)


class _Refused(Exception):
    """Unwinds the write transaction when the stored records conflict with the file."""


@dataclass(frozen=True)
class _Kind:
    """What differs between importing sessions and importing decisions."""

    what: str
    action: str
    entity: str
    key_column: str
    content_columns: tuple[str, ...]
    stored: Callable[[Session, Sequence[int]], dict[tuple[int, datetime], tuple[object, ...]]]
    insert_chunk: Callable[
        [Session, Sequence[str], Sequence[Sequence[object]], Mapping[str, object]], None
    ]
    #: (code, key) of records removed as entered in error: importing one again is refused.
    removed: Callable[[Session, Sequence[str]], set[tuple[str, datetime]]]
    creates_patients: bool
    normalise_stored: Callable[[tuple[object, ...]], tuple[object, ...]]
    #: Problems of the new records with other stored records (rows the key alone allows).
    check_new: Callable[[Session, _Plan, ZoneInfo], list[Problem]]


#: Stored fields that are no CSV column, named as the file shows them.
_COLUMN_IN_WORDS = {
    "time_recorded": "whether session_date gives a time of day, as 2026-11-02T00:00 does "
    "and 2026-11-02 does not",
}


def _no_such_patient(row: int) -> Problem:
    return Problem(
        "no patient has this code: import the patient's sessions first (codes are case-sensitive)",
        row,
        "patient_id",
    )


#: How a record entered in error left the store, and how it is entered again if it was real.
_REMOVED_WORDS = {
    "sessions": ("removed", "log it again in the dashboard if it did take place"),
    "decisions": ("withdrawn", "record it again in the dashboard if it was taken"),
}


def _removed_in_error(kind: _Kind, row: int) -> Problem:
    removed, again = _REMOVED_WORDS[kind.what]
    return Problem(
        f"this {kind.what[:-1]} was {removed} as entered in error (the audit log says when, by "
        f"whom and why): take the row out of the file, or {again}",
        row,
        kind.key_column,
    )


def _plan(session: Session, kind: _Kind, parsed: csv_records.ParsedFile, tz: ZoneInfo) -> _Plan:
    """What importing the valid records would do; with the file's other problems, the
    unknown patients of its refused rows too (every problem of a file at once)."""
    plan = _Plan()
    if not kind.creates_patients and parsed.invalid_row_codes:
        known = store.patient_ids(session, {code for _, code in parsed.invalid_row_codes})
        for row, code in parsed.invalid_row_codes:
            if code not in known:
                plan.conflicts.add(_no_such_patient(row))
    codes = {str(record[0]) for record in parsed.records}
    plan.ids = store.patient_ids(session, codes)
    stored = kind.stored(session, list(plan.ids.values()))
    removed = kind.removed(session, list(plan.ids))
    new_codes: set[str] = set()
    for row, record in zip(parsed.rows, parsed.records, strict=True):
        code = str(record[0])
        patient_id = plan.ids.get(code)
        if patient_id is None:
            if not kind.creates_patients:
                plan.conflicts.add(_no_such_patient(row))
                continue
            new_codes.add(code)
            plan.new.append((row, record))
            continue
        existing = stored.get((patient_id, cast(datetime, record[1])))
        if existing is None:
            if (code, record[1]) in removed:
                plan.conflicts.add(_removed_in_error(kind, row))
            else:
                plan.new.append((row, record))
            continue
        content = record[2:]
        existing = kind.normalise_stored(existing)
        if existing == content:
            plan.unchanged += 1
            continue
        differing = [
            _COLUMN_IN_WORDS.get(name, name)
            for name, old, new in zip(kind.content_columns, existing, content, strict=True)
            if old != new
        ]
        plan.conflicts.add(
            Problem(
                f"a different {kind.what[:-1]} is already stored for this patient at this "
                f"{kind.key_column} (it differs in {', '.join(differing)}): correct the row, "
                "or change the stored record in the dashboard first",
                row,
                kind.key_column,
            )
        )
    plan.new_codes = sorted(new_codes)
    for problem in kind.check_new(session, plan, tz):
        plan.conflicts.add(problem)
    return plan


def _import(
    *,
    engine: Engine,
    actor: Actor,
    kind: _Kind,
    source: _Input,
    parse: Callable[[bytes], csv_records.ParsedFile],
    extra_columns: Callable[[Actor, datetime], dict[str, object]],
    stored_key: str,
    dry_run: bool,
    tz: ZoneInfo,
) -> ImportResult:
    def result(
        outcome: Outcome,
        problems: Sequence[Problem] = (),
        lines: Sequence[str] = (),
        count: int | None = None,
        **counts: int,
    ) -> ImportResult:
        return ImportResult(
            what=kind.what,
            filename=source.filename,
            sha256=source.sha256,
            size_bytes=source.size,
            outcome=outcome,
            dry_run=dry_run,
            problems=tuple(problems),
            problem_lines=tuple(lines or [str(p) for p in problems]),
            problem_count=len(problems) if count is None else count,
            **counts,
        )

    if source.problem is not None or source.data is None:
        problem = source.problem or Problem("the file could not be read")
        refused = result(Outcome.REFUSED, [problem])
        _audit_import(engine, actor, kind, refused)
        return refused
    parsed = parse(source.data)
    if parsed.problems:
        problems = parsed.problems
        if parsed.records or parsed.invalid_row_codes:  # reported with the rest
            with read_session(engine) as session:
                problems = problems.merged(_plan(session, kind, parsed, tz).conflicts)
        refused = result(
            Outcome.REFUSED,
            problems.listed,
            problems.lines(),
            problems.total,
            rows_read=parsed.rows_read,
        )
        _audit_import(engine, actor, kind, refused)
        return refused

    def outcome_of(plan: _Plan, outcome: Outcome) -> ImportResult:
        return result(
            outcome,
            rows_read=parsed.rows_read,
            imported=len(plan.new),
            unchanged=plan.unchanged,
            patients_created=len(plan.new_codes),
        )

    def conflicts_of(plan: _Plan) -> ImportResult:
        return result(
            Outcome.REFUSED,
            plan.conflicts.listed,
            plan.conflicts.lines(),
            plan.conflicts.total,
            rows_read=parsed.rows_read,
        )

    if dry_run:
        with read_session(engine) as session:
            plan = _plan(session, kind, parsed, tz)
        done = conflicts_of(plan) if plan.conflicts else outcome_of(plan, Outcome.VALID)
        _audit_import(engine, actor, kind, done)
        return done

    plan = _Plan()
    try:
        with paused_gc(), write_session(engine) as session:
            queries.lock_imports(session)  # a concurrent import finishes first
            plan = _plan(session, kind, parsed, tz)
            if plan.conflicts:
                raise _Refused
            now = utc_now()
            if plan.new_codes:
                plan.ids.update(store.add_patients(session, plan.new_codes, now=now))
            same = extra_columns(actor, now)
            columns = ("patient_id", stored_key, *kind.content_columns)
            ids = plan.ids
            for start in range(0, len(plan.new), store.INSERT_CHUNK):
                rows = [
                    (ids[record[0]], *record[1:])  # type: ignore[index]
                    for _, record in plan.new[start : start + store.INSERT_CHUNK]
                ]
                kind.insert_chunk(session, columns, rows, same)
            done = outcome_of(plan, Outcome.IMPORTED)
            _record(session, actor, kind, done)
        if len(plan.new) >= store.STATISTICS_AFTER_ROWS:
            # The planner's statistics would otherwise describe the table before
            # the import until autovacuum gets round to it.
            store.refresh_statistics(engine, kind.entity, patients_too=bool(plan.new_codes))
        return done
    except _Refused:
        refused = conflicts_of(plan)
        _audit_import(engine, actor, kind, refused)
        return refused
    except IntegrityError:
        # Another writer stored the same key between our check and our insert
        # (PostgreSQL), or a row slipped past validation: nothing was written.
        refused = result(
            Outcome.REFUSED,
            [
                Problem(
                    f"the database refused the rows (another import or a colleague may have just "
                    f"recorded the same {kind.what}): nothing was imported; run the import again"
                )
            ],
            rows_read=parsed.rows_read,
        )
        _audit_import(engine, actor, kind, refused)
        return refused
    except Exception:
        failed = result(Outcome.FAILED, rows_read=parsed.rows_read)
        with contextlib.suppress(SQLAlchemyError):  # the database is gone: the error says why
            _audit_import(engine, actor, kind, failed)
        raise


def _audit_details(outcome: ImportResult) -> dict[str, Any]:
    return {
        "file": outcome.filename,
        "sha256": outcome.sha256,
        "bytes": outcome.size_bytes,
        "rows_read": outcome.rows_read,
        "imported": outcome.imported,
        "unchanged": outcome.unchanged,
        "patients_created": outcome.patients_created,
        "problems": outcome.problem_count,
        "outcome": outcome.outcome.value,
        "dry_run": outcome.dry_run,
    }


def _record(session: Session, actor: Actor, kind: _Kind, outcome: ImportResult) -> None:
    audit.record(
        session,
        actor=actor,
        action=kind.action,
        entity=kind.entity,
        entity_id=outcome.filename[:200],
        details=_audit_details(outcome),
    )


def _audit_import(engine: Engine, actor: Actor, kind: _Kind, outcome: ImportResult) -> None:
    """Record an import that wrote nothing, in a transaction of its own."""
    with write_session(engine) as session:
        _record(session, actor, kind, outcome)


# ---------------------------------------------------------------- sessions and decisions


def _same(record: tuple[object, ...]) -> tuple[object, ...]:
    return record


def _normalise_stored_decision(content: tuple[object, ...]) -> tuple[object, ...]:
    # A decision recorded in the dashboard may list its flags in another order.
    at = DECISION_CONTENT_FLAGS
    flags = content[at]
    try:
        normal = parse_flag_list(str(flags or ""))
    except Invalid:
        return content
    return (*content[:at], normal, *content[at + 1 :])


DECISION_CONTENT_FLAGS = store.DECISION_CONTENT_COLUMNS.index("flags_considered")


def _none_removed(_session: Session, _codes: Sequence[str]) -> set[tuple[str, datetime]]:
    return set()


def _nothing_more(_session: Session, _plan: _Plan, _tz: ZoneInfo) -> list[Problem]:
    return []


def _undated_on_a_decision_day(session: Session, plan: _Plan, tz: ZoneInfo) -> list[Problem]:
    """New sessions given only their date, on a day with a stored decision of their patient.

    Stored at the start of the day, such a session would count as before the
    decision, and a morning decision would address an afternoon session's flags
    (rules.md §8): the importer asks for the time, as the session form does.
    """
    undated = [
        (row, record)
        for row, record in plan.new
        if not record[_TIME_RECORDED] and str(record[0]) in plan.ids
    ]
    if not undated:
        return []
    decided: dict[int, list[datetime]] = {}
    patients = {plan.ids[str(record[0])] for _, record in undated}
    for patient_id, at in store.stored_decisions(session, patients):
        decided.setdefault(patient_id, []).append(at)
    problems: list[Problem] = []
    for row, record in undated:
        start = cast(datetime, record[1])  # the clinic day's start, naive UTC
        end = end_of_day_utc(utc_to_local(start, tz).date(), tz)
        that_day = [at for at in decided.get(plan.ids[str(record[0])], ()) if start <= at < end]
        if that_day:
            problems.append(
                undated_on_a_decision_day(
                    min(that_day),
                    tz,
                    fix="give session_date with the time (2026-11-02T14:30)",
                    row=row,
                )
            )
    return problems


_TIME_RECORDED = SESSION_RECORD_KEYS.index("time_recorded")


_SESSIONS = _Kind(
    what="sessions",
    action="sessions_import",
    entity="dosing_session",
    key_column="session_date",
    content_columns=store.SESSION_CONTENT_COLUMNS,
    stored=lambda session, ids: store.stored_sessions(session, ids),
    removed=lambda session, codes: store.removed_sessions(session, codes),
    insert_chunk=lambda *args: store.insert_session_chunk(*args),  # late-bound: tests patch it
    creates_patients=True,
    normalise_stored=_same,
    check_new=_undated_on_a_decision_day,
)
_DECISIONS = _Kind(
    what="decisions",
    action="decisions_import",
    entity="decision",
    key_column="decided_at",
    content_columns=store.DECISION_CONTENT_COLUMNS,
    stored=lambda session, ids: store.stored_decisions(session, ids),
    removed=lambda session, codes: store.withdrawn_decisions(session, codes),
    insert_chunk=lambda *args: store.insert_decision_chunk(*args),
    creates_patients=False,
    normalise_stored=_normalise_stored_decision,
    check_new=_nothing_more,
)


def import_sessions(
    *,
    engine: Engine,
    actor: Actor,
    data: bytes | str | os.PathLike[str],
    filename: str | None = None,
    dry_run: bool = False,
    today: date | None = None,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
    max_bytes: int | None = None,
    bring_back_removed: bool = False,
) -> ImportResult:
    """Import a sessions CSV (records.md): all rows in one transaction, or none.

    ``data`` is the file's bytes (an upload) or a path. A session later than
    ``now`` (default: the current time) is refused; given only ``today`` (the
    clinic's date), any time on or before that day is accepted.
    A file over ``max_bytes`` (default :func:`max_import_bytes`) is refused before
    it is read. Unknown patient codes create patients. Needs IMPORT_RECORDS.
    A row of a session removed as entered in error is a conflict, unless
    ``bring_back_removed`` (the synthetic demo's reload: no command or page offers it).
    """
    require(actor, Permission.IMPORT_RECORDS)
    tz = tz or clinic_timezone()
    if now is None and today is None:
        now = datetime.now(UTC)
    day = today or local_today(tz, now)
    source = _read_input(data, filename, max_bytes or max_import_bytes())
    return _import(
        engine=engine,
        actor=actor,
        kind=replace(_SESSIONS, removed=_none_removed) if bring_back_removed else _SESSIONS,
        source=source,
        parse=lambda content: csv_records.parse_sessions_csv(content, today=day, tz=tz, now=now),
        extra_columns=lambda who, now: {
            "recorded_by": who.username[:150],
            "created_at": now,
            "updated_at": now,
        },
        stored_key="session_at",
        dry_run=dry_run,
        tz=tz,
    )


def import_decisions(
    *,
    engine: Engine,
    actor: Actor,
    data: bytes | str | os.PathLike[str],
    filename: str | None = None,
    dry_run: bool = False,
    today: date | None = None,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
    max_bytes: int | None = None,
    bring_back_removed: bool = False,
) -> ImportResult:
    """Import a decisions CSV (records.md's decisions export format), all or nothing.

    The patients must exist. A decision later than ``now`` (default: the current
    time) is refused; given only ``today``, any time on or before that clinic day
    is accepted. Needs IMPORT_RECORDS. A row of a decision withdrawn as entered in
    error is a conflict, unless ``bring_back_removed`` (the demo's reload, as for sessions).
    """
    require(actor, Permission.IMPORT_RECORDS)
    tz = tz or clinic_timezone()
    if now is None:
        now = (
            local_to_utc(datetime.combine(today + timedelta(days=1), time()), tz)
            - timedelta(microseconds=1)
            if today is not None
            else datetime.now(UTC)
        )
    moment = now
    source = _read_input(data, filename, max_bytes or max_import_bytes())
    return _import(
        engine=engine,
        actor=actor,
        kind=replace(_DECISIONS, removed=_none_removed) if bring_back_removed else _DECISIONS,
        source=source,
        parse=lambda content: csv_records.parse_decisions_csv(content, now=moment, tz=tz),
        extra_columns=lambda _who, created: {"created_at": created},
        stored_key="decided_at",
        dry_run=dry_run,
        tz=tz,
    )


# ---------------------------------------------------------------- export


def _patient_scope(session: Session, patient: str | None) -> str | None:
    if patient is None:
        return None
    try:
        code = parse_patient_code(patient)
    except Invalid as error:
        raise RecordsError(f"--patient {patient!r}: {error}") from None
    if not store.patient_exists(session, code):
        raise RecordsError(f"no patient has the code {code!r} (codes are case-sensitive)")
    return code


def _end_of_day(as_of: date | None, tz: ZoneInfo) -> datetime | None:
    if as_of is None:
        return None
    return local_to_utc(datetime.combine(as_of + timedelta(days=1), time()), tz)


def _finish_export(
    *,
    engine: Engine,
    actor: Actor,
    what: str,
    data: bytes,
    rows: int,
    patient: str | None,
    as_of: date | None,
    destination: str,
    deliver: Callable[[bytes], None] | None,
) -> ExportResult:
    """Audit the export; ``deliver`` (staging the --out file, say) runs in the audit
    row's transaction, so a delivery that fails leaves no row saying it was exported."""
    digest = hashlib.sha256(data).hexdigest()
    stamp = (as_of or date.today()).isoformat()
    suffix = f"-{patient}" if patient else ""
    with write_session(engine) as session:
        audit.record(
            session,
            actor=actor,
            action="records_export",
            entity=what,
            entity_id=destination[:200],
            patient_code=patient or "",
            details={
                "what": what,
                "patient": patient,
                "as_of": as_of.isoformat() if as_of else None,
                "rows": rows,
                "bytes": len(data),
                "sha256": digest,
                "destination": destination,
            },
        )
        if deliver is not None:
            deliver(data)
    return ExportResult(
        what=what, data=data, rows=rows, sha256=digest, filename=f"{what}{suffix}-{stamp}.csv"
    )


def export_sessions(
    *,
    engine: Engine,
    actor: Actor,
    patient: str | None = None,
    as_of: date | None = None,
    tz: ZoneInfo | None = None,
    destination: str = "",
    deliver: Callable[[bytes], None] | None = None,
) -> ExportResult:
    """Every session (of one patient; on or before ``as_of``) as the sessions CSV.

    Ordered by patient code, then time. ``destination`` (a file name, "stdout",
    "download") goes into the audit row. Needs EXPORT_RECORDS.
    """
    require(actor, Permission.EXPORT_RECORDS)
    tz = tz or clinic_timezone()
    with paused_gc():
        with read_session(engine) as session:
            code = _patient_scope(session, patient)
            found = store.session_records(
                session, patient_code=code, end_utc=_end_of_day(as_of, tz)
            )
        data = csv_records.sessions_csv(found, tz)
        rows = len(found)
        del found
    return _finish_export(
        engine=engine,
        actor=actor,
        what="sessions",
        data=data,
        rows=rows,
        patient=code,
        as_of=as_of,
        destination=destination,
        deliver=deliver,
    )


def export_decisions(
    *,
    engine: Engine,
    actor: Actor,
    patient: str | None = None,
    as_of: date | None = None,
    tz: ZoneInfo | None = None,
    destination: str = "",
    deliver: Callable[[bytes], None] | None = None,
) -> ExportResult:
    """Every decision (of one patient; on or before ``as_of``) as the decisions CSV.

    Ordered by patient code, then decided_at. Needs EXPORT_RECORDS.
    """
    require(actor, Permission.EXPORT_RECORDS)
    tz = tz or clinic_timezone()
    with read_session(engine) as session:
        code = _patient_scope(session, patient)
        found = store.decision_records(session, patient_code=code, end_utc=_end_of_day(as_of, tz))
    data = csv_records.decisions_csv(found, tz)
    return _finish_export(
        engine=engine,
        actor=actor,
        what="decisions",
        data=data,
        rows=len(found),
        patient=code,
        as_of=as_of,
        destination=destination,
        deliver=deliver,
    )


def export_review(
    *,
    engine: Engine,
    actor: Actor,
    as_of: date | None = None,
    patient: str | None = None,
    config: RulesConfig | None = None,
    tz: ZoneInfo | None = None,
    destination: str = "",
    deliver: Callable[[bytes], None] | None = None,
) -> ExportResult:
    """The weekly review as of ``as_of`` (default: the clinic's today) as the review CSV.

    One row per patient in the weekly review's order (most urgent first), as
    the rules engine gives it. ``config`` defaults to the rules file in force.
    Needs EXPORT_RECORDS (and the review's own VIEW_PATIENTS).
    """
    from redflags.engine import review_csv_frame, sort_review
    from services.review import weekly_review

    require(actor, Permission.EXPORT_RECORDS)
    tz = tz or clinic_timezone()
    day = as_of or local_today(tz)
    with read_session(engine) as session:
        code = _patient_scope(session, patient)
    review = weekly_review(
        engine=engine,
        actor=actor,
        as_of=day,
        config=config
        if config is not None
        else audit.load_rules_recorded(engine=engine, actor=actor).config,
        patient_codes=[code] if code is not None else None,
    )
    frame = review_csv_frame(sort_review(review.table))
    if code is not None:
        frame = frame[frame["patient_id"] == code]
    rows = [
        tuple(str(cell) for cell in row)
        for row in frame[list(REVIEW_COLUMNS)].itertuples(index=False, name=None)
    ]
    data = csv_records.review_csv(rows)
    return _finish_export(
        engine=engine,
        actor=actor,
        what="review",
        data=data,
        rows=len(rows),
        patient=code,
        as_of=day,
        destination=destination,
        deliver=deliver,
    )
