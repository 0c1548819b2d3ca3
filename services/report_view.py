"""The patient report in display form: evidence tables, session and decision tables, chart marks.

Plain functions over the frames of :class:`services.report.PatientReport`; the
hard and green-light sessions are found by the rules engine's own session
tests (:func:`redflags.signals.hard_sessions`, :func:`~redflags.signals.green_sessions`),
applied to the whole history instead of the recent window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
import pandas as pd

from redflags.codes import RED_FLAG_THEMES, Course, GreenLight
from redflags.config import RulesConfig
from redflags.engine import Finding
from redflags.fields import BP_READINGS, FIELDS_BY_NAME, THEMES
from redflags.labels import (
    course_words,
    decision_words,
    flag_words,
    format_dose,
    format_moment,
    route_words,
)
from redflags.signals import green_sessions, hard_sessions, prepare_recent

#: The sessions that give each green light of rules.md §6: (theme, courses that count).
GREEN_LIGHT_THEMES: dict[str, tuple[tuple[str, tuple[Course, ...]], ...]] = {
    GreenLight.FEAR_TO_REFLECTION: (
        ("panic", (Course.REFLECTED,)),
        ("death_imagery", (Course.REFLECTED,)),
    ),
    GreenLight.GRIEF_CONTAINED: (("grief", (Course.CONTAINED, Course.REFLECTED)),),
    GreenLight.SHAME_REFRAMED: (("shame", (Course.REFLECTED,)),),
}
#: Columns of :func:`session_markers`.
MARKER_COLUMNS: tuple[str, ...] = ("session_at", "theme", "intensity", "kind", "code")
HARD, GREEN = "hard", "green"

_EVIDENCE_LABELS: dict[str, str] = {
    "role": "PHQ-9 score",
    "phq9": "PHQ-9",
    "change": "change from baseline",
    "route": "route",
    "sessions_in_all": "sessions in all",
}


def session_markers(history: pd.DataFrame, config: RulesConfig) -> pd.DataFrame:
    """One row per (session, theme) that was a hard session (rules.md §3) or a green light (§6).

    ``history`` is one patient's sessions (``session_at`` and the session
    fields). Columns :data:`MARKER_COLUMNS`: ``kind`` is "hard" or "green";
    ``code`` is the theme's red flag (hard) or the green light.
    """
    if history.empty:
        return pd.DataFrame({c: [] for c in MARKER_COLUMNS})
    ordered = history.sort_values("session_at", kind="stable").reset_index(drop=True)
    ordered = ordered.assign(
        patient_id="patient", position=np.arange(len(ordered), 0, -1, dtype=np.int64)
    )
    # Every session of the history is "recent" here: only the per-session tests are used.
    everything = config.model_copy(
        update={"window": config.window.model_copy(update={"sessions": len(ordered)})}
    )
    sessions = prepare_recent(ordered, pd.Index(["patient"], dtype=object), everything)
    at = ordered["session_at"]
    parts: list[pd.DataFrame] = []

    def mark(fired: np.ndarray, theme: str, kind: str, code: str) -> None:
        rows = np.flatnonzero(fired)
        if len(rows):
            parts.append(
                pd.DataFrame(
                    {
                        "session_at": at.iloc[rows].to_numpy(),
                        "theme": theme,
                        "intensity": sessions.values[theme][rows],
                        "kind": kind,
                        "code": code,
                    }
                )
            )

    for theme, (red, _watch) in RED_FLAG_THEMES.items():
        mark(hard_sessions(sessions, theme, config), theme, HARD, red.value)
    for code, pairs in GREEN_LIGHT_THEMES.items():
        for theme, courses in pairs:
            mark(green_sessions(sessions, theme, courses, config), theme, GREEN, str(code))
    if not parts:
        return pd.DataFrame({c: [] for c in MARKER_COLUMNS})
    return (
        pd.concat(parts, ignore_index=True)
        .sort_values(["session_at", "kind", "theme"], kind="stable")
        .reset_index(drop=True)
    )


def _value_text(key: str, value: object) -> str:
    if key.endswith("_course"):
        return course_words(str(value)) if value else ""
    if key == "route":
        return route_words(str(value))
    if key == "change" and isinstance(value, float):
        return f"{value:+.2f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def untimed_sessions(sessions: pd.DataFrame) -> frozenset[datetime]:
    """When the sessions recorded with their date alone are stored (the day's start):
    their evidence shows the date only, never a made-up "00:00"."""
    if sessions.empty or "time_recorded" not in sessions:
        return frozenset()
    untimed = sessions.loc[~sessions["time_recorded"].astype(bool), "session_at"]
    return frozenset(pd.Timestamp(value).to_pydatetime() for value in untimed)


def evidence_frame(finding: Finding, untimed: frozenset[datetime] = frozenset()) -> pd.DataFrame:
    """A finding's evidence as a table: one row per session (or PHQ-9 score), values as text.

    ``untimed``: the sessions given without a time (:func:`untimed_sessions`).
    """
    rows: list[dict[str, str]] = []
    for item in finding.evidence:
        row: dict[str, str] = {}
        for key, value in item.items():
            if key == "session_at":
                at = pd.Timestamp(value).to_pydatetime() if isinstance(value, datetime) else None
                row["session"] = format_moment(at, with_time=at not in untimed)
                continue
            field = FIELDS_BY_NAME.get(key)
            name = field.label if field else _EVIDENCE_LABELS.get(key, key.replace("_", " "))
            row[name] = _value_text(key, value)
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _number(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    number = float(str(value))
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _moment(value: object, time_recorded: object = True) -> str:
    stamp = pd.Timestamp(cast(datetime, value)) if value is not None else None
    return format_moment(stamp, with_time=bool(time_recorded))


def session_table(history: pd.DataFrame) -> pd.DataFrame:
    """The sessions as the report's table, newest first, every value as text."""
    rows = []
    for s in history.sort_values("session_at", ascending=False).to_dict("records"):
        row = {
            "session": _moment(s["session_at"], s.get("time_recorded", True)),
            "route": route_words(_text(s["route"])),
            "dose": format_dose(float(s["dose_mg"])),
        }
        for theme in THEMES:
            level, course = _number(s.get(theme)), course_words(_text(s.get(f"{theme}_course")))
            row[theme] = f"{level}, {course}" if level and course else level
        row["cadss"] = _number(s.get("dissociation_cadss"))
        for when, (sys_col, dia_col) in BP_READINGS.items():
            systolic, diastolic = _number(s.get(sys_col)), _number(s.get(dia_col))
            row[f"bp_{when}"] = (
                f"{systolic or '–'}/{diastolic or '–'}" if systolic or diastolic else ""
            )
        row["observation_min"] = _number(s.get("observation_min"))
        row["phq9"] = _number(s.get("phq9"))
        row["phq9_item9"] = _number(s.get("phq9_item9"))
        row["commitment"] = _text(s.get("commitment"))
        row["note"] = _text(s.get("note"))
        rows.append(row)
    columns = [
        "session",
        "route",
        "dose",
        *THEMES,
        "cadss",
        *(f"bp_{when}" for when in BP_READINGS),
        "observation_min",
        "phq9",
        "phq9_item9",
        "commitment",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)


def _flag_list(codes: object) -> str:
    text = _text(codes)
    return "; ".join(flag_words(code) for code in text.split(";") if code)


def _change(before: str, after: str) -> str:
    """ "a → b" for a change; the value alone when only the one before was recorded
    (a pause or a stop notes the treatment it held); "→ b" for only the one after."""
    if before and after:
        return f"{before} → {after}"
    if before:
        return before
    return f"→ {after}" if after else ""


def _route_change(before: object, after: object) -> str:
    return _change(route_words(_text(before)), route_words(_text(after)))


def _dose_change(before: object, after: object) -> str:
    shown = _change(_number(before), _number(after))
    return f"{shown} mg" if shown else ""


def _people(text: object) -> str:
    """Participants as stored ("a;b") read as a list ("a; b")."""
    return "; ".join(part.strip() for part in _text(text).split(";") if part.strip())


def decision_table(decisions: pd.DataFrame) -> pd.DataFrame:
    """The care-team decisions, newest first, every value as text."""
    rows = []
    for d in decisions.sort_values("decided_at", ascending=False).to_dict("records"):
        rows.append(
            {
                "decided": _moment(d["decided_at"]),
                "decision": decision_words(_text(d["decision"])),
                "route": _route_change(d.get("route_from"), d.get("route_to")),
                "dose": _dose_change(d.get("dose_from_mg"), d.get("dose_to_mg")),
                "participants": _people(d.get("participants")),
                "patient_view": _text(d.get("patient_view")),
                "rationale": _text(d.get("rationale")),
                "flags_considered": _flag_list(d.get("flags_considered")),
                "recorded_by": _text(d.get("recorded_by")),
            }
        )
    columns = [
        "decided",
        "decision",
        "route",
        "dose",
        "participants",
        "patient_view",
        "rationale",
        "flags_considered",
        "recorded_by",
    ]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Commitment:
    """The small action the patient chose after a session (rules.md §1)."""

    text: str
    session: str


def latest_commitment(history: pd.DataFrame) -> Commitment | None:
    """The patient's most recent chosen commitment, with its session's date."""
    if history.empty or "commitment" not in history.columns:
        return None
    chosen = history.loc[history["commitment"].fillna("").astype(str).str.strip() != ""]
    if chosen.empty:
        return None
    last = chosen.sort_values("session_at").iloc[-1]
    return Commitment(
        text=str(last["commitment"]),
        session=_moment(last["session_at"], last.get("time_recorded", True)),
    )


def open_flag_codes(findings: Iterable[Finding]) -> list[str]:
    """The codes of the findings, in order, without duplicates."""
    return list(dict.fromkeys(f.code for f in findings))
