"""Small builders for the rules tests: sessions, decisions and a one-call review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from redflags.config import RulesConfig, load_rules
from redflags.engine import Review, evaluate_history
from redflags.fields import VALUE_COLUMNS

RULES = load_rules()
AS_OF = date(2025, 11, 20)
#: The first session of a typical test: 3 Nov 2025, 10:00.
START = datetime(2025, 11, 3, 10, 0)
DECISION_COLUMNS = ["patient_id", "decided_at", "decision", "flags_considered"]


def session(patient_id: str = "P1", at: datetime = START, **values: Any) -> dict[str, Any]:
    """One session row with every column of rules.md §1 (blank unless given)."""
    row: dict[str, Any] = {column: None for column in VALUE_COLUMNS}
    row.update(route="ketamine_iv", dose_mg=35.0)
    row.update(patient_id=patient_id, session_at=at)
    row.update(values)
    return row


def weekly(
    patient_id: str, *sessions: dict[str, Any], start: datetime = START
) -> list[dict[str, Any]]:
    """Sessions a week apart from ``start``, oldest first; each dict holds its values."""
    return [
        session(patient_id, start + timedelta(days=7 * number), **values)
        for number, values in enumerate(sessions)
    ]


def history(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A history frame as the database layer gives it (session_at as datetime64)."""
    frame = pd.DataFrame(list(rows), columns=["patient_id", "session_at", *VALUE_COLUMNS])
    frame["session_at"] = pd.to_datetime(frame["session_at"])
    for column in VALUE_COLUMNS:
        if column not in ("route", "commitment", "note") and not column.endswith("_course"):
            frame[column] = pd.to_numeric(frame[column])
    return frame


def decision(
    patient_id: str, at: datetime, considered: str, kind: str = "continue"
) -> dict[str, Any]:
    """One care-team decision row."""
    return {
        "patient_id": patient_id,
        "decided_at": at,
        "decision": kind,
        "flags_considered": considered,
    }


def decisions(rows: Sequence[dict[str, Any]] = ()) -> pd.DataFrame:
    """A decisions frame (possibly empty)."""
    frame = pd.DataFrame(list(rows), columns=DECISION_COLUMNS)
    frame["decided_at"] = pd.to_datetime(frame["decided_at"])
    return frame


def review(
    rows: Sequence[dict[str, Any]],
    made: Sequence[dict[str, Any]] = (),
    patients: Sequence[str] | None = None,
    as_of: date = AS_OF,
    config: RulesConfig = RULES,
) -> Review:
    """Evaluate the rules on these sessions and decisions."""
    frame = history(rows)
    listed = patients if patients is not None else list(dict.fromkeys(frame["patient_id"]))
    return evaluate_history(frame, decisions(made), listed, as_of, config)


def row_of(result: Review, patient_id: str = "P1") -> dict[str, Any]:
    """The review table row of one patient, as a dict."""
    rows = result.table.loc[result.table["patient_id"] == patient_id]
    assert len(rows) == 1
    return dict(rows.iloc[0])


def codes(result: Review, patient_id: str = "P1") -> set[str]:
    """Every flag code raised for a patient (addressed or not)."""
    mine = result.findings.loc[result.findings["patient_id"] == patient_id]
    return set(mine["code"])


def finding(result: Review, code: str, patient_id: str = "P1") -> dict[str, Any]:
    """One finding row, as a dict."""
    rows = result.findings.loc[
        (result.findings["patient_id"] == patient_id) & (result.findings["code"] == code)
    ]
    assert len(rows) == 1, f"{code} not found once for {patient_id}: {len(rows)}"
    return dict(rows.iloc[0])


def recommended(result: Review, patient_id: str = "P1") -> tuple[str, ...]:
    """The recommendation codes of a patient, in order."""
    return tuple(row_of(result, patient_id)["recommendations"])


def with_rules(**changes: dict[str, Any]) -> RulesConfig:
    """The shipped rules with some sections' values changed, e.g. with_rules(window={...})."""
    data = RULES.model_dump()
    for section, values in changes.items():
        data[section] = {**data[section], **values}
    return RulesConfig.model_validate(data)
