"""Recording a care-team decision, taken together with the patient; audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import queries, store
from models.db import read_session, write_session
from models.tables import Decision, Patient, utc_now
from redflags.clinic_time import clinic_timezone, utc_to_local
from redflags.codes import DecisionKind, TreatmentStatus
from redflags.validation import Problem, validate_decision_row
from services import audit
from services.access import Actor, Permission, require
from services.sessions import SaveResult, reason_given, refused_by_database_as_problem

WITHDRAW_REASON_NEEDED = (
    "say why the decision was entered in error (e.g. recorded for the wrong patient, twice)"
)
DECISION_GONE = Problem(
    "this decision is not the one listed any more (someone may have withdrawn it: the audit "
    "log says who and why); nothing was changed: choose the decision again",
    None,
    None,
)

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
            action=store.DECISION_RECORDED_ACTION,
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


@dataclass(frozen=True)
class StoredDecision:
    """One stored decision, as the withdraw form lists it."""

    id: int
    #: Clinic-local, naive.
    decided_at: datetime
    decision: str
    recorded_by: str
    #: When it was stored: pass it back to :func:`withdraw_decision`.
    version: datetime


def patient_decisions(*, engine: Engine, actor: Actor, patient_code: str) -> list[StoredDecision]:
    """Every stored decision of one patient, newest first. Needs VIEW_PATIENTS."""
    require(actor, Permission.VIEW_PATIENTS)
    tz = clinic_timezone()
    with read_session(engine) as session:
        rows = session.exec(
            select(Decision)
            .join(Patient, col(Patient.id) == col(Decision.patient_id))
            .where(col(Patient.code) == patient_code)
            .order_by(col(Decision.decided_at).desc())
        ).all()
        return [
            StoredDecision(
                id=cast(int, row.id),
                decided_at=utc_to_local(row.decided_at, tz),
                decision=row.decision,
                recorded_by=row.recorded_by,
                version=row.created_at,
            )
            for row in rows
        ]


def _decision_values(row: Decision) -> dict[str, Any]:
    values = row.model_dump(exclude={"id", "patient_id", "decided_at"})
    return {"decided_at_utc": row.decided_at.isoformat(), **values}


def _treatment_without_it(session: Session, patient: Patient, before_it: str) -> str:
    """The treatment status once the latest decision, which set it, is withdrawn: what the
    latest remaining decision implies; with none left, the status before the first decision
    recorded here (``before_it``, the status the withdrawn one found, when that is unknown)."""
    remaining = queries.latest_decision_kind(session, patient_id=cast(int, patient.id))
    if remaining is not None:
        return TREATMENT_AFTER[DecisionKind(remaining)].value
    return store.treatment_before_first_decision(session, patient.code) or before_it


@refused_by_database_as_problem("withdraw_reason")
def withdraw_decision(
    *,
    engine: Engine,
    actor: Actor,
    decision_id: int,
    reason: str,
    patient_code: str | None = None,
    version: datetime | None = None,
) -> SaveResult:
    """Withdraw a decision entered in error (the wrong patient, recorded twice); audited.

    A decision marks flags addressed and may pause or stop a treatment: one
    recorded for the wrong patient would hide that patient's flags from the
    review. The decision leaves the table, so the flags it addressed are open
    again; the audit row keeps every value it had and the reason, and a CSV
    import bringing it back is refused. When it was the patient's latest
    decision and set their treatment status in the dashboard, the status goes
    back to what the remaining decisions imply (unless it has changed since):
    see :func:`_treatment_without_it`.

    ``patient_code`` and ``version`` (:attr:`StoredDecision.version`), from the
    form that listed it: a decision that is not that one any more (withdrawn by
    a colleague, its id given again to a new decision) is not withdrawn unseen.
    """
    require(actor, Permission.WRITE_CLINICAL)
    why, problems = reason_given(reason, WITHDRAW_REASON_NEEDED, "withdraw_reason")
    if problems:
        return SaveResult(None, problems)
    with write_session(engine) as session:
        # Rows first, the audit chain last (in audit.record), as record_decision does.
        row = session.get(Decision, decision_id, with_for_update=True)
        if row is None or (version is not None and row.created_at != version):
            return SaveResult(None, [DECISION_GONE])
        patient = session.get(Patient, row.patient_id, with_for_update=True)
        if patient is None or (patient_code is not None and patient.code != patient_code):
            return SaveResult(None, [DECISION_GONE])
        status_before = patient.treatment_status
        latest = not queries.has_later_decision(
            session, patient_id=row.patient_id, decided_at=row.decided_at
        )
        set_by_it = (
            store.treatment_set_by_decision(
                session,
                decision_id=decision_id,
                patient_code=patient.code,
                decided_at=row.decided_at,
                since=row.created_at,
            )
            if latest
            else None
        )
        before = _decision_values(row)
        session.delete(row)
        session.flush()
        if set_by_it is not None and set_by_it[1] == status_before:
            patient.treatment_status = _treatment_without_it(session, patient, set_by_it[0])
            session.add(patient)
        audit.record(
            session,
            actor=actor,
            action=store.DECISION_WITHDRAWN_ACTION,
            entity="decision",
            entity_id=str(decision_id),
            patient_code=patient.code,
            details={
                "before": before,
                "reason": why,
                "treatment_status": {"before": status_before, "after": patient.treatment_status},
            },
        )
        return SaveResult(decision_id)
