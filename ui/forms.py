"""Between the pages' widgets and the services' text mappings (the CSV's own formats).

The session and decision forms hand the services the same text a CSV row
would hold, so that the importer's validators judge both alike. Nothing here
imports Streamlit: the conversions are plain, typed and tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from redflags.codes import DecisionKind
from redflags.csv_format import format_number
from redflags.fields import SESSION_FIELDS, THEMES, Field, Kind
from redflags.labels import (
    decision_words,
    flag_words,
    format_date,
    format_dose,
    format_moment,
    route_words,
)
from redflags.validation import Problem

if TYPE_CHECKING:
    from redflags.engine import PatientReview
    from services.patients import NextTreatment

#: The session fields the form lays out as value widgets (patient and date have their own).
FORM_FIELDS: tuple[Field, ...] = tuple(
    f for f in SESSION_FIELDS if f.name not in ("patient_id", "session_date")
)
COURSE_FIELDS: frozenset[str] = frozenset(f"{theme}_course" for theme in THEMES)
WidgetValue = int | float | str | None


def anything_typed(values: Mapping[str, object]) -> bool:
    """Whether the session form holds a value of its own (the patient and the day aside)."""
    return any(values.get(field.name) not in (None, "") for field in FORM_FIELDS)


def iso_moment(day: date | None, at: time | None) -> str:
    """A date (and time, when given) as the ISO 8601 text of a CSV cell; "" for no date."""
    if day is None:
        return ""
    if at is None:
        return day.isoformat()
    return datetime.combine(day, at.replace(second=0, microsecond=0)).isoformat(timespec="minutes")


def _cell(value: WidgetValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def _intensity_above_zero(value: WidgetValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def session_values(
    *,
    patient_code: str | None,
    day: date | None,
    at: time | None,
    values: Mapping[str, WidgetValue],
) -> dict[str, str]:
    """The form's widget values as the sessions CSV's text cells (rules.md §1 names).

    A theme's course is asked only for an intensity above 0; a course left
    behind by an intensity since set to 0 or blank is dropped, not sent.
    """
    out = {"patient_id": patient_code or "", "session_date": iso_moment(day, at)}
    for field in FORM_FIELDS:
        value = values.get(field.name)
        if field.name in COURSE_FIELDS:
            theme = field.name.removesuffix("_course")
            value = value if _intensity_above_zero(values.get(theme)) else None
        out[field.name] = _cell(value)
    return out


@dataclass(frozen=True)
class SessionWidgets:
    """A stored session (as text) turned back into widget values, to edit it."""

    day: date | None
    at: time | None
    values: dict[str, WidgetValue]


def session_widgets(text: Mapping[str, str]) -> SessionWidgets:
    """The inverse of :func:`session_values`, for loading a stored session into the form."""
    moment = text.get("session_date", "")
    day: date | None = None
    at: time | None = None
    if moment:
        parsed = datetime.fromisoformat(moment)
        day = parsed.date()
        at = parsed.time() if "T" in moment or " " in moment else None
    values: dict[str, WidgetValue] = {}
    for field in FORM_FIELDS:
        cell = text.get(field.name, "")
        if cell == "":
            values[field.name] = None
        elif field.kind is Kind.INTEGER:
            values[field.name] = int(float(cell))
        elif field.kind is Kind.NUMBER:
            values[field.name] = float(cell)
        else:
            values[field.name] = cell
    return SessionWidgets(day=day, at=at, values=values)


#: The words a form shows for a CSV column that a validator's message names.
FORM_WORDS: dict[str, str] = {
    **{f.name: f.label for f in SESSION_FIELDS},
    "decided_at": "decision date",
    "route_from": "route from",
    "route_to": "route to",
    "dose_from_mg": "dose from (mg)",
    "dose_to_mg": "dose to (mg)",
    "participants": "who took part",
    "patient_view": "the patient's view",
    "flags_considered": "flags considered",
    "edit_id": "session to edit",
    "edit_reason": "reason for the change",
    "remove_reason": "why it was entered in error",
    "display_name": "display name",
    "primary_clinician": "primary clinician",
    "treatment_status": "treatment status",
}
_COLUMN_NAME = re.compile(
    r"\b(" + "|".join(map(re.escape, sorted(FORM_WORDS, key=len, reverse=True))) + r")\b"
)


#: A message that begins so has no subject of its own: the CSV report puts the column first.
_NO_SUBJECT = ("is ", "must ")


def in_form_words(message: str, column: str | None = None) -> str:
    """A validator's message as a form shows it: column names in the form's words,
    the field named where the message has no subject, the first letter a capital
    ("phq9_item9 is required" → "PHQ-9 item 9 is required"; "is in the future"
    under decided_at → "Decision date is in the future")."""
    if column is not None and message.startswith(_NO_SUBJECT):
        message = f"{column} {message}"
    worded = _COLUMN_NAME.sub(lambda match: FORM_WORDS[match.group(1)], message)
    worded = _ISO_MOMENT.sub(_moment_in_words, worded)
    return worded[:1].upper() + worded[1:]


#: An ISO date or date-time in a validator's message (the CSV's form of it).
_ISO_MOMENT = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?\b")


def _moment_in_words(match: re.Match[str]) -> str:
    """ "2026-11-28T09:30" as the forms show dates ("28 Nov 2026, 09:30")."""
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return match[0]  # not a real date: shown as typed
    shown = format_date(day)
    return f"{shown}, {match[4]}:{match[5]}" if match[4] else shown


def problems_summary(problems: Sequence[Problem]) -> str:
    """How many problems and where, for the banner by the Save button (the fields'
    own messages may be a screen away): "3 problems, at PHQ-9 item 9, panic"."""
    count = len(problems)
    where = list(dict.fromkeys(FORM_WORDS.get(p.column, p.column) for p in problems if p.column))
    places = f", at {', '.join(where)}" if where else ""
    return f"{count} problem{'s' if count != 1 else ''}{places}"


def problems_by_field(problems: Iterable[Problem]) -> dict[str | None, list[str]]:
    """Messages grouped by the field they belong to (None: the form as a whole),
    worded for the form (:func:`in_form_words`)."""
    grouped: dict[str | None, list[str]] = {}
    for problem in problems:
        shown = in_form_words(problem.message, problem.column)
        grouped.setdefault(problem.column, []).append(shown)
    return grouped


# ---------------------------------------------------------------- decisions

#: Decisions that change the treatment, and the field that says to what.
DECISION_TARGETS: dict[str, tuple[str, str]] = {
    DecisionKind.ADJUST_DOSE: ("dose_from_mg", "dose_to_mg"),
    DecisionKind.SWITCH_ROUTE: ("route_from", "route_to"),
}


def decision_values(
    *,
    patient_code: str | None,
    day: date | None,
    at: time | None,
    decision: str | None,
    route_from: str | None = None,
    route_to: str | None = None,
    dose_from: float | None = None,
    dose_to: float | None = None,
    participants: str = "",
    patient_view: str = "",
    rationale: str = "",
    flags_considered: Sequence[str] = (),
) -> dict[str, str]:
    """The decision form's values as the decisions CSV's text cells.

    Every decision records the treatment it was taken on (route and dose
    "from"). The "to" fields are sent only for the decisions they belong to
    (switch route: the new route and, optionally, its starting dose; adjust
    dose: the new dose), so a value left in a hidden field never becomes part
    of another kind of decision. A dose adjustment stays on its route, so the
    route's own dose rules (esketamine 28/56/84 mg) apply to it.
    """
    kind = decision or ""
    switch = kind == DecisionKind.SWITCH_ROUTE
    adjust = kind == DecisionKind.ADJUST_DOSE
    return {
        "patient_id": patient_code or "",
        "decided_at": iso_moment(day, at) if at is not None else (day.isoformat() if day else ""),
        "decision": kind,
        "route_from": route_from or "",
        "route_to": (route_to or "") if switch else (route_from or "") if adjust else "",
        "dose_from_mg": _cell(dose_from),
        "dose_to_mg": _cell(dose_to) if adjust or switch else "",
        "participants": participants,
        "patient_view": patient_view,
        "rationale": rationale,
        "flags_considered": ";".join(flags_considered),
    }


#: What a decision taken in the dashboard must say (imports may lack it: older systems did).
DECISION_RECORD_NEEDS: tuple[tuple[str, str], ...] = (
    ("participants", "say who took part (the patient and the care team)"),
    ("patient_view", "write the patient's own view, or why it could not be given"),
    ("rationale", "give the reason for this decision"),
)


def decision_form_problems(values: Mapping[str, str]) -> list[Problem]:
    """What the form needs beyond the CSV's validation.

    Who took part, the patient's view and the rationale (a decision is made
    with the patient and must show why); a switch or an adjustment says to what.
    """
    problems = [
        Problem(message, None, column)
        for column, message in DECISION_RECORD_NEEDS
        if not values.get(column, "").strip()
    ]
    targets = DECISION_TARGETS.get(values.get("decision", ""))
    if targets is None:
        return problems
    before, after = targets
    what = "route" if before == "route_from" else "dose"
    if not values.get(after, "").strip():
        problems.append(Problem(f"give the new {what}", None, after))
    elif values.get(before, "").strip() == values[after].strip():
        problems.append(Problem(f"the new {what} is the same as the current one", None, after))
    return problems


def next_treatment_words(planned: NextTreatment) -> str:
    """The line above a new session's form: the latest session, and a change decided since.

    E.g. "Latest session: 21 Nov 2026, 10:30 · IV ketamine, 35 mg. Decided since
    (24 Nov 2026, 16:00, adjust dose): IV ketamine, 30 mg."
    """
    latest = planned.latest
    said = (
        f"Latest session: {format_moment(latest.session_at, with_time=latest.time_recorded)}"
        f" · {route_words(latest.route)}, {format_dose(latest.dose_mg)}."
    )
    if planned.decided_at is None:
        return said
    return f"{said} Decided since {_decided_change(planned)}."


def _decided_change(planned: NextTreatment) -> str:
    """ "(24 Nov 2026, 16:00, adjust dose): IV ketamine, 30 mg" """
    dose = f", {format_dose(planned.dose_mg)}" if planned.dose_mg is not None else ""
    return (
        f"({format_moment(planned.decided_at)}, {decision_words(planned.decision).lower()}): "
        f"{route_words(planned.route)}{dose}"
    )


def decided_since_words(
    planned: NextTreatment | None, *, latest: datetime | None, as_of: date
) -> str | None:
    """Under the report's current route and dose: the change decided since the latest
    session, which the next session is to follow. None when there is none, and in a
    view as of an earlier day (``latest``, the view's latest session, is not the
    patient's latest, or the decision came after ``as_of``)."""
    if (
        planned is None
        or planned.decided_at is None
        or planned.latest.session_at != latest
        or planned.decided_at.date() > as_of
    ):
        return None
    return f"Decided since the latest session {_decided_change(planned)} from the next session."


#: How long after a save a second click on Save counts as the same click.
REPEAT_CLICK_SECONDS = 5.0


@dataclass(frozen=True)
class SavedForm:
    """The values of the last session saved from the form, and when (a monotonic clock)."""

    values: Mapping[str, str]
    at: float


def is_repeat_click(values: Mapping[str, str], last: SavedForm | None, now: float) -> bool:
    """Whether a save is a second click on Save that the first one already handled.

    A quick second click arrives after the first has saved and cleared the form:
    it would be refused as blank (or as the same session again) and its "Not
    saved" would hide the first click's success. Within :data:`REPEAT_CLICK_SECONDS`
    of a save, the same values again, or a form left with nothing but the
    patient and the date, is that second click.
    """
    if last is None or not 0 <= now - last.at <= REPEAT_CLICK_SECONDS:
        return False
    if dict(values) == dict(last.values):
        return True
    filled = {
        name: value
        for name, value in values.items()
        if name not in ("patient_id", "session_date") and value
    }
    return not filled and values.get("patient_id") == last.values.get("patient_id")


def flags_before_their_evidence(
    considered: Sequence[str], review: PatientReview, day: date | None, at: time | None
) -> str | None:
    """Before saving: the considered flags a decision at ``day`` ``at`` would not address.

    A decision addresses a flag only when taken after the latest session that is
    evidence for it (rules.md §8). Said while the form is filled, so that a
    mistyped or too-early time is corrected before a record that leaves the
    flags open is saved.
    """
    if day is None or at is None:
        return None
    decided = datetime.combine(day, at.replace(second=0, microsecond=0))
    early: list[tuple[str, datetime]] = []
    for finding in review.open_flags:
        if finding.code not in considered:
            continue
        latest = finding.latest_evidence_at
        if latest is not None and decided <= latest:
            early.append((finding.code, latest))
    if not early:
        return None
    parts = "; ".join(
        f"{flag_words(code)} (latest evidence {format_moment(latest)})" for code, latest in early
    )
    return (
        f"Timed before the evidence: a decision at {format_moment(decided)} would not address "
        f"{parts}, since a decision addresses a flag only when taken after its evidence. "
        "Check the time the team decided."
    )


def untimed_session_that_day(untimed: Iterable[datetime], day: date | None) -> str | None:
    """Before saving: the patient has a session recorded without a time on the decision's day.

    ``untimed``: when such sessions are stored, the clinic day's start in clinic
    time (:func:`services.report_view.untimed_sessions` of the report's sessions).
    The review orders a date-only session before any decision that day (it cannot
    know better), so the decision addresses that session's flags even when the
    team decided before the session. Said so that the session's time can be added.
    """
    if day is None or not any(at.date() == day for at in untimed):
        return None
    return (
        f"This patient's session of {format_date(day)} was recorded without a time, so the "
        "review counts a decision that day as taken after it: the flags considered become "
        "addressed for that session too. If the team decided before the session, add the "
        "session's time first (Log a session → Edit a stored session)."
    )


def flags_left_open(considered: Sequence[str], review: PatientReview) -> str | None:
    """Why flags a decision just considered are still open, or None when it addressed them.

    A decision addresses a flag only when it was taken after the latest session
    that is evidence for it (rules.md §8): one timed before that session (a
    meeting entered later with its real time, a mistyped time) leaves it open,
    and the care team should know rather than read "recorded" as "addressed".
    """
    still_open = [
        finding.code
        for finding in review.open_flags
        if finding.code in considered and not finding.addressed
    ]
    if not still_open:
        return None
    names = "; ".join(flag_words(code) for code in still_open)
    return (
        f"Still open: {names}. The decision is timed before the latest session that is "
        f"evidence for {'it' if len(still_open) == 1 else 'them'} (the patient report lists "
        "those sessions), and a decision addresses a flag only when taken after its "
        "evidence. If the team decided after that session, record the decision with the "
        "time it was taken."
    )
