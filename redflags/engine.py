"""The rules engine (rules.md): a whole caseload in one vectorised pass.

``recent_window`` picks each patient's recent sessions; ``evaluate`` turns
them, with the care team's decisions, into a :class:`Review`: one table row
per patient (the review CSV columns of records.md), every finding with its
evidence and sentence, and the recommendations of rules.md §9. The patient
report reads one patient out of the same review with :func:`for_patient`.

Pure functions over pandas: no Streamlit, no database, no clock — the as-of
date is always an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

import numpy as np
import pandas as pd

from redflags.codes import RedFlag, SafetyFlag, Status, Watch
from redflags.config import (
    RulesConfig,
    RulesConfigError,
    load_rules,
    rules_file_in_force,
    rules_in_force,
    rules_rows,
)
from redflags.fields import REVIEW_COLUMNS
from redflags.flags import (
    FINDING_COLUMNS,
    EvidenceItem,
    FlagKind,
    findings,
    mark_addressed,
    phq_summary,
)
from redflags.recommend import (
    RECOMMENDATION_COLUMNS,
    STATUS_RANK,
    OpenFlags,
    as_tuples,
    recommendations,
    statuses,
)
from redflags.signals import SUMMARY_COLUMNS, Window, prepare_recent, recent_window
from redflags.wording import change_texts, join_groups, number_texts

__all__ = [
    "FINDING_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "REVIEW_COLUMNS",
    "SUMMARY_COLUMNS",
    "EvidenceItem",
    "Finding",
    "FlagKind",
    "PatientReview",
    "RecommendationItem",
    "Review",
    "RulesConfig",
    "RulesConfigError",
    "Window",
    "evaluate",
    "evaluate_history",
    "for_patient",
    "load_rules",
    "recent_window",
    "review_csv_frame",
    "rules_file_in_force",
    "rules_in_force",
    "rules_rows",
    "sort_review",
]


@dataclass(frozen=True)
class Finding:
    """One flag of one patient, with the evidence behind it (rules.md §4–8)."""

    code: str
    kind: FlagKind
    addressed: bool
    addressed_by_decided_at: datetime | None
    addressed_by_decision: str | None
    threshold: str
    evidence: tuple[EvidenceItem, ...]
    sentence: str

    @property
    def latest_evidence_at(self) -> datetime | None:
        """The latest session (clinic-local) among the evidence: a decision addresses
        the flag only when taken after it (rules.md §8)."""
        times = [item.get("session_at") for item in self.evidence]
        return max((t for t in times if isinstance(t, datetime)), default=None)


@dataclass(frozen=True)
class RecommendationItem:
    """One recommendation (rules.md §9): what to discuss, why, and the flags behind it."""

    code: str
    order: int
    reason: str
    based_on: tuple[str, ...]


@dataclass(frozen=True)
class PatientReview:
    """Everything the patient report shows about one patient as of a date."""

    patient_id: str
    status: Status
    stale: bool
    latest_session: datetime | None
    route: str | None
    dose_mg: float | None
    phq9_baseline: int | None
    phq9_latest: int | None
    phq9_change: float | None
    safety_flags: tuple[Finding, ...]
    red_flags: tuple[Finding, ...]
    watch: tuple[Finding, ...]
    green_lights: tuple[Finding, ...]
    addressed: tuple[Finding, ...]
    recommendations: tuple[RecommendationItem, ...]

    @property
    def open_flags(self) -> tuple[Finding, ...]:
        """The safety flags, red flags and watch signals no decision has addressed."""
        return (*self.safety_flags, *self.red_flags, *self.watch)


@dataclass(frozen=True)
class Review:
    """The rules evaluated for a caseload as of a date.

    ``table``: one row per reviewed patient, in the order given, with exactly
    the review CSV columns of records.md: list cells are tuples of codes in the
    order of the rules.md tables, ``latest_session`` a naive local datetime
    (NaT without a session), ``dose_mg`` float, ``stale`` bool, the PHQ-9
    scores nullable Int64 and ``phq9_change`` the unrounded fraction (NaN when
    not computed). :func:`review_csv_frame` writes it as CSV text.
    ``findings``: one row per (patient, flag), addressed ones included,
    columns :data:`FINDING_COLUMNS`. ``recommendations``: one row per
    (patient, recommendation) in rules.md §9 order, ``order`` counting from 1
    within the patient, columns :data:`RECOMMENDATION_COLUMNS`.
    """

    as_of: date
    table: pd.DataFrame
    findings: pd.DataFrame
    recommendations: pd.DataFrame

    def for_patient(self, patient_id: str) -> PatientReview:
        """One patient's review, for the report page (see :func:`for_patient`)."""
        return for_patient(self, patient_id)


def _patient_index(patients: Sequence[str] | pd.Index) -> pd.Index:
    codes = pd.Index(patients).astype(str).to_numpy(dtype=object)
    unique: pd.Index = pd.Index(pd.unique(codes), dtype=object)  # unique, in the order given
    return unique


def evaluate(
    window: Window,
    decisions: pd.DataFrame,
    patients: Sequence[str] | pd.Index,
    as_of: date,
    config: RulesConfig,
) -> Review:
    """Evaluate the rules of rules.md for every listed patient at once.

    Reads only the documented columns of ``window`` (its recent rows and its
    summary). ``decisions`` has ``patient_id``, ``decided_at``, ``decision``
    and ``flags_considered``; those after the as-of day are ignored. A listed
    patient without a session on or before ``as_of`` is green, stale, with no
    flags and the recommendation ``continue`` (rules.md §2).
    """
    index = _patient_index(patients)
    n = len(index)
    sessions = prepare_recent(window.recent, index, config)
    phq = phq_summary(window.summary, index)
    found = findings(sessions, phq, index, config, as_of)
    found = mark_addressed(found, decisions, index, as_of)
    open_flags = OpenFlags.of(found, n)
    advice = recommendations(open_flags, sessions, index, config, as_of)

    patient_no = found["patient_no"].to_numpy(dtype=np.int64)
    codes = found["code"].to_numpy(dtype=object)
    addressed = found["addressed"].to_numpy(dtype=bool)
    green = (found["kind"] == FlagKind.GREEN).to_numpy(dtype=bool)

    latest = phq.latest_session_at
    gap_days = (np.datetime64(as_of, "D") - latest.astype("datetime64[D]")).astype(np.int64)
    stale = np.isnat(latest) | (gap_days > config.window.stale_days)
    scored = phq.phq9_count >= 1
    change = phq.change
    table = pd.DataFrame(
        {
            "patient_id": index.to_numpy(dtype=object),
            "status": statuses(open_flags),
            "safety_flags": as_tuples(
                open_flags.joined([c.value for c in SafetyFlag], "code", ";")
            ),
            "red_flags": as_tuples(open_flags.joined([c.value for c in RedFlag], "code", ";")),
            "watch": as_tuples(open_flags.joined([c.value for c in Watch], "code", ";")),
            "green_lights": as_tuples(join_groups(patient_no[green], codes[green], n, ";")),
            "addressed": as_tuples(join_groups(patient_no[addressed], codes[addressed], n, ";")),
            "recommendations": as_tuples(
                join_groups(
                    advice["patient_no"].to_numpy(dtype=np.int64),
                    advice["code"].to_numpy(dtype=object),
                    n,
                    ";",
                )
            ),
            "latest_session": pd.Series(latest, dtype="datetime64[ns]"),
            "route": pd.Series(sessions.per_patient(sessions.route, None), dtype="str"),
            "dose_mg": sessions.per_patient(sessions.values["dose_mg"], np.nan),
            "stale": np.asarray(stale, dtype=bool),
            "phq9_baseline": pd.array(np.where(scored, phq.baseline, np.nan)).astype("Int64"),
            "phq9_latest": pd.array(np.where(scored, phq.latest, np.nan)).astype("Int64"),
            "phq9_change": change,
        }
    )
    return Review(
        as_of=as_of,
        table=table.loc[:, list(REVIEW_COLUMNS)],
        findings=found.loc[:, list(FINDING_COLUMNS)],
        recommendations=advice.loc[:, list(RECOMMENDATION_COLUMNS)],
    )


def evaluate_history(
    history: pd.DataFrame,
    decisions: pd.DataFrame,
    patients: Sequence[str] | pd.Index,
    as_of: date,
    config: RulesConfig,
) -> Review:
    """:func:`evaluate` on the window built from a full history by :func:`recent_window`."""
    return evaluate(recent_window(history, as_of, config), decisions, patients, as_of, config)


def sort_review(table: pd.DataFrame) -> pd.DataFrame:
    """The weekly review order: urgent, red, amber, green; within a status, most recent first.

    Most recent first puts what just happened (and may need a decision before
    the next dose) at the top; patients without a session come last in their
    status; ties go by patient code.
    """
    ordered = table.assign(
        _rank=table["status"].map(STATUS_RANK),
        _code=table["patient_id"].astype(str),
    ).sort_values(
        ["_rank", "latest_session", "_code"],
        ascending=[True, False, True],
        na_position="last",
        kind="stable",
    )
    return ordered.drop(columns=["_rank", "_code"]).reset_index(drop=True)


def _iso_moments(values: pd.Series) -> pd.Series:
    """ISO 8601: the date alone at midnight (a date-only session), else date and time."""
    stamps = pd.to_datetime(values)
    midnight = stamps == stamps.dt.normalize()
    with_seconds = stamps.dt.second != 0
    text = np.where(
        midnight,
        stamps.dt.strftime("%Y-%m-%d"),
        np.where(
            with_seconds,
            stamps.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            stamps.dt.strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    return pd.Series(np.where(stamps.isna(), "", text), index=values.index, dtype=object)


def review_csv_frame(review: Review | pd.DataFrame) -> pd.DataFrame:
    """The review table as the text cells of the review CSV (records.md), row order kept.

    Takes a :class:`Review` or its table (e.g. sorted with :func:`sort_review`).
    Lists are codes joined with ";" (empty list: empty cell), ``stale`` is
    true/false, ``phq9_change`` has two decimals (empty when not computed),
    ``latest_session`` is ISO 8601 and ``dose_mg`` a plain number. Formula
    escaping is the CSV writer's job.
    """
    table = review.table if isinstance(review, Review) else review

    def numbers(column: str, digits: bool = False) -> pd.Series:
        values = pd.to_numeric(table[column]).to_numpy(dtype="float64", na_value=np.nan)
        text = change_texts(values) if digits else number_texts(values)
        return pd.Series(np.where(np.isnan(values), "", text), index=table.index, dtype=object)

    def lists(column: str) -> pd.Series:
        return table[column].map(";".join).astype(object)

    out = pd.DataFrame(
        {
            "patient_id": table["patient_id"].astype(object),
            "status": table["status"].astype(object),
            **{c: lists(c) for c in REVIEW_COLUMNS[2:8]},
            "latest_session": _iso_moments(table["latest_session"]),
            "route": table["route"].astype(object).where(table["route"].notna(), ""),
            "dose_mg": numbers("dose_mg"),
            "stale": np.where(table["stale"].to_numpy(dtype=bool), "true", "false").astype(object),
            "phq9_baseline": numbers("phq9_baseline"),
            "phq9_latest": numbers("phq9_latest"),
            "phq9_change": numbers("phq9_change", digits=True),
        },
        index=table.index,
    )
    return out.loc[:, list(REVIEW_COLUMNS)]


def _optional(value: object) -> object | None:
    """A table cell as a Python value, None for a blank (None, NaN, NaT, NA)."""
    return None if value is None or value is pd.NA or value is pd.NaT or value != value else value


def for_patient(review: Review, patient_id: str) -> PatientReview:
    """One patient's review, as typed objects for the patient report.

    Raises ``KeyError`` when the patient was not part of the review.
    """
    rows = review.table.loc[review.table["patient_id"] == patient_id]
    if rows.empty:
        raise KeyError(f"patient {patient_id!r} is not in this review")
    row = rows.iloc[0]
    mine = review.findings.loc[review.findings["patient_id"] == patient_id]
    items = [
        Finding(
            code=str(f.code),
            kind=FlagKind(str(f.kind)),
            addressed=bool(f.addressed),
            addressed_by_decided_at=cast(datetime | None, _optional(f.addressed_by_decided_at)),
            addressed_by_decision=cast(str | None, _optional(f.addressed_by_decision)),
            threshold=str(f.threshold),
            evidence=cast(tuple[EvidenceItem, ...], f.evidence),
            sentence=str(f.sentence),
        )
        for f in mine.itertuples(index=False)
    ]
    advice = review.recommendations.loc[review.recommendations["patient_id"] == patient_id]

    def of_kind(kind: FlagKind, addressed: bool = False) -> tuple[Finding, ...]:
        return tuple(f for f in items if f.kind is kind and f.addressed is addressed)

    baseline, latest = _optional(row["phq9_baseline"]), _optional(row["phq9_latest"])
    dose, change = _optional(row["dose_mg"]), _optional(row["phq9_change"])
    moment = _optional(row["latest_session"])
    return PatientReview(
        patient_id=patient_id,
        status=Status(row["status"]),
        stale=bool(row["stale"]),
        latest_session=cast(datetime | None, moment),
        route=cast(str | None, _optional(row["route"])),
        dose_mg=None if dose is None else float(cast(float, dose)),
        phq9_baseline=None if baseline is None else int(cast(int, baseline)),
        phq9_latest=None if latest is None else int(cast(int, latest)),
        phq9_change=None if change is None else float(cast(float, change)),
        safety_flags=of_kind(FlagKind.SAFETY),
        red_flags=of_kind(FlagKind.RED),
        watch=of_kind(FlagKind.WATCH),
        green_lights=of_kind(FlagKind.GREEN),
        addressed=tuple(f for f in items if f.addressed),
        recommendations=tuple(
            RecommendationItem(
                code=str(r.code),
                order=int(cast(int, r.order)),
                reason=str(r.reason),
                based_on=cast(tuple[str, ...], r.based_on),
            )
            for r in advice.itertuples(index=False)
        ),
    )
