"""Plain words for codes, statuses and dates, shared by pages, services and exports.

Codes live in :mod:`redflags.codes`; this module only says how each one reads
on screen. Status is always shown with an icon **and** a word, never by colour
alone. Dates read "3 Nov 2026" everywhere; date inputs use DD/MM/YYYY.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import pandas as pd

from redflags.codes import (
    Course,
    DecisionKind,
    GreenLight,
    Recommendation,
    RedFlag,
    Route,
    SafetyFlag,
    Status,
    TreatmentStatus,
    Watch,
)

#: The same display format as :func:`format_date`, for st.column_config.DatetimeColumn.
TABLE_DATE_FORMAT = "D MMM YYYY"
TABLE_MOMENT_FORMAT = "D MMM YYYY, HH:mm"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

BadgeColour = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "primary"]


@dataclass(frozen=True)
class StatusLook:
    """How one status is shown: an emoji (colour and shape), a word, and a badge."""

    emoji: str
    word: str
    colour: BadgeColour
    icon: str

    @property
    def text(self) -> str:
        """Icon and word together, for table cells and headings."""
        return f"{self.emoji} {self.word}"


STATUS_LOOK: dict[str, StatusLook] = {
    Status.URGENT: StatusLook("🚨", "Urgent", "red", ":material/emergency:"),
    Status.RED: StatusLook("🔴", "Red", "red", ":material/flag:"),
    Status.AMBER: StatusLook("🟠", "Amber", "orange", ":material/visibility:"),
    Status.GREEN: StatusLook("🟢", "Green", "green", ":material/check_circle:"),
}

FLAG_WORDS: dict[str, str] = {
    SafetyFlag.SUICIDALITY: "Thoughts of self-harm (PHQ-9 item 9)",
    SafetyFlag.BP_PRE_DOSE: "High blood pressure before dosing",
    SafetyFlag.BP_RISE: "Blood-pressure rise after dosing",
    SafetyFlag.BP_POST_DOSE: "High blood pressure after dosing",
    SafetyFlag.SHORT_OBSERVATION: "Observation shorter than the REMS minimum",
    RedFlag.REPEATED_PANIC: "Repeated overwhelming panic",
    RedFlag.UNRELENTING_DESPAIR: "Unrelenting despair",
    RedFlag.EXTRAORDINARY_VULNERABILITY: "Extraordinary vulnerability",
    Watch.WATCH_PANIC: "Watch: unresolved panic",
    Watch.WATCH_DESPAIR: "Watch: unresolved despair",
    Watch.WATCH_VULNERABILITY: "Watch: unresolved vulnerability",
    Watch.NONRESPONSE: "Watch: little mood response (PHQ-9)",
    GreenLight.FEAR_TO_REFLECTION: "Fear giving way to reflection",
    GreenLight.GRIEF_CONTAINED: "Grief that feels contained",
    GreenLight.SHAME_REFRAMED: "Shame reframed as history, not destiny",
    GreenLight.MOOD_RESPONSE: "Mood response (PHQ-9)",
    GreenLight.REMISSION: "Remission (PHQ-9)",
}

RECOMMENDATION_WORDS: dict[str, str] = {
    Recommendation.REVIEW_SAFETY: "Consider a same-day safety review",
    Recommendation.PAUSE: "Consider a pause, decided with the patient",
    Recommendation.ADJUST_DOSE: "Consider adjusting the dose",
    Recommendation.SWITCH_ROUTE: "Consider another route",
    Recommendation.CONTINUE: "Consider continuing the current plan",
}

ROUTE_WORDS: dict[str, str] = {
    Route.ESKETAMINE_NASAL: "Esketamine nasal (Spravato)",
    Route.KETAMINE_IV: "IV ketamine",
    Route.KETAMINE_IM: "IM ketamine",
    Route.KETAMINE_ORAL: "Oral ketamine",
}

DECISION_WORDS: dict[str, str] = {
    DecisionKind.CONTINUE: "Continue",
    DecisionKind.PAUSE: "Pause",
    DecisionKind.ADJUST_DOSE: "Adjust dose",
    DecisionKind.SWITCH_ROUTE: "Switch route",
    DecisionKind.STOP: "Stop",
}

COURSE_WORDS: dict[str, str] = {
    Course.REFLECTED: "reflected",
    Course.CONTAINED: "contained",
    Course.PERSISTED: "persisted",
    Course.ESCALATED: "escalated",
}
COURSE_HELP = (
    "How the theme ended by the end of the session: reflected (gave way to reflection), "
    "contained (present but held, bearable), persisted (unabated), escalated (grew, "
    "needed intervention)."
)

TREATMENT_WORDS: dict[str, str] = {
    TreatmentStatus.ACTIVE: "Active",
    TreatmentStatus.PAUSED: "Paused",
    TreatmentStatus.STOPPED: "Stopped",
    TreatmentStatus.COMPLETED: "Completed",
}

STALE_MARK = "⏰"


def _words(table: dict[str, str], code: str | None) -> str:
    if code is None or code == "":
        return ""
    return table.get(code, code.replace("_", " "))


def status_text(status: str) -> str:
    """A status as icon and word ("🚨 Urgent")."""
    look = STATUS_LOOK.get(status)
    return look.text if look else status


def flag_words(code: str) -> str:
    """A flag code in plain words."""
    return _words(FLAG_WORDS, code)


def recommendation_words(code: str) -> str:
    """A recommendation code as an option ("Consider …")."""
    return _words(RECOMMENDATION_WORDS, code)


def route_words(code: str | None) -> str:
    """A route code in words; "" for none."""
    return _words(ROUTE_WORDS, code)


def decision_words(code: str | None) -> str:
    """A decision code in words."""
    return _words(DECISION_WORDS, code)


def treatment_words(code: str | None) -> str:
    """A treatment status in words."""
    return _words(TREATMENT_WORDS, code)


def course_words(code: str | None) -> str:
    """A course code in words."""
    return _words(COURSE_WORDS, code)


def _blank(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def format_date(value: date | datetime | pd.Timestamp | None) -> str:
    """A date as "3 Nov 2026"; "" for none."""
    if _blank(value) or value is None:
        return ""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_moment(value: datetime | pd.Timestamp | None, *, with_time: bool = True) -> str:
    """A session or decision time as "3 Nov 2026, 14:30" (date alone without a time)."""
    if _blank(value) or value is None:
        return ""
    day = format_date(value)
    return f"{day}, {value.hour:02d}:{value.minute:02d}" if with_time else day


def format_dose(dose: float | None) -> str:
    """A dose as "56 mg" or "37.5 mg"; "" for none."""
    if dose is None or dose != dose:
        return ""
    return f"{dose:g} mg"


def route_and_dose(route: str | None, dose: float | None) -> str:
    """The current treatment in words ("IV ketamine, 35 mg"); "not recorded" for none."""
    parts = [p for p in (route_words(route), format_dose(dose)) if p]
    return ", ".join(parts) or "not recorded"


def days_text(days: int) -> str:
    """A count of days ("1 day", "23 days")."""
    return f"{days} day" if days == 1 else f"{days} days"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=])")
#: U+2060 WORD JOINER: invisible and not a space. Put inside what Markdown or Streamlit
#: would turn into a link or an icon even when escaped, it breaks the pattern unseen.
JOINER = "\u2060"
#: Bare addresses that Markdown links by itself (GFM autolink literals): www., a scheme
#: followed by ":", an e-mail's "@". A backslash before the "." or ":" does not stop it.
_AUTOLINK = re.compile(r"(?i)\b(www)(?=\.)|\b(https?|ftp|mailto|xmpp)(?=:)|(@)")
#: Streamlit's icon directives (:material/name:, :streamlit:), drawn despite escaping.
_ICON = re.compile(r"(?i):(?=material/|streamlit:)")
#: Every line break Markdown or a browser may act on: a new line would start a new
#: paragraph, a list, a heading or an indented code block.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
#: Bidirectional embeddings, overrides and isolates: they can make "x<RLO>gpj.csv" read
#: as "xvsc.jpg". Marks (U+200E, U+200F) stay: right-to-left names need them.
_BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """Text safe to place inside st.markdown: every Markdown and Streamlit directive escaped.

    Names, notes and any other text that people type must go through this (or
    into a table cell) so that it can never become a link, an image, a colour
    directive, an icon or HTML, nor break into paragraphs. It reads the same,
    on one line; only invisible characters are added (:data:`JOINER`) or taken
    out (bidirectional overrides).
    """
    text = _LINE_BREAK.sub(" ", _BIDI_CONTROL.sub("", str(text)))
    text = _AUTOLINK.sub(lambda m: f"{m[0]}{JOINER}", text)
    text = _ICON.sub(f":{JOINER}", text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
