"""Logging and editing sessions, recording decisions: validated, audited, and reflected at once."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from functools import partial

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models.db import read_session, write_session
from models.queries import audit_events_in_order, upsert_patient
from models.tables import DosingSession, Patient
from redflags.codes import Role
from redflags.config import load_rules
from services.access import Actor, PermissionDenied
from services.decisions import record_decision
from services.patients import next_treatment
from services.report import patient_report
from services.sessions import edit_session, log_session, remove_session, session_form_values

CLINICIAN = Actor("dr_okafor", Role.CLINICIAN)
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 18, 0)


@pytest.fixture
def clinic(engine: Engine) -> Engine:
    with write_session(engine) as session:
        upsert_patient(
            session, code="007", display_name="", primary_clinician="", treatment_status="active"
        )
    return engine


def _hard_panic(when: str, level: str = "8") -> dict[str, str]:
    return {
        "patient_id": "007",
        "session_date": when,
        "route": "ketamine_iv",
        "dose_mg": "35",
        "panic": level,
        "panic_course": "persisted",
    }


def _audit(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    with read_session(engine) as session:
        return [(e.action, json.loads(e.details)) for e in audit_events_in_order(session)]


def test_a_valid_session_is_saved_and_audited_with_its_values(clinic: Engine) -> None:
    result = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY
    )
    assert result.ok
    action, details = _audit(clinic)[-1]
    assert action == "session_created"
    after = details["after"]
    assert isinstance(after, dict) and after["panic"] == 8 and after["route"] == "ketamine_iv"


def test_a_bad_session_is_refused_with_the_field_and_nothing_is_saved(clinic: Engine) -> None:
    values = _hard_panic("2026-11-20T09:30") | {"route": "esketamine_nasal", "dose_mg": "42"}
    result = log_session(engine=clinic, actor=CLINICIAN, values=values, today=TODAY)
    assert not result.ok
    assert [p.column for p in result.problems] == ["dose_mg"]
    assert _audit(clinic) == []


def test_a_second_session_at_the_same_time_is_refused(clinic: Engine) -> None:
    log_session(engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY)
    again = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30", "9"), today=TODAY
    )
    assert not again.ok and again.problems[0].column == "session_date"


def test_editing_a_session_keeps_the_old_values_in_the_audit_trail(clinic: Engine) -> None:
    saved = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY
    )
    assert saved.record_id is not None
    form = session_form_values(engine=clinic, actor=CLINICIAN, session_id=saved.record_id).values
    assert form["panic"] == "8" and form["session_date"] == "2026-11-20T09:30"
    edited = edit_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=saved.record_id,
        values=form | {"panic": "5", "panic_course": "reflected"},
        reason="",
        today=TODAY,
    )
    assert [p.column for p in edited.problems] == ["edit_reason"], "a change needs a reason"
    edited = edit_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=saved.record_id,
        values=form | {"panic": "5", "panic_course": "reflected"},
        reason="panic was entered on the wrong line",
        today=TODAY,
    )
    assert edited.ok
    action, details = _audit(clinic)[-1]
    assert action == "session_edited"
    assert details["reason"] == "panic was entered on the wrong line"
    assert details["changed"] == ["panic", "panic_course"]
    assert details["before"] == {"panic": 8, "panic_course": "persisted"}
    assert details["after"] == {"panic": 5, "panic_course": "reflected"}


def test_saving_a_stored_session_unchanged_says_nothing_changed_and_writes_nothing(
    clinic: Engine,
) -> None:
    values = _hard_panic("2026-11-20T09:30") | {"dose_mg": "37.5", "weight_kg": "71.5"}
    saved = log_session(engine=clinic, actor=CLINICIAN, values=values, today=TODAY)
    assert saved.record_id is not None
    form = session_form_values(engine=clinic, actor=CLINICIAN, session_id=saved.record_id).values
    audit_before = _audit(clinic)
    for reason in ("", "checked it"):
        same = edit_session(
            engine=clinic,
            actor=CLINICIAN,
            session_id=saved.record_id,
            values=form,
            reason=reason,
            today=TODAY,
        )
        assert not same.ok
        assert [str(p) for p in same.problems] == [
            "file: nothing has changed: every value is as stored; change one before saving, "
            "or choose another session"
        ]
    assert _audit(clinic) == audit_before
    # The time alone given (a date-only session gets its time) is a change.
    moved = edit_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=saved.record_id,
        values=form | {"session_date": "2026-11-20T09:45"},
        reason="the time was 09:45",
        today=TODAY,
    )
    assert moved.ok, moved.problems


def test_a_colleagues_save_in_between_is_not_undone_by_an_older_form(clinic: Engine) -> None:
    saved = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY
    )
    assert saved.record_id is not None
    session_id = saved.record_id
    mine = session_form_values(engine=clinic, actor=CLINICIAN, session_id=session_id)
    theirs = session_form_values(engine=clinic, actor=CLINICIAN, session_id=session_id)
    assert mine.version is not None and mine.version == theirs.version
    edit = partial(edit_session, engine=clinic, session_id=session_id, today=TODAY)
    first = edit(
        actor=Actor("dana", Role.CLINICIAN),
        values=theirs.values | {"dose_mg": "40"},
        reason="the dose was 40 mg",
        version=theirs.version,
    )
    assert first.ok and first.version is not None and first.version != mine.version
    audited = len(_audit(clinic))
    late = edit(
        actor=CLINICIAN,
        values=mine.values | {"panic": "6"},
        reason="panic re-scored",
        version=mine.version,
    )
    assert not late.ok and "someone else saved this session" in late.problems[0].message
    assert not remove_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=session_id,
        reason="a duplicate",
        version=mine.version,
    ).ok
    now = session_form_values(engine=clinic, actor=CLINICIAN, session_id=session_id)
    assert (now.values["dose_mg"], now.values["panic"]) == ("40", "8"), "the colleague's kept"
    assert len(_audit(clinic)) == audited + 1, "only the read that reloaded it"
    # Loaded again, the change goes through; and the editor's own next save too.
    again = edit(
        actor=CLINICIAN,
        values=now.values | {"panic": "6"},
        reason="panic re-scored",
        version=now.version,
    )
    assert again.ok
    assert edit(
        actor=CLINICIAN,
        values=now.values | {"panic": "5"},
        reason="panic re-scored once more",
        version=again.version,
    ).ok


def test_a_viewer_can_neither_log_nor_decide(clinic: Engine) -> None:
    viewer = Actor("v", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        log_session(engine=clinic, actor=viewer, values=_hard_panic("2026-11-20"), today=TODAY)
    with pytest.raises(PermissionDenied):
        record_decision(engine=clinic, actor=viewer, values={}, now=NOW)


def _decide(engine: Engine, kind: str, when: str, flags: str = "repeated_panic") -> None:
    values = {
        "patient_id": "007",
        "decided_at": when,
        "decision": kind,
        "participants": "Dr Okafor;patient",
        "patient_view": "I would like a break.",
        "flags_considered": flags,
    }
    if kind == "adjust_dose":
        values |= {"route_from": "ketamine_iv", "dose_from_mg": "35", "dose_to_mg": "30"}
    result = record_decision(engine=engine, actor=CLINICIAN, values=values, now=NOW)
    assert result.ok, result.problems


def test_a_decision_addresses_the_flags_it_considered_and_status_follows(clinic: Engine) -> None:
    for when in ("2026-11-18T09:30", "2026-11-20T09:30"):
        log_session(engine=clinic, actor=CLINICIAN, values=_hard_panic(when), today=TODAY)
    config = load_rules()
    before = patient_report(
        engine=clinic, actor=CLINICIAN, patient_code="007", as_of=TODAY, config=config
    )
    assert before.review.status == "red"
    _decide(clinic, "pause", "2026-11-21T10:00")
    after = patient_report(
        engine=clinic, actor=CLINICIAN, patient_code="007", as_of=TODAY, config=config
    )
    assert after.review.status == "green"
    assert [f.code for f in after.review.addressed] == ["repeated_panic"]
    assert after.patient.treatment_status == "paused"
    action, _details = _audit(clinic)[-1]
    assert action == "patient_viewed"
    decided = next(d for a, d in _audit(clinic) if a == "decision_recorded")
    assert decided["treatment_status"] == {"before": "active", "after": "paused"}


def test_a_session_without_its_time_on_a_day_with_a_decision_asks_for_the_time(
    clinic: Engine,
) -> None:
    """A date alone would put the afternoon's session before the morning's decision."""
    for when in ("2026-11-18T09:30", "2026-11-20T09:30"):
        assert log_session(engine=clinic, actor=CLINICIAN, values=_hard_panic(when), today=TODAY).ok
    _decide(clinic, "continue", "2026-11-24T09:05")
    config = load_rules()

    def status() -> str:
        report = patient_report(
            engine=clinic, actor=CLINICIAN, patient_code="007", as_of=TODAY, config=config
        )
        return str(report.review.status)

    assert status() == "green", "the decision addressed repeated panic"
    created = sum(action == "session_created" for action, _ in _audit(clinic))
    undated = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-24"), today=TODAY
    )
    assert not undated.ok and [p.column for p in undated.problems] == ["session_date"]
    assert "decision recorded at 09:05 that day: enter the session's time" in (
        undated.problems[0].message
    )
    assert sum(action == "session_created" for action, _ in _audit(clinic)) == created
    assert status() == "green"
    timed = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-24T14:00"), today=TODAY
    )
    assert timed.ok and status() == "red", "the afternoon's hard session is after the decision"
    # An edit that drops the time is asked for it too; a day without a decision takes a date.
    assert timed.record_id is not None
    form = session_form_values(engine=clinic, actor=CLINICIAN, session_id=timed.record_id).values
    dropped = edit_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=timed.record_id,
        values=form | {"session_date": "2026-11-24"},
        reason="time unknown",
        today=TODAY,
    )
    assert [p.column for p in dropped.problems] == ["session_date"]
    assert log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-23"), today=TODAY
    ).ok


def test_only_the_latest_decision_sets_the_treatment_status(clinic: Engine) -> None:
    _decide(clinic, "stop", "2026-11-22T10:00")
    _decide(clinic, "adjust_dose", "2026-11-01T10:00")  # an older decision, recorded late
    with read_session(clinic) as session:
        patient = session.get(Patient, 1)
        assert patient is not None and patient.treatment_status == "stopped"
    _decide(clinic, "continue", "2026-11-23T10:00")
    with read_session(clinic) as session:
        patient = session.get(Patient, 1)
        assert patient is not None and patient.treatment_status == "active"


def test_a_decision_for_an_unknown_patient_is_refused(clinic: Engine) -> None:
    result = record_decision(
        engine=clinic,
        actor=CLINICIAN,
        values={"patient_id": "999", "decided_at": "2026-11-21T10:00", "decision": "continue"},
        now=NOW,
    )
    assert not result.ok and result.problems[0].column == "patient_id"


def test_a_colleagues_save_landing_first_is_a_problem_not_an_error(
    clinic: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time check passes, then the unique constraint refuses (PostgreSQL's race)."""
    from models import queries

    first = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY
    )
    assert first.ok
    before = _audit(clinic)
    monkeypatch.setattr(queries, "session_time_taken", lambda *_a, **_k: False)
    again = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30", "9"), today=TODAY
    )
    assert not again.ok
    assert [p.column for p in again.problems] == ["session_date"]
    assert "a colleague may have saved the same record" in again.problems[0].message
    assert _audit(clinic) == before, "nothing written, not even the audit row"


def test_a_connection_lost_in_the_middle_of_a_save_is_a_problem_and_writes_nothing(
    clinic: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection dies between the save's checks and its insert; the next save works."""
    from sqlalchemy.exc import InterfaceError

    from models import queries

    checked = queries.session_time_taken

    def then_lost(session: Session, *args: object, **kwargs: object) -> bool:
        taken = checked(session, *args, **kwargs)  # type: ignore[arg-type]
        if session.get_bind().dialect.name == "postgresql":  # the server ends our connection
            session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        else:  # SQLite has no server to lose: what a driver says of a closed connection
            raise InterfaceError("INSERT", {}, sqlite3.InterfaceError("connection closed"))
        return taken

    before = _audit(clinic)
    monkeypatch.setattr(queries, "session_time_taken", then_lost)
    lost = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY
    )
    assert not lost.ok and lost.record_id is None
    assert [p.column for p in lost.problems] == [None], "a problem of the whole form"
    assert "nothing was saved" in lost.problems[0].message
    assert _audit(clinic) == before
    with read_session(clinic) as session:
        assert session.exec(select(DosingSession)).all() == []
    monkeypatch.setattr(queries, "session_time_taken", checked)
    again = log_session(
        engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY
    )
    assert again.ok, again.problems


def _next(engine: Engine) -> tuple[str, float | None, str | None]:
    planned = next_treatment(engine=engine, actor=CLINICIAN, patient_code="007")
    assert planned is not None
    return planned.route, planned.dose_mg, planned.decision


def _change(engine: Engine, when: str, **cells: str) -> None:
    values = {
        "patient_id": "007",
        "decided_at": when,
        "participants": "Dr Okafor;patient",
        "patient_view": "Fine by me.",
        "rationale": "see the report",
    } | cells
    result = record_decision(engine=engine, actor=CLINICIAN, values=values, now=NOW)
    assert result.ok, result.problems


def test_the_next_session_is_offered_the_latest_treatment_or_what_was_decided_since(
    clinic: Engine,
) -> None:
    assert next_treatment(engine=clinic, actor=CLINICIAN, patient_code="007") is None
    log_session(engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY)
    assert _next(clinic) == ("ketamine_iv", 35.0, None)

    _change(
        clinic,
        "2026-11-19T12:00",
        decision="adjust_dose",
        route_from="ketamine_iv",
        route_to="ketamine_iv",
        dose_from_mg="40",
        dose_to_mg="35",
    )
    assert _next(clinic) == ("ketamine_iv", 35.0, None), "decided before the latest session"

    _change(
        clinic,
        "2026-11-21T12:00",
        decision="adjust_dose",
        route_from="ketamine_iv",
        route_to="ketamine_iv",
        dose_from_mg="35",
        dose_to_mg="30",
    )
    planned = next_treatment(engine=clinic, actor=CLINICIAN, patient_code="007")
    assert planned is not None and (planned.route, planned.dose_mg) == ("ketamine_iv", 30.0)
    assert planned.decided_at == datetime(2026, 11, 21, 12, 0)
    assert planned.latest.dose_mg == 35.0

    _change(
        clinic, "2026-11-22T12:00", decision="continue", route_from="ketamine_iv", dose_from_mg="30"
    )
    assert _next(clinic) == ("ketamine_iv", 30.0, "adjust_dose"), "continue keeps the change"

    _change(
        clinic,
        "2026-11-23T12:00",
        decision="switch_route",
        route_from="ketamine_iv",
        route_to="esketamine_nasal",
    )
    assert _next(clinic) == ("esketamine_nasal", None, "switch_route"), "no dose was decided"

    log_session(
        engine=clinic,
        actor=CLINICIAN,
        values=_hard_panic("2026-11-24T09:30") | {"route": "esketamine_nasal", "dose_mg": "56"},
        today=TODAY,
    )
    assert _next(clinic) == ("esketamine_nasal", 56.0, None), "a session since: as given then"


def test_a_decided_change_that_does_not_say_to_what_offers_the_latest_session(
    clinic: Engine,
) -> None:
    log_session(engine=clinic, actor=CLINICIAN, values=_hard_panic("2026-11-20T09:30"), today=TODAY)
    _change(clinic, "2026-11-21T12:00", decision="switch_route", route_from="ketamine_iv")
    assert _next(clinic) == ("ketamine_iv", 35.0, None)
    _change(clinic, "2026-11-22T12:00", decision="adjust_dose", route_from="ketamine_iv")
    assert _next(clinic) == ("ketamine_iv", 35.0, None)


def test_a_session_entered_in_error_leaves_the_review_once_removed(clinic: Engine) -> None:
    ids = []
    for when in ("2026-11-18T09:30", "2026-11-20T09:30"):
        saved = log_session(engine=clinic, actor=CLINICIAN, values=_hard_panic(when), today=TODAY)
        assert saved.record_id is not None
        ids.append(saved.record_id)
    config = load_rules()

    def red_flags() -> list[str]:
        report = patient_report(
            engine=clinic, actor=CLINICIAN, patient_code="007", as_of=TODAY, config=config
        )
        return [f.code for f in report.review.red_flags]

    assert red_flags() == ["repeated_panic"]
    refused = remove_session(engine=clinic, actor=CLINICIAN, session_id=ids[1], reason="  ")
    assert not refused.ok and [p.column for p in refused.problems] == ["remove_reason"]
    assert red_flags() == ["repeated_panic"], "nothing removed without a reason"
    removed = remove_session(engine=clinic, actor=CLINICIAN, session_id=ids[1], reason="twice")
    assert removed.ok and removed.record_id == ids[1]
    assert red_flags() == [], "one hard session is not 'repeatedly'"
    again = remove_session(engine=clinic, actor=CLINICIAN, session_id=ids[1], reason="twice")
    assert not again.ok and "no longer stored" in again.problems[0].message
    with pytest.raises(PermissionDenied):
        remove_session(engine=clinic, actor=Actor("v", Role.VIEWER), session_id=ids[0], reason="no")
