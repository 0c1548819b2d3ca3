"""The audit page's words: every action named, every row's details summed up, nothing invented."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from models import store
from redflags.codes import Role
from redflags.config import load_rules
from services import audit, auth, decisions, demo, records, report, sessions, users
from services.access import Permission, command_line_actor
from services.audit_log import AuditQuery, audit_page, export_audit
from services.audit_words import ACTION_WORDS, action_words, audit_summary
from tests.access.conftest import ADMIN, AS_OF, CLINICIAN, PASSWORD, PATIENT

ROOT = Path(__file__).resolve().parents[2]


def _actions_in_the_code() -> set[str]:
    """Every action the services write: ``action="…"`` literals, the removal constants and
    the actions that change nothing (which include the two of ``users.set_active``)."""
    found: set[str] = set()
    for path in (ROOT / "services").glob("*.py"):
        found |= set(re.findall(r'\baction="([a-z_]+)"', path.read_text(encoding="utf-8")))
    constants = {store.SESSION_REMOVED_ACTION, store.DECISION_WITHDRAWN_ACTION}
    return found | constants | set(audit.UNCHANGING_ACTIONS)


def test_every_action_the_code_writes_has_words() -> None:
    missing = sorted(_actions_in_the_code() - set(ACTION_WORDS))
    assert missing == []
    assert {"session_edited", "user_enabled", "decisions_import"} <= _actions_in_the_code()


def test_an_unknown_action_and_details_that_are_not_an_object_are_shown_as_written() -> None:
    assert action_words("something_new") == "something_new"
    assert audit_summary("something_new", '{"count": 3, "kind": "x_y"}') == "count: 3; kind: x_y"
    assert audit_summary("login", "not json {") == "not json {"
    assert audit_summary("login", "[1, 2]") == "[1, 2]"
    assert audit_summary("login", "") == ""
    assert audit_summary("login", "{}") == ""


def test_a_detail_a_summary_does_not_know_is_still_shown() -> None:
    text = json.dumps({"reason": "user", "device": "kiosk 2"})
    assert audit_summary("logout", text) == "by the user; device: kiosk 2"


def test_the_demo_load_and_reload_read_in_words(engine: Engine) -> None:
    loaded = demo.load_demo(engine=engine, actor=command_line_actor(), today=AS_OF)
    demo.load_demo(engine=engine, actor=command_line_actor(), today=AS_OF + timedelta(days=3))
    said = _summaries(engine)
    assert said["demo_patients_loaded"][-1] == f"{loaded.patients} patients"
    assert re.fullmatch(r"[1-9][\d,]* rows deleted", said["demo_refreshed"][0])


def _summaries(engine: Engine) -> dict[str, list[str]]:
    page = audit_page(engine=engine, actor=ADMIN, query=AuditQuery())
    by_action: dict[str, list[str]] = {}
    rows = page.rows
    for what, code, summary in zip(rows["what"], rows["action"], rows["summary"], strict=True):
        assert what == ACTION_WORDS[code]
        by_action.setdefault(code, []).append(summary)
    return by_action


def test_a_real_trail_reads_in_words(clinic: Engine) -> None:
    assert auth.login(engine=clinic, username="cleo", password=PASSWORD).actor
    auth.logout(engine=clinic, actor=CLINICIAN, reason="idle")
    for _ in range(5):
        auth.login(engine=clinic, username="vic", password="wrong wrong")
    auth.record_access_denied(
        engine=clinic, actor=CLINICIAN, permission=Permission.MANAGE_USERS, where="users page"
    )
    report.patient_report(
        engine=clinic, actor=CLINICIAN, patient_code=PATIENT, as_of=AS_OF, config=load_rules()
    )
    form = {"patient_id": PATIENT, "session_date": "2026-11-16", "route": "ketamine_iv"}
    saved = sessions.log_session(
        engine=clinic, actor=CLINICIAN, values={**form, "dose_mg": "35"}, today=AS_OF
    )
    assert saved.record_id is not None
    sessions.edit_session(
        engine=clinic,
        actor=CLINICIAN,
        session_id=saved.record_id,
        values={**form, "dose_mg": "40"},
        reason="the dose was mistyped",
        today=AS_OF,
    )
    sessions.remove_session(
        engine=clinic, actor=CLINICIAN, session_id=saved.record_id, reason="logged twice"
    )
    decided = decisions.record_decision(
        engine=clinic,
        actor=CLINICIAN,
        values={
            "patient_id": PATIENT,
            "decided_at": "2026-11-16T10:00",
            "decision": "adjust_dose",
            "route_from": "ketamine_iv",
            "route_to": "ketamine_iv",
            "dose_from_mg": "35",
            "dose_to_mg": "30",
            "participants": "Dr Cleo; the patient",
            "patient_view": "I want to go slower",
            "rationale": "panic twice in a row",
        },
        now=datetime(2026, 11, 20, 12),
    )
    assert decided.ok, decided.problems
    assert decided.record_id is not None
    decisions.withdraw_decision(
        engine=clinic, actor=CLINICIAN, decision_id=decided.record_id, reason="the wrong patient"
    )
    records.export_sessions(engine=clinic, actor=CLINICIAN, destination="out.csv")
    users.create_user(
        engine=clinic, actor=ADMIN, username="newbie", role=Role.VIEWER, password=PASSWORD
    )
    users.change_role(engine=clinic, actor=ADMIN, username="newbie", role=Role.CLINICIAN)
    users.set_active(engine=clinic, actor=ADMIN, username="newbie", active=False)
    users.reset_password(
        engine=clinic, actor=ADMIN, username="newbie", password="a brand new password"
    )
    export_audit(engine=clinic, actor=ADMIN, query=AuditQuery(action="login"))

    said = _summaries(clinic)
    assert said["logout"] == ["after the idle time"]
    assert said["login_failed"][-1] == "wrong password; 1 failed attempt in a row"
    assert re.fullmatch(
        r"after 5 failed attempts in a row; for \d+ minutes; until [-\d]+ [:\d]+ UTC",
        said["account_locked"][0],
    )
    assert said["access_denied"] == ["at users page"]
    assert said["sessions_import"] == [
        "sessions.csv; imported; 2 rows read; 2 imported; 0 unchanged; 1 patient added; 0 problems"
    ]
    assert said["session_created"][0].startswith("session time 2026-11-16 00:00:00 UTC; route")
    assert "route IV ketamine; dose (mg) 35" in said["session_created"][0]
    assert said["session_edited"] == ["dose (mg) 35 → 40; reason: the dose was mistyped"]
    assert said["session_removed"][0].startswith(
        "reason: logged twice; was: session time 2026-11-16"
    )
    decision = said["decision_recorded"][0]
    assert decision.startswith("Adjust dose; route IV ketamine → IV ketamine; dose 35 mg → 30 mg")
    assert decision.endswith("; decided 2026-11-16 10:00:00 UTC")
    (withdrawn,) = said["decision_withdrawn"]
    assert withdrawn.startswith(
        "reason: the wrong patient; was: Adjust dose; route IV ketamine → IV ketamine; "
        "dose 35 mg → 30 mg; decided 2026-11-16 10:00:00 UTC; "
    )
    assert "patient view: I want to go slower" in withdrawn
    assert re.search(r"; stored [-\d]+ [:\d]+ UTC$", withdrawn), withdrawn
    assert said["records_export"] == ["sessions CSV; 2 rows; to out.csv"]
    assert said["user_created"][0] == "role viewer"  # the newest first
    assert said["user_role_changed"] == ["role viewer → clinician"]
    assert said["user_disabled"] == ["active yes → no"]
    assert said["user_password_reset"] == ["new password set (never recorded)"]
    assert said["audit_export"][0].startswith("audit CSV; ")
    assert "filters: action: login" in said["audit_export"][0]
    assert said["patient_viewed"] == [""]
    for summaries in said.values():
        for summary in summaries:
            assert not summary.startswith("{"), summary
            assert "a brand new password" not in summary
