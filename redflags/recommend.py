"""Status (rules.md §8) and recommendations (§9), counting only flags not addressed.

Works on the findings of a whole caseload: per-patient facts are arrays
indexed by the patient's number in the review, and each recommendation is one
vectorised condition over all patients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from redflags.codes import ALL_FLAGS, Recommendation, RedFlag, Route, SafetyFlag, Status, Watch
from redflags.config import RulesConfig
from redflags.flags import CODE_RANK, FlagKind
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

#: The option "continue" presents; its reason goes on with what the patient's sessions show.
CONTINUE_OPTION = "Consider continuing the current plan"


@dataclass(frozen=True)
class OpenFlags:
    """The flags not addressed (safety, red, watch), with per-patient helpers."""

    patient: IntArray
    rank: IntArray
    kind: ObjectArray
    detail: ObjectArray
    patient_count: int

    @classmethod
    def of(cls, found: pd.DataFrame, patient_count: int) -> OpenFlags:
        """The unaddressed safety, red and watch rows of the findings."""
        kind = found["kind"].to_numpy(dtype=object)
        keep = ~found["addressed"].to_numpy(dtype=bool) & (kind != FlagKind.GREEN.value)
        return cls(
            patient=found["patient_no"].to_numpy(dtype=np.int64)[keep],
            rank=found["rank"].to_numpy(dtype=np.int64)[keep],
            kind=kind[keep],
            detail=found["detail"].to_numpy(dtype=object)[keep],
            patient_count=patient_count,
        )

    def _among(self, codes: Iterable[str]) -> BoolArray:
        return np.asarray(np.isin(self.rank, [CODE_RANK[c] for c in codes]), dtype=np.bool_)

    def any(self, codes: Iterable[str]) -> BoolArray:
        """Per patient: is any of these codes open?"""
        hit = np.zeros(self.patient_count, dtype=np.bool_)
        hit[self.patient[self._among(codes)]] = True
        return hit

    def joined(self, codes: Iterable[str], what: str, sep: str) -> ObjectArray:
        """Per patient: the open flags' codes, labels or details, joined in table order."""
        among = self._among(codes)
        words = {"code": _CODES, "label": _LABELS}
        values = words[what][self.rank[among]] if what in words else self.detail[among]
        return join_groups(self.patient[among], values, self.patient_count, sep)


_CODES = np.asarray(ALL_FLAGS, dtype=object)
_LABELS = np.asarray([label(code) for code in ALL_FLAGS], dtype=object)


def statuses(open_flags: OpenFlags) -> ObjectArray:
    """Each patient's status: the most urgent kind of unaddressed flag (rules.md §8)."""
    best = np.full(open_flags.patient_count, KIND_RANK[FlagKind.GREEN], dtype=np.int64)
    ranks = pd.Series(open_flags.kind, dtype=object).map(KIND_RANK).to_numpy(dtype=np.int64)
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
    flags: OpenFlags,
    sessions: RecentSessions,
    patients: pd.Index,
    config: RulesConfig,
    as_of: date,
) -> pd.DataFrame:
    """The recommendations of rules.md §9 per patient, in order, each with reason and basis.

    Only unaddressed flags count. ``adjust_dose`` and ``switch_route`` appear
    at most once; ``continue`` when none of the others applies. Conditions are
    evaluated for every patient at once; reasons are worded only where they apply.
    """
    safety_codes = [c.value for c in SafetyFlag]
    red_codes = [c.value for c in RedFlag]
    watch_codes = [c.value for c in Watch]
    safety, red = flags.any(safety_codes), flags.any(red_codes)

    route = sessions.per_patient(sessions.route, None)
    dose = sessions.per_patient(sessions.values["dose_mg"], np.nan)
    latest_at = sessions.per_patient(sessions.session_at, np.datetime64("NaT"))
    first_dose, first_at = _first_dose_on_latest_route(sessions)
    maximum = np.asarray([config.max_dose_mg(str(r)) for r in route], dtype=float)

    # adjust_dose after a red flag: the dose rose over the recent sessions on this route.
    adjust_after_red = red & (dose > first_dose)
    # adjust_dose after nonresponse: room below the route's maximum (none configured = room).
    below_max = np.isnan(maximum) | (dose < maximum)
    adjust_for_nonresponse = flags.any([Watch.NONRESPONSE.value]) & ~red & ~safety & below_max
    # switch_route: fast-onset routes with panic or vulnerability; esketamine at its lowest dose.
    fast_onset = flags.any(FAST_ONSET_FLAGS) & np.isin(route, FAST_ONSET_ROUTES)
    lowest = (
        red & (route == Route.ESKETAMINE_NASAL.value) & (dose <= config.dose.esketamine_lowest_mg)
    )
    adjust = adjust_after_red | adjust_for_nonresponse
    switch = fast_onset | lowest
    keep_going = ~(safety | red | adjust | switch)

    def route_words(who: IntArray) -> ObjectArray:
        return np.asarray([ROUTE_LABELS.get(r, str(r)) for r in route[who]], dtype=object)

    def review_safety(who: IntArray) -> tuple[ObjectArray, ObjectArray]:
        reason = (
            "Consider a same-day safety review, holding the next dose until it is addressed: "
            + flags.joined(safety_codes, "detail", "; ")[who]
            + "."
        )
        return reason, flags.joined(safety_codes, "code", ";")[who]

    def pause(who: IntArray) -> tuple[ObjectArray, ObjectArray]:
        reason = (
            "Consider a moment to pause and see with the patient whether the treatment is "
            "right: " + flags.joined(red_codes, "detail", "; ")[who] + "."
        )
        return reason, flags.joined(red_codes, "code", ";")[who]

    def adjust_dose(who: IntArray) -> tuple[ObjectArray, ObjectArray]:
        after_red = adjust_after_red[who]
        lower = (
            "Consider returning to the previous dose: "
            + route_words(who)
            + " rose from "
            + number_texts(first_dose[who])
            + " mg ("
            + short_dates(first_at[who], as_of)
            + ") to "
            + number_texts(dose[who])
            + " mg ("
            + short_dates(latest_at[who], as_of)
            + ") over the recent sessions, alongside "
            + flags.joined(red_codes, "label", " and ")[who]
            + "."
        )
        room = np.where(
            np.isnan(maximum[who]),
            "has no configured maximum (flexible dosing).",
            "is below the configured maximum of " + number_texts(maximum[who]) + " mg.",
        )
        higher = (
            "Consider a dose increase: "
            + flags.joined([Watch.NONRESPONSE.value], "detail", "; ")[who]
            + "; the latest dose, "
            + number_texts(dose[who])
            + " mg "
            + route_words(who)
            + ", "
            + room
        )
        reason = np.where(after_red, lower, higher)
        basis = np.where(after_red, flags.joined(red_codes, "code", ";")[who], Watch.NONRESPONSE)
        return np.asarray(reason, dtype=object), np.asarray(basis, dtype=object)

    def switch_route(who: IntArray) -> tuple[ObjectArray, ObjectArray]:
        slower = (
            "Consider esketamine nasal spray (slower onset, structured coverage): "
            + flags.joined(FAST_ONSET_FLAGS, "label", " and ")[who]
            + " on "
            + route_words(who)
            + " (latest session "
            + short_dates(latest_at[who], as_of)
            + ")."
        )
        flexible = (
            "Consider IM ketamine, for more flexibility in dosing: "
            + flags.joined(red_codes, "label", " and ")[who]
            + " on esketamine nasal spray at "
            + number_texts(dose[who])
            + " mg, which cannot go lower in the usual adult schedule (lowest "
            + f"{config.dose.esketamine_lowest_mg} mg)."
        )
        to_slower = fast_onset[who]
        reason = np.where(to_slower, slower, flexible)
        basis = np.where(
            to_slower,
            flags.joined(FAST_ONSET_FLAGS, "code", ";")[who],
            flags.joined(red_codes, "code", ";")[who],
        )
        return np.asarray(reason, dtype=object), np.asarray(basis, dtype=object)

    def carry_on(who: IntArray) -> tuple[ObjectArray, ObjectArray]:
        watched = flags.any(watch_codes)[who]
        note = np.select(
            [watched, np.isnat(latest_at[who])],
            [
                "; note for the next session: " + flags.joined(watch_codes, "detail", "; ")[who],
                f": no session on or before {long_date(as_of)} to review",
            ],
            ": no unaddressed safety, red or watch flag",
        )
        reason = CONTINUE_OPTION + note + "."
        return np.asarray(reason, dtype=object), flags.joined(watch_codes, "code", ";")[who]

    applies: dict[Recommendation, tuple[BoolArray, Reasoning]] = {
        Recommendation.REVIEW_SAFETY: (safety, review_safety),
        Recommendation.PAUSE: (red, pause),
        Recommendation.ADJUST_DOSE: (adjust, adjust_dose),
        Recommendation.SWITCH_ROUTE: (switch, switch_route),
        Recommendation.CONTINUE: (keep_going, carry_on),
    }
    patient_parts, rank_parts, reason_parts, basis_parts = [], [], [], []
    for code, (where, reasoning) in applies.items():
        who = np.flatnonzero(where).astype(np.int64)
        reason, basis = reasoning(who)
        patient_parts.append(who)
        rank_parts.append(np.full(len(who), RECOMMENDATION_RANK[code.value], dtype=np.int64))
        reason_parts.append(np.asarray(reason, dtype=object))
        basis_parts.append(np.asarray(basis, dtype=object))
    patient = np.concatenate(patient_parts)
    rank = np.concatenate(rank_parts)
    order = np.lexsort((rank, patient))
    patient, rank = patient[order], rank[order]
    first = np.ones(len(patient), dtype=bool)
    first[1:] = patient[1:] != patient[:-1]
    starts = np.flatnonzero(first)
    position = np.arange(len(patient)) - np.repeat(starts, np.diff(np.r_[starts, len(patient)]))
    return pd.DataFrame(
        {
            "patient_id": _objects(patients.to_numpy(dtype=object)[patient]),
            "code": _objects(_RECOMMENDATIONS[rank]),
            "order": position + 1,
            "reason": _objects(np.concatenate(reason_parts)[order]),
            "based_on": as_tuples(np.concatenate(basis_parts)[order]),
            "patient_no": patient,
        }
    )


Reasoning = Callable[[IntArray], tuple[ObjectArray, ObjectArray]]
_RECOMMENDATIONS = np.asarray([code.value for code in Recommendation], dtype=object)


def _objects(values: npt.ArrayLike) -> pd.Series:
    """A text column kept as Python objects (no conversion to an Arrow string array)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def as_tuples(joined: npt.ArrayLike) -> pd.Series:
    """Cells of ";"-joined codes as tuples of codes ("" → ()); one split per distinct value."""
    texts: list[str] = np.asarray(joined, dtype=object).tolist()
    distinct = {text: tuple(text.split(";")) if text else () for text in set(texts)}
    cells = np.empty(len(texts), dtype=object)
    cells[:] = [distinct[text] for text in texts]
    return pd.Series(cells, dtype=object)
