"""The session form: every field of rules.md §1, the importer's messages, the status after."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from models.tables import patient_table, session_table
from redflags.clinic_time import clinic_timezone, local_today, utc_to_local
from services.decisions import record_decision
from tests.pages.helpers import (
    CLINICIAN,
    all_text,
    audit_details,
    audit_rows,
    logged_in,
    no_exception,
    open_page,
)
from ui import navigation

PATIENT = "DEMO-030"  # green, on oral ketamine


def form(patient: str | None = PATIENT) -> AppTest:
    params = {"patient": patient} if patient else {}
    at = open_page(logged_in(CLINICIAN), navigation.LOG_SESSION.path, **params)
    no_exception(at)
    return at


def today() -> date:
    return local_today(clinic_timezone())


def fill(at: AppTest, **values: Any) -> AppTest:
    """Set fields by name (rules.md §1), running after each so that course widgets appear."""
    for name, value in values.items():
        if name == "session_time":
            at.time_input(key="log.session_time").set_value(value)
        elif name == "session_day":
            at.date_input(key="log.session_day").set_value(value)
        elif name == "route":
            at.selectbox(key="log.route").set_value(value)
        elif name.endswith("_course"):
            at.button_group(key=f"log.{name}").set_value(value)
        elif name in ("commitment",):
            at.text_input(key="log.commitment").input(str(value))
        elif name == "note":
            at.text_area(key="log.note").input(str(value))
        else:
            at.number_input(key=f"log.{name}").set_value(value)
        at.run()
    return at


def save(at: AppTest) -> AppTest:
    at.button(key="log.save").click().run()
    no_exception(at)
    return at


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error).replace("\\", "")


def stored_sessions(engine: Engine, patient: str = PATIENT) -> list[dict[str, object]]:
    statement = (
        select(session_table)
        .join(patient_table, patient_table.c.id == session_table.c.patient_id)
        .where(patient_table.c.code == patient)
        .order_by(session_table.c.session_at)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(statement)]


def earlier_today() -> time:
    """09:15, or the current minute when the test runs before then: never later than now."""
    local_now = utc_to_local(datetime.now(UTC).replace(tzinfo=None), clinic_timezone())
    return min(time(9, 15), local_now.time().replace(second=0, microsecond=0))


GOOD = {
    "session_time": earlier_today(),
    "route": "ketamine_iv",
    "dose_mg": 40.0,
    "phq9": 8,
    "phq9_item9": 0,
    "bp_pre_sys": 125,
    "bp_pre_dia": 80,
    "observation_min": 90,
}


def test_a_good_session_is_saved_and_the_patients_status_shows_at_once(
    demo_engine: Engine,
) -> None:
    before = len(stored_sessions(demo_engine))
    at = fill(form(), **GOOD, panic=5, panic_course="reflected", commitment="call my sister")
    save(at)
    assert not errors(at)
    text = all_text(at)
    assert f"Session saved for {PATIENT}" in text
    assert f"{PATIENT}: status now" in text
    rows = stored_sessions(demo_engine)
    assert len(rows) == before + 1
    saved = rows[-1]
    assert (saved["route"], saved["dose_mg"], saved["panic"], saved["panic_course"]) == (
        "ketamine_iv",
        40.0,
        5,
        "reflected",
    )
    assert saved["commitment"] == "call my sister" and saved["recorded_by"] == CLINICIAN.username
    assert audit_rows(demo_engine, "session_created")[-1].patient_code == PATIENT
    assert at.number_input(key="log.dose_mg").value is None, "the form is cleared for the next"


def test_a_save_while_an_import_holds_the_database_says_so_and_keeps_the_form(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import db

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # not 30 s of waiting here
    demo_engine.dispose()  # new connections take the shorter timeout
    before = len(stored_sessions(demo_engine))
    at = fill(form(), **GOOD)
    holder = sqlite3.connect(str(demo_engine.url.database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # what a long import's write transaction does
    try:
        save(at)
        assert "The database did not answer in time" in errors(at)
        assert "nothing was saved" in errors(at)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(stored_sessions(demo_engine)) == before
    assert at.number_input(key="log.dose_mg").value == GOOD["dose_mg"], "what was typed stays"
    save(at)
    assert f"Session saved for {PATIENT}" in all_text(at)
    assert len(stored_sessions(demo_engine)) == before + 1


def test_the_latest_route_and_dose_are_shown_and_carried_over_only_when_asked(
    demo_engine: Engine,
) -> None:
    newest = stored_sessions(demo_engine)[-1]
    at = form()
    assert at.selectbox(key="log.route").value is None, "never pre-filled by default"
    assert at.number_input(key="log.dose_mg").value is None
    caption = next(c.value for c in at.caption if c.value.startswith("Latest session:"))
    assert "Oral ketamine" in caption and f"{newest['dose_mg']:g} mg" in caption
    at.button(key="log.carry_over").click().run()
    no_exception(at)
    assert at.selectbox(key="log.route").value == newest["route"] == "ketamine_oral"
    assert at.number_input(key="log.dose_mg").value == newest["dose_mg"]
    save(fill(at, session_time=GOOD["session_time"], phq9=8))
    assert not errors(at)
    assert stored_sessions(demo_engine)[-1]["dose_mg"] == newest["dose_mg"]


def test_a_dose_decided_after_the_latest_session_is_what_is_carried_over(
    demo_engine: Engine,
) -> None:
    newest = stored_sessions(demo_engine)[-1]
    assert isinstance(newest["session_at"], datetime)
    decided = record_decision(
        engine=demo_engine,
        actor=CLINICIAN,
        values={
            "patient_id": PATIENT,
            "decided_at": (
                utc_to_local(newest["session_at"], clinic_timezone()) + timedelta(minutes=1)
            ).isoformat(timespec="minutes"),
            "decision": "adjust_dose",
            "route_from": "ketamine_oral",
            "route_to": "ketamine_oral",
            "dose_from_mg": f"{newest['dose_mg']:g}",
            "dose_to_mg": "75",
            "participants": "the patient; Dr Lee",
            "patient_view": "Lower, please.",
            "rationale": "Side effects.",
        },
    )
    assert decided.ok, decided.problems
    at = form()
    caption = next(c.value for c in at.caption if c.value.startswith("Latest session:"))
    assert "Decided since" in caption and "adjust dose" in caption and "75 mg" in caption
    button = at.button(key="log.carry_over")
    assert button.label == "Route and dose as decided"
    button.click().run()
    assert at.selectbox(key="log.route").value == "ketamine_oral"
    assert at.number_input(key="log.dose_mg").value == 75.0


def test_a_patient_without_sessions_has_nothing_to_carry_over(demo_engine: Engine) -> None:
    at = form()
    at.text_input(key="log.new_code").input("NEW-1")
    at.text_input(key="log.new_name").input("New Patient")
    at.text_input(key="log.new_clinician").input("Dr Ada Lee")
    at.button(key="log.add").click().run()
    no_exception(at)
    assert not [c for c in at.caption if c.value.startswith("Latest session:")]
    assert not [b for b in at.button if b.key == "log.carry_over"]


def test_a_positive_item_9_makes_the_status_urgent_right_after_saving(demo_engine: Engine) -> None:
    at = save(fill(form(), **{**GOOD, "phq9_item9": 2}))
    assert ":red-badge[:material/emergency: Urgent]" in [m.value for m in at.markdown]
    assert "Thoughts of self-harm" in all_text(at)


def courses(at: AppTest) -> list[str]:
    return [str(g.key) for g in at.button_group if str(g.key).endswith("_course")]


def test_the_course_is_asked_only_for_a_theme_rated_above_zero(demo_engine: Engine) -> None:
    at = form()
    assert courses(at) == [], "no course before any intensity"
    fill(at, panic=0)
    assert courses(at) == []
    fill(at, panic=6)
    assert courses(at) == ["log.panic_course"]


def test_a_course_left_behind_by_an_intensity_set_back_to_zero_is_not_saved(
    demo_engine: Engine,
) -> None:
    at = fill(form(), **GOOD, despair=7, despair_course="persisted")
    fill(at, despair=0)
    save(at)
    assert not errors(at)
    saved = stored_sessions(demo_engine)[-1]
    assert saved["despair"] == 0 and saved["despair_course"] is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"route": None, "dose_mg": None}, "Route is required and is blank"),
        ({"dose_mg": None}, "Dose (mg) is required and is blank"),
        ({"dose_mg": 0.0}, "out of range: it must be above 0"),
        ({"route": "esketamine_nasal", "dose_mg": 50.0}, "28, 56 or 84"),
        (
            {"bp_pre_sys": 80, "bp_pre_dia": 90},
            "Systolic 80 must be above diastolic 90 (diastolic before dosing)",
        ),
        ({"phq9": 2, "phq9_item9": 3}, "Item 9 (3) cannot be more than the PHQ-9 total (2)"),
        ({"session_day": "tomorrow"}, "is in the future"),
    ],
    ids=[
        "missing-route",
        "missing-dose",
        "zero-dose",
        "esketamine-dose",
        "bp-swapped",
        "item9-above-total",
        "future-date",
    ],
)
def test_the_form_rejects_a_bad_value_with_the_validators_message(
    demo_engine: Engine, values: dict[str, object], message: str
) -> None:
    before = len(stored_sessions(demo_engine))
    if values.get("session_day") == "tomorrow":
        values = {**values, "session_day": today() + timedelta(days=1)}
    at = fill(form(), **{**GOOD, **values})
    save(at)
    assert message in errors(at)
    assert "Not saved" in errors(at)
    assert not re.search(r"\b[a-z0-9]+_[a-z0-9_]+\b", errors(at)), "a CSV column name on the form"
    assert len(stored_sessions(demo_engine)) == before


def test_a_quick_second_click_on_save_keeps_the_first_clicks_success(
    demo_engine: Engine,
) -> None:
    before = len(stored_sessions(demo_engine))
    at = save(fill(form(), **GOOD))
    assert f"Session saved for {PATIENT}" in all_text(at)
    save(at)  # the form was cleared by the first save: this click carries nothing
    assert not errors(at), errors(at)
    assert f"Session saved for {PATIENT}" in all_text(at)
    save(fill(at, **GOOD))  # or it still carried the values the first click saved
    assert not errors(at), errors(at)
    assert len(stored_sessions(demo_engine)) == before + 1


def test_the_form_refuses_a_session_time_later_than_now(demo_engine: Engine) -> None:
    """A decision recorded now must be able to address the flags of every saved session."""
    tz = clinic_timezone()
    before = len(stored_sessions(demo_engine))
    later = utc_to_local(datetime.now(UTC).replace(tzinfo=None), tz) + timedelta(hours=1)
    at = fill(form(), **{**GOOD, "session_day": later.date(), "session_time": later.time()})
    save(at)
    expected = "is later than now" if later.date() == today() else "is in the future"
    assert expected in errors(at) and "Not saved" in errors(at)
    assert len(stored_sessions(demo_engine)) == before


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning).replace("\\", "")


def test_values_typed_for_one_patient_are_flagged_when_another_is_chosen(
    demo_engine: Engine,
) -> None:
    at = fill(form(), dose_mg=200.0, panic=6, note="Anxious during onset.")
    assert "Typed for another patient" not in warnings(at)
    at.selectbox(key="patient").set_value("DEMO-031").run()
    no_exception(at)
    said = warnings(at)
    assert "Typed for another patient" in said
    assert f"entered while {PATIENT} was chosen" in said and "belongs to DEMO-031" in said
    at.button(key="log.typed_keep").click().run()
    assert "Typed for another patient" not in warnings(at), "kept for DEMO-031 on purpose"
    assert at.number_input(key="log.dose_mg").value == 200.0
    at.selectbox(key="patient").set_value(PATIENT).run()
    assert "Typed for another patient" in warnings(at)
    at.button(key="log.typed_clear").click().run()
    assert "Typed for another patient" not in warnings(at)
    assert at.number_input(key="log.dose_mg").value is None
    assert at.text_area(key="log.note").value in (None, "")


def test_values_typed_before_a_patient_is_chosen_belong_to_the_first_one_chosen(
    demo_engine: Engine,
) -> None:
    at = fill(form(patient=None), dose_mg=40.0)
    at.selectbox(key="patient").set_value(PATIENT).run()
    assert "Typed for another patient" not in warnings(at)


def test_the_form_needs_a_patient(demo_engine: Engine) -> None:
    at = save(fill(form(patient=None), **GOOD))
    assert "Patient is required and is blank" in errors(at)


def test_a_second_session_at_the_same_time_is_refused(demo_engine: Engine) -> None:
    at = save(fill(form(), **GOOD))
    assert not errors(at)
    # Other values at the same time (the very same ones at once are a repeated click).
    save(fill(at, **{**GOOD, "phq9": 9}))
    assert "already has a session at this date and time" in errors(at)


def test_editing_a_session_saves_the_change_and_keeps_the_old_values_in_the_audit(
    demo_engine: Engine,
) -> None:
    latest = stored_sessions(demo_engine)[-1]
    at = form()
    at.button_group(key="log.mode").set_value("edit").run()
    at.selectbox(key="log.edit_id").set_value(latest["id"]).run()
    no_exception(at)
    assert at.number_input(key="log.dose_mg").value == latest["dose_mg"], "the session is loaded"
    at.text_area(key="log.note").input("Edited: dose tolerated well.").run()
    save(at)
    assert "Say why the stored session is changed" in errors(at), "a change needs a reason"
    assert next(r for r in stored_sessions(demo_engine) if r["id"] == latest["id"]) == latest
    at.text_input(key="log.edit_reason").input("note added after the call").run()
    save(at)
    assert not errors(at)
    assert f"Changes saved for {PATIENT}" in all_text(at)
    edited = next(r for r in stored_sessions(demo_engine) if r["id"] == latest["id"])
    assert edited["note"] == "Edited: dose tolerated well."
    event = audit_rows(demo_engine, "session_edited")[-1]
    change = audit_details(event)
    assert change["changed"] == ["note"]
    assert change["before"] == {"note": latest["note"]}
    assert change["reason"] == "note added after the call"


def editing(session_id: object) -> AppTest:
    """The form with a stored session loaded for editing."""
    at = form()
    at.button_group(key="log.mode").set_value("edit").run()
    at.selectbox(key="log.edit_id").set_value(session_id).run()
    no_exception(at)
    return at


def test_saving_a_stored_session_without_a_change_says_nothing_changed(
    demo_engine: Engine,
) -> None:
    latest = stored_sessions(demo_engine)[-1]
    before = len(audit_rows(demo_engine, "session_edited"))
    at = save(editing(latest["id"]))
    assert "Nothing has changed: every value is as stored" in errors(at)
    assert "Say why" not in errors(at), "no reason is asked for a change that is not there"
    assert len(audit_rows(demo_engine, "session_edited")) == before


def test_an_edit_made_on_an_older_copy_does_not_undo_a_colleagues_save(
    demo_engine: Engine,
) -> None:
    latest = stored_sessions(demo_engine)[-1]

    mine, theirs = editing(latest["id"]), editing(latest["id"])
    theirs.text_area(key="log.note").input("Colleague: nausea after dosing.").run()
    theirs.text_input(key="log.edit_reason").input("nausea reported by phone").run()
    assert not errors(save(theirs))
    mine.text_area(key="log.note").input("Mine: calm throughout.").run()
    mine.text_input(key="log.edit_reason").input("note added").run()
    save(mine)
    assert "Someone else saved this session at" in errors(mine)
    assert "Not saved: 1 problem, at session to edit" in errors(mine)
    stored = next(r for r in stored_sessions(demo_engine) if r["id"] == latest["id"])
    assert stored["note"] == "Colleague: nausea after dosing.", "the colleague's save is kept"
    mine.button(key="log.reload").click().run()
    no_exception(mine)
    assert mine.text_area(key="log.note").value == "Colleague: nausea after dosing."
    assert not errors(mine)
    mine.text_area(key="log.note").input("Colleague: nausea after dosing. Mine: calm.").run()
    mine.text_input(key="log.edit_reason").input("note added").run()
    assert not errors(save(mine))
    mine.text_area(key="log.note").input("Nausea after dosing; calm otherwise.").run()
    mine.text_input(key="log.edit_reason").input("note tidied").run()
    assert not errors(save(mine)), "one's own earlier save is no conflict"
    stored = next(r for r in stored_sessions(demo_engine) if r["id"] == latest["id"])
    assert stored["note"] == "Nausea after dosing; calm otherwise."


@pytest.mark.parametrize("their_change", ["dose", "removal"])
def test_a_colleague_changing_what_names_the_session_or_removing_it_is_reported_not_a_crash(
    demo_engine: Engine, their_change: str
) -> None:
    latest = stored_sessions(demo_engine)[-1]
    new_dose = 20.0 if latest["dose_mg"] != 20.0 else 25.0

    mine, theirs = editing(latest["id"]), editing(latest["id"])
    if their_change == "dose":
        theirs.number_input(key="log.dose_mg").set_value(new_dose).run()
        theirs.text_input(key="log.edit_reason").input("the dose was mistyped").run()
        assert not errors(save(theirs))
    else:
        theirs.text_input(key="log.remove_reason").input("logged twice").run()
        theirs.checkbox(key="log.remove_confirm").check().run()
        theirs.button(key="log.remove").click().run()
        no_exception(theirs)
        assert not errors(theirs)
    mine.text_area(key="log.note").input("Mine: calm throughout.").run()
    no_exception(mine)
    assert mine.text_area(key="log.note").value == "Mine: calm throughout.", "nothing reloaded"
    if their_change == "removal":
        # (AppTest drops the vanished choice itself; a browser sends its old description,
        # which the page turns into the same: nothing chosen, and why.)
        assert "The session you had open is no longer stored" in all_text(mine)
        assert mine.selectbox(key="log.edit_id").value is None
        assert mine.button(key="log.save").disabled, "nothing to save it to"
        assert latest["id"] not in [r["id"] for r in stored_sessions(demo_engine)]
        return
    mine.text_input(key="log.edit_reason").input("note added").run()
    save(mine)
    assert "Someone else saved this session at" in errors(mine)
    stored = next(r for r in stored_sessions(demo_engine) if r["id"] == latest["id"])
    assert (stored["dose_mg"], stored["note"]) == (new_dose, latest["note"])
    mine.button(key="log.reload").click().run()
    no_exception(mine)
    assert mine.number_input(key="log.dose_mg").value == new_dose
    assert mine.selectbox(key="log.edit_id").value == latest["id"], "still the one chosen"


def test_a_session_entered_in_error_is_removed_with_a_reason_and_audited(
    demo_engine: Engine,
) -> None:
    latest = stored_sessions(demo_engine)[-1]
    before = len(stored_sessions(demo_engine))
    at = form()
    assert not [b for b in at.button if b.key == "log.remove"], "only when editing a session"
    at.button_group(key="log.mode").set_value("edit").run()
    assert not [b for b in at.button if b.key == "log.remove"], "only once a session is chosen"
    at.selectbox(key="log.edit_id").set_value(latest["id"]).run()
    assert at.button(key="log.remove").disabled, "not before it is confirmed"
    assert any("a file that still holds it is refused" in c.value for c in at.caption)
    at.checkbox(key="log.remove_confirm").check().run()
    at.button(key="log.remove").click().run()
    no_exception(at)
    assert "Say why the session was entered in error" in errors(at)
    assert "Not removed: 1 problem" in errors(at)
    assert len(stored_sessions(demo_engine)) == before
    at.text_input(key="log.remove_reason").input("logged for the wrong patient").run()
    at.button(key="log.remove").click().run()
    no_exception(at)
    assert not errors(at)
    assert f"Session removed for {PATIENT}" in all_text(at).replace("\\", "")
    assert [r["id"] for r in stored_sessions(demo_engine)].count(latest["id"]) == 0
    assert len(stored_sessions(demo_engine)) == before - 1
    details = audit_details(audit_rows(demo_engine, "session_removed")[-1])
    assert details["reason"] == "logged for the wrong patient"
    removed_values = details["before"]
    assert isinstance(removed_values, dict) and removed_values["dose_mg"] == latest["dose_mg"]
    assert at.selectbox(key="log.edit_id").value is None, "nothing left chosen"


def test_a_new_patient_can_be_added_and_is_then_chosen(demo_engine: Engine) -> None:
    at = form(patient=None)
    at.text_input(key="log.new_code").input("NEW-42")
    at.text_input(key="log.new_name").input("Robin Example")
    at.button(key="log.add").click().run()
    no_exception(at)
    assert at.selectbox(key="patient").value == "NEW-42"
    save(fill(at, **GOOD))
    assert not errors(at)
    assert len(stored_sessions(demo_engine, "NEW-42")) == 1


def test_a_code_typed_in_full_width_letters_is_chosen_as_stored(demo_engine: Engine) -> None:
    at = form(patient=None)
    at.text_input(key="log.new_code").input("ＮＥＷ-４３")  # as an East Asian keyboard types it
    at.button(key="log.add").click().run()
    no_exception(at)
    assert at.selectbox(key="patient").value == "NEW-43"
    assert "Patient NEW-43 added and chosen below." in [
        s.value.replace("\\", "") for s in at.success
    ]


def test_a_patient_code_already_taken_is_refused(demo_engine: Engine) -> None:
    at = form(patient=None)
    at.text_input(key="log.new_code").input(PATIENT)
    at.button(key="log.add").click().run()
    no_exception(at)
    assert "A patient already has this code" in errors(at)
