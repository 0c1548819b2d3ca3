"""The fields of one dosing session (rules.md §1): names, order, types and ranges.

The importer, the session form and the database CHECK constraints all read
these definitions, so a range is written down exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from redflags.codes import Course, Route


class Kind(StrEnum):
    """The type of a session field's value."""

    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"
    NUMBER = "number"
    INTEGER = "integer"


@dataclass(frozen=True)
class Field:
    """One column of the sessions CSV and of the session form."""

    name: str
    kind: Kind
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    choices: tuple[str, ...] = ()
    label: str = ""


PATIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
PATIENT_ID_MAX = 64

THEMES: tuple[str, ...] = ("panic", "despair", "vulnerability", "death_imagery", "shame", "grief")
COURSES: tuple[str, ...] = tuple(c.value for c in Course)
ROUTES: tuple[str, ...] = tuple(r.value for r in Route)
#: The only esketamine nasal doses (Spravato device: 1, 2 or 3 devices of 28 mg).
ESKETAMINE_DOSES_MG: tuple[int, ...] = (28, 56, 84)

THEME_LOW, THEME_HIGH = 0, 10
BP_SYS_LOW, BP_SYS_HIGH = 50, 300
BP_DIA_LOW, BP_DIA_HIGH = 20, 200
#: The three blood-pressure readings, as (systolic column, diastolic column).
BP_READINGS: dict[str, tuple[str, str]] = {
    "pre": ("bp_pre_sys", "bp_pre_dia"),
    "40": ("bp_40_sys", "bp_40_dia"),
    "end": ("bp_end_sys", "bp_end_dia"),
}


def _theme_fields() -> list[Field]:
    intensities = [
        Field(t, Kind.INTEGER, low=THEME_LOW, high=THEME_HIGH, label=t.replace("_", " "))
        for t in THEMES
    ]
    courses = [
        Field(f"{t}_course", Kind.CHOICE, choices=COURSES, label=f"{t.replace('_', ' ')} course")
        for t in THEMES
    ]
    return intensities + courses


def _bp_fields() -> list[Field]:
    fields: list[Field] = []
    for when, (sys_col, dia_col) in BP_READINGS.items():
        label = {"pre": "before dosing", "40": "at 40 minutes", "end": "at discharge"}[when]
        fields.append(
            Field(
                sys_col, Kind.INTEGER, low=BP_SYS_LOW, high=BP_SYS_HIGH, label=f"systolic {label}"
            )
        )
        fields.append(
            Field(
                dia_col, Kind.INTEGER, low=BP_DIA_LOW, high=BP_DIA_HIGH, label=f"diastolic {label}"
            )
        )
    return fields


#: Every session field, in the order of rules.md §1 (and of the sessions CSV).
SESSION_FIELDS: tuple[Field, ...] = (
    Field("patient_id", Kind.TEXT, required=True, label="patient"),
    Field("session_date", Kind.DATE, required=True, label="session date"),
    Field("route", Kind.CHOICE, required=True, choices=ROUTES, label="route"),
    Field(
        "dose_mg",
        Kind.NUMBER,
        required=True,
        low=0,
        high=1000,
        low_exclusive=True,
        label="dose (mg)",
    ),
    Field("weight_kg", Kind.NUMBER, low=20, high=400, label="weight (kg)"),
    *_theme_fields(),
    Field("dissociation_cadss", Kind.INTEGER, low=0, high=92, label="CADSS total"),
    *_bp_fields(),
    Field("observation_min", Kind.INTEGER, low=0, high=1440, label="observation (min)"),
    Field("phq9", Kind.INTEGER, low=0, high=27, label="PHQ-9"),
    Field("phq9_item9", Kind.INTEGER, low=0, high=3, label="PHQ-9 item 9"),
    Field("commitment", Kind.TEXT, label="small commitment"),
    Field("note", Kind.TEXT, label="clinician note"),
)

SESSION_COLUMNS: tuple[str, ...] = tuple(f.name for f in SESSION_FIELDS)
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in SESSION_FIELDS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(f.name for f in SESSION_FIELDS if f.required)
#: Fields stored as-is on the session row (everything but the key).
VALUE_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in SESSION_FIELDS if f.name not in ("patient_id", "session_date")
)

#: Columns of the decisions CSV (records.md).
DECISION_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "decided_at",
    "decision",
    "route_from",
    "route_to",
    "dose_from_mg",
    "dose_to_mg",
    "participants",
    "patient_view",
    "rationale",
    "flags_considered",
    "recorded_by",
)

#: Columns of the review CSV (records.md).
REVIEW_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "status",
    "safety_flags",
    "red_flags",
    "watch",
    "green_lights",
    "addressed",
    "recommendations",
    "latest_session",
    "route",
    "dose_mg",
    "stale",
    "phq9_baseline",
    "phq9_latest",
    "phq9_change",
)
