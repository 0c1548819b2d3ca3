"""Flags with their evidence (rules.md §4–8), for a whole caseload in one pass.

Each rule produces *evidence rows* — one per session (or PHQ-9 score) that
made it fire — for every patient at once. Grouping them by (patient, code)
gives the findings: the flag, its threshold, its evidence and its sentence.
A care-team decision then marks a finding as addressed (§8).
"""

from __future__ import annotations

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
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    RecentSessions,
    end_of_day,
    green_sessions,
    hard_sessions,
    safety_signals,
)
from redflags.wording import (
    bp_texts,
    change_texts,
    course_values,
    evidence_values,
    join_groups,
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
#: The mood codes of rules.md §7, whose evidence is the baseline and latest PHQ-9.
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
    aligned = summary.drop_duplicates("patient_id").set_index("patient_id").reindex(patients)

    def number(column: str) -> FloatArray:
        values = pd.to_numeric(aligned[column], errors="coerce")
        return np.asarray(values.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)

    def moment(column: str) -> npt.NDArray[np.datetime64]:
        return pd.to_datetime(aligned[column]).to_numpy(dtype="datetime64[ns]")

    return PhqSummary(
        session_count=number("session_count"),
        latest_session_at=moment("latest_session_at"),
        phq9_count=number("phq9_count"),
        baseline=number("phq9_baseline"),
        baseline_at=moment("phq9_baseline_at"),
        latest=number("phq9_latest"),
        latest_at=moment("phq9_latest_at"),
    )


@dataclass
class _Evidence:
    """Evidence rows of one rule: one per session that made it fire."""

    patient: IntArray
    code: ObjectArray
    session_at: npt.NDArray[np.datetime64]
    text: ObjectArray
    items: list[EvidenceItem]


def _items(at: npt.NDArray[np.datetime64], fields: dict[str, ObjectArray]) -> list[EvidenceItem]:
    """Evidence items: the session's date-time and the values that mattered."""
    moments: list[datetime] = list(pd.DatetimeIndex(at).to_pydatetime())
    keys = ("session_at", *fields)
    columns = [moments, *(values.tolist() for values in fields.values())]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def _session_evidence(
    sessions: RecentSessions,
    fired: BoolArray,
    code: ObjectArray | str,
    fields: dict[str, ObjectArray],
    text: ObjectArray,
    as_of: date,
) -> _Evidence:
    """Evidence rows for the sessions where ``fired``; ``fields`` and ``text`` per session."""
    at = sessions.session_at[fired]
    codes = code[fired] if isinstance(code, np.ndarray) else np.full(int(fired.sum()), code, object)
    picked = {name: values[fired] for name, values in fields.items()}
    dated = short_dates(at, as_of) + ": " + text[fired]
    return _Evidence(sessions.patient[fired], codes, at, dated, _items(at, picked))


def _theme_fields(
    sessions: RecentSessions, theme: str
) -> tuple[dict[str, ObjectArray], ObjectArray]:
    courses = course_values(sessions.courses[theme])
    fields = {theme: evidence_values(sessions.values[theme]), f"{theme}_course": courses}
    words = theme.replace("_", " ") + " " + number_texts(sessions.values[theme]) + ", " + courses
    return fields, np.asarray(words, dtype=object)


def theme_evidence(sessions: RecentSessions, config: RulesConfig, as_of: date) -> list[_Evidence]:
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
        code = np.where(repeated, red.value, watch.value).astype(object)
        fields, text = _theme_fields(sessions, theme)
        found.append(_session_evidence(sessions, hard, code, fields, text, as_of))
    return found


def green_evidence(sessions: RecentSessions, config: RulesConfig, as_of: date) -> list[_Evidence]:
    """Green lights of rules.md §6: every recent session that qualifies."""
    reflected = (Course.REFLECTED,)
    panic = green_sessions(sessions, "panic", reflected, config)
    imagery = green_sessions(sessions, "death_imagery", reflected, config)
    panic_fields, panic_text = _theme_fields(sessions, "panic")
    imagery_fields, imagery_text = _theme_fields(sessions, "death_imagery")
    fear_text = np.where(
        panic & imagery,
        panic_text + "; " + imagery_text,
        np.where(panic, panic_text, imagery_text),
    ).astype(object)
    found = [
        _session_evidence(
            sessions,
            panic | imagery,
            GreenLight.FEAR_TO_REFLECTION.value,
            {**panic_fields, **imagery_fields},
            fear_text,
            as_of,
        )
    ]
    for code, theme, courses in (
        (GreenLight.GRIEF_CONTAINED, "grief", (Course.CONTAINED, Course.REFLECTED)),
        (GreenLight.SHAME_REFRAMED, "shame", reflected),
    ):
        fired = green_sessions(sessions, theme, courses, config)
        fields, text = _theme_fields(sessions, theme)
        found.append(_session_evidence(sessions, fired, code.value, fields, text, as_of))
    return found


def safety_evidence(sessions: RecentSessions, config: RulesConfig, as_of: date) -> list[_Evidence]:
    """Safety flags of rules.md §5, each with the latest session's readings as evidence."""
    v = sessions.values

    def reading(when: str) -> ObjectArray:
        systolic, diastolic = BP_READINGS[when]
        return bp_texts(v[systolic], v[diastolic])

    def values(*columns: str) -> dict[str, ObjectArray]:
        return {column: evidence_values(v[column]) for column in columns}

    pre, at40, end = (reading(when) for when in ("pre", "40", "end"))
    after = at40 + " at 40 min, " + end + " at discharge"
    bp_after = (*BP_READINGS["40"], *BP_READINGS["end"])
    described: dict[SafetyFlag, tuple[dict[str, ObjectArray], ObjectArray]] = {
        SafetyFlag.SUICIDALITY: (
            values("phq9_item9"),
            "PHQ-9 item 9 = " + number_texts(v["phq9_item9"]),
        ),
        SafetyFlag.BP_PRE_DOSE: (values(*BP_READINGS["pre"]), pre + " before dosing"),
        SafetyFlag.BP_RISE: (
            values(*BP_READINGS["pre"], *bp_after),
            pre + " before dosing, " + after,
        ),
        SafetyFlag.BP_POST_DOSE: (values(*bp_after), after),
        SafetyFlag.SHORT_OBSERVATION: (
            {"route": sessions.route, **values("observation_min")},
            "observed " + number_texts(v["observation_min"]) + " min",
        ),
    }
    found: list[_Evidence] = []
    for code, fired in safety_signals(sessions, config).items():
        fields, text = described[code]
        text = np.asarray(np.broadcast_to(text, (len(sessions),)), dtype=object)
        found.append(_session_evidence(sessions, fired, code.value, fields, text, as_of))
    return found


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
        base_items = _items(
            base_at,
            {"role": np.full(len(patient), "baseline", object), **_phq(phq.baseline, patient)},
        )
        last_items = _items(
            last_at,
            {
                "role": np.full(len(patient), "latest", object),
                **_phq(phq.latest, patient),
                "change": change[patient].astype(object),
            },
        )
        base_text = short_dates(base_at, as_of) + ": PHQ-9 " + number_texts(phq.baseline[patient])
        last_text = (
            short_dates(last_at, as_of)
            + ": PHQ-9 "
            + number_texts(phq.latest[patient])
            + ", change "
            + change_texts(change[patient])
        )
        codes = np.full(2 * len(patient), str(code), dtype=object)
        found.append(
            _Evidence(
                np.r_[patient, patient],
                codes,
                np.r_[base_at, last_at],
                np.asarray(np.r_[base_text + ", baseline", last_text], dtype=object),
                [*base_items, *last_items],
            )
        )
    return found


def _phq(values: FloatArray, patient: IntArray) -> dict[str, ObjectArray]:
    return {"phq9": evidence_values(values[patient])}


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
    parts = [
        *safety_evidence(sessions, config, as_of),
        *theme_evidence(sessions, config, as_of),
        *green_evidence(sessions, config, as_of),
        *mood_evidence(phq, config, as_of),
    ]
    patient = np.concatenate([p.patient for p in parts]).astype(np.int64)
    code = np.concatenate([p.code for p in parts]).astype(object)
    at = np.concatenate([p.session_at for p in parts]).astype("datetime64[ns]")
    text = np.concatenate([p.text for p in parts]).astype(object)
    items = np.empty(len(patient), dtype=object)
    items[:] = [item for p in parts for item in p.items]

    rank = pd.Series(code).map(CODE_RANK).to_numpy(dtype=np.int64)
    order = np.lexsort((at, rank, patient))
    patient, rank, at = patient[order], rank[order], at[order]
    code, text, items = code[order], text[order], items[order]
    first_of_finding = np.ones(len(patient), dtype=bool)
    first_of_finding[1:] = (patient[1:] != patient[:-1]) | (rank[1:] != rank[:-1])
    starts = np.flatnonzero(first_of_finding)
    ends = np.r_[starts[1:], len(patient)]
    finding = np.repeat(np.arange(len(starts)), ends - starts)
    joined = join_groups(finding.astype(np.int64), text, len(starts), "; ")
    evidence = np.empty(len(starts), dtype=object)
    evidence[:] = [tuple(items[a:b]) for a, b in zip(starts, ends, strict=True)]

    codes = code[starts]
    who = patient[starts]
    count = (ends - starts).astype(np.int64)
    recent = np.bincount(sessions.patient, minlength=len(patients))[who]
    kind = pd.Series(codes).map(KIND_OF).to_numpy(dtype=object)
    how_often = np.where(
        recent == 1,
        " in the only recent session",
        " in "
        + count.astype(str).astype(object)
        + " of the last "
        + recent.astype(str)
        + " sessions",
    )
    where = np.select(
        [kind == FlagKind.SAFETY, np.isin(codes, list(MOOD_CODES))],
        [" at the latest session", ""],
        how_often,
    )
    detail = (
        pd.Series(codes).map(phrases(config)).to_numpy(dtype=object) + where + " (" + joined + ")"
    )
    sentence = pd.Series(codes).map(openings()).to_numpy(dtype=object) + detail + "."
    table = pd.DataFrame(
        {
            "patient_id": patients.to_numpy(dtype=object)[who],
            "code": codes,
            "kind": kind,
            "addressed": np.zeros(len(starts), dtype=bool),
            "addressed_by_decided_at": pd.Series(
                pd.NaT, index=range(len(starts)), dtype="datetime64[ns]"
            ),
            "addressed_by_decision": np.full(len(starts), None, dtype=object),
            "threshold": pd.Series(codes).map(thresholds(config)).to_numpy(dtype=object),
            "evidence": evidence,
            "sentence": sentence,
            "detail": detail,
            "evidence_at": at[ends - 1] if len(starts) else at[:0],
            "patient_no": who,
        }
    )
    return table


def decision_codes(decisions: pd.DataFrame, patients: pd.Index, as_of: date) -> pd.DataFrame:
    """One row per (decision, code it considered), for decisions up to the end of the as-of day."""
    columns = ["patient_no", "code", "decided_at", "decision"]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    decided_at = pd.to_datetime(decisions["decided_at"])
    patient = patients.get_indexer(pd.Index(decisions["patient_id"].astype(object)))
    keep = np.asarray((decided_at < end_of_day(as_of)).to_numpy() & (patient >= 0), dtype=bool)
    considered = (
        decisions["flags_considered"]
        .astype(object)
        .where(decisions["flags_considered"].notna(), "")
    )
    rows = pd.DataFrame(
        {
            "patient_no": patient[keep],
            "code": considered[keep].astype(str).str.split(";").to_numpy(),
            "decided_at": decided_at[keep].to_numpy(dtype="datetime64[ns]"),
            "decision": decisions["decision"][keep].astype(object).to_numpy(),
        }
    ).explode("code")
    rows["code"] = rows["code"].astype(object).str.strip()
    return rows.loc[rows["code"].isin(CODE_RANK)].reset_index(drop=True)


def mark_addressed(
    found: pd.DataFrame, decisions: pd.DataFrame, patients: pd.Index, as_of: date
) -> pd.DataFrame:
    """Mark safety, red and watch flags addressed by a later decision (rules.md §8).

    A flag is addressed when a decision recorded up to the end of the as-of
    day, strictly after the latest session that is evidence for the flag,
    lists the flag's code in ``flags_considered``. The latest such decision
    is shown. Green lights are never addressed.
    """
    considered = decision_codes(decisions, patients, as_of)
    if considered.empty or found.empty:
        return found
    flags = found.loc[found["kind"] != FlagKind.GREEN, ["patient_no", "code", "evidence_at"]]
    flags = flags.reset_index().rename(columns={"index": "row"})
    matched = flags.merge(considered, on=["patient_no", "code"], how="inner")
    matched = matched.loc[matched["decided_at"] > matched["evidence_at"]]
    latest = matched.sort_values(["row", "decided_at"]).drop_duplicates("row", keep="last")
    marked = found.copy()
    rows = latest["row"].to_numpy()
    marked.loc[rows, "addressed"] = True
    marked.loc[rows, "addressed_by_decided_at"] = latest["decided_at"].to_numpy()
    marked.loc[rows, "addressed_by_decision"] = latest["decision"].to_numpy()
    return marked
