"""Recording a care-team decision, taken together with the patient; audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Engine

from models import queries
from models.db import write_session
from models.tables import Decision, utc_now
from redflags.clinic_time import clinic_timezone
from redflags.codes import DecisionKind, TreatmentStatus
from redflags.validation import Problem, validate_decision_row
from services import audit
from services.access import Actor, Permission, require
from services.sessions import SaveResult, refused_by_database_as_problem

#: The treatment status a patient is in after the care team's latest decision.
TREATMENT_AFTER: dict[str, TreatmentStatus] = {
    DecisionKind.CONTINUE: TreatmentStatus.ACTIVE,
    DecisionKind.ADJUST_DOSE: TreatmentStatus.ACTIVE,
    DecisionKind.SWITCH_ROUTE: TreatmentStatus.ACTIVE,
    DecisionKind.PAUSE: TreatmentStatus.PAUSED,
    DecisionKind.STOP: TreatmentStatus.STOPPED,
}


@refused_by_database_as_problem("decided_at")
def record_decision(
    *, engine: Engine, actor: Actor, values: Mapping[str, str], now: datetime | None = None
) -> SaveResult:
    """Save a decision from the form's text values (the decisions CSV's columns).

    ``recorded_by`` is always the acting user. The flags listed in
    ``flags_considered`` become addressed (rules.md §8) until a new session is
    evidence for them again. When it is the patient's latest decision, the
    patient's treatment status follows it (pause → paused, stop → stopped,
    continue / adjust dose / switch route → active).
    """
    require(actor, Permission.WRITE_CLINICAL)
    raw = {**values, "recorded_by": actor.username}
    record, problems = validate_decision_row(raw, now=now or utc_now(), tz=clinic_timezone())
    if record is None:
        return SaveResult(None, problems)
    with write_session(engine) as session:
        patient = queries.patient_by_code(session, str(record["patient_code"]))
        if patient is None or patient.id is None:
            return SaveResult(None, [Problem("no patient has this code", None, "patient_id")])
        at = cast(datetime, record["decided_at"])  # typed by the validator
        if queries.decision_time_taken(session, patient_id=patient.id, decided_at=at):
            return SaveResult(
                None,
                [
                    Problem(
                        "a decision for this patient is already recorded at this time",
                        None,
                        "decided_at",
                    )
                ],
            )
        values_to_store = {k: v for k, v in record.items() if k != "patient_code"}
        decision = Decision.model_validate({"patient_id": patient.id, **values_to_store})
        status_before = patient.treatment_status
        if not queries.has_later_decision(session, patient_id=patient.id, decided_at=at):
            patient.treatment_status = TREATMENT_AFTER[DecisionKind(decision.decision)].value
            session.add(patient)
        session.add(decision)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="decision_recorded",
            entity="decision",
            entity_id=str(decision.id),
            patient_code=patient.code,
            details={
                "decision": decision.decision,
                "decided_at_utc": decision.decided_at.isoformat(),
                "flags_considered": decision.flags_considered,
                "route_from": decision.route_from,
                "route_to": decision.route_to,
                "dose_from_mg": decision.dose_from_mg,
                "dose_to_mg": decision.dose_to_mg,
                "treatment_status": {"before": status_before, "after": patient.treatment_status},
            },
        )
        return SaveResult(decision.id)
