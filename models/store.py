"""Bulk reads and writes of patients, sessions and decisions for CSV import and export.

Written for files of hundreds of thousands of rows: Core statements, look-ups
by batches of patients (never one query per row), inserts in chunks (COPY on
PostgreSQL). Every function runs inside the caller's session and transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, Table, insert, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from models.tables import audit_table, decision_table, patient_table, session_table
from redflags.fields import DECISION_COLUMNS, VALUE_COLUMNS

#: How many patients one look-up names (well under every database's parameter limit).
PATIENT_BATCH = 500
#: How many rows one insert statement carries.
INSERT_CHUNK = 5_000
#: An import of at least this many rows refreshes the query planner's statistics.
STATISTICS_AFTER_ROWS = 10_000
#: The audit action of a session removed as entered in error (it keeps the session's values).
SESSION_REMOVED_ACTION = "session_removed"
#: The audit action of a decision recorded in the dashboard (it keeps the treatment status
#: before and after).
DECISION_RECORDED_ACTION = "decision_recorded"
#: The audit action of a decision withdrawn as entered in error (it keeps the decision).
DECISION_WITHDRAWN_ACTION = "decision_withdrawn"
#: Stored session columns that make up a session's content, after (patient, session_at).
SESSION_CONTENT_COLUMNS: tuple[str, ...] = ("time_recorded", *VALUE_COLUMNS)
#: Stored decision columns that make up a decision's content, after (patient, decided_at).
DECISION_CONTENT_COLUMNS: tuple[str, ...] = DECISION_COLUMNS[2:]


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------- patients


def patient_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """The database id of each of ``codes`` that exists."""
    found: dict[str, int] = {}
    for batch in _batches(sorted(set(codes)), PATIENT_BATCH):
        statement = select(patient_table.c.code, patient_table.c.id).where(
            patient_table.c.code.in_(batch)
        )
        found.update((code, int(pid)) for code, pid in session.execute(statement))
    return found


def patient_exists(session: Session, code: str) -> bool:
    """Whether a patient has the code ``code`` (codes are case-sensitive)."""
    statement = select(patient_table.c.id).where(patient_table.c.code == code)
    return session.execute(statement).first() is not None


def add_patients(session: Session, codes: Sequence[str], *, now: datetime) -> dict[str, int]:
    """Create patients with these (new) codes and return their ids."""
    for batch in _batches(list(codes), INSERT_CHUNK):
        session.execute(
            insert(patient_table), [{"code": code, "created_at": now} for code in batch]
        )
    return patient_ids(session, codes)


# ---------------------------------------------------------------- stored content


def stored_sessions(
    session: Session, ids: Iterable[int]
) -> dict[tuple[int, datetime], tuple[object, ...]]:
    """The content of every session of these patients, keyed by (patient id, session_at)."""
    columns = [session_table.c[name] for name in SESSION_CONTENT_COLUMNS]
    stored: dict[tuple[int, datetime], tuple[object, ...]] = {}
    for batch in _batches(sorted(set(ids)), PATIENT_BATCH):
        statement = select(session_table.c.patient_id, session_table.c.session_at, *columns).where(
            session_table.c.patient_id.in_(batch)
        )
        for row in session.execute(statement):
            stored[(row[0], row[1])] = tuple(row[2:])
    return stored


def _removed_in_error(
    session: Session, codes: Iterable[str], action: str, time_key: str
) -> set[tuple[str, datetime]]:
    """(patient code, time) of the records of these patients that ``action`` took out as
    entered in error, from the audit rows that kept their values (few: looked up by action)."""
    wanted = set(codes)
    statement = select(audit_table.c.patient_code, audit_table.c.details).where(
        audit_table.c.action == action
    )
    removed: set[tuple[str, datetime]] = set()
    for code, details in session.execute(statement):
        if code not in wanted:
            continue
        try:
            at = datetime.fromisoformat(json.loads(details)["before"][time_key])
        except (ValueError, KeyError, TypeError):  # not a row this code wrote: not a removal
            continue
        removed.add((code, at.replace(tzinfo=None)))
    return removed


def removed_sessions(session: Session, codes: Iterable[str]) -> set[tuple[str, datetime]]:
    """(patient code, session_at) of every session of these patients removed as entered in
    error."""
    return _removed_in_error(session, codes, SESSION_REMOVED_ACTION, "session_at_utc")


def withdrawn_decisions(session: Session, codes: Iterable[str]) -> set[tuple[str, datetime]]:
    """(patient code, decided_at) of every decision of these patients withdrawn as entered
    in error."""
    return _removed_in_error(session, codes, DECISION_WITHDRAWN_ACTION, "decided_at_utc")


def treatment_set_by_decision(
    session: Session, *, decision_id: int, patient_code: str, decided_at: datetime, since: datetime
) -> tuple[str, str] | None:
    """(status before, status after) of the patient's treatment when the dashboard recorded
    this decision, from its audit row; None for a decision that changed no status there
    (an imported one).

    The row must name this patient and this decision time and be written no earlier than
    the decision was stored (``since``): SQLite gives a withdrawn decision's id to the next
    new one, and the older row of that id is another decision's.
    """
    statement = (
        select(audit_table.c.details)
        .where(audit_table.c.action == DECISION_RECORDED_ACTION)
        .where(audit_table.c.entity == "decision")
        .where(audit_table.c.entity_id == str(decision_id))
        .where(audit_table.c.patient_code == patient_code)
        .where(audit_table.c.at >= since)
        .order_by(audit_table.c.id.desc())
    )
    for (details,) in session.execute(statement):
        try:
            loaded = json.loads(details)
            if loaded["decided_at_utc"] != decided_at.isoformat():
                continue
            status = loaded["treatment_status"]
            return str(status["before"]), str(status["after"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


def treatment_before_first_decision(session: Session, patient_code: str) -> str | None:
    """The patient's treatment status before the first decision the dashboard recorded for
    them (from its audit row); None when none was recorded there."""
    statement = (
        select(audit_table.c.details)
        .where(audit_table.c.action == DECISION_RECORDED_ACTION)
        .where(audit_table.c.patient_code == patient_code)
        .order_by(audit_table.c.id)
    )
    for (details,) in session.execute(statement):
        try:
            return str(json.loads(details)["treatment_status"]["before"])
        except (ValueError, KeyError, TypeError):
            continue
    return None


def stored_decisions(
    session: Session, ids: Iterable[int]
) -> dict[tuple[int, datetime], tuple[object, ...]]:
    """The content of every decision of these patients, keyed by (patient id, decided_at)."""
    columns = [decision_table.c[name] for name in DECISION_CONTENT_COLUMNS]
    stored: dict[tuple[int, datetime], tuple[object, ...]] = {}
    for batch in _batches(sorted(set(ids)), PATIENT_BATCH):
        statement = select(
            decision_table.c.patient_id, decision_table.c.decided_at, *columns
        ).where(decision_table.c.patient_id.in_(batch))
        for row in session.execute(statement):
            stored[(row[0], row[1])] = tuple(row[2:])
    return stored


# ---------------------------------------------------------------- inserts


def insert_session_chunk(
    session: Session,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    same: Mapping[str, object],
) -> None:
    """Insert sessions: ``rows`` of values for ``columns``, plus ``same`` in every row."""
    _insert_chunk(session, session_table, columns, rows, same)


def insert_decision_chunk(
    session: Session,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    same: Mapping[str, object],
) -> None:
    """Insert decisions: ``rows`` of values for ``columns``, plus ``same`` in every row."""
    _insert_chunk(session, decision_table, columns, rows, same)


#: SQLite page cache (KiB, as a negative cache_size) while a large insert runs.
SQLITE_BULK_CACHE_KIB = 131_072


def _insert_chunk(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    same: Mapping[str, object],
) -> None:
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = [*columns, *same]
    if dialect.name == "postgresql":
        tail = tuple(same.values())
        _copy_rows(
            connection.connection.driver_connection,
            table.name,
            names,
            (tuple(row) + tail for row in rows),
        )
        return

    # SQLite: the driver's executemany with SQLAlchemy's own value conversions (the same
    # stored forms as an ORM insert), without its per-row statement machinery.
    def processor(name: str) -> Callable[[Any], Any] | None:
        return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    per_row = [(at, convert) for at, name in enumerate(columns) if (convert := processor(name))]
    tail = tuple(
        convert(value) if (convert := processor(name)) else value for name, value in same.items()
    )
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    bound = list(compiled.positiontup or ())
    if sorted(bound) != sorted(names):
        raise ValueError("the insert statement does not bind exactly the given columns")
    order = [names.index(name) for name in bound]
    in_order = order == list(range(len(names)))
    parameters: list[tuple[object, ...]] = []
    for row in rows:
        values = [*row, *tail]
        for at, convert in per_row:
            values[at] = convert(values[at])
        parameters.append(tuple(values) if in_order else tuple(values[at] for at in order))
    old_cache = int(connection.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
    connection.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_BULK_CACHE_KIB:d}")
    try:
        connection.exec_driver_sql(str(compiled), parameters)
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {old_cache:d}")


def _copy_rows(
    driver_connection: Any,
    table_name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> None:
    """PostgreSQL COPY, several times faster than INSERT for large files (same transaction)."""
    import psycopg
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table_name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        # Raised by the driver itself, outside SQLAlchemy: wrap it as SQLAlchemy would
        # (IntegrityError for a duplicate key, OperationalError for a lost connection…).
        raise DBAPIError.instance(
            f"COPY {table_name}", None, error, psycopg.Error, dialect=None
        ) from error


# ---------------------------------------------------------------- export reads


def _in_export_scope(
    statement: Select[Any], time_column: Any, *, patient_code: str | None, end_utc: datetime | None
) -> Select[Any]:
    if patient_code is not None:
        statement = statement.where(patient_table.c.code == patient_code)
    if end_utc is not None:
        statement = statement.where(time_column < end_utc)
    return statement


def session_records(
    session: Session, *, patient_code: str | None = None, end_utc: datetime | None = None
) -> list[tuple[object, ...]]:
    """Sessions as (code, session_at, time_recorded, *VALUE_COLUMNS), by code then time.

    Codes are ordered by their characters (not the database's collation), so
    the order is the same on SQLite and PostgreSQL.
    """
    statement = (
        select(
            patient_table.c.code,
            session_table.c.session_at,
            *(session_table.c[name] for name in SESSION_CONTENT_COLUMNS),
        )
        .join(patient_table, patient_table.c.id == session_table.c.patient_id)
        .order_by(session_table.c.patient_id, session_table.c.session_at)
    )
    statement = _in_export_scope(
        statement, session_table.c.session_at, patient_code=patient_code, end_utc=end_utc
    )
    records = [tuple(row) for row in session.execute(statement)]
    records.sort(key=lambda record: str(record[0]))  # stable: times stay in order
    return records


def decision_records(
    session: Session, *, patient_code: str | None = None, end_utc: datetime | None = None
) -> list[tuple[object, ...]]:
    """Decisions as (code, decided_at, *DECISION_CONTENT_COLUMNS), by code then time."""
    statement = (
        select(
            patient_table.c.code,
            decision_table.c.decided_at,
            *(decision_table.c[name] for name in DECISION_CONTENT_COLUMNS),
        )
        .join(patient_table, patient_table.c.id == decision_table.c.patient_id)
        .order_by(decision_table.c.patient_id, decision_table.c.decided_at)
    )
    statement = _in_export_scope(
        statement, decision_table.c.decided_at, patient_code=patient_code, end_utc=end_utc
    )
    records = [tuple(row) for row in session.execute(statement)]
    records.sort(key=lambda record: str(record[0]))
    return records


def refresh_statistics(engine: Engine, table_name: str, *, patients_too: bool = False) -> None:
    """Bring the planner's statistics up to date after a bulk insert into ``table_name``.

    ``patients_too`` when the import also created patients: the review's plan joins
    them, and an estimate of 259 for 5,000 patients was seen until autovacuum ran.
    """
    if table_name not in (session_table.name, decision_table.name):
        raise ValueError(f"not a table that imports write: {table_name}")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"ANALYZE {table_name}")
        if patients_too:
            connection.exec_driver_sql(f"ANALYZE {patient_table.name}")
        connection.commit()
