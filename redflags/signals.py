"""The recent window (rules.md §2) and what each session signals (§3, §5, §6).

Everything here works on a whole caseload at once: one row per session, one
vectorised expression per rule. :func:`recent_window` builds the window from a
full history; the database layer builds an equal :class:`Window` with SQL, so
the rules downstream rely only on the columns documented on :class:`Window`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from redflags.codes import Course, Route, SafetyFlag
from redflags.config import RulesConfig
from redflags.fields import BP_READINGS, COURSES, ROUTES, THEMES
from redflags.wording import NOT_RECORDED

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
MomentArray = npt.NDArray[np.datetime64]
G = TypeVar("G", bound=np.generic)

#: Columns of :attr:`Window.summary`, one row per patient with a session on or before as-of.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "session_count",
    "review_after_at",
    "latest_session_at",
    "phq9_count",
    "phq9_baseline",
    "phq9_baseline_at",
    "phq9_latest",
    "phq9_latest_at",
)

#: Session values the rules read, besides the themes and their courses.
NUMBER_COLUMNS: tuple[str, ...] = (
    "dose_mg",
    *(column for pair in BP_READINGS.values() for column in pair),
    "observation_min",
    "phq9_item9",
)

#: Course words by index, with "not recorded" last so that index -1 (blank) reads it.
_COURSE_WORDS = np.asarray([*COURSES, NOT_RECORDED], dtype=object)

#: A course that counts as resolved: the session is not hard (rules.md §3).
RESOLVED_COURSES: tuple[str, ...] = (Course.REFLECTED.value, Course.CONTAINED.value)


@dataclass(frozen=True)
class Window:
    """The sessions the rules look at, for every patient of a caseload.

    ``recent``: each patient's last ``window.sessions`` sessions on or before
    the as-of date, with the history's columns (``patient_id``, ``session_at``
    and the session fields of rules.md §1) plus ``position`` (1 = latest).

    ``summary``: one row per patient with a session on or before the as-of
    date, columns :data:`SUMMARY_COLUMNS`. ``session_count`` may be capped at
    ``outcome.review_after`` and ``phq9_count`` at 2: compare them only with
    those numbers. ``review_after_at`` is the time of the patient's
    ``outcome.review_after``-th session (blank before it): the session that
    made the count enough for ``nonresponse``, and so part of its evidence.
    The PHQ-9 baseline is the first recorded score, the latest the last
    recorded, both on or before the as-of date (rules.md §7).
    """

    recent: pd.DataFrame
    summary: pd.DataFrame


def end_of_day(as_of: date) -> pd.Timestamp:
    """The first instant after the as-of date: a time counts when it is before this."""
    return pd.Timestamp(as_of) + pd.Timedelta(days=1)


def recent_window(history: pd.DataFrame, as_of: date, config: RulesConfig) -> Window:
    """The recent sessions and per-patient summary as of a date (rules.md §2, §7).

    A session counts when its local date is on or before ``as_of``. Rows may
    come in any order; (patient_id, session_at) is the key of a session.
    """
    counted = history.loc[history["session_at"] < end_of_day(as_of)]
    counted = counted.sort_values(["patient_id", "session_at"], kind="stable")
    position = counted.groupby("patient_id", sort=False).cumcount(ascending=False) + 1
    counted = counted.assign(position=position.astype("int64"))
    recent = counted.loc[counted["position"] <= config.window.sessions].reset_index(drop=True)

    by_patient = counted.groupby("patient_id", sort=True)
    summary = pd.DataFrame(
        {
            "session_count": by_patient.size().astype("int64"),
            "latest_session_at": by_patient["session_at"].max(),
        }
    )
    number = counted.groupby("patient_id", sort=False).cumcount() + 1
    nth = counted.loc[number == config.outcome.review_after].set_index("patient_id")
    summary["review_after_at"] = nth["session_at"].reindex(summary.index)
    scored = counted.loc[counted["phq9"].notna(), ["patient_id", "session_at", "phq9"]]
    first = scored.drop_duplicates("patient_id", keep="first").set_index("patient_id")
    last = scored.drop_duplicates("patient_id", keep="last").set_index("patient_id")
    summary["phq9_count"] = scored.groupby("patient_id").size().reindex(summary.index)
    summary["phq9_count"] = summary["phq9_count"].fillna(0).astype("int64")
    summary["phq9_baseline"] = first["phq9"].reindex(summary.index)
    summary["phq9_baseline_at"] = first["session_at"].reindex(summary.index)
    summary["phq9_latest"] = last["phq9"].reindex(summary.index)
    summary["phq9_latest_at"] = last["session_at"].reindex(summary.index)
    summary = summary.rename_axis("patient_id").reset_index()
    return Window(recent=recent, summary=summary.loc[:, list(SUMMARY_COLUMNS)])


def numbers(frame: pd.DataFrame, column: str) -> FloatArray:
    """A numeric column as float64 with NaN for blank (accepts nullable Int64; absent = blank)."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce")
    return np.asarray(values.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)


def word_codes(frame: pd.DataFrame, column: str, words: tuple[str, ...]) -> IntArray:
    """A column of vocabulary words as indexes into ``words``; -1 for blank or unknown."""
    if column not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int64)
    return np.asarray(pd.Index(words).get_indexer(pd.Index(frame[column])), dtype=np.int64)


def route_texts(frame: pd.DataFrame) -> ObjectArray:
    """The route of each session as text (None for blank)."""
    codes = word_codes(frame, "route", ROUTES)
    out = np.asarray([*ROUTES, None], dtype=object)[codes]
    if "route" not in frame.columns:
        return out
    unknown = (codes < 0) & frame["route"].notna().to_numpy(dtype=bool)
    out[unknown] = frame["route"].to_numpy(dtype=object)[unknown]
    return out


@dataclass(frozen=True)
class RecentSessions:
    """The recent sessions of the reviewed patients, as plain arrays (one entry per session).

    ``patient`` is the patient's index in the review's patient list, so that
    per-patient results are arrays indexed by that number.
    """

    patient: IntArray
    session_at: npt.NDArray[np.datetime64]
    position: IntArray
    route: ObjectArray
    values: dict[str, FloatArray]
    #: Course of each theme as an index into :data:`COURSES` (-1 = not recorded).
    courses: dict[str, IntArray]
    patient_count: int

    def __len__(self) -> int:
        return len(self.patient)

    @property
    def is_latest(self) -> BoolArray:
        """Which sessions are their patient's latest (position 1)."""
        return np.asarray(self.position == 1, dtype=np.bool_)

    def course_words(self, theme: str, rows: IntArray) -> ObjectArray:
        """The course of a theme at the given sessions, "not recorded" for blank."""
        return np.asarray(_COURSE_WORDS[self.courses[theme][rows]], dtype=object)

    def per_patient(self, values: npt.NDArray[G], fill: object) -> npt.NDArray[G]:
        """The value of each patient's latest session (``fill`` for a patient without one)."""
        latest = self.is_latest
        out: npt.NDArray[G] = np.full(self.patient_count, fill, dtype=values.dtype)
        out[self.patient[latest]] = values[latest]
        return out


def prepare_recent(recent: pd.DataFrame, patients: pd.Index, config: RulesConfig) -> RecentSessions:
    """The window's recent rows of the given patients, as typed arrays."""
    if "patient_id" not in recent.columns:  # an empty caseload may come without columns
        recent = pd.DataFrame({"patient_id": [], "session_at": [], "position": []})
        recent = recent.astype({"session_at": "datetime64[ns]", "position": "int64"})
    patient = patients.get_indexer(pd.Index(recent["patient_id"].astype(object)))
    position = np.asarray(recent["position"].to_numpy(dtype="int64"), dtype=np.int64)
    keep = (patient >= 0) & (position >= 1) & (position <= config.window.sessions)
    rows = recent.loc[keep]
    return RecentSessions(
        patient=np.asarray(patient[keep], dtype=np.int64),
        session_at=pd.to_datetime(rows["session_at"]).to_numpy(dtype="datetime64[ns]"),
        position=position[keep],
        route=route_texts(rows),
        values={c: numbers(rows, c) for c in (*THEMES, *NUMBER_COLUMNS)},
        courses={t: word_codes(rows, f"{t}_course", COURSES) for t in THEMES},
        patient_count=len(patients),
    )


def hard_sessions(sessions: RecentSessions, theme: str, config: RulesConfig) -> BoolArray:
    """Sessions hard for a theme: intensity ≥ theme.hard and not reflected or contained (§3).

    A blank intensity is not assessed (never hard); a blank course counts as not resolved.
    """
    intensity = sessions.values[theme]
    resolved = np.isin(sessions.courses[theme], [COURSES.index(c) for c in RESOLVED_COURSES])
    return np.asarray((intensity >= config.theme.hard) & ~resolved, dtype=np.bool_)


def green_sessions(
    sessions: RecentSessions, theme: str, courses: tuple[Course, ...], config: RulesConfig
) -> BoolArray:
    """Sessions where a theme ≥ theme.green ended in one of ``courses`` (rules.md §6)."""
    intensity = sessions.values[theme]
    ended_well = np.isin(sessions.courses[theme], [COURSES.index(c.value) for c in courses])
    return np.asarray((intensity >= config.theme.green) & ended_well, dtype=np.bool_)


def rise(sessions: RecentSessions, when: str, part: int) -> FloatArray:
    """Rise of a reading (``when`` in "40", "end"; part 0 systolic, 1 diastolic) over bp_pre."""
    after = sessions.values[BP_READINGS[when][part]]
    before = sessions.values[BP_READINGS["pre"][part]]
    return np.asarray(after - before, dtype=np.float64)


def safety_signals(sessions: RecentSessions, config: RulesConfig) -> dict[SafetyFlag, BoolArray]:
    """Each safety rule of rules.md §5 on every session; only the latest session counts.

    Comparisons with a blank value are false, so a missing value never fires.
    """
    v = sessions.values
    s = config.safety
    latest = sessions.is_latest
    after = ("40", "end")
    risen = [
        (rise(sessions, w, 0) >= s.rise_sys) | (rise(sessions, w, 1) >= s.rise_dia) for w in after
    ]
    post = [
        (v[BP_READINGS[w][0]] >= s.post_sys) | (v[BP_READINGS[w][1]] >= s.post_dia) for w in after
    ]
    signals = {
        SafetyFlag.SUICIDALITY: v["phq9_item9"] >= s.phq9_item9,
        SafetyFlag.BP_PRE_DOSE: (v["bp_pre_sys"] > s.pre_sys) | (v["bp_pre_dia"] > s.pre_dia),
        SafetyFlag.BP_RISE: risen[0] | risen[1],
        SafetyFlag.BP_POST_DOSE: post[0] | post[1],
        SafetyFlag.SHORT_OBSERVATION: (sessions.route == Route.ESKETAMINE_NASAL.value)
        & (v["observation_min"] < s.observation_min),
    }
    return {code: np.asarray(fired & latest, dtype=np.bool_) for code, fired in signals.items()}
