"""Queries: everything that reads or writes SQL outside plain ORM adds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Select, case, func, literal, select, text, true
from sqlmodel import Session, col

from models.tables import (
    AppSetting,
    AuditEvent,
    Decision,
    DosingSession,
    Patient,
    audit_table,
    decision_table,
    patient_table,
    session_table,
    user_table,
    utc_now,
)

#: PostgreSQL advisory-lock key that serialises appends to the audit chain.
AUDIT_CHAIN_LOCK = 74_201_113
#: PostgreSQL advisory-lock key that serialises imports (:func:`lock_imports`).
IMPORT_LOCK = 74_201_114


def lock_audit_chain(session: Session) -> None:
    """Serialise audit appends (SQLite write transactions are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})


def lock_imports(session: Session) -> None:
    """Serialise imports on PostgreSQL, as SQLite's single writer does already.

    Under READ COMMITTED two imports would each plan against the rows stored
    before either began: the same file twice would be refused instead of being
    unchanged the second time, and overlapping rows inserted in different
    orders deadlock. Taken before the import reads what is stored.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})


def last_audit_hash(session: Session) -> str | None:
    """The hash of the newest audit row, or None for an empty trail."""
    statement = select(col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1)
    return session.execute(statement).scalar_one_or_none()


def latest_change_id(connection: Connection, *, unchanging_actions: Iterable[str]) -> int:
    """The id of the newest audit row whose action is not among ``unchanging_actions``
    (0 for none): a seek backwards from the newest row, past views and logins."""
    statement = (
        select(audit_table.c.id)
        .where(audit_table.c.action.not_in(sorted(unchanging_actions)))
        .order_by(audit_table.c.id.desc())
        .limit(1)
    )
    return int(connection.execute(statement).scalar_one_or_none() or 0)


def audit_events_in_order(session: Session) -> list[AuditEvent]:
    """The whole audit trail in the order it was written."""
    return list(session.execute(select(AuditEvent).order_by(col(AuditEvent.id))).scalars().all())


# -- the recent window (rules.md §2), read with one index seek per patient -----------------
#
# The weekly review needs, per patient, only the last few sessions on or before the
# as-of date, the first and latest PHQ-9 and whether the patient has reached a few
# counts. Each of these is a bounded seek on (patient_id, session_at), so the cost
# follows the caseload, not the years of history behind it.

SESSION_VALUE_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in session_table.columns if c.name not in ("id", "patient_id")
)
#: What the rules read of a recent session (the window carries nothing else: less to fetch).
WINDOW_COLUMNS: tuple[str, ...] = tuple(
    name
    for name in SESSION_VALUE_COLUMNS
    if name
    not in (
        "weight_kg",
        "dissociation_cadss",
        "commitment",
        "note",
        "recorded_by",
        "created_at",
        "updated_at",
    )
)


def patients_in_scope(patient_codes: Sequence[str] | None) -> Select[Any]:
    """Patient ids and codes: all of them, or those listed."""
    statement = select(patient_table.c.id, patient_table.c.code)
    if patient_codes is not None:
        statement = statement.where(patient_table.c.code.in_(list(patient_codes)))
    return statement


def _recent_statement(
    dialect: str, end_utc: datetime, sessions: int, patient_codes: Sequence[str] | None
) -> Select[Any]:
    patients = patients_in_scope(patient_codes).subquery("p")
    if dialect == "postgresql":
        recent = (
            select(session_table)
            .where(session_table.c.patient_id == patients.c.id)
            .where(session_table.c.session_at < end_utc)
            .order_by(session_table.c.session_at.desc())
            .limit(sessions)
            .lateral("recent")
        )
        return select(
            patients.c.code.label("patient_id"),
            *(recent.c[name] for name in WINDOW_COLUMNS),
        ).select_from(patients.join(recent, true()))
    # SQLite has no LATERAL: the ids of each patient's latest rows come from a
    # correlated subquery that walks the (patient_id, session_at) index backwards.
    inner = session_table.alias("inner")
    latest_ids = (
        select(inner.c.id)
        .where(inner.c.patient_id == patients.c.id)
        .where(inner.c.session_at < end_utc)
        .order_by(inner.c.session_at.desc())
        .limit(sessions)
        .correlate(patients)
    )
    return (
        select(
            patients.c.code.label("patient_id"),
            *(session_table.c[name] for name in WINDOW_COLUMNS),
        )
        .select_from(patients)
        .join(session_table, session_table.c.id.in_(latest_ids))
    )


def _summary_statement(
    dialect: str, end_utc: datetime, count_cap: int, patient_codes: Sequence[str] | None
) -> Select[Any]:
    """Per patient: min(sessions, cap), the cap-th session's time, and the first and
    latest PHQ-9 (value and time).

    Four index seeks per patient on PostgreSQL (LATERAL), six on SQLite. The
    latest session comes from the recent window and the PHQ-9 count from the
    baseline and latest times, so they cost nothing here.
    """
    patients = patients_in_scope(patient_codes).subquery("p")
    s = session_table.alias("s")
    before_end = (s.c.patient_id == patients.c.id) & (s.c.session_at < end_utc)
    with_phq9 = before_end & s.c.phq9.is_not(None)

    def cap_th_session_at(newest: bool) -> Any:
        """The time of the cap-th session counted from the newest or the oldest (one seek)."""
        order = s.c.session_at.desc() if newest else s.c.session_at.asc()
        return (
            select(s.c.session_at).where(before_end).order_by(order).offset(count_cap - 1).limit(1)
        ).scalar_subquery()

    # min(count, cap) without counting a long history: if the cap-th newest row
    # exists the answer is cap, otherwise the (short) count itself. Walking back
    # from the newest stays in the index pages the recent window just read, and
    # reads the index alone (session_at is in it), however long the history.
    exact = select(func.count()).select_from(s).where(before_end).scalar_subquery()
    session_count = case(
        (cap_th_session_at(newest=True).is_not(None), literal(count_cap)), else_=exact
    )
    # The cap-th session from the start: the one that made the count enough (evidence
    # for nonresponse). One more seek, from the other end of the same index.
    review_after_at = cap_th_session_at(newest=False)

    def phq9_at(newest: bool) -> Select[Any]:
        order = s.c.session_at.desc() if newest else s.c.session_at.asc()
        return select(s.c.phq9, s.c.session_at).where(with_phq9).order_by(order).limit(1)

    if dialect == "postgresql":
        first = phq9_at(newest=False).lateral("first_phq9")
        last = phq9_at(newest=True).lateral("last_phq9")
        return (
            select(
                patients.c.code.label("patient_id"),
                session_count.label("session_count"),
                review_after_at.label("review_after_at"),
                first.c.phq9.label("phq9_baseline"),
                first.c.session_at.label("phq9_baseline_at"),
                last.c.phq9.label("phq9_latest"),
                last.c.session_at.label("phq9_latest_at"),
            )
            .select_from(patients)
            .outerjoin(first, true())
            .outerjoin(last, true())
        )

    def one(column: ColumnElement[Any], newest: bool) -> Any:
        order = s.c.session_at.desc() if newest else s.c.session_at.asc()
        return select(column).where(with_phq9).order_by(order).limit(1).scalar_subquery()

    return select(
        patients.c.code.label("patient_id"),
        session_count.label("session_count"),
        review_after_at.label("review_after_at"),
        one(s.c.phq9, newest=False).label("phq9_baseline"),
        one(s.c.session_at, newest=False).label("phq9_baseline_at"),
        one(s.c.phq9, newest=True).label("phq9_latest"),
        one(s.c.session_at, newest=True).label("phq9_latest_at"),
    )


def read_frame(connection: Connection, statement: Select[Any]) -> pd.DataFrame:
    """The statement's rows as a frame, its column labels as the columns."""
    result = connection.execute(statement)
    # Plain tuples: pandas builds a frame from SQLAlchemy Row objects far more slowly.
    rows = [tuple(row) for row in result.fetchall()]
    return pd.DataFrame.from_records(rows, columns=list(result.keys()))


def utc_to_local_column(values: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Naive UTC datetimes as naive clinic-local datetime64 values."""
    converted = pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(tz)
    return converted.dt.tz_localize(None).astype("datetime64[ns]")


def load_recent_window(
    connection: Connection,
    *,
    end_utc: datetime,
    sessions: int,
    count_cap: int,
    tz: ZoneInfo,
    patient_codes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each patient's last ``sessions`` sessions before ``end_utc``, and their summary.

    Returns ``(recent, summary)``: ``recent`` has patient_id (the code), session_at
    (clinic-local) and every session column; ``summary`` one row per patient with
    session_count (capped at ``count_cap``), review_after_at (the ``count_cap``-th
    session's time), latest_session_at, phq9_count (capped
    at 2), phq9_baseline(_at) and phq9_latest(_at). Times are clinic-local.
    """
    dialect = connection.dialect.name
    recent = read_frame(connection, _recent_statement(dialect, end_utc, sessions, patient_codes))
    summary = read_frame(connection, _summary_statement(dialect, end_utc, count_cap, patient_codes))
    recent["session_at"] = utc_to_local_column(recent["session_at"], tz)
    recent = recent.sort_values(["patient_id", "session_at"], ascending=[True, False])
    recent["position"] = recent.groupby("patient_id", sort=False).cumcount() + 1
    summary = summary[summary["session_count"] > 0].reset_index(drop=True)
    for column in ("review_after_at", "phq9_baseline_at", "phq9_latest_at"):
        summary[column] = utc_to_local_column(summary[column], tz)
    latest = recent.loc[recent["position"] == 1, ["patient_id", "session_at"]]
    summary = summary.merge(
        latest.rename(columns={"session_at": "latest_session_at"}), on="patient_id", how="left"
    )
    summary["latest_session_at"] = summary["latest_session_at"].astype("datetime64[ns]")
    # First and latest PHQ-9 are the same session when there is only one score.
    baseline_at, latest_at = summary["phq9_baseline_at"], summary["phq9_latest_at"]
    summary["phq9_count"] = np.where(
        baseline_at.isna(), 0, np.where(baseline_at == latest_at, 1, 2)
    ).astype("int64")
    return recent.reset_index(drop=True), summary


# Text is sorted here, in Python (code-point order), never by ORDER BY: PostgreSQL
# sorts by the database's collation (en_US puts "_x" before "-5" and "a" before
# "B"), SQLite by bytes, and the two must show the same order.


def patient_codes(connection: Connection) -> list[str]:
    """Every patient code, sorted."""
    return sorted(connection.execute(select(patient_table.c.code)).scalars().all())


def patients_frame(
    connection: Connection, patient_codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Patients with their display name, primary clinician and treatment status."""
    statement = select(
        patient_table.c.code.label("patient_id"),
        patient_table.c.display_name,
        patient_table.c.primary_clinician,
        patient_table.c.treatment_status,
    )
    if patient_codes is not None:
        statement = statement.where(patient_table.c.code.in_(list(patient_codes)))
    frame = read_frame(connection, statement)
    return frame.sort_values("patient_id", kind="stable").reset_index(drop=True)


def decisions_frame(
    connection: Connection,
    *,
    end_utc: datetime,
    tz: ZoneInfo,
    patient_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Decisions recorded before ``end_utc`` with the patient code and local times."""
    columns = [c for c in decision_table.columns if c.name not in ("id", "patient_id")]
    statement = (
        select(patient_table.c.code.label("patient_id"), *columns)
        .join(patient_table, patient_table.c.id == decision_table.c.patient_id)
        .where(decision_table.c.decided_at < end_utc)
        .order_by(patient_table.c.code, decision_table.c.decided_at)
    )
    if patient_codes is not None:
        statement = statement.where(patient_table.c.code.in_(list(patient_codes)))
    frame = read_frame(connection, statement)
    frame["decided_at"] = utc_to_local_column(frame["decided_at"], tz)
    return frame


def session_history(
    connection: Connection, *, patient_code: str, end_utc: datetime, tz: ZoneInfo
) -> pd.DataFrame:
    """Every session of one patient before ``end_utc``, oldest first, local times."""
    statement = (
        select(
            patient_table.c.code.label("patient_id"),
            session_table.c.id.label("session_id"),
            *(session_table.c[name] for name in SESSION_VALUE_COLUMNS),
        )
        .join(patient_table, patient_table.c.id == session_table.c.patient_id)
        .where(patient_table.c.code == patient_code)
        .where(session_table.c.session_at < end_utc)
        .order_by(session_table.c.session_at)
    )
    frame = read_frame(connection, statement)
    frame["session_at"] = utc_to_local_column(frame["session_at"], tz)
    return frame


def get_setting(connection: Connection, key: str) -> str | None:
    """The value of an installation setting, or None."""
    statement = select(col(AppSetting.value)).where(col(AppSetting.key) == key)
    return connection.execute(statement).scalar_one_or_none()


def set_setting(session: Session, key: str, value: str) -> None:
    """Set an installation setting inside ``session``'s transaction."""
    setting = session.get(AppSetting, key)
    if setting is None:
        session.add(AppSetting(key=key, value=value))
    else:
        setting.value = value
        session.add(setting)


def has_records(connection: Connection) -> bool:
    """Whether any patient or user exists (a database that is not empty)."""
    for table in (patient_table, user_table):
        if connection.execute(select(table.c.id).limit(1)).first() is not None:
            return True
    return False


def delete_clinical_records(session: Session, patient_codes: Sequence[str]) -> int:
    """Delete the sessions and decisions of these patients (demo refresh only)."""
    ids = select(patient_table.c.id).where(patient_table.c.code.in_(list(patient_codes)))
    deleted = 0
    for table in (decision_table, session_table):
        result = session.execute(table.delete().where(table.c.patient_id.in_(ids)))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


def upsert_patient(
    session: Session,
    *,
    code: str,
    display_name: str,
    primary_clinician: str,
    treatment_status: str,
) -> None:
    """Create the patient ``code`` or update its details."""
    values = {
        "display_name": display_name,
        "primary_clinician": primary_clinician,
        "treatment_status": treatment_status,
    }
    existing = session.execute(
        select(patient_table.c.id).where(patient_table.c.code == code)
    ).scalar_one_or_none()
    if existing is None:
        session.execute(patient_table.insert().values(code=code, created_at=utc_now(), **values))
    else:
        session.execute(patient_table.update().where(patient_table.c.id == existing).values(values))


# -- look-ups for saving one session or decision from a form --------------------------------


def patient_by_code(session: Session, code: str) -> Patient | None:
    """The patient with the clinic's code ``code``."""
    return session.execute(select(Patient).where(col(Patient.code) == code)).scalars().first()


def session_time_taken(
    session: Session, *, patient_id: int, session_at: datetime, other_than: int | None = None
) -> bool:
    """Whether this patient already has a session at ``session_at`` (besides ``other_than``)."""
    statement = select(col(DosingSession.id)).where(
        col(DosingSession.patient_id) == patient_id, col(DosingSession.session_at) == session_at
    )
    if other_than is not None:
        statement = statement.where(col(DosingSession.id) != other_than)
    return session.execute(statement.limit(1)).first() is not None


def decision_time_taken(session: Session, *, patient_id: int, decided_at: datetime) -> bool:
    """Whether this patient already has a decision recorded at ``decided_at``."""
    statement = select(col(Decision.id)).where(
        col(Decision.patient_id) == patient_id, col(Decision.decided_at) == decided_at
    )
    return session.execute(statement.limit(1)).first() is not None


def first_decision_between(
    session: Session, *, patient_id: int, start_utc: datetime, end_utc: datetime
) -> datetime | None:
    """When this patient's first decision in [start_utc, end_utc) was recorded, if any."""
    statement = select(func.min(col(Decision.decided_at))).where(
        col(Decision.patient_id) == patient_id,
        col(Decision.decided_at) >= start_utc,
        col(Decision.decided_at) < end_utc,
    )
    found = session.execute(statement).scalar_one_or_none()
    return found if isinstance(found, datetime) else None


def latest_decision_kind(session: Session, *, patient_id: int) -> str | None:
    """The decision (continue, pause …) of this patient's latest decision; None without one."""
    statement = (
        select(col(Decision.decision))
        .where(col(Decision.patient_id) == patient_id)
        .order_by(col(Decision.decided_at).desc())
        .limit(1)
    )
    found = session.execute(statement).scalar_one_or_none()
    return None if found is None else str(found)


def has_later_decision(session: Session, *, patient_id: int, decided_at: datetime) -> bool:
    """Whether this patient has a decision recorded after ``decided_at``."""
    statement = select(col(Decision.id)).where(
        col(Decision.patient_id) == patient_id, col(Decision.decided_at) > decided_at
    )
    return session.execute(statement.limit(1)).first() is not None
