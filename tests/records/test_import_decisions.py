"""import_decisions: the decisions export format, the same all-or-nothing policy."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine, select

from models.tables import decision_table
from redflags.fields import DECISION_COLUMNS
from services import records
from tests.records.conftest import (
    CLINICIAN,
    GOOD_DECISION,
    UTC_ZONE,
    audit_details,
    clinical_counts,
    decisions_file,
    import_decisions,
    import_sessions,
    session,
    sessions_file,
)


@pytest.fixture
def with_patients(engine: Engine) -> Engine:
    result = import_sessions(engine, sessions_file(session(), session(patient_id="P-002")))
    assert result.ok
    return engine


def decision(**changes: str) -> dict[str, str]:
    return {**GOOD_DECISION, **changes}


def refused_with(engine: Engine, data: bytes, *expected: str, **options: object) -> list[str]:
    before = clinical_counts(engine)
    result = import_decisions(engine, data, **options)
    assert result.outcome is records.Outcome.REFUSED, result.summary()
    for line in expected:
        assert any(m.startswith(line) for m in result.messages()), (line, result.messages())
    assert clinical_counts(engine) == before
    return result.messages()


def test_decisions_import_with_their_values_kept(with_patients: Engine) -> None:
    result = import_decisions(with_patients, decisions_file(decision()))
    assert result.ok and result.imported == 1, result.messages()
    with with_patients.connect() as connection:
        row = connection.execute(select(decision_table)).mappings().one()
    assert row["decided_at"] == datetime(2026, 11, 3, 16, 0)
    assert row["participants"] == "Dr. Sato;patient;partner"
    assert row["dose_to_mg"] == 56 and row["route_to"] == "esketamine_nasal"
    assert row["flags_considered"] == "repeated_panic"
    assert row["recorded_by"] == "dr.sato"


def test_only_the_key_and_the_decision_are_required(with_patients: Engine) -> None:
    data = decisions_file(decision(), columns=["patient_id", "decided_at", "decision"])
    result = import_decisions(with_patients, data)
    assert result.ok
    with with_patients.connect() as connection:
        row = connection.execute(select(decision_table)).mappings().one()
    assert (row["participants"], row["flags_considered"], row["route_from"]) == ("", "", None)


def test_importing_decisions_twice_is_idempotent(with_patients: Engine) -> None:
    data = decisions_file(decision(), decision(decided_at="2026-11-04T10:00"))
    assert import_decisions(with_patients, data).imported == 2
    again = import_decisions(with_patients, data)
    assert (again.imported, again.unchanged, again.ok) == (0, 2, True)
    assert clinical_counts(with_patients)["decisions"] == 2


def test_flags_are_stored_in_the_order_of_the_rules_tables(with_patients: Engine) -> None:
    data = decisions_file(decision(flags_considered=" watch_panic ; suicidality;repeated_panic"))
    assert import_decisions(with_patients, data).ok
    with with_patients.connect() as connection:
        stored = connection.execute(select(decision_table.c.flags_considered)).scalar_one()
    assert stored == "suicidality;repeated_panic;watch_panic"


def test_a_changed_decision_at_the_same_time_is_a_conflict(with_patients: Engine) -> None:
    import_decisions(with_patients, decisions_file(decision()))
    lines = refused_with(
        with_patients,
        decisions_file(decision(decision="pause")),
        "row 1, column decided_at: a different decision is already stored",
    )
    assert "decision" in lines[0]


#: Another valid value for each stored column of GOOD_DECISION (the key columns excepted).
CHANGED_DECISION: dict[str, str] = {
    "decision": "pause",
    "route_from": "ketamine_im",
    "route_to": "ketamine_oral",
    "dose_from_mg": "41",
    "dose_to_mg": "84",
    "participants": "Dr. Sato;patient",
    "patient_view": "I would like something gentler.",
    "rationale": "Repeated panic on IV, twice.",
    "flags_considered": "repeated_panic;watch_despair",
    "recorded_by": "dr.lee",
}


@pytest.mark.parametrize("column", sorted(CHANGED_DECISION))
def test_a_difference_in_any_one_decision_column_is_a_conflict(
    with_patients: Engine, column: str
) -> None:
    import_decisions(with_patients, decisions_file(decision()))
    lines = refused_with(
        with_patients,
        decisions_file(decision(**{column: CHANGED_DECISION[column]})),
        "row 1, column decided_at: a different decision is already stored",
    )
    assert f"(it differs in {column})" in lines[0]


def test_a_decision_for_an_unknown_patient_is_refused(with_patients: Engine) -> None:
    refused_with(
        with_patients,
        decisions_file(decision(), decision(patient_id="GHOST")),
        "row 2, column patient_id: no patient has this code",
    )


def test_an_unknown_patient_is_reported_beside_the_files_other_problems(
    with_patients: Engine,
) -> None:
    lines = refused_with(
        with_patients,
        decisions_file(decision(patient_id="GHOST"), decision(decision="wait")),
        "row 1, column patient_id: no patient has this code",
        "row 2, column decision:",
    )
    assert len(lines) == 2


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"flags_considered": "repeated_panic;panic_attack"}, "row 1, column flags_considered:"),
        ({"flags_considered": "mood_response"}, "row 1, column flags_considered:"),
        ({"decision": "wait"}, "row 1, column decision:"),
        ({"decision": ""}, "row 1, column decision: decision is required"),
        ({"route_to": "spray"}, "row 1, column route_to:"),
        ({"dose_to_mg": "50"}, "row 1, column dose_to_mg: esketamine nasal spray"),
        ({"dose_from_mg": "0"}, "row 1, column dose_from_mg:"),
        ({"decided_at": "2026-11-03"}, "row 1, column decided_at: a decision needs its time"),
        (
            {"decided_at": "2026-11-20T12:30"},
            "row 1, column decided_at: 2026-11-20T12:30 is in the future",
        ),
        ({"decided_at": "3/11/2026 16:00"}, "row 1, column decided_at:"),
        ({"recorded_by": "x" * 151}, "row 1, column recorded_by:"),
    ],
)
def test_bad_decision_cells_are_refused_at_their_column(
    with_patients: Engine, changes: dict[str, str], line: str
) -> None:
    refused_with(with_patients, decisions_file(decision(**changes)), line)


def test_two_decisions_at_the_same_time_in_one_file_are_refused(with_patients: Engine) -> None:
    refused_with(
        with_patients,
        decisions_file(decision(), decision(rationale="again")),
        "row 2, column decided_at: row 1 has the same patient_id",
    )


def test_a_missing_decision_column_still_lets_every_row_problem_be_reported(
    with_patients: Engine,
) -> None:
    data = decisions_file(
        decision(decided_at="03/04/2026"), columns=["patient_id", "decided_at", "rationale"]
    )
    lines = refused_with(
        with_patients,
        data,
        "row 0, column decision: required column missing",
        "row 1, column decided_at: '03/04/2026' is not an ISO 8601 date",
    )
    assert len(lines) == 2, lines


def test_an_unknown_column_in_a_decisions_file_is_refused(with_patients: Engine) -> None:
    refused_with(
        with_patients,
        decisions_file(decision(), columns=[*DECISION_COLUMNS, "outcome"]),
        "row 0, column outcome: unknown column — the decisions columns are",
    )


def test_given_only_today_any_time_that_day_is_accepted(with_patients: Engine) -> None:
    data = decisions_file(decision(decided_at="2026-11-20T23:59"))
    refused_with(with_patients, data, "row 1, column decided_at: 2026-11-20T23:59 is in the future")
    result = records.import_decisions(
        engine=with_patients, actor=CLINICIAN, data=data, today=date(2026, 11, 20), tz=UTC_ZONE
    )
    assert result.ok, result.messages()
    tomorrow = decisions_file(decision(decided_at="2026-11-21T00:00"))
    result = records.import_decisions(
        engine=with_patients, actor=CLINICIAN, data=tomorrow, today=date(2026, 11, 20), tz=UTC_ZONE
    )
    assert not result.ok


def test_decision_imports_are_audited(with_patients: Engine) -> None:
    import_decisions(with_patients, decisions_file(decision()), filename="d.csv")
    import_decisions(with_patients, decisions_file(decision(decision="x")), filename="bad.csv")
    rows = audit_details(with_patients, "decisions_import")
    assert [(r["file"], r["outcome"], r["imported"]) for r in rows] == [
        ("d.csv", "imported", 1),
        ("bad.csv", "refused", 0),
    ]


def test_an_unknown_patient_is_reported_on_a_row_that_has_other_problems(
    with_patients: Engine,
) -> None:
    """The row's own problems do not hide that its patient does not exist either."""
    lines = refused_with(
        with_patients,
        decisions_file(
            decision(patient_id="GHOST", decision="launch"),
            decision(patient_id="'-GHOST2", decision="launch"),  # a neutralised code
            decision(decision="launch"),
            decision(patient_id="bad code!", decision="launch"),
        ),
        "row 1, column decision:",
        "row 1, column patient_id: no patient has this code",
        "row 2, column patient_id: no patient has this code",
        "row 3, column decision:",
        "row 4, column patient_id:",
    )
    assert [line.split(":")[0] for line in lines if "no patient has this code" in line] == [
        "row 1, column patient_id",
        "row 2, column patient_id",
    ]
