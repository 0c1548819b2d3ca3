"""The patient list behind the pages' patient pickers, and adding a patient; audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from models import page_queries, queries
from models.db import write_session
from models.tables import utc_now
from redflags.clinic_time import clinic_timezone
from redflags.codes import DecisionKind, TreatmentStatus
from redflags.validation import Invalid, Problem, parse_patient_code
from services import audit
from services.access import Actor, Permission, require
from services.sessions import SaveResult, refused_by_database_as_problem

#: The longest display name or clinician name (the database columns' width).
MAX_NAME_CHARS = 200
TREATMENT_STATUSES: tuple[str, ...] = tuple(s.value for s in TreatmentStatus)
#: How many of a patient's latest sessions the "edit a session" picker offers.
EDITABLE_SESSIONS = 50


@dataclass(frozen=True)
class PatientChoice:
    """One patient as a picker shows it."""

    code: str
    display_name: str
    primary_clinician: str
    treatment_status: str

    @property
    def label(self) -> str:
        """The code and name, e.g. "DEMO-001 · Arden Xu" (the code alone without a name)."""
        return f"{self.code} · {self.display_name}" if self.display_name else self.code


@dataclass(frozen=True)
class SessionChoice:
    """One stored session as the "edit a session" picker shows it."""

    session_id: int
    session_at: datetime
    time_recorded: bool
    route: str
    dose_mg: float


@dataclass(frozen=True)
class NextTreatment:
    """The route and dose a new session is likely to be given, and where they come from.

    From the newest session, unless a later decision adjusted the dose or
    switched the route: then from that decision (``decided_at`` and
    ``decision`` set), whose dose may be unknown (a switch recorded without one).
    """

    route: str
    dose_mg: float | None
    latest: SessionChoice
    decided_at: datetime | None = None
    decision: str | None = None


def patient_choices(*, engine: Engine, actor: Actor) -> list[PatientChoice]:
    """Every patient, sorted by code."""
    require(actor, Permission.VIEW_PATIENTS)
    with engine.connect() as connection:
        frame = queries.patients_frame(connection)
    return [
        PatientChoice(
            code=str(row.patient_id),
            display_name=str(row.display_name or ""),
            primary_clinician=str(row.primary_clinician or ""),
            treatment_status=str(row.treatment_status or ""),
        )
        for row in frame.itertuples(index=False)
    ]


def session_choices(
    *, engine: Engine, actor: Actor, patient_code: str, limit: int = EDITABLE_SESSIONS
) -> list[SessionChoice]:
    """The patient's latest ``limit`` sessions, newest first."""
    require(actor, Permission.VIEW_PATIENTS)
    with engine.connect() as connection:
        frame = page_queries.session_choices(
            connection, patient_code=patient_code, tz=clinic_timezone(), limit=limit
        )
    return [
        SessionChoice(
            session_id=int(row["session_id"]),
            session_at=pd.Timestamp(row["session_at"]).to_pydatetime(),
            time_recorded=bool(row["time_recorded"]),
            route=str(row["route"]),
            dose_mg=float(row["dose_mg"]),
        )
        for row in frame.to_dict("records")
    ]


def next_treatment(*, engine: Engine, actor: Actor, patient_code: str) -> NextTreatment | None:
    """What the next session is likely to be given (see :class:`NextTreatment`);
    None before the patient's first session."""
    newest = session_choices(engine=engine, actor=actor, patient_code=patient_code, limit=1)
    if not newest:
        return None
    latest = newest[0]
    with engine.connect() as connection:
        change = page_queries.latest_change_decided(
            connection, patient_code=patient_code, tz=clinic_timezone()
        )
    same = NextTreatment(route=latest.route, dose_mg=latest.dose_mg, latest=latest)
    if change is None or change["decided_at"] <= latest.session_at:
        return same
    adjust = change["decision"] == DecisionKind.ADJUST_DOSE
    route = change["route_to"] or (latest.route if adjust else None)
    dose = change["dose_to_mg"]
    if route is None or (adjust and dose is None):
        return same  # an imported decision that does not say to what
    return NextTreatment(
        route=str(route),
        dose_mg=dose,
        latest=latest,
        decided_at=change["decided_at"],
        decision=change["decision"],
    )


def _name(text: str, column: str, problems: list[Problem]) -> str:
    value = text.strip()
    if len(value) > MAX_NAME_CHARS:
        problems.append(Problem(f"is longer than {MAX_NAME_CHARS} characters", None, column))
    return value


@refused_by_database_as_problem("patient_id")
def add_patient(
    *,
    engine: Engine,
    actor: Actor,
    code: str,
    display_name: str = "",
    primary_clinician: str = "",
    treatment_status: str = TreatmentStatus.ACTIVE.value,
) -> SaveResult:
    """Add a patient with the clinic's code (rules.md §1 format); audited.

    A code that is already taken is refused, so that two people can never
    share one record by accident.
    """
    require(actor, Permission.WRITE_CLINICAL)
    problems: list[Problem] = []
    try:
        patient_code = parse_patient_code(code)
    except Invalid as error:
        problems.append(Problem(str(error), None, "patient_id"))
        patient_code = ""
    name = _name(display_name, "display_name", problems)
    clinician = _name(primary_clinician, "primary_clinician", problems)
    if treatment_status not in TREATMENT_STATUSES:
        problems.append(
            Problem(f"must be one of {', '.join(TREATMENT_STATUSES)}", None, "treatment_status")
        )
    if problems:
        return SaveResult(None, problems)
    with write_session(engine) as session:
        patient_id = page_queries.insert_patient(
            session,
            code=patient_code,
            display_name=name,
            primary_clinician=clinician,
            treatment_status=treatment_status,
            now=utc_now(),
        )
        if patient_id is None:
            return SaveResult(
                None,
                [
                    Problem(
                        "a patient already has this code: choose that patient instead "
                        "(codes are case-sensitive)",
                        None,
                        "patient_id",
                    )
                ],
            )
        audit.record(
            session,
            actor=actor,
            action="patient_created",
            entity="patient",
            entity_id=patient_code,
            patient_code=patient_code,
            details={"treatment_status": treatment_status},
        )
    return SaveResult(patient_id)
