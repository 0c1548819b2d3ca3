"""The records' version: grows with every change to patients, sessions and decisions,
and stays put for reads, logins, exports and account changes (the weekly review's
kept caseload is keyed on it, see ui.state.caseload_as_of)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from redflags.codes import Role
from redflags.config import load_rules
from services import auth, users
from services.access import Actor
from services.audit import UNCHANGING_ACTIONS, records_version
from services.caseload import caseload, record_caseload_view
from services.decisions import patient_decisions, record_decision, withdraw_decision
from services.patients import add_patient
from services.records import export_review, export_sessions, import_decisions, import_sessions
from services.report import patient_report
from services.sessions import edit_session, log_session, remove_session

ADMIN = Actor("ada", Role.ADMIN)
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 18, 0)
SESSION = {
    "patient_id": "P1",
    "session_date": "2026-11-20T09:30",
    "route": "ketamine_iv",
    "dose_mg": "35",
    "panic": "8",
    "panic_course": "persisted",
}
SESSIONS_CSV = b"patient_id,session_date,route,dose_mg\nP2,2026-11-18T10:00,ketamine_im,50\n"
DECISIONS_CSV = b"patient_id,decided_at,decision\nP2,2026-11-19T09:00,continue\n"
BAD_CSV = b"patient_id,session_date,route,dose_mg\nP3,2026-11-18T10:00,by_mouth,50\n"


@pytest.fixture
def clinic(engine: Engine) -> Engine:
    assert add_patient(engine=engine, actor=ADMIN, code="P1").ok
    return engine


def _session_id(engine: Engine) -> int:
    saved = log_session(engine=engine, actor=ADMIN, values=SESSION, today=TODAY)
    assert saved.ok and saved.record_id is not None
    return saved.record_id


def test_an_empty_trail_is_version_zero(engine: Engine) -> None:
    assert records_version(engine=engine) == 0


def test_every_kind_of_change_to_the_records_raises_the_version(clinic: Engine) -> None:
    session_id = _session_id(clinic)
    changes: list[tuple[str, Callable[[], object]]] = [
        ("patient added", lambda: add_patient(engine=clinic, actor=ADMIN, code="P9")),
        (
            "session logged",
            lambda: log_session(
                engine=clinic,
                actor=ADMIN,
                values=SESSION | {"session_date": "2026-11-21T09:30"},
                today=TODAY,
            ),
        ),
        (
            "session edited",
            lambda: edit_session(
                engine=clinic,
                actor=ADMIN,
                session_id=session_id,
                values=SESSION | {"panic": "5", "panic_course": "reflected"},
                reason="re-scored",
                today=TODAY,
            ),
        ),
        (
            "decision recorded",
            lambda: record_decision(
                engine=clinic,
                actor=ADMIN,
                values={
                    "patient_id": "P1",
                    "decided_at": "2026-11-22T10:00",
                    "decision": "pause",
                    "participants": "the patient; Dr A",
                    "patient_view": "I want a break",
                    "rationale": "panic did not settle",
                },
                now=NOW,
            ),
        ),
        (
            "sessions imported",
            lambda: import_sessions(engine=clinic, actor=ADMIN, data=SESSIONS_CSV, today=TODAY),
        ),
        (
            "decisions imported",
            lambda: import_decisions(engine=clinic, actor=ADMIN, data=DECISIONS_CSV, today=TODAY),
        ),
        (
            "session removed",
            lambda: remove_session(
                engine=clinic, actor=ADMIN, session_id=session_id, reason="wrong patient"
            ),
        ),
        (
            "decision withdrawn",
            lambda: withdraw_decision(
                engine=clinic,
                actor=ADMIN,
                decision_id=patient_decisions(engine=clinic, actor=ADMIN, patient_code="P1")[0].id,
                reason="wrong patient",
            ),
        ),
    ]
    for what, change in changes:
        before = records_version(engine=clinic)
        done = change()
        assert getattr(done, "ok", True), f"{what}: {done}"
        assert records_version(engine=clinic) > before, f"{what} left the version as it was"


def test_reads_logins_exports_and_account_changes_leave_the_version_alone(
    clinic: Engine,
) -> None:
    _session_id(clinic)
    config = load_rules()
    version = records_version(engine=clinic)
    users.create_user(
        engine=clinic, actor=ADMIN, username="vic", role=Role.VIEWER, password="a long passphrase"
    )
    assert auth.login(engine=clinic, username="vic", password="a long passphrase").actor
    auth.login(engine=clinic, username="vic", password="not the password")
    users.change_role(engine=clinic, actor=ADMIN, username="vic", role=Role.CLINICIAN)
    users.set_active(engine=clinic, actor=ADMIN, username="vic", active=False)
    shown = caseload(engine=clinic, actor=ADMIN, as_of=TODAY, config=config)
    record_caseload_view(engine=clinic, actor=ADMIN, shown=shown)
    patient_report(engine=clinic, actor=ADMIN, patient_code="P1", as_of=TODAY, config=config)
    export_sessions(engine=clinic, actor=ADMIN)
    export_review(engine=clinic, actor=ADMIN, as_of=TODAY, config=config)
    auth.logout(engine=clinic, actor=ADMIN)
    assert records_version(engine=clinic) == version


def test_an_import_counts_as_a_change_even_refused_and_a_refused_one_stores_nothing(
    clinic: Engine,
) -> None:
    # Not in UNCHANGING_ACTIONS: an import is a change unless it says otherwise, so
    # at worst a refused one makes a kept review be computed once more.
    assert "sessions_import" not in UNCHANGING_ACTIONS
    refused = import_sessions(engine=clinic, actor=ADMIN, data=BAD_CSV, today=TODAY)
    assert not refused.ok
    shown = caseload(engine=clinic, actor=ADMIN, as_of=TODAY, config=load_rules())
    assert list(shown.rows["patient_id"]) == ["P1"]
