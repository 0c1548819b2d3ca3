"""Queries behind the dashboard's pages that the rules engine does not need.

Each read is bounded per patient (an index seek on ``(patient_id, session_at)``),
so a page costs what the caseload costs, not what years of history cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, CursorResult, Select, select, true
from sqlmodel import Session

from models.queries import patients_in_scope, read_frame, utc_to_local_column
from models.tables import decision_table, patient_table, session_table
from redflags.clinic_time import utc_to_local
from redflags.codes import DecisionKind

PHQ9_SCORE_COLUMNS: tuple[str, ...] = ("patient_id", "session_at", "phq9")
SESSION_CHOICE_COLUMNS: tuple[str, ...] = (
    "session_id",
    "session_at",
    "time_recorded",
    "route",
    "dose_mg",
)

#: The decisions that say what a later session is given.
CHANGE_DECISIONS: tuple[str, ...] = (DecisionKind.ADJUST_DOSE, DecisionKind.SWITCH_ROUTE)


def _recent_phq9_statement(
    dialect: str, end_utc: datetime, per_patient: int, patient_codes: Sequence[str] | None
) -> Select[Any]:
    patients = patients_in_scope(patient_codes).subquery("p")
    if dialect == "postgresql":
        scores = (
            select(session_table.c.session_at, session_table.c.phq9)
            .where(session_table.c.patient_id == patients.c.id)
            .where(session_table.c.session_at < end_utc)
            .where(session_table.c.phq9.is_not(None))
            .order_by(session_table.c.session_at.desc())
            .limit(per_patient)
            .lateral("scores")
        )
        return select(
            patients.c.code.label("patient_id"), scores.c.session_at, scores.c.phq9
        ).select_from(patients.join(scores, true()))
    # SQLite has no LATERAL: a correlated subquery walks the partial PHQ-9 index
    # (patient_id, session_at, phq9 WHERE phq9 IS NOT NULL) backwards per patient.
    inner = session_table.alias("inner")
    latest_ids = (
        select(inner.c.id)
        .where(inner.c.patient_id == patients.c.id)
        .where(inner.c.session_at < end_utc)
        .where(inner.c.phq9.is_not(None))
        .order_by(inner.c.session_at.desc())
        .limit(per_patient)
        .correlate(patients)
    )
    return (
        select(
            patients.c.code.label("patient_id"), session_table.c.session_at, session_table.c.phq9
        )
        .select_from(patients)
        .join(session_table, session_table.c.id.in_(latest_ids))
    )


def recent_phq9_scores(
    connection: Connection,
    *,
    end_utc: datetime,
    per_patient: int,
    tz: ZoneInfo,
    patient_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each patient's last ``per_patient`` PHQ-9 scores before ``end_utc``, oldest first.

    Columns :data:`PHQ9_SCORE_COLUMNS`; ``session_at`` is clinic-local.
    """
    statement = _recent_phq9_statement(connection.dialect.name, end_utc, per_patient, patient_codes)
    frame = read_frame(connection, statement).loc[:, list(PHQ9_SCORE_COLUMNS)]
    frame["session_at"] = utc_to_local_column(frame["session_at"], tz)
    frame["phq9"] = pd.to_numeric(frame["phq9"]).astype("int64")
    return frame.sort_values(["patient_id", "session_at"], kind="stable").reset_index(drop=True)


def session_choices(
    connection: Connection, *, patient_code: str, tz: ZoneInfo, limit: int
) -> pd.DataFrame:
    """A patient's latest ``limit`` sessions (newest first), to pick one to edit.

    Columns :data:`SESSION_CHOICE_COLUMNS`; ``session_at`` is clinic-local.
    """
    statement = (
        select(
            session_table.c.id.label("session_id"),
            session_table.c.session_at,
            session_table.c.time_recorded,
            session_table.c.route,
            session_table.c.dose_mg,
        )
        .join(patient_table, patient_table.c.id == session_table.c.patient_id)
        .where(patient_table.c.code == patient_code)
        .order_by(session_table.c.session_at.desc())
        .limit(limit)
    )
    frame = read_frame(connection, statement).loc[:, list(SESSION_CHOICE_COLUMNS)]
    frame["session_at"] = utc_to_local_column(frame["session_at"], tz)
    return frame


def latest_change_decided(
    connection: Connection, *, patient_code: str, tz: ZoneInfo
) -> dict[str, Any] | None:
    """The patient's newest decision that changed the route or the dose, or None.

    Keys ``decided_at`` (clinic-local, naive), ``decision``, ``route_to`` and
    ``dose_to_mg`` (either may be None in an imported decision). A later
    "continue" or "pause" does not undo it, so it is looked for among
    adjustments and switches only.
    """
    statement = (
        select(
            decision_table.c.decided_at,
            decision_table.c.decision,
            decision_table.c.route_to,
            decision_table.c.dose_to_mg,
        )
        .join(patient_table, patient_table.c.id == decision_table.c.patient_id)
        .where(
            patient_table.c.code == patient_code,
            decision_table.c.decision.in_(CHANGE_DECISIONS),
        )
        .order_by(decision_table.c.decided_at.desc())
        .limit(1)
    )
    row = connection.execute(statement).first()
    if row is None:
        return None
    return {
        "decided_at": utc_to_local(row.decided_at, tz),
        "decision": str(row.decision),
        "route_to": row.route_to,
        "dose_to_mg": None if row.dose_to_mg is None else float(row.dose_to_mg),
    }


def insert_patient(
    session: Session,
    *,
    code: str,
    display_name: str,
    primary_clinician: str,
    treatment_status: str,
    now: datetime,
) -> int | None:
    """Add a patient inside ``session``'s transaction: its id, or None when the code is taken."""
    taken = session.execute(select(patient_table.c.id).where(patient_table.c.code == code)).first()
    if taken is not None:
        return None
    result = cast(
        CursorResult[Any],
        session.execute(
            patient_table.insert().values(
                code=code,
                display_name=display_name,
                primary_clinician=primary_clinician,
                treatment_status=treatment_status,
                created_at=now,
            )
        ),
    )
    key = result.inserted_primary_key
    return None if key is None else int(key[0])
