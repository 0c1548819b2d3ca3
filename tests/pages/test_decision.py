"""The care-team decision page: what to discuss, recording, and the flags it addresses (§8)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from models.tables import decision_table, patient_table, session_table
from redflags.clinic_time import clinic_timezone, local_today, utc_to_local
from redflags.config import load_rules
from redflags.engine import PatientReview
from redflags.labels import format_date
from services.caseload import patient_status
from services.decisions import record_decision, withdraw_decision
from tests.pages.helpers import (
    CLINICIAN,
    all_text,
    audit_rows,
    logged_in,
    no_exception,
    open_page,
)
from ui import navigation

PATIENT = "DEMO-001"  # red: repeated panic on IV ketamine; latest session days ago


def page(patient: str = PATIENT) -> AppTest:
    at = open_page(logged_in(CLINICIAN), navigation.DECISION.path, patient=patient)
    no_exception(at)
    return at


def record(at: AppTest) -> AppTest:
    at.button(key="decision.save").click().run()
    no_exception(at)
    return at


def explain(at: AppTest) -> AppTest:
    """Who took part, the patient's view and the rationale: every decision needs them."""
    at.text_input(key="decision.participants").input("the patient; Dr Sato")
    at.text_area(key="decision.patient_view").input("I want a break to think it over.")
    at.text_area(key="decision.rationale").input("Two hard panic sessions in a row.")
    return at


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning).replace("\\", "")


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")


def stored(engine: Engine, patient: str = PATIENT) -> list[dict[str, object]]:
    statement = (
        select(decision_table)
        .join(patient_table, patient_table.c.id == decision_table.c.patient_id)
        .where(patient_table.c.code == patient)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]


def today() -> date:
    return local_today(clinic_timezone())


def status_now(engine: Engine) -> PatientReview:
    """The patient's review as of today, as a clinician sees it."""
    return patient_status(
        engine=engine, actor=CLINICIAN, patient_code=PATIENT, as_of=today(), config=load_rules()
    )


def test_words_typed_for_one_patient_are_flagged_when_another_is_chosen(
    demo_engine: Engine,
) -> None:
    at = explain(page()).run()
    assert "Typed for another patient" not in warnings(at)
    at.selectbox(key="patient").set_value("DEMO-002").run()
    no_exception(at)
    assert f"entered while {PATIENT} was chosen" in warnings(
        at
    ) and "belongs to DEMO-002" in warnings(at)
    at.button(key="decision.typed_clear").click().run()
    assert "Typed for another patient" not in warnings(at)
    assert at.text_area(key="decision.patient_view").value == ""
    assert at.text_input(key="decision.participants").value == ""


def test_the_page_shows_the_open_flags_and_the_recommendations_to_discuss(
    demo_engine: Engine,
) -> None:
    at = page()
    text = all_text(at)
    assert "Repeated overwhelming panic" in text
    assert "Consider a moment to pause and see with the patient" in text
    assert "Consider esketamine nasal spray (slower onset, structured coverage):" in text
    assert at.multiselect(key="decision.flags").value == ["repeated_panic"], (
        "every open flag is considered to begin with"
    )
    assert not [w for w in at.warning if str(w.value).startswith("Timed before")], (
        "decided now, after the evidence: no warning"
    )


def test_a_paused_patient_is_offered_a_decision_to_resume_not_told_to_continue(
    demo_engine: Engine,
) -> None:
    at = page("DEMO-021")  # paused by a demo decision, no flag open since
    text = all_text(at)
    assert "No open flag. Treatment is paused: a decision to resume (continue)" in text
    assert "· treatment paused" in text
    assert "Treatment is paused by a decision — consider discussing" in text
    assert "Consider continuing the current plan" not in text


def test_a_recorded_pause_marks_its_flags_addressed_and_the_status_changes(
    demo_engine: Engine,
) -> None:
    before = status_now(demo_engine)
    assert before.status.value == "red"
    at = page()
    at.button_group(key="decision.kind").set_value("pause").run()
    record(explain(at))
    assert not errors(at)
    text = all_text(at)
    assert f"Decision recorded for {PATIENT}" in text
    assert "Repeated overwhelming panic: addressed by Pause" in text
    after = status_now(demo_engine)
    assert after.status.value != "red"
    assert [f.code for f in after.addressed] == ["repeated_panic"]
    assert after.addressed[0].addressed_by_decision == "pause"
    (saved,) = stored(demo_engine)
    assert saved["flags_considered"] == "repeated_panic"
    assert saved["participants"] == "the patient; Dr Sato"
    assert saved["recorded_by"] == CLINICIAN.username
    assert audit_rows(demo_engine, "decision_recorded")[-1].patient_code == PATIENT
    assert at.multiselect(key="decision.flags").value == [], "no flag is open any more"
    assert at.button_group(key="decision.kind").value is None, "the next decision starts blank"
    assert not at.warning, "nothing left open to warn about"


def test_a_decision_without_who_the_patients_view_and_why_is_not_recorded(
    demo_engine: Engine,
) -> None:
    at = page()
    at.button_group(key="decision.kind").set_value("pause").run()
    record(at)
    text = errors(at)
    assert "Say who took part" in text and "the patient's own view" in text
    assert "Give the reason for this decision" in text
    assert stored(demo_engine) == []


def test_a_safety_flag_is_never_chosen_for_the_user(demo_engine: Engine) -> None:
    at = page("DEMO-004")  # urgent: a positive item 9, and unrelenting despair
    flags = at.multiselect(key="decision.flags")
    assert "suicidality" in flags.options or "Thoughts of self-harm" in " ".join(flags.options)
    assert "suicidality" not in flags.value and flags.value, "red flags still chosen"
    assert "Safety flags (" in all_text(at)


def test_a_decision_that_considers_no_flag_leaves_the_status_as_it_was(
    demo_engine: Engine,
) -> None:
    at = page()
    at.button_group(key="decision.kind").set_value("continue").run()
    at.multiselect(key="decision.flags").set_value([]).run()
    record(explain(at))
    assert not errors(at)
    after = status_now(demo_engine)
    assert after.status.value == "red"


def test_adjusting_the_dose_needs_the_new_dose(demo_engine: Engine) -> None:
    at = page()
    at.button_group(key="decision.kind").set_value("adjust_dose").run()
    assert at.number_input(key="decision.dose_from").value == 35.0, "the current dose"
    record(at)
    assert "Give the new dose" in errors(at)
    assert stored(demo_engine) == []
    at.number_input(key="decision.dose_to").set_value(30.0).run()
    record(explain(at))
    assert not errors(at)
    (saved,) = stored(demo_engine)
    assert (saved["decision"], saved["dose_from_mg"], saved["dose_to_mg"]) == (
        "adjust_dose",
        35.0,
        30.0,
    )


def test_switching_route_records_from_and_to(demo_engine: Engine) -> None:
    at = page()
    at.button_group(key="decision.kind").set_value("switch_route").run()
    at.selectbox(key="decision.route_to").set_value("esketamine_nasal").run()
    record(explain(at))
    assert not errors(at)
    (saved,) = stored(demo_engine)
    assert (saved["route_from"], saved["route_to"]) == ("ketamine_iv", "esketamine_nasal")
    assert saved["dose_to_mg"] is None, "the starting dose is optional"


def test_a_switch_records_a_starting_dose_valid_for_the_new_route(demo_engine: Engine) -> None:
    at = page()
    at.button_group(key="decision.kind").set_value("switch_route").run()
    at.selectbox(key="decision.route_to").set_value("esketamine_nasal").run()
    at.number_input(key="decision.dose_to").set_value(42.0).run()
    record(explain(at))
    assert "28, 56 or 84" in errors(at)
    assert stored(demo_engine) == []
    at.number_input(key="decision.dose_to").set_value(56.0).run()
    record(at)
    assert not errors(at)
    (saved,) = stored(demo_engine)
    assert (saved["route_to"], saved["dose_to_mg"]) == ("esketamine_nasal", 56.0)


def test_a_decision_timed_before_the_flags_evidence_says_they_stay_open(
    demo_engine: Engine,
) -> None:
    """Recorded is not addressed: a decision before the latest hard session leaves it open."""
    before = status_now(demo_engine)
    (panic,) = before.red_flags
    times = [item["session_at"] for item in panic.evidence]
    latest_evidence = max(t for t in times if isinstance(t, datetime))
    at = page()
    at.button_group(key="decision.kind").set_value("pause").run()
    at.date_input(key="decision.day").set_value(latest_evidence.date() - timedelta(days=1))
    at.time_input(key="decision.time").set_value(time(9, 0)).run()
    assert at.multiselect(key="decision.flags").value == ["repeated_panic"]
    (early,) = [w.value for w in at.warning if str(w.value).startswith("Timed before")]
    assert "would not address Repeated overwhelming panic (latest evidence" in early
    record(explain(at))
    assert not errors(at)
    assert f"Decision recorded for {PATIENT}" in all_text(at)
    (warning,) = [w.value for w in at.warning if str(w.value).startswith("Still open")]
    assert "Still open: Repeated overwhelming panic." in warning
    assert "timed before the latest session that is evidence for it" in warning


def test_a_decision_dated_in_the_future_is_refused(demo_engine: Engine) -> None:
    at = page()
    at.button_group(key="decision.kind").set_value("pause").run()
    at.date_input(key="decision.day").set_value(today() + timedelta(days=2))
    at.time_input(key="decision.time").set_value(time(9, 0)).run()
    record(explain(at))
    shown = (today() + timedelta(days=2)).strftime("%-d %b %Y")
    assert f"{shown}, 09:00 is in the future: a decision is recorded once it has been" in errors(at)
    assert stored(demo_engine) == []


def test_the_record_button_waits_for_a_decision(demo_engine: Engine) -> None:
    at = page()
    assert at.button(key="decision.save").disabled
    at.button_group(key="decision.kind").set_value("stop").run()
    assert not at.button(key="decision.save").disabled


def test_a_chosen_flag_that_is_gone_since_the_form_opened_is_taken_out_and_said(
    demo_engine: Engine,
) -> None:
    from models.tables import session_table
    from services.sessions import remove_session

    at = page()
    assert at.multiselect(key="decision.flags").value == ["repeated_panic"]
    # A colleague removes the patient's hard panic sessions as entered in error.
    hard = (
        select(session_table.c.id)
        .join(patient_table, patient_table.c.id == session_table.c.patient_id)
        .where(patient_table.c.code == PATIENT, session_table.c.panic >= 7)
    )
    with demo_engine.connect() as connection:
        ids = list(connection.execute(hard).scalars())
    assert ids
    for session_id in ids:
        assert remove_session(
            engine=demo_engine, actor=CLINICIAN, session_id=session_id, reason="wrong patient"
        ).ok
    at.text_area(key="decision.rationale").input("Reviewed after the correction.").run()
    no_exception(at)
    assert at.multiselect(key="decision.flags").value == []
    assert "Taken out of the flags considered" in all_text(at)
    assert "Repeated overwhelming panic" in all_text(at)


def test_a_decision_on_the_day_of_a_session_without_a_time_says_it_counts_as_after_it(
    demo_engine: Engine,
) -> None:
    """The review orders a date-only session before that day's decisions: the form says so."""
    statement = (
        select(patient_table.c.code, session_table.c.session_at)
        .join(patient_table, patient_table.c.id == session_table.c.patient_id)
        .where(session_table.c.time_recorded.is_(False))
        .order_by(session_table.c.session_at.desc())
        .limit(1)
    )
    with demo_engine.connect() as connection:
        patient, stored_at = connection.execute(statement).one()
    day = utc_to_local(stored_at, clinic_timezone()).date()
    at = page(patient)
    at.button_group(key="decision.kind").set_value("continue")
    at.date_input(key="decision.day").set_value(day).run()
    said = [str(i.value) for i in at.info if "recorded without a time" in str(i.value)]
    assert said == [
        f"This patient's session of {format_date(day)} was recorded without a time, so the "
        "review counts a decision that day as taken after it: the flags considered become "
        "addressed for that session too. If the team decided before the session, add the "
        "session's time first (Log a session → Edit a stored session)."
    ]
    at.date_input(key="decision.day").set_value(day - timedelta(days=1)).run()
    no_exception(at)
    assert not [i for i in at.info if "recorded without a time" in str(i.value)]


def test_a_decision_entered_in_error_is_withdrawn_and_its_flags_open_again(
    demo_engine: Engine,
) -> None:
    at = page()
    assert at.button(key="decision.withdraw").disabled, "nothing chosen yet"
    at.button_group(key="decision.kind").set_value("pause").run()
    record(explain(at))
    assert status_now(demo_engine).status.value != "red"
    (saved,) = stored(demo_engine)
    which = at.selectbox(key="decision.withdraw_which")
    assert which.options[0].endswith(f"· Pause · recorded by {CLINICIAN.username}")
    which.select_index(0).run()
    at.button(key="decision.withdraw").click().run()
    no_exception(at)
    assert "Not withdrawn: say why the decision was entered in error" in errors(at)
    assert stored(demo_engine) == [saved], "no reason: nothing withdrawn"
    at.text_area(key="decision.withdraw_reason").input("Recorded for the wrong patient.")
    at.button(key="decision.withdraw").click().run()
    no_exception(at)
    assert not errors(at)
    assert f"Decision withdrawn for {PATIENT}" in all_text(at)
    assert f"Decision recorded for {PATIENT}" not in all_text(at)
    assert stored(demo_engine) == []
    assert status_now(demo_engine).status.value == "red"
    assert at.multiselect(key="decision.flags").value == ["repeated_panic"], "open again"
    assert at.selectbox(key="decision.withdraw_which").value is None
    assert at.text_area(key="decision.withdraw_reason").value == ""
    (row,) = audit_rows(demo_engine, "decision_withdrawn")
    assert row.patient_code == PATIENT and row.username == CLINICIAN.username


def test_a_chosen_decision_withdrawn_and_replaced_since_is_not_withdrawn_unseen(
    demo_engine: Engine,
) -> None:
    """A colleague withdraws the decision chosen here and records another, which SQLite gives
    the same id: the choice is dropped and said, never turned onto the new decision."""
    at = page()
    at.button_group(key="decision.kind").set_value("pause").run()
    record(explain(at))
    (first,) = stored(demo_engine)
    at.selectbox(key="decision.withdraw_which").select_index(0).run()
    at.text_area(key="decision.withdraw_reason").input("Recorded twice.").run()
    colleague = withdraw_decision(
        engine=demo_engine,
        actor=CLINICIAN,
        decision_id=int(str(first["id"])),
        reason="wrong patient",
    )
    assert colleague.ok
    again = record_decision(
        engine=demo_engine,
        actor=CLINICIAN,
        values={
            "patient_id": PATIENT,
            "decided_at": f"{today().isoformat()}T08:00",
            "decision": "continue",
            "participants": "the patient; Dr Sato",
            "patient_view": "Keep going.",
            "rationale": "Settled.",
        },
    )
    assert again.ok, again.problems
    at.run()
    no_exception(at)
    assert "not recorded as it was when you chose it" in all_text(at)
    assert at.selectbox(key="decision.withdraw_which").value is None
    assert at.button(key="decision.withdraw").disabled
    assert [d["decision"] for d in stored(demo_engine)] == ["continue"]
