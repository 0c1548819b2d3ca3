"""Flags with their evidence (rules.md §4–8), for a whole caseload in one pass.

Each rule produces *evidence rows* — one per session (or PHQ-9 score) that
made it fire — for every patient at once. Grouping them by (patient, code)
gives the findings: the flag, its threshold, its evidence and its sentence.
A care-team decision then marks a finding as addressed (§8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from redflags.codes import (
    ALL_FLAGS,
    RED_FLAG_THEMES,
    Course,
    GreenLight,
    RedFlag,
    SafetyFlag,
    Watch,
)
from redflags.config import RulesConfig
from redflags.fields import BP_READINGS
from redflags.signals import (
    SUMMARY_COLUMNS,
    BoolArray,
    FloatArray,
    IntArray,
    MomentArray,
    ObjectArray,
    RecentSessions,
    end_of_day,
    green_sessions,
    hard_sessions,
    safety_signals,
)
from redflags.wording import (
    NOT_COMPUTED,
    NOT_RECORDED,
    bp_texts,
    change_texts,
    evidence_values,
    join_groups,
    label,
    number_texts,
    openings,
    phrases,
    short_dates,
    thresholds,
)


class FlagKind(StrEnum):
    """The kinds of finding, most urgent first (rules.md §8)."""

    SAFETY = "safety"
    RED = "red"
    WATCH = "watch"
    GREEN = "green"


KIND_OF: dict[str, FlagKind] = {
    **{code.value: FlagKind.SAFETY for code in SafetyFlag},
    **{code.value: FlagKind.RED for code in RedFlag},
    **{code.value: FlagKind.WATCH for code in Watch},
    **{code.value: FlagKind.GREEN for code in GreenLight},
}
#: Rank of each code in the order of the rules.md tables (and of the review columns).
CODE_RANK: dict[str, int] = {code: rank for rank, code in enumerate(ALL_FLAGS)}
#: The mood codes of rules.md §7, whose evidence is the baseline and latest PHQ-9
#: (and, for nonresponse, the session that brought the count to the review point).
MOOD_CODES: frozenset[str] = frozenset(
    {GreenLight.MOOD_RESPONSE, GreenLight.REMISSION, Watch.NONRESPONSE}
)

#: Columns of :attr:`redflags.engine.Review.findings`, in order.
FINDING_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "code",
    "kind",
    "addressed",
    "addressed_by_decided_at",
    "addressed_by_decision",
    "threshold",
    "evidence",
    "sentence",
    "detail",
    "evidence_at",
)

EvidenceItem = dict[str, object]


@dataclass(frozen=True)
class PhqSummary:
    """rules.md §7 per reviewed patient (arrays indexed by patient number)."""

    session_count: FloatArray
    review_after_at: npt.NDArray[np.datetime64]
    latest_session_at: npt.NDArray[np.datetime64]
    phq9_count: FloatArray
    baseline: FloatArray
    baseline_at: npt.NDArray[np.datetime64]
    latest: FloatArray
    latest_at: npt.NDArray[np.datetime64]

    @property
    def change(self) -> FloatArray:
        """(latest − baseline) / baseline; NaN with fewer than two scores or a baseline of 0."""
        computable = (self.phq9_count >= 2) & (self.baseline > 0)
        safe_baseline = np.where(computable, self.baseline, 1.0)
        change = (self.latest - self.baseline) / safe_baseline
        return np.asarray(np.where(computable, change, np.nan), dtype=np.float64)


def phq_summary(summary: pd.DataFrame, patients: pd.Index) -> PhqSummary:
    """The window summary aligned to the review's patient list (blank for no session)."""
    if "patient_id" not in summary.columns:  # an empty caseload may come without columns
        summary = pd.DataFrame({column: [] for column in SUMMARY_COLUMNS})
    aligned = summary.drop_duplicates("patient_id").set_index("patient_id").reindex(patients)

    def number(column: str) -> FloatArray:
        values = pd.to_numeric(aligned[column], errors="coerce")
        return np.asarray(values.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)

    def moment(column: str) -> npt.NDArray[np.datetime64]:
        return pd.to_datetime(aligned[column]).to_numpy(dtype="datetime64[ns]")

    return PhqSummary(
        session_count=number("session_count"),
        review_after_at=moment("review_after_at"),
        latest_session_at=moment("latest_session_at"),
        phq9_count=number("phq9_count"),
        baseline=number("phq9_baseline"),
        baseline_at=moment("phq9_baseline_at"),
        latest=number("phq9_latest"),
        latest_at=moment("phq9_latest_at"),
    )


@dataclass
class _Evidence:
    """Evidence rows of one rule: one per session (or PHQ-9 score) that made it fire."""

    patient: IntArray
    rank: IntArray
    session_at: MomentArray
    text: ObjectArray
    items: list[EvidenceItem]


#: Given the rows (session numbers) that fired: the evidence values and text of each.
Describe = Callable[[IntArray], tuple[dict[str, ObjectArray], ObjectArray]]


def _items(at: MomentArray, fields: dict[str, ObjectArray]) -> list[EvidenceItem]:
    """Evidence items: the session's date-time and the values that mattered."""
    moments: list[datetime] = at.astype("datetime64[us]").tolist()
    items: list[EvidenceItem] = [{"session_at": moment} for moment in moments]
    for key, values in fields.items():  # a handful of keys; filling by column is the fast way
        for item, value in zip(items, values.tolist(), strict=True):
            item[key] = value
    return items


def _session_evidence(
    sessions: RecentSessions,
    fired: BoolArray,
    code: IntArray | str,
    describe: Describe,
    dates: ObjectArray,
) -> _Evidence:
    """Evidence rows for the sessions where ``fired`` (``code``: one, or a rank per session)."""
    rows = np.flatnonzero(fired)
    rank = code[rows] if isinstance(code, np.ndarray) else np.full(len(rows), CODE_RANK[code])
    fields, text = describe(rows)
    at = sessions.session_at[rows]
    dated = np.asarray(dates[rows] + ": " + text, dtype=object)
    return _Evidence(sessions.patient[rows], rank, at, dated, _items(at, fields))


def _theme(sessions: RecentSessions, theme: str) -> Describe:
    """Evidence of a theme: its intensity and course ("panic 8, persisted")."""

    def describe(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        values = sessions.values[theme][rows]
        courses = sessions.course_words(theme, rows)
        fields = {theme: evidence_values(values), f"{theme}_course": courses}
        # "panic 8, not recorded" reads as if the 8 were not recorded: name the course.
        said = np.where(courses == NOT_RECORDED, "course " + NOT_RECORDED, courses)
        return fields, np.asarray(label(theme) + " " + number_texts(values) + ", " + said)

    return describe


def theme_evidence(
    sessions: RecentSessions, config: RulesConfig, dates: ObjectArray
) -> list[_Evidence]:
    """Red flags and watch signals (rules.md §3–4): the hard sessions of each theme.

    A theme hard in at least ``window.repeat`` recent sessions is a red flag;
    hard in fewer (at least one) it is a watch signal — "exactly one" with the
    default repeat of 2.
    """
    found: list[_Evidence] = []
    for theme, (red, watch) in RED_FLAG_THEMES.items():
        hard = hard_sessions(sessions, theme, config)
        per_patient = np.bincount(sessions.patient[hard], minlength=sessions.patient_count)
        repeated = per_patient[sessions.patient] >= config.window.repeat
        rank = np.where(repeated, CODE_RANK[red], CODE_RANK[watch]).astype(np.int64)
        found.append(_session_evidence(sessions, hard, rank, _theme(sessions, theme), dates))
    return found


def green_evidence(
    sessions: RecentSessions, config: RulesConfig, dates: ObjectArray
) -> list[_Evidence]:
    """Green lights of rules.md §6: every recent session that qualifies."""
    reflected = (Course.REFLECTED,)
    panic = green_sessions(sessions, "panic", reflected, config)
    imagery = green_sessions(sessions, "death_imagery", reflected, config)

    def fear(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        panic_fields, panic_text = _theme(sessions, "panic")(rows)
        imagery_fields, imagery_text = _theme(sessions, "death_imagery")(rows)
        both, only_panic = panic[rows] & imagery[rows], panic[rows] & ~imagery[rows]
        text = np.where(
            both, panic_text + "; " + imagery_text, np.where(only_panic, panic_text, imagery_text)
        )
        return {**panic_fields, **imagery_fields}, np.asarray(text, dtype=object)

    found = [
        _session_evidence(sessions, panic | imagery, GreenLight.FEAR_TO_REFLECTION, fear, dates)
    ]
    for code, theme, courses in (
        (GreenLight.GRIEF_CONTAINED, "grief", (Course.CONTAINED, Course.REFLECTED)),
        (GreenLight.SHAME_REFRAMED, "shame", reflected),
    ):
        fired = green_sessions(sessions, theme, courses, config)
        found.append(_session_evidence(sessions, fired, code, _theme(sessions, theme), dates))
    return found


def _safety_describers(sessions: RecentSessions) -> dict[SafetyFlag, Describe]:
    """Evidence of each safety flag: the latest session's readings, blanks "not recorded"."""
    v = sessions.values
    bp_after = (*BP_READINGS["40"], *BP_READINGS["end"])

    def values(rows: IntArray, *columns: str) -> dict[str, ObjectArray]:
        return {column: evidence_values(v[column][rows]) for column in columns}

    def reading(rows: IntArray, when: str) -> ObjectArray:
        systolic, diastolic = BP_READINGS[when]
        return bp_texts(v[systolic][rows], v[diastolic][rows])

    def after(rows: IntArray) -> ObjectArray:
        return np.asarray(
            reading(rows, "40") + " at 40 min, " + reading(rows, "end") + " at discharge"
        )

    def suicidality(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        text = "PHQ-9 item 9 = " + number_texts(v["phq9_item9"][rows])
        return values(rows, "phq9_item9"), np.asarray(text, dtype=object)

    def pre_dose(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        text = reading(rows, "pre") + " before dosing"
        return values(rows, *BP_READINGS["pre"]), np.asarray(text, dtype=object)

    def rise(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        text = reading(rows, "pre") + " before dosing, " + after(rows)
        return values(rows, *BP_READINGS["pre"], *bp_after), np.asarray(text, dtype=object)

    def post_dose(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        return values(rows, *bp_after), after(rows)

    def observation(rows: IntArray) -> tuple[dict[str, ObjectArray], ObjectArray]:
        text = "observed " + number_texts(v["observation_min"][rows]) + " min"
        fields = {"route": sessions.route[rows], **values(rows, "observation_min")}
        return fields, np.asarray(text, dtype=object)

    return {
        SafetyFlag.SUICIDALITY: suicidality,
        SafetyFlag.BP_PRE_DOSE: pre_dose,
        SafetyFlag.BP_RISE: rise,
        SafetyFlag.BP_POST_DOSE: post_dose,
        SafetyFlag.SHORT_OBSERVATION: observation,
    }


def safety_evidence(
    sessions: RecentSessions, config: RulesConfig, dates: ObjectArray
) -> list[_Evidence]:
    """Safety flags of rules.md §5, each with the latest session's readings as evidence."""
    describers = _safety_describers(sessions)
    return [
        _session_evidence(sessions, fired, code, describers[code], dates)
        for code, fired in safety_signals(sessions, config).items()
    ]


def mood_signals(phq: PhqSummary, config: RulesConfig) -> dict[str, BoolArray]:
    """The PHQ-9 codes of rules.md §7 per patient (thresholds compared unrounded)."""
    o = config.outcome
    change = phq.change
    with np.errstate(invalid="ignore"):
        return {
            GreenLight.MOOD_RESPONSE: np.asarray(change <= o.response, dtype=np.bool_),
            GreenLight.REMISSION: np.asarray(
                (phq.phq9_count >= 2) & (phq.latest <= o.remission), dtype=np.bool_
            ),
            Watch.NONRESPONSE: np.asarray(
                (phq.session_count >= o.review_after) & (change > o.nonresponse), dtype=np.bool_
            ),
        }


def mood_evidence(phq: PhqSummary, config: RulesConfig, as_of: date) -> list[_Evidence]:
    """Mood codes with the baseline and the latest PHQ-9 as evidence (and the change)."""
    change = phq.change
    found: list[_Evidence] = []
    for code, fired in mood_signals(phq, config).items():
        patient = np.flatnonzero(fired).astype(np.int64)
        base_at, last_at = phq.baseline_at[patient], phq.latest_at[patient]
        role = np.full(len(patient), "baseline", dtype=object)
        base_items = _items(base_at, {"role": role, "phq9": evidence_values(phq.baseline[patient])})
        last_items = _items(
            last_at,
            {
                "role": np.full(len(patient), "latest", dtype=object),
                "phq9": evidence_values(phq.latest[patient]),
                "change": _changes(change[patient]),
            },
        )
        base_text = short_dates(base_at, as_of) + ": PHQ-9 " + number_texts(phq.baseline[patient])
        last_text = (
            short_dates(last_at, as_of)
            + ": PHQ-9 "
            + number_texts(phq.latest[patient])
            + ", change "
            + np.where(np.isnan(change[patient]), NOT_COMPUTED, change_texts(change[patient]))
        )
        found.append(
            _Evidence(
                np.r_[patient, patient],
                np.full(2 * len(patient), CODE_RANK[code], dtype=np.int64),
                np.r_[base_at, last_at],
                np.asarray(np.r_[base_text + ", baseline", last_text], dtype=object),
                [*base_items, *last_items],
            )
        )
        if code == Watch.NONRESPONSE:
            found.append(_review_point_evidence(phq, patient, config, as_of))
    return found


def _review_point_evidence(
    phq: PhqSummary, patient: IntArray, config: RulesConfig, as_of: date
) -> _Evidence:
    """The session that made the count reach ``outcome.review_after``: the "after at
    least 8 sessions" of nonresponse, shown beside the PHQ-9 scores (unless it is one
    of those sessions). When it came after the latest PHQ-9 it is also the latest
    evidence (rules.md §8): a decision recorded before it does not address the flag."""
    nth_at = phq.review_after_at[patient]
    other = (nth_at != phq.latest_at[patient]) & (nth_at != phq.baseline_at[patient])
    later = patient[other & ~np.isnat(nth_at)]
    at = phq.review_after_at[later]
    number = np.full(len(later), config.outcome.review_after, dtype=np.int64)
    return _Evidence(
        later,
        np.full(len(later), CODE_RANK[Watch.NONRESPONSE], dtype=np.int64),
        at,
        np.asarray(
            short_dates(at, as_of) + ": session " + number.astype(str).astype(object), dtype=object
        ),
        _items(at, {"sessions_in_all": number.astype(object)}),
    )


def _changes(change: FloatArray) -> ObjectArray:
    """PHQ-9 changes for evidence items: the fraction, or "not computed" (baseline 0)."""
    out = change.astype(object)
    out[np.isnan(change)] = NOT_COMPUTED
    return np.asarray(out, dtype=object)


def findings(
    sessions: RecentSessions,
    phq: PhqSummary,
    patients: pd.Index,
    config: RulesConfig,
    as_of: date,
) -> pd.DataFrame:
    """Every flag of every patient with its evidence, threshold and sentence (not yet addressed).

    One row per (patient, code), ordered by the patient list and then by the
    order of the rules.md tables.
    """
    dates = short_dates(sessions.session_at, as_of)
    parts = [
        *safety_evidence(sessions, config, dates),
        *theme_evidence(sessions, config, dates),
        *green_evidence(sessions, config, dates),
        *mood_evidence(phq, config, as_of),
    ]
    patient = np.concatenate([p.patient for p in parts]).astype(np.int64)
    rank = np.concatenate([p.rank for p in parts]).astype(np.int64)
    at = np.concatenate([p.session_at for p in parts]).astype("datetime64[ns]")
    text = np.concatenate([p.text for p in parts]).astype(object)
    items = [item for p in parts for item in p.items]

    order = np.lexsort((at, rank, patient))
    patient, rank, at, text = patient[order], rank[order], at[order], text[order]
    items = [items[i] for i in order.tolist()]
    first_of_finding = np.ones(len(patient), dtype=bool)
    first_of_finding[1:] = (patient[1:] != patient[:-1]) | (rank[1:] != rank[:-1])
    starts = np.flatnonzero(first_of_finding)
    ends = np.r_[starts[1:], len(patient)].astype(np.int64)
    finding = np.repeat(np.arange(len(starts), dtype=np.int64), ends - starts)
    joined = join_groups(finding, text, len(starts), "; ")
    evidence = np.empty(len(starts), dtype=object)
    evidence[:] = list(
        map(tuple, map(items.__getitem__, map(slice, starts.tolist(), ends.tolist())))
    )

    rank, who = rank[starts], patient[starts]
    count = (ends - starts).astype(np.int64)
    recent = np.bincount(sessions.patient, minlength=len(patients))[who]
    wording = _wording_by_rank(config)
    kind = wording["kind"][rank]
    # Sentences are long: build them as Arrow-backed strings, concatenated in one pass each.
    of_recent = " of the last " + _texts(recent.astype(str)) + " sessions"
    how_often = " in " + _texts(count.astype(str)) + of_recent
    how_often = how_often.where(recent != 1, " in the only recent session")
    where = how_often.where(kind != FlagKind.SAFETY.value, " at the latest session")
    where = where.where(~np.isin(rank, _MOOD_RANKS), "")
    detail = _texts(wording["phrase"][rank]) + where + " (" + _texts(joined) + ")"
    sentence = _texts(wording["opening"][rank]) + detail + "."
    size = len(starts)
    return pd.DataFrame(
        {
            "patient_id": _objects(patients.to_numpy(dtype=object)[who]),
            "code": _objects(wording["code"][rank]),
            "kind": _objects(kind),
            "addressed": np.zeros(size, dtype=bool),
            "addressed_by_decided_at": np.full(size, np.datetime64("NaT"), dtype="datetime64[ns]"),
            "addressed_by_decision": _objects(np.full(size, None, dtype=object)),
            "threshold": _objects(wording["threshold"][rank]),
            "evidence": _objects(evidence),
            "sentence": sentence,
            "detail": detail,
            "evidence_at": at[ends - 1] if size else at[:0],
            "patient_no": who,
            "rank": rank,
        }
    )


_MOOD_RANKS = [CODE_RANK[code] for code in MOOD_CODES]


def _texts(values: npt.ArrayLike) -> pd.Series:
    """Strings as an Arrow-backed column (fast to concatenate), on a fresh positional index."""
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def _objects(values: npt.ArrayLike) -> pd.Series:
    """A text column kept as Python objects (no conversion to an Arrow string array)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def _wording_by_rank(config: RulesConfig) -> dict[str, ObjectArray]:
    """Code, kind, phrase, threshold and opening of every flag, indexed by code rank."""
    said, limits, opening = phrases(config), thresholds(config), openings()
    return {
        "code": np.asarray(ALL_FLAGS, dtype=object),
        "kind": np.asarray([KIND_OF[c].value for c in ALL_FLAGS], dtype=object),
        "phrase": np.asarray([said[c] for c in ALL_FLAGS], dtype=object),
        "threshold": np.asarray([limits[c] for c in ALL_FLAGS], dtype=object),
        "opening": np.asarray([opening[c] for c in ALL_FLAGS], dtype=object),
    }


def decision_codes(decisions: pd.DataFrame, patients: pd.Index, as_of: date) -> pd.DataFrame:
    """One row per (decision, flag code it considered), for decisions up to the end of as-of.

    Columns: ``key`` (patient number × codes + code rank), ``decided_at``, ``decision``.
    Unknown codes and decisions of patients outside the review are left out.
    """
    empty = pd.DataFrame({"key": [], "decided_at": [], "decision": []})
    if decisions.empty:
        return empty
    decided_at = pd.to_datetime(decisions["decided_at"]).to_numpy(dtype="datetime64[ns]")
    patient = patients.get_indexer(pd.Index(decisions["patient_id"].astype(object)))
    keep = (decided_at < end_of_day(as_of).to_datetime64()) & (patient >= 0)
    considered = decisions["flags_considered"].astype(object).to_numpy()[keep]
    rows = pd.DataFrame(
        {
            "patient_no": patient[keep],
            "code": [str(c).split(";") if isinstance(c, str) else [] for c in considered],
            "decided_at": decided_at[keep],
            "decision": decisions["decision"].astype(object).to_numpy()[keep],
        }
    ).explode("code")
    rank = rows["code"].astype(object).str.strip().map(CODE_RANK)
    rows = rows.loc[rank.notna()]
    if rows.empty:
        return empty
    key = rows["patient_no"].to_numpy(dtype=np.int64) * len(ALL_FLAGS) + rank[
        rank.notna()
    ].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "key": key,
            "decided_at": rows["decided_at"].to_numpy(dtype="datetime64[ns]"),
            "decision": rows["decision"].to_numpy(dtype=object),
        }
    )


def mark_addressed(
    found: pd.DataFrame, decisions: pd.DataFrame, patients: pd.Index, as_of: date
) -> pd.DataFrame:
    """Mark safety, red and watch flags addressed by a later decision (rules.md §8).

    A flag is addressed when a decision recorded up to the end of the as-of
    day, strictly after the latest session that is evidence for the flag,
    lists the flag's code in ``flags_considered``. When several do, the
    latest is shown. Green lights are never addressed.
    """
    considered = decision_codes(decisions, patients, as_of)
    if considered.empty or found.empty:
        return found
    addressable = (found["kind"] != FlagKind.GREEN.value).to_numpy(dtype=bool)
    flags = pd.DataFrame(
        {
            "row": np.flatnonzero(addressable),
            "key": found["patient_no"].to_numpy(dtype=np.int64)[addressable] * len(ALL_FLAGS)
            + found["rank"].to_numpy(dtype=np.int64)[addressable],
            "evidence_at": found["evidence_at"].to_numpy(dtype="datetime64[ns]")[addressable],
        }
    )
    matched = flags.merge(considered, on="key", how="inner")
    matched = matched.loc[matched["decided_at"] > matched["evidence_at"]]
    latest = matched.sort_values(["row", "decided_at"]).drop_duplicates("row", keep="last")
    rows = latest["row"].to_numpy(dtype=np.int64)
    addressed = found["addressed"].to_numpy(dtype=bool).copy()
    decided_at = found["addressed_by_decided_at"].to_numpy(dtype="datetime64[ns]").copy()
    decision = found["addressed_by_decision"].to_numpy(dtype=object).copy()
    addressed[rows] = True
    decided_at[rows] = latest["decided_at"].to_numpy(dtype="datetime64[ns]")
    decision[rows] = latest["decision"].to_numpy(dtype=object)
    return found.assign(
        addressed=addressed,
        addressed_by_decided_at=decided_at,
        addressed_by_decision=pd.Series(decision, index=found.index, dtype=object),
    )
