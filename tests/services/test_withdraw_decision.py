"""A decision entered in error is withdrawn: its flags open again, its status is undone, the
audit keeps it, and an import cannot bring it back."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
from sqlalchemy import Engine

from models.db import read_session, write_session
from models.queries import audit_events_in_order, upsert_patient
from models.tables import Patient
from redflags.codes import Role
from redflags.config import load_rules
from services.access import Actor, PermissionDenied
from services.decisions import (
    DECISION_GONE,
    WITHDRAW_REASON_NEEDED,
    patient_decisions,
    withdraw_decision,
)
from services.records import export_decisions, import_decisions
from services.report import patient_report
from services.sessions import log_session
from tests.services.test_sessions_and_decisions import (
    CLINICIAN,
    TODAY,
    _decide,
    _hard_panic,
)


@pytest.fixture
def clinic(engine: Engine) -> Engine:
    """Patient 007, active, with nothing recorded yet."""
    with write_session(engine) as session:
        upsert_patient(
            session, code="007", display_name="", primary_clinician="", treatment_status="active"
        )
    return engine


def _status(engine: Engine) -> tuple[str, list[str], list[str]]:
    """The review status, the open red flags and the treatment status of patient 007."""
    report = patient_report(
        engine=engine, actor=CLINICIAN, patient_code="007", as_of=TODAY, config=load_rules()
    )
    reds = [f.code for f in report.review.red_flags]
    return report.review.status.value, reds, [report.patient.treatment_status]


def _red_patient(engine: Engine) -> None:
    for when in ("2026-11-18T09:30", "2026-11-20T09:30"):
        log_session(engine=engine, actor=CLINICIAN, values=_hard_panic(when), today=TODAY)


def _only_decision_id(engine: Engine) -> int:
    (stored,) = patient_decisions(engine=engine, actor=CLINICIAN, patient_code="007")
    return stored.id


def test_withdrawing_a_pause_opens_its_flags_again_and_undoes_the_status(
    clinic: Engine,
) -> None:
    _red_patient(clinic)
    _decide(clinic, "pause", "2026-11-21T10:00")
    assert _status(clinic) == ("green", [], ["paused"])
    decision_id = _only_decision_id(clinic)
    result = withdraw_decision(
        engine=clinic, actor=CLINICIAN, decision_id=decision_id, reason="the wrong patient"
    )
    assert result.ok and result.record_id == decision_id
    assert _status(clinic) == ("red", ["repeated_panic"], ["active"])
    assert patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007") == []
    with read_session(clinic) as session:
        (event,) = [e for e in audit_events_in_order(session) if e.action == "decision_withdrawn"]
    details = json.loads(event.details)
    assert (event.action, event.entity_id, event.patient_code) == (
        "decision_withdrawn",
        str(decision_id),
        "007",
    )
    assert details["reason"] == "the wrong patient"
    assert details["treatment_status"] == {"before": "paused", "after": "active"}
    assert details["before"]["decision"] == "pause"
    assert details["before"]["decided_at_utc"] == "2026-11-21T10:00:00"
    assert details["before"]["patient_view"] == "I would like a break."
    again = withdraw_decision(
        engine=clinic, actor=CLINICIAN, decision_id=decision_id, reason="twice"
    )
    assert again.problems == [DECISION_GONE]


def test_a_reason_is_needed_and_without_it_nothing_changes(clinic: Engine) -> None:
    _decide(clinic, "stop", "2026-11-21T10:00")
    decision_id = _only_decision_id(clinic)
    result = withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=decision_id, reason=" ")
    assert not result.ok
    assert [p.message for p in result.problems] == [WITHDRAW_REASON_NEEDED]
    assert _only_decision_id(clinic) == decision_id
    assert _status(clinic)[2] == ["stopped"]


def test_an_earlier_decision_withdrawn_leaves_the_status_of_the_latest(
    clinic: Engine,
) -> None:
    _decide(clinic, "pause", "2026-11-20T10:00")
    _decide(clinic, "stop", "2026-11-22T10:00")
    earlier, latest = sorted(
        patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007"),
        key=lambda d: d.decided_at,
    )
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=earlier.id, reason="twice")
    assert _status(clinic)[2] == ["stopped"]
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=latest.id, reason="wrong one")
    assert _status(clinic)[2] == ["active"], "no decision left: as before the first one"


def test_the_latest_withdrawn_leaves_the_status_the_remaining_decisions_imply(
    clinic: Engine,
) -> None:
    _decide(clinic, "pause", "2026-11-20T10:00")
    _decide(clinic, "continue", "2026-11-22T10:00")
    assert _status(clinic)[2] == ["active"]
    latest, earlier = patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007")
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=latest.id, reason="wrong one")
    assert _status(clinic)[2] == ["paused"], "the pause is the latest again"
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=earlier.id, reason="wrong too")
    assert _status(clinic)[2] == ["active"]


def test_an_imported_decision_given_a_withdrawn_ones_id_changes_no_status(
    clinic: Engine,
) -> None:
    """SQLite gives the highest id again: the audit row of the first holder of that id (another
    patient's decision) must not be read as this decision having set a status."""
    with write_session(clinic) as session:
        upsert_patient(
            session, code="008", display_name="", primary_clinician="", treatment_status="paused"
        )
    _decide(clinic, "pause", "2026-11-21T10:00")  # 007: active -> paused
    (first,) = patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007")
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=first.id, reason="wrong")
    assert _status(clinic)[2] == ["active"]
    header = "patient_id,decided_at,decision\n"
    imported = import_decisions(
        engine=clinic,
        actor=CLINICIAN,
        data=(header + "008,2026-11-21T10:00,continue\n").encode(),
        today=TODAY,
    )
    assert imported.ok, imported.messages()
    (other,) = patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="008")
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=other.id, reason="wrong")
    with read_session(clinic) as session:
        patient = session.get(Patient, 2)
        assert patient is not None and patient.treatment_status == "paused"


def test_a_status_changed_since_the_decision_is_left_alone(clinic: Engine) -> None:
    _decide(clinic, "pause", "2026-11-21T10:00")
    decision_id = _only_decision_id(clinic)
    with read_session(clinic) as session:
        patient = session.get(Patient, 1)
        assert patient is not None
        patient.treatment_status = "completed"
        session.add(patient)
        session.commit()
    withdraw_decision(engine=clinic, actor=CLINICIAN, decision_id=decision_id, reason="wrong")
    assert _status(clinic)[2] == ["completed"]


def test_an_import_cannot_bring_a_withdrawn_decision_back(clinic: Engine) -> None:
    _decide(clinic, "pause", "2026-11-21T10:00")
    exported = export_decisions(engine=clinic, actor=CLINICIAN).data
    withdraw_decision(
        engine=clinic, actor=CLINICIAN, decision_id=_only_decision_id(clinic), reason="wrong"
    )
    refused = import_decisions(engine=clinic, actor=CLINICIAN, data=exported, today=TODAY)
    assert not refused.ok
    assert refused.messages() == [
        "row 1, column decided_at: this decision was withdrawn as entered in error (the audit "
        "log says when, by whom and why): take the row out of the file, or record it again in "
        "the dashboard if it was taken"
    ]
    assert patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007") == []


def test_a_viewer_cannot_withdraw(clinic: Engine) -> None:
    _decide(clinic, "pause", "2026-11-21T10:00")
    with pytest.raises(PermissionDenied):
        withdraw_decision(
            engine=clinic,
            actor=Actor("vic", Role.VIEWER),
            decision_id=_only_decision_id(clinic),
            reason="wrong",
        )


def test_a_withdrawal_and_a_new_decision_at_the_same_moment_both_land(clinic: Engine) -> None:
    """Both lock the patient before the audit chain: neither waits on the other in turn
    (the other order deadlocked on PostgreSQL within these twenty tries)."""
    problems: list[object] = []
    for minute in range(20):
        _decide(clinic, "pause", f"2026-11-20T10:{minute:02d}")
        newest = patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007")[0]

        def decide(at: str = f"2026-11-21T10:{minute:02d}") -> None:
            try:
                _decide(clinic, "continue", at)
            except AssertionError as error:  # _decide asserts the save went through
                problems.append(error)

        def withdraw(decision_id: int = newest.id) -> None:
            done = withdraw_decision(
                engine=clinic, actor=CLINICIAN, decision_id=decision_id, reason="twice"
            )
            problems.extend(done.problems)

        threads = [threading.Thread(target=decide), threading.Thread(target=withdraw)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert problems == []


def test_a_decision_that_is_not_the_one_listed_any_more_is_not_withdrawn(
    clinic: Engine,
) -> None:
    """The form names the decision it listed: another patient's, or a new decision given the
    id of one withdrawn since (SQLite reuses the highest id), is left alone."""
    with write_session(clinic) as session:
        upsert_patient(
            session, code="008", display_name="", primary_clinician="", treatment_status="active"
        )
    _decide(clinic, "pause", "2026-11-21T10:00")
    (listed,) = patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007")
    for patient_code, version in (("008", listed.version), ("007", datetime(2026, 1, 1))):
        refused = withdraw_decision(
            engine=clinic,
            actor=CLINICIAN,
            decision_id=listed.id,
            reason="wrong",
            patient_code=patient_code,
            version=version,
        )
        assert refused.problems == [DECISION_GONE]
    assert patient_decisions(engine=clinic, actor=CLINICIAN, patient_code="007") == [listed]
    done = withdraw_decision(
        engine=clinic,
        actor=CLINICIAN,
        decision_id=listed.id,
        reason="wrong",
        patient_code="007",
        version=listed.version,
    )
    assert done.ok, done.problems
