"""Status (rules.md §8) and recommendations (§9), counting only flags not addressed.

Works on the findings of a whole caseload: per-patient facts are arrays
indexed by the patient's number in the review, and each recommendation is one
vectorised condition over all patients.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from redflags.codes import Recommendation, RedFlag, Route, SafetyFlag, Status, Watch
from redflags.config import RulesConfig
from redflags.flags import FlagKind
from redflags.signals import (
    BoolArray,
    FloatArray,
    IntArray,
    MomentArray,
    ObjectArray,
    RecentSessions,
)
from redflags.wording import join_groups, label, long_date, number_texts, short_dates

#: Columns of :attr:`redflags.engine.Review.recommendations`, in order.
RECOMMENDATION_COLUMNS: tuple[str, ...] = ("patient_id", "code", "order", "reason", "based_on")

#: Status by the most urgent kind of unaddressed flag (rules.md §8).
STATUS_BY_KIND: tuple[Status, ...] = (Status.URGENT, Status.RED, Status.AMBER, Status.GREEN)
KIND_RANK: dict[str, int] = {
    FlagKind.SAFETY: 0,
    FlagKind.RED: 1,
    FlagKind.WATCH: 2,
    FlagKind.GREEN: 3,
}
#: Rank of each status, most urgent first (for sorting the weekly review).
STATUS_RANK: dict[str, int] = {status.value: rank for rank, status in enumerate(STATUS_BY_KIND)}
RECOMMENDATION_RANK: dict[str, int] = {code.value: rank for rank, code in enumerate(Recommendation)}

ROUTE_LABELS: dict[str, str] = {
    Route.ESKETAMINE_NASAL: "esketamine nasal spray",
    Route.KETAMINE_IV: "IV ketamine",
    Route.KETAMINE_IM: "IM ketamine",
    Route.KETAMINE_ORAL: "oral ketamine",
}
#: Red flags that suggest a slower-onset route when the latest session was IV or IM ketamine.
FAST_ONSET_FLAGS: tuple[str, ...] = (
    RedFlag.REPEATED_PANIC.value,
    RedFlag.EXTRAORDINARY_VULNERABILITY.value,
)
FAST_ONSET_ROUTES: tuple[str, ...] = (Route.KETAMINE_IV.value, Route.KETAMINE_IM.value)


@dataclass(frozen=True)
class OpenFlags:
    """The flags not addressed (safety, red, watch), with per-patient helpers."""

    patient: IntArray
    code: ObjectArray
    kind: ObjectArray
    detail: ObjectArray
    patient_count: int

    @classmethod
    def of(cls, found: pd.DataFrame, patient_count: int) -> OpenFlags:
        """The unaddressed safety, red and watch rows of the findings."""
        kind = found["kind"].to_numpy(dtype=object)
        keep = ~found["addressed"].to_numpy(dtype=bool) & (kind != FlagKind.GREEN.value)
        rows = found.loc[keep]
        return cls(
            patient=rows["patient_no"].to_numpy(dtype=np.int64),
            code=rows["code"].to_numpy(dtype=object),
            kind=rows["kind"].to_numpy(dtype=object),
            detail=rows["detail"].to_numpy(dtype=object),
            patient_count=patient_count,
        )

    def _among(self, codes: Iterable[str]) -> BoolArray:
        return np.asarray(np.isin(self.code, [str(c) for c in codes]), dtype=np.bool_)

    def any(self, codes: Iterable[str]) -> BoolArray:
        """Per patient: is any of these codes open?"""
        hit = np.zeros(self.patient_count, dtype=np.bool_)
        hit[self.patient[self._among(codes)]] = True
        return hit

    def joined(self, codes: Iterable[str], what: str, sep: str) -> ObjectArray:
        """Per patient: the open flags' codes, labels or details, joined in table order."""
        among = self._among(codes)
        values = {
            "code": self.code,
            "label": np.asarray([label(c) for c in self.code], dtype=object),
            "detail": self.detail,
        }[what]
        return join_groups(self.patient[among], values[among], self.patient_count, sep)


def statuses(found: pd.DataFrame, patient_count: int) -> ObjectArray:
    """Each patient's status: the most urgent kind of unaddressed flag (rules.md §8)."""
    best = np.full(patient_count, KIND_RANK[FlagKind.GREEN], dtype=np.int64)
    open_flags = OpenFlags.of(found, patient_count)
    ranks = np.asarray([KIND_RANK[k] for k in open_flags.kind], dtype=np.int64)
    np.minimum.at(best, open_flags.patient, ranks)
    return np.asarray([s.value for s in STATUS_BY_KIND], dtype=object)[best]


def _first_dose_on_latest_route(sessions: RecentSessions) -> tuple[FloatArray, MomentArray]:
    """Dose and date of each patient's earliest recent session on their latest route."""
    latest_route = sessions.per_patient(sessions.route, None)
    same_route = sessions.route == latest_route[sessions.patient]
    earliest = np.zeros(sessions.patient_count, dtype=np.int64)
    np.maximum.at(earliest, sessions.patient[same_route], sessions.position[same_route])
    first = same_route & (sessions.position == earliest[sessions.patient])
    dose = np.full(sessions.patient_count, np.nan)
    dose[sessions.patient[first]] = sessions.values["dose_mg"][first]
    at = np.full(sessions.patient_count, np.datetime64("NaT"), dtype="datetime64[ns]")
    at[sessions.patient[first]] = sessions.session_at[first]
    return dose, at


def recommendations(
    found: pd.DataFrame,
    sessions: RecentSessions,
    patients: pd.Index,
    config: RulesConfig,
    as_of: date,
) -> pd.DataFrame:
    """The recommendations of rules.md §9 per patient, in order, each with reason and basis.

    Only unaddressed flags count. ``adjust_dose`` and ``switch_route`` appear
    at most once; ``continue`` when none of the others applies.
    """
    n = len(patients)
    flags = OpenFlags.of(found, n)
    safety_codes = [c.value for c in SafetyFlag]
    red_codes = [c.value for c in RedFlag]
    watch_codes = [c.value for c in Watch]
    safety, red = flags.any(safety_codes), flags.any(red_codes)

    route = sessions.per_patient(sessions.route, None)
    dose = sessions.per_patient(sessions.values["dose_mg"], np.nan)
    latest_at = sessions.per_patient(sessions.session_at, np.datetime64("NaT"))
    first_dose, first_at = _first_dose_on_latest_route(sessions)
    route_words = np.asarray([ROUTE_LABELS.get(r, str(r)) for r in route], dtype=object)
    dose_words = number_texts(dose)

    # adjust_dose after a red flag: the dose rose over the recent sessions on this route.
    adjust_after_red = red & (dose > first_dose)
    # adjust_dose after nonresponse: room below the route's maximum (none configured = room).
    maximum = np.asarray([config.max_dose_mg(str(r)) for r in route], dtype=float)
    below_max = np.isnan(maximum) | (dose < maximum)
    nonresponse = flags.any([Watch.NONRESPONSE.value])
    adjust_for_nonresponse = nonresponse & ~red & ~safety & below_max
    # switch_route: fast-onset routes with panic or vulnerability; esketamine at its lowest dose.
    fast_onset = flags.any(FAST_ONSET_FLAGS) & np.isin(route, FAST_ONSET_ROUTES)
    lowest = (
        red & (route == Route.ESKETAMINE_NASAL.value) & (dose <= config.dose.esketamine_lowest_mg)
    )
    adjust = adjust_after_red | adjust_for_nonresponse
    switch = fast_onset | lowest
    keep_going = ~(safety | red | adjust | switch)

    red_labels = flags.joined(red_codes, "label", " and ")
    dates_latest = short_dates(latest_at, as_of)
    nonresponse_detail = flags.joined([Watch.NONRESPONSE.value], "detail", "; ")
    no_session = np.isnat(latest_at)

    reasons: dict[Recommendation, tuple[BoolArray, npt.ArrayLike, npt.ArrayLike]] = {
        Recommendation.REVIEW_SAFETY: (
            safety,
            "Consider a same-day safety review, holding the next dose until it is addressed: "
            + flags.joined(safety_codes, "detail", "; ")
            + ".",
            flags.joined(safety_codes, "code", ";"),
        ),
        Recommendation.PAUSE: (
            red,
            "Consider a moment to pause and see with the patient whether the treatment is "
            "right: " + flags.joined(red_codes, "detail", "; ") + ".",
            flags.joined(red_codes, "code", ";"),
        ),
        Recommendation.ADJUST_DOSE: (
            adjust,
            np.where(
                adjust_after_red,
                "Consider returning to the previous dose: "
                + route_words
                + " rose from "
                + number_texts(first_dose)
                + " mg ("
                + short_dates(first_at, as_of)
                + ") to "
                + dose_words
                + " mg ("
                + dates_latest
                + ") over the recent sessions, alongside "
                + red_labels
                + ".",
                "Consider a dose increase: "
                + nonresponse_detail
                + "; the latest dose, "
                + dose_words
                + " mg "
                + route_words
                + ", "
                + np.where(
                    np.isnan(maximum),
                    "has no configured maximum (flexible dosing).",
                    "is below the configured maximum of " + number_texts(maximum) + " mg.",
                ),
            ),
            np.where(
                adjust_after_red, flags.joined(red_codes, "code", ";"), Watch.NONRESPONSE.value
            ),
        ),
        Recommendation.SWITCH_ROUTE: (
            switch,
            np.where(
                fast_onset,
                "Consider esketamine nasal spray (slower onset, structured coverage): "
                + flags.joined(FAST_ONSET_FLAGS, "label", " and ")
                + " on "
                + route_words
                + " (latest session "
                + dates_latest
                + ").",
                "Consider IM ketamine, for more flexibility in dosing: "
                + red_labels
                + " on esketamine nasal spray at "
                + dose_words
                + " mg, which cannot go lower in the usual adult schedule (lowest "
                + f"{config.dose.esketamine_lowest_mg} mg).",
            ),
            np.where(
                fast_onset,
                flags.joined(FAST_ONSET_FLAGS, "code", ";"),
                flags.joined(red_codes, "code", ";"),
            ),
        ),
        Recommendation.CONTINUE: (
            keep_going,
            "Consider continuing the current plan"
            + np.select(
                [flags.any(watch_codes), no_session],
                [
                    "; note for the next session: " + flags.joined(watch_codes, "detail", "; "),
                    f": no session on or before {long_date(as_of)} to review",
                ],
                ": no unaddressed safety, red or watch flag",
            )
            + ".",
            flags.joined(watch_codes, "code", ";"),
        ),
    }

    parts = []
    for code, (applies, reason, based_on) in reasons.items():
        patient = np.flatnonzero(applies)
        parts.append(
            pd.DataFrame(
                {
                    "patient_no": patient,
                    "code": code.value,
                    "rank": RECOMMENDATION_RANK[code.value],
                    "reason": np.asarray(reason, dtype=object)[patient],
                    "based_on": np.asarray(based_on, dtype=object)[patient],
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True).sort_values(["patient_no", "rank"], kind="stable")
    rows = rows.reset_index(drop=True)
    rows["order"] = rows.groupby("patient_no").cumcount() + 1
    rows["patient_id"] = patients.to_numpy(dtype=object)[rows["patient_no"].to_numpy()]
    rows["based_on"] = as_tuples(rows["based_on"])
    return rows.loc[:, [*RECOMMENDATION_COLUMNS, "patient_no"]]


def as_tuples(joined: pd.Series | np.ndarray) -> pd.Series:
    """Cells of ";"-joined codes as tuples of codes ("" → ()), via the few distinct values."""
    series = pd.Series(np.asarray(joined, dtype=object))
    distinct = {text: tuple(text.split(";")) if text else () for text in pd.unique(series)}
    return series.map(distinct)
