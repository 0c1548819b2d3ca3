"""One patient's session report: the same rules as the weekly review, plus the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from models import queries
from redflags.clinic_time import clinic_timezone
from redflags.config import RulesConfig
from redflags.engine import PatientReview
from services import audit
from services.access import Actor, Permission, require
from services.review import end_of_day_utc, weekly_review


class UnknownPatient(LookupError):
    """No patient has this code."""


@dataclass(frozen=True)
class PatientDetails:
    """Who the patient is, for the top of the report."""

    code: str
    display_name: str
    primary_clinician: str
    treatment_status: str


@dataclass(frozen=True)
class PatientReport:
    """Everything the report page shows about one patient as of a date."""

    as_of: date
    patient: PatientDetails
    review: PatientReview
    #: Every session on or before the as-of day, oldest first (clinic-local times).
    sessions: pd.DataFrame
    #: Every decision on or before the as-of day, oldest first (clinic-local times).
    decisions: pd.DataFrame


def patient_report(
    *,
    engine: Engine,
    actor: Actor,
    patient_code: str,
    as_of: date,
    config: RulesConfig,
    audit_view: bool = True,
) -> PatientReport:
    """The report of ``patient_code``; audits the view unless ``audit_view`` is False.

    (The page audits a patient once when it is opened, not on every rerun.)
    """
    require(actor, Permission.VIEW_PATIENTS)
    tz = clinic_timezone()
    end_utc = end_of_day_utc(as_of, tz)
    with engine.connect() as connection:
        details = queries.patients_frame(connection, [patient_code])
        if details.empty:
            raise UnknownPatient(f"No patient has the code {patient_code!r}.")
        sessions = queries.session_history(
            connection, patient_code=patient_code, end_utc=end_utc, tz=tz
        )
        decisions = queries.decisions_frame(
            connection, end_utc=end_utc, tz=tz, patient_codes=[patient_code]
        )
    review = weekly_review(
        engine=engine, actor=actor, as_of=as_of, config=config, patient_codes=[patient_code]
    )
    if audit_view:
        record_patient_view(engine=engine, actor=actor, patient_code=patient_code)
    row = details.iloc[0]
    return PatientReport(
        as_of=as_of,
        patient=PatientDetails(
            code=str(row["patient_id"]),
            display_name=str(row["display_name"]),
            primary_clinician=str(row["primary_clinician"]),
            treatment_status=str(row["treatment_status"]),
        ),
        review=review.for_patient(patient_code),
        sessions=sessions,
        decisions=decisions,
    )


def record_patient_view(
    *,
    engine: Engine,
    actor: Actor,
    patient_code: str,
    entity: str = "patient",
    entity_id: str | None = None,
) -> None:
    """Audit that ``actor`` opened this patient's records (or one of them: ``entity``)."""
    require(actor, Permission.VIEW_PATIENTS)
    audit.record_alone(
        engine,
        actor=actor,
        action="patient_viewed",
        entity=entity,
        entity_id=patient_code if entity_id is None else entity_id,
        patient_code=patient_code,
    )
