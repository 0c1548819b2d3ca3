"""The database itself refuses out-of-range values (CHECK constraints) and orphans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from models.tables import decision_table, patient_table, session_table, user_table

SESSIONS = session_table
PATIENTS = patient_table


def _patient(engine: Engine, code: str = "P-001") -> int:
    with engine.begin() as connection:
        result = connection.execute(
            insert(PATIENTS).values(
                code=code,
                display_name="",
                primary_clinician="",
                treatment_status="active",
                created_at=datetime(2026, 1, 1),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def _valid_session(patient_id: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "patient_id": patient_id,
        "session_at": datetime(2026, 3, 2, 9, 30),
        "time_recorded": True,
        "route": "esketamine_nasal",
        "dose_mg": 56,
        "panic": 5,
        "panic_course": "reflected",
        "bp_pre_sys": 120,
        "bp_pre_dia": 80,
        "phq9": 12,
        "phq9_item9": 1,
        "recorded_by": "test",
        "created_at": datetime(2026, 3, 2),
        "updated_at": datetime(2026, 3, 2),
    }
    row.update(changes)
    return row


def _session_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(SESSIONS)).scalar_one())


OUT_OF_RANGE: list[tuple[str, dict[str, Any]]] = [
    ("unknown route", {"route": "ketamine_rectal"}),
    ("zero dose", {"route": "ketamine_iv", "dose_mg": 0}),
    ("dose over 1000", {"route": "ketamine_iv", "dose_mg": 1000.5}),
    ("esketamine dose not 28/56/84", {"dose_mg": 42}),
    ("weight under 20", {"weight_kg": 19.9}),
    ("weight over 400", {"weight_kg": 401}),
    ("theme under 0", {"despair": -1}),
    ("theme over 10", {"panic": 11, "panic_course": None}),
    ("unknown course word", {"panic_course": "vanished"}),
    ("course without intensity", {"grief_course": "contained"}),
    ("course beside intensity 0", {"panic": 0, "panic_course": "reflected"}),
    ("CADSS over 92", {"dissociation_cadss": 93}),
    ("systolic under 50", {"bp_pre_sys": 49}),
    ("systolic over 300", {"bp_40_sys": 301, "bp_40_dia": 90}),
    ("diastolic under 20", {"bp_end_sys": 100, "bp_end_dia": 19}),
    ("diastolic over 200", {"bp_pre_sys": 250, "bp_pre_dia": 201}),
    ("systolic not above diastolic", {"bp_pre_sys": 90, "bp_pre_dia": 90}),
    ("observation over a day", {"observation_min": 1441}),
    ("negative observation", {"observation_min": -1}),
    ("PHQ-9 over 27", {"phq9": 28}),
    ("PHQ-9 item 9 over 3", {"phq9_item9": 4}),
    ("PHQ-9 item 9 above the total", {"phq9": 2, "phq9_item9": 3}),
]


@pytest.mark.parametrize(("case", "changes"), OUT_OF_RANGE, ids=[c for c, _ in OUT_OF_RANGE])
def test_each_check_constraint_rejects_an_out_of_range_session(
    engine: Engine, case: str, changes: dict[str, Any]
) -> None:
    patient_id = _patient(engine)
    with engine.begin() as connection:  # the valid row goes in: the rejection is the change
        connection.execute(insert(SESSIONS).values(_valid_session(patient_id)))
    bad = _valid_session(patient_id, session_at=datetime(2026, 3, 5, 9, 30), **changes)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(SESSIONS).values(bad))
    assert _session_count(engine) == 1


def test_boundary_values_are_accepted(engine: Engine) -> None:
    patient_id = _patient(engine)
    edge = _valid_session(
        patient_id,
        route="ketamine_iv",
        dose_mg=1000,
        weight_kg=20,
        panic=10,
        panic_course="escalated",
        despair=0,
        dissociation_cadss=92,
        bp_pre_sys=300,
        bp_pre_dia=200,
        bp_40_sys=50,
        bp_40_dia=20,
        observation_min=1440,
        phq9=27,
        phq9_item9=3,
    )
    with engine.begin() as connection:
        connection.execute(insert(SESSIONS).values(edge))
    assert _session_count(engine) == 1


def test_a_session_for_a_missing_patient_is_refused(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(SESSIONS).values(_valid_session(patient_id=999)))
    assert _session_count(engine) == 0


def test_a_patient_with_sessions_cannot_be_deleted(engine: Engine) -> None:
    patient_id = _patient(engine)
    with engine.begin() as connection:
        connection.execute(insert(SESSIONS).values(_valid_session(patient_id)))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(PATIENTS.delete().where(PATIENTS.c.id == patient_id))


def test_two_sessions_at_the_same_time_for_one_patient_are_refused(engine: Engine) -> None:
    patient_id = _patient(engine)
    with engine.begin() as connection:
        connection.execute(insert(SESSIONS).values(_valid_session(patient_id)))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(SESSIONS).values(_valid_session(patient_id, dose_mg=84)))


def test_patient_codes_are_unique(engine: Engine) -> None:
    _patient(engine, "007")
    with pytest.raises(IntegrityError):
        _patient(engine, "007")


def test_patient_treatment_status_is_from_the_vocabulary(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            insert(PATIENTS).values(
                code="X",
                display_name="",
                primary_clinician="",
                treatment_status="on_hold",
                created_at=datetime(2026, 1, 1),
            )
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"decision": "push_through"},
        {"route_to": "ketamine_patch"},
        {"dose_to_mg": 0},
        {"dose_from_mg": 1001},
    ],
)
def test_decision_checks_reject_unknown_values(engine: Engine, changes: dict[str, Any]) -> None:
    patient_id = _patient(engine)
    row: dict[str, Any] = {
        "patient_id": patient_id,
        "decided_at": datetime(2026, 3, 3, 10, 0),
        "decision": "adjust_dose",
        "route_from": "ketamine_iv",
        "route_to": "ketamine_iv",
        "dose_from_mg": 40,
        "dose_to_mg": 35,
        "participants": "Dr A;patient",
        "patient_view": "",
        "rationale": "",
        "flags_considered": "",
        "recorded_by": "test",
        "created_at": datetime(2026, 3, 3),
    }
    row.update(changes)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(decision_table).values(row))


def _user(username: str, role: str = "viewer") -> dict[str, Any]:
    return {
        "username": username,
        "role": role,
        "password_hash": "x",
        "failed_logins": 0,
        "active": True,
        "created_at": datetime(2026, 1, 1),
    }


def test_usernames_are_unique_ignoring_case(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(user_table).values(_user("Alice")))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(user_table).values(_user("alice")))


def test_user_role_is_from_the_vocabulary(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(user_table).values(_user("bob", role="superuser")))
