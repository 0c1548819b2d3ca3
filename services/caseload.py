"""The weekly review as the page shows it: one row per patient, in words, with filters.

The rules come from :func:`services.review.weekly_review` unchanged; this module
only adds who the patient is (name, clinician, treatment status), the last few
PHQ-9 scores for the sparkline, and the plain words of each code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from models import page_queries, queries
from redflags.clinic_time import clinic_timezone
from redflags.codes import Recommendation, Status, TreatmentStatus
from redflags.config import RulesConfig
from redflags.engine import PatientReview, RecommendationItem, Review, sort_review
from redflags.fields import ROUTES
from redflags.labels import (
    STALE_MARK,
    days_text,
    decision_words,
    flag_words,
    format_date,
    recommendation_words,
    route_and_dose,
    route_words,
    status_text,
    treatment_words,
)
from redflags.recommend import CONTINUE_OPTION
from services import audit
from services.access import Actor, Permission, require
from services.review import end_of_day_utc, weekly_review

#: How many of a patient's latest PHQ-9 scores the sparkline shows.
PHQ9_TREND_SCORES = 8
#: The treatment statuses shown unless the user asks for others.
DEFAULT_TREATMENT_STATUSES: frozenset[str] = frozenset(
    {TreatmentStatus.ACTIVE.value, TreatmentStatus.PAUSED.value}
)
STATUSES: tuple[str, ...] = tuple(s.value for s in Status)

#: Columns of :attr:`Caseload.rows`, in order.
CASELOAD_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "status",
    "status_text",
    "display_name",
    "clinician",
    "treatment_status",
    "treatment",
    "flags",
    "addressed",
    "green_lights",
    "recommendation",
    "latest_session",
    "route",
    "route_text",
    "dose_mg",
    "now_text",
    "phq9_trend",
    "phq9_latest",
    "stale",
    "stale_text",
)


#: What the table says instead of "continue" while a decision holds treatment.
HELD_TREATMENTS: dict[str, str] = {
    TreatmentStatus.PAUSED.value: "Treatment paused: consider when (and whether) to resume",
    TreatmentStatus.STOPPED.value: "Treatment stopped by a decision",
}


@dataclass(frozen=True)
class CaseloadFilters:
    """Which patients the table shows; ``None`` means no filter on that field."""

    statuses: frozenset[str] | None = None
    routes: frozenset[str] | None = None
    clinicians: frozenset[str] | None = None
    treatment_statuses: frozenset[str] | None = DEFAULT_TREATMENT_STATUSES
    #: Only patients overdue for review (like the status filter, it narrows the table only).
    stale_only: bool = False


@dataclass(frozen=True)
class CaseloadView:
    """The rows that pass the filters, and the status counts beside them."""

    table: pd.DataFrame
    #: Patients per status among those that pass every filter but the status filter.
    counts: dict[str, int]
    #: Stale patients among the same.
    stale: int


@dataclass(frozen=True)
class Caseload:
    """Every patient as of a date, in the weekly review's order (most urgent first)."""

    as_of: date
    rows: pd.DataFrame
    review: Review

    @property
    def clinicians(self) -> list[str]:
        """The primary clinicians named in the caseload, sorted."""
        names = self.rows["clinician"].astype(str)
        return sorted(n for n in names.unique() if n)

    def view(self, filters: CaseloadFilters) -> CaseloadView:
        """The rows that pass ``filters`` (the counts ignore the status and stale filters)."""
        rows = self.rows
        keep = pd.Series(True, index=rows.index)
        # Every route chosen ("Select all") is no route filter: a patient without a
        # session yet has no route, and would drop out of "all routes".
        every_route = filters.routes is not None and filters.routes >= frozenset(ROUTES)
        keep &= _among(rows["route"], None if every_route else filters.routes)
        keep &= _among(rows["clinician"], filters.clinicians)
        keep &= _among(rows["treatment_status"], filters.treatment_statuses)
        scoped = rows.loc[keep]
        counts = {s: int((scoped["status"] == s).sum()) for s in STATUSES}
        shown = scoped.loc[_among(scoped["status"], filters.statuses)]
        if filters.stale_only:
            shown = shown.loc[shown["stale"].astype(bool)]
        return CaseloadView(
            table=shown.reset_index(drop=True), counts=counts, stale=int(scoped["stale"].sum())
        )


def _among(values: pd.Series, allowed: frozenset[str] | None) -> pd.Series:
    if allowed is None:
        return pd.Series(True, index=values.index)
    return values.astype(object).isin(list(allowed))


def _joined(codes: Iterable[str]) -> str:
    return "; ".join(flag_words(code) for code in codes)


def _addressed_texts(review: Review) -> dict[str, str]:
    """Per patient: each addressed flag with the decision that addressed it."""
    found = review.findings.loc[review.findings["addressed"].astype(bool)]
    texts: dict[str, list[str]] = {}
    for row in found.to_dict("records"):
        when = format_date(pd.Timestamp(row["addressed_by_decided_at"]))
        decision = decision_words(str(row["addressed_by_decision"]))
        texts.setdefault(str(row["patient_id"]), []).append(
            f"{flag_words(str(row['code']))} (addressed: {decision}, {when})"
        )
    return {patient: "; ".join(items) for patient, items in texts.items()}


def _phq9_trends(
    *, engine: Engine, as_of: date, patient_codes: list[str] | None = None
) -> dict[str, list[int]]:
    """Each patient's last :data:`PHQ9_TREND_SCORES` PHQ-9 scores on or before ``as_of``."""
    tz = clinic_timezone()
    with engine.connect() as connection:
        scores = page_queries.recent_phq9_scores(
            connection,
            end_utc=end_of_day_utc(as_of, tz),
            per_patient=PHQ9_TREND_SCORES,
            tz=tz,
            patient_codes=patient_codes,
        )
    # One list per patient in a single grouped pass: iterating over the groups as
    # frames cost a third of a second at a network's 5,000 patients.
    trends = scores.groupby("patient_id", sort=False)["phq9"].agg(list)
    return {str(code): [int(v) for v in values] for code, values in trends.items()}


def caseload(
    *, engine: Engine, actor: Actor, as_of: date, config: RulesConfig, audit_view: bool = True
) -> Caseload:
    """Every patient's review row as of ``as_of``, in words, most urgent first (rules.md §8).

    The caseload shows every patient's name and flags: the view is audited
    ("caseload_viewed") unless ``audit_view`` is False (a rerun of the same view).
    """
    require(actor, Permission.VIEW_PATIENTS)
    review = weekly_review(engine=engine, actor=actor, as_of=as_of, config=config)
    with engine.connect() as connection:
        patients = queries.patients_frame(connection).set_index("patient_id")
    trends = _phq9_trends(engine=engine, as_of=as_of)
    table = sort_review(review.table)
    codes = table["patient_id"].astype(str)
    details = patients.reindex(codes.tolist())
    addressed = _addressed_texts(review)
    latest = pd.to_datetime(table["latest_session"])
    gap = (pd.Timestamp(as_of) - latest.dt.normalize()).dt.days
    stale = table["stale"].astype(bool)
    stale_text = [
        ""
        if not is_stale
        else f"{STALE_MARK} no session yet"
        if days != days
        else f"{STALE_MARK} {days_text(int(days))} since the last session"
        for is_stale, days in zip(stale.tolist(), gap.tolist(), strict=True)
    ]
    rows = pd.DataFrame(
        {
            "patient_id": codes.to_numpy(dtype=object),
            "status": table["status"].astype(str).to_numpy(dtype=object),
            "status_text": [status_text(s) for s in table["status"].astype(str)],
            "display_name": details["display_name"].fillna("").astype(str).to_numpy(dtype=object),
            "clinician": details["primary_clinician"].fillna("").astype(str).to_numpy(dtype=object),
            "treatment_status": details["treatment_status"]
            .fillna("")
            .astype(str)
            .to_numpy(dtype=object),
            "treatment": [treatment_words(t) for t in details["treatment_status"].fillna("")],
            "flags": [
                _joined((*safety, *red, *watch))
                for safety, red, watch in zip(
                    table["safety_flags"], table["red_flags"], table["watch"], strict=True
                )
            ],
            "addressed": [addressed.get(code, "") for code in codes],
            "green_lights": [_joined(greens) for greens in table["green_lights"]],
            "recommendation": [
                first_to_discuss(advice, treatment)
                for advice, treatment in zip(
                    table["recommendations"],
                    details["treatment_status"].fillna("").astype(str),
                    strict=True,
                )
            ],
            "latest_session": latest.to_numpy(dtype="datetime64[ns]"),
            "route": table["route"].astype(object).where(table["route"].notna(), None).to_numpy(),
            "route_text": [route_words(r) if isinstance(r, str) else "" for r in table["route"]],
            "dose_mg": pd.to_numeric(table["dose_mg"]).to_numpy(dtype="float64"),
            # Text, not a number column: the table's number formats have drawn a
            # dose wrongly (250 as 9999999997), which a dosing tool must never do.
            "now_text": [
                route_and_dose(r if isinstance(r, str) else None, float(d))
                for r, d in zip(table["route"], pd.to_numeric(table["dose_mg"]), strict=True)
            ],
            "phq9_trend": [trends.get(code, []) for code in codes],
            "phq9_latest": table["phq9_latest"].astype("Int64").to_numpy(),
            "stale": stale.to_numpy(dtype=bool),
            "stale_text": stale_text,
        }
    )
    rows["phq9_latest"] = rows["phq9_latest"].astype("Int64")
    shown = Caseload(as_of=as_of, rows=rows.loc[:, list(CASELOAD_COLUMNS)], review=review)
    if audit_view:
        record_caseload_view(engine=engine, actor=actor, shown=shown)
    return shown


def record_caseload_view(*, engine: Engine, actor: Actor, shown: Caseload) -> None:
    """Audit that ``actor`` was shown the caseload (every patient's name and flags)."""
    require(actor, Permission.VIEW_PATIENTS)
    audit.record_alone(
        engine,
        actor=actor,
        action="caseload_viewed",
        entity="review",
        entity_id=shown.as_of.isoformat(),
        details={"as_of": shown.as_of.isoformat(), "patients": len(shown.rows)},
    )


#: What "continue" presents instead while a decision holds treatment; its evidence stays.
HELD_OPTIONS: dict[str, str] = {
    TreatmentStatus.PAUSED.value: (
        "Treatment is paused by a decision — consider discussing with the patient when "
        "(and whether) to resume"
    ),
    TreatmentStatus.STOPPED.value: (
        "Treatment was stopped by a decision — consider whether anything is left to discuss"
    ),
}


def reason_to_discuss(item: RecommendationItem, treatment_status: str) -> str:
    """A recommendation's reason as the pages show it, given the patient's treatment status.

    "Consider continuing the current plan" would contradict a pause or a stop
    that a decision recorded: while treatment is held, the option says what the
    decision left to discuss, followed by the same evidence.
    """
    held = HELD_OPTIONS.get(treatment_status)
    if held is None or item.code != Recommendation.CONTINUE:
        return item.reason
    if not item.reason.startswith(CONTINUE_OPTION):
        return item.reason
    return held + item.reason.removeprefix(CONTINUE_OPTION)


def first_to_discuss(recommendations: Iterable[str], treatment_status: str) -> str:
    """The first recommendation in words, as the table shows it.

    While treatment is paused or stopped by a decision, "continue" would read as
    "carry on dosing": the table says what the decision left instead. Any other
    recommendation (new flags since the pause) is shown as it is.
    """
    first = next(iter(recommendations), "")
    if first == Recommendation.CONTINUE and treatment_status in HELD_TREATMENTS:
        return HELD_TREATMENTS[treatment_status]
    return recommendation_words(first) if first else ""


def patient_status(
    *, engine: Engine, actor: Actor, patient_code: str, as_of: date, config: RulesConfig
) -> PatientReview:
    """One patient's review as of ``as_of`` (after a save: the status it now has)."""
    review = weekly_review(
        engine=engine, actor=actor, as_of=as_of, config=config, patient_codes=[patient_code]
    )
    return review.for_patient(patient_code)
