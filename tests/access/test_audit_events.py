"""One audit row for each kind of event, with its UTC time, user, role, entity and patient."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models.tables import utc_now
from redflags.codes import Role
from redflags.config import SHIPPED_RULES_FILE, load_rules
from services import audit, auth, decisions, records, report, sessions, users
from services.audit_log import AuditQuery, export_audit
from services.records import import_sessions
from tests.access.conftest import (
    ADMIN,
    AS_OF,
    CLINICIAN,
    PASSWORD,
    PATIENT,
    audit_rows,
    details,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_rules()


def _only(engine: Engine, action: str) -> dict[str, object]:
    rows = audit_rows(engine, action)
    assert len(rows) == 1, f"{action}: {len(rows)} rows"
    event = rows[0]
    assert abs(event.at - utc_now()) < timedelta(minutes=1), "times are UTC"
    return {**event.model_dump(), "details": details(event)}


def test_login_logout_failed_login_and_lockout_each_leave_a_row(accounts: Engine) -> None:
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD).actor
    auth.logout(engine=accounts, actor=CLINICIAN)
    login = _only(accounts, "login")
    assert (login["username"], login["role"], login["entity_id"]) == ("cleo", "clinician", "cleo")
    logout = _only(accounts, "logout")
    assert (logout["username"], logout["details"]) == ("cleo", {"reason": "user"})
    for _ in range(5):
        auth.login(engine=accounts, username="vic", password="wrong wrong")
    assert len(audit_rows(accounts, "login_failed")) == 5
    locked = _only(accounts, "account_locked")
    assert locked["entity_id"] == "vic" and locked["username"] == ""


def test_viewing_a_patient_leaves_a_row_naming_the_patient(clinic: Engine) -> None:
    report.patient_report(
        engine=clinic, actor=CLINICIAN, patient_code=PATIENT, as_of=AS_OF, config=CONFIG
    )
    viewed = _only(clinic, "patient_viewed")
    assert (viewed["patient_code"], viewed["username"], viewed["role"]) == (
        PATIENT,
        "cleo",
        "clinician",
    )


def test_opening_a_stored_session_to_edit_it_is_a_view_of_the_patient(clinic: Engine) -> None:
    from sqlalchemy import select

    from models.tables import session_table

    with clinic.connect() as connection:
        session_id = connection.execute(select(session_table.c.id).limit(1)).scalar_one()
    values = sessions.session_form_values(
        engine=clinic, actor=CLINICIAN, session_id=session_id
    ).values
    assert values["patient_id"] == PATIENT
    viewed = _only(clinic, "patient_viewed")
    assert (viewed["entity"], viewed["entity_id"], viewed["patient_code"]) == (
        "dosing_session",
        str(session_id),
        PATIENT,
    )


def test_the_weekly_review_is_a_view_of_the_whole_caseload(clinic: Engine) -> None:
    from services.caseload import caseload

    shown = caseload(engine=clinic, actor=CLINICIAN, as_of=AS_OF, config=CONFIG)
    viewed = _only(clinic, "caseload_viewed")
    assert (viewed["username"], viewed["entity_id"]) == ("cleo", AS_OF.isoformat())
    assert viewed["details"] == {"as_of": AS_OF.isoformat(), "patients": len(shown.rows)}
    caseload(engine=clinic, actor=CLINICIAN, as_of=AS_OF, config=CONFIG, audit_view=False)
    assert len(audit_rows(clinic, "caseload_viewed")) == 1


def test_a_session_created_and_edited_keeps_the_values_before_and_after(clinic: Engine) -> None:
    form = {"patient_id": PATIENT, "session_date": "2026-11-16", "route": "ketamine_iv"}
    saved = sessions.log_session(
        engine=clinic, actor=CLINICIAN, values={**form, "dose_mg": "35"}, today=AS_OF
    )
    assert saved.ok and saved.record_id is not None
    created = _only(clinic, "session_created")
    assert created["patient_code"] == PATIENT
    assert created["details"]["after"]["dose_mg"] == 35  # type: ignore[index]
    sessions.edit_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=saved.record_id,
        values={**form, "dose_mg": "40"},
        reason="the dose was mistyped",
        today=AS_OF,
    )
    edited = _only(clinic, "session_edited")
    assert edited["details"]["before"] == {"dose_mg": 35}  # type: ignore[index]
    assert edited["details"]["after"] == {"dose_mg": 40}  # type: ignore[index]
    assert edited["entity_id"] == str(saved.record_id)
    removed = sessions.remove_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=saved.record_id,
        reason="logged for the wrong patient",
    )
    assert removed.ok, removed.problems
    gone = _only(clinic, "session_removed")
    assert gone["entity_id"] == str(saved.record_id) and gone["patient_code"] == PATIENT
    assert gone["details"]["before"]["dose_mg"] == 40  # type: ignore[index]
    assert gone["details"]["reason"] == "logged for the wrong patient"  # type: ignore[index]


def test_a_decision_leaves_a_row(clinic: Engine) -> None:
    result = decisions.record_decision(
        engine=clinic,
        actor=CLINICIAN,
        values={"patient_id": PATIENT, "decided_at": "2026-11-16T10:00", "decision": "continue"},
        now=datetime(2026, 11, 20, 12),
    )
    assert result.ok, result.problems
    decided = _only(clinic, "decision_recorded")
    assert decided["patient_code"] == PATIENT and decided["username"] == "cleo"


def test_imports_leave_a_row_refused_ones_too(accounts: Engine) -> None:
    good = b"patient_id,session_date,route,dose_mg\nP-9,2026-11-02,ketamine_iv,35\n"
    bad = b"patient_id,session_date,route,dose_mg\nP-9,03/11/2026,ketamine_iv,35\n"
    assert import_sessions(
        engine=accounts, actor=CLINICIAN, data=good, filename="a.csv", today=AS_OF
    ).ok
    refused = import_sessions(
        engine=accounts, actor=CLINICIAN, data=bad, filename="b.csv", today=AS_OF
    )
    assert not refused.ok
    too_big = import_sessions(
        engine=accounts, actor=CLINICIAN, data=good, filename="c.csv", today=AS_OF, max_bytes=10
    )
    assert not too_big.ok
    rows = audit_rows(accounts, "sessions_import")
    assert [(r.entity_id, details(r)["outcome"]) for r in rows] == [
        ("a.csv", "imported"),
        ("b.csv", "refused"),
        ("c.csv", "refused"),
    ]
    assert details(rows[0])["sha256"] == hashlib.sha256(good).hexdigest()


def test_an_export_leaves_a_row_with_what_rows_and_sha256(clinic: Engine) -> None:
    exported = records.export_sessions(engine=clinic, actor=CLINICIAN, destination="out.csv")
    row = _only(clinic, "records_export")
    assert row["details"]["what"] == "sessions"  # type: ignore[index]
    assert row["details"]["rows"] == 2  # type: ignore[index]
    assert row["details"]["sha256"] == hashlib.sha256(exported.data).hexdigest()  # type: ignore[index]


def test_user_creation_and_every_change_leave_a_row(accounts: Engine) -> None:
    users.create_user(
        engine=accounts, actor=ADMIN, username="newbie", role=Role.VIEWER, password=PASSWORD
    )
    users.change_role(engine=accounts, actor=ADMIN, username="newbie", role=Role.CLINICIAN)
    users.set_active(engine=accounts, actor=ADMIN, username="newbie", active=False)
    users.set_active(engine=accounts, actor=ADMIN, username="newbie", active=True)
    users.reset_password(
        engine=accounts, actor=ADMIN, username="newbie", password="a brand new password"
    )
    auth.login(engine=accounts, username="newbie", password="wrong guess")
    users.unlock_user(engine=accounts, actor=ADMIN, username="newbie")
    changes = [
        (r.action, r.username, r.entity_id)
        for r in audit_rows(accounts)
        if r.action.startswith("user_") and r.entity_id == "newbie"
    ]
    assert changes == [
        ("user_created", "ada", "newbie"),
        ("user_role_changed", "ada", "newbie"),
        ("user_disabled", "ada", "newbie"),
        ("user_enabled", "ada", "newbie"),
        ("user_password_reset", "ada", "newbie"),
        ("user_unlocked", "ada", "newbie"),
    ]
    role_change = _only(accounts, "user_role_changed")
    assert role_change["details"] == {
        "before": {"role": "viewer"},
        "after": {"role": "clinician"},
    }
    for event in audit_rows(accounts):
        assert "a brand new password" not in event.details


def test_the_audit_export_is_itself_audited(clinic: Engine) -> None:
    exported = export_audit(engine=clinic, actor=ADMIN, query=AuditQuery())
    row = _only(clinic, "audit_export")
    assert row["details"]["rows"] == exported.rows  # type: ignore[index]
    assert row["details"]["sha256"] == exported.sha256  # type: ignore[index]


def test_loading_the_rules_file_leaves_one_row_per_process_with_its_sha256(
    accounts: Engine,
) -> None:
    first = audit.load_rules_recorded(engine=accounts, program="dashboard")
    again = audit.load_rules_recorded(engine=accounts, program="dashboard")  # a rerun
    assert (
        first.sha256 == again.sha256 == hashlib.sha256(SHIPPED_RULES_FILE.read_bytes()).hexdigest()
    )
    row = _only(accounts, "rules_loaded")
    assert row["username"] == "process:dashboard"
    assert row["details"]["sha256"] == first.sha256  # type: ignore[index]
    assert row["details"]["path"] == str(SHIPPED_RULES_FILE.resolve())  # type: ignore[index]


def test_a_changed_rules_file_loaded_again_leaves_a_new_row(
    accounts: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "rules.toml"
    own.write_bytes(SHIPPED_RULES_FILE.read_bytes())
    monkeypatch.setenv("REDFLAGS_RULES_FILE", str(own))
    audit.load_rules_recorded(engine=accounts, program="dashboard")
    own.write_bytes(SHIPPED_RULES_FILE.read_bytes() + b"\n# a comment changes the bytes\n")
    audit.load_rules_recorded(engine=accounts, program="dashboard")
    shas = [details(r)["sha256"] for r in audit_rows(accounts, "rules_loaded")]
    assert len(shas) == 2 and shas[0] != shas[1]


def test_each_new_process_records_the_rules_file_once(sqlite_url: str) -> None:
    from models.db import create_db_engine, upgrade

    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    script = (
        "from models.db import create_db_engine\n"
        "from services.audit import load_rules_recorded\n"
        f"engine = create_db_engine({sqlite_url!r})\n"
        "for _ in range(3):\n"
        "    load_rules_recorded(engine=engine, program='manage.py')\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)
    rows = audit_rows(engine, "rules_loaded")
    assert len(rows) == 2
    assert len({details(r)["pid"] for r in rows}) == 2
    engine.dispose()


def test_export_review_from_the_command_line_records_the_rules_file(
    clinic: Engine,
) -> None:
    records.export_review(engine=clinic, actor=ADMIN, as_of=AS_OF, destination="stdout")
    assert len(audit_rows(clinic, "rules_loaded")) == 1
