"""From widgets to the CSV's text and back: what the session and decision forms send."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from redflags.fields import SESSION_COLUMNS
from redflags.validation import Problem
from ui import forms


def test_session_values_are_the_csv_cells_of_every_field() -> None:
    values = forms.session_values(
        patient_code="P-1",
        day=date(2026, 11, 2),
        at=time(9, 30, 15),
        values={"route": "ketamine_iv", "dose_mg": 37.5, "panic": 8, "panic_course": "persisted"},
    )
    assert list(values) == list(SESSION_COLUMNS)
    assert values["session_date"] == "2026-11-02T09:30"
    assert (values["dose_mg"], values["panic"], values["panic_course"]) == (
        "37.5",
        "8",
        "persisted",
    )
    assert values["despair"] == "" and values["phq9"] == "", "blank stays blank, never 0"


def test_a_date_without_a_time_is_a_date_only_session() -> None:
    values = forms.session_values(patient_code="P-1", day=date(2026, 11, 2), at=None, values={})
    assert values["session_date"] == "2026-11-02"


def test_a_course_is_sent_only_beside_an_intensity_above_zero() -> None:
    values = forms.session_values(
        patient_code="P-1",
        day=date(2026, 11, 2),
        at=None,
        values={
            "panic": 0,
            "panic_course": "reflected",
            "grief": None,
            "grief_course": "contained",
            "shame": 4,
            "shame_course": "reflected",
        },
    )
    assert values["panic"] == "0" and values["panic_course"] == ""
    assert values["grief_course"] == ""
    assert values["shame_course"] == "reflected"


def test_a_stored_session_loads_back_into_the_same_widget_values() -> None:
    text = {
        "patient_id": "P-1",
        "session_date": "2026-11-02T09:30",
        "route": "esketamine_nasal",
        "dose_mg": "56",
        "panic": "8",
        "panic_course": "persisted",
        "weight_kg": "72.5",
        "note": "first line\nsecond line",
    }
    loaded = forms.session_widgets(text)
    assert (loaded.day, loaded.at) == (date(2026, 11, 2), time(9, 30))
    assert loaded.values["dose_mg"] == 56.0 and isinstance(loaded.values["panic"], int)
    again = forms.session_values(
        patient_code="P-1", day=loaded.day, at=loaded.at, values=loaded.values
    )
    assert {k: v for k, v in again.items() if v} == text


def test_problems_are_grouped_under_their_fields() -> None:
    grouped = forms.problems_by_field(
        [Problem("a", None, "dose_mg"), Problem("b", None, "dose_mg"), Problem("c")]
    )
    assert grouped == {"dose_mg": ["A", "B"], None: ["C"]}


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("patient_id is required and is blank", "Patient is required and is blank"),
        (
            "systolic 80 must be above diastolic 90 (bp_pre_dia): check",
            "Systolic 80 must be above diastolic 90 (diastolic before dosing): check",
        ),
        ("phq9_item9 is required and is blank", "PHQ-9 item 9 is required and is blank"),
        ("phq9 is required and is blank", "PHQ-9 is required and is blank"),
        ("decided_at is required and is blank", "Decision date is required and is blank"),
        ("a course (persisted) needs panic above 0", "A course (persisted) needs panic above 0"),
        ("dose_to_mg: 0 is out of range", "Dose to (mg): 0 is out of range"),
    ],
)
def test_a_form_names_fields_in_its_own_words_not_csv_columns(message: str, shown: str) -> None:
    assert forms.in_form_words(message) == shown


def test_a_message_without_a_subject_is_given_its_field() -> None:
    assert forms.in_form_words("is in the future: record decisions", "decided_at") == (
        "Decision date is in the future: record decisions"
    )
    assert forms.in_form_words("must be one of active, paused", "treatment_status") == (
        "Treatment status must be one of active, paused"
    )
    assert forms.in_form_words("2026-12-01 is in the future", "session_date") == (
        "1 Dec 2026 is in the future"
    )


def test_dates_in_messages_read_as_the_forms_show_dates() -> None:
    message = "2026-11-28T09:30 is later than now (01:18 on 2026-11-28 at the clinic)"
    assert forms.in_form_words(message, "session_date") == (
        "28 Nov 2026, 09:30 is later than now (01:18 on 28 Nov 2026 at the clinic)"
    )
    assert forms.in_form_words("2026-02-30 is not real", "session_date") == (
        "2026-02-30 is not real"
    ), "not a date: left as it was"


def test_every_column_a_validator_can_name_has_form_words() -> None:
    from redflags.fields import DECISION_COLUMNS

    columns = (*SESSION_COLUMNS, *DECISION_COLUMNS)
    # "decision" and "rationale" read the same on the form; recorded_by is never typed.
    missing = [c for c in columns if "_" in c and c not in forms.FORM_WORDS]
    assert missing == ["recorded_by"]


def decision(**changes: object) -> dict[str, str]:
    base: dict[str, object] = {
        "patient_code": "P-1",
        "day": date(2026, 11, 2),
        "at": time(14, 5),
        "decision": "pause",
        "route_from": "ketamine_iv",
        "route_to": "esketamine_nasal",
        "dose_from": 35.0,
        "dose_to": 30.0,
        "participants": "the patient; Dr A",
        "patient_view": "I would like a break.",
        "rationale": "Two hard sessions in a row.",
        "flags_considered": ["repeated_panic", "watch_despair"],
    }
    return forms.decision_values(**{**base, **changes})  # type: ignore[arg-type]


def test_a_decision_sends_routes_and_doses_only_when_they_are_its_subject() -> None:
    pause = decision()
    assert pause["decided_at"] == "2026-11-02T14:05"
    assert pause["route_to"] == "" and pause["dose_to_mg"] == ""
    assert (pause["route_from"], pause["dose_from_mg"]) == ("ketamine_iv", "35"), "taken on"
    assert pause["flags_considered"] == "repeated_panic;watch_despair"
    switch = decision(decision="switch_route")
    assert (switch["route_from"], switch["route_to"]) == ("ketamine_iv", "esketamine_nasal")
    assert switch["dose_to_mg"] == "30", "the starting dose on the new route"
    assert decision(decision="switch_route", dose_to=None)["dose_to_mg"] == ""
    adjust = decision(decision="adjust_dose")
    assert (adjust["dose_from_mg"], adjust["dose_to_mg"]) == ("35", "30")
    assert adjust["route_to"] == "ketamine_iv", "a dose adjustment stays on its route"


def test_an_esketamine_dose_adjustment_must_be_a_device_dose() -> None:
    from zoneinfo import ZoneInfo

    from redflags.validation import validate_decision_row

    values = decision(
        decision="adjust_dose", route_from="esketamine_nasal", dose_from=84.0, dose_to=50.0
    )
    record, problems = validate_decision_row(values, now=datetime(2026, 11, 3), tz=ZoneInfo("UTC"))
    assert record is None and [p.column for p in problems] == ["dose_to_mg"]
    assert "28, 56 or 84" in problems[0].message


def test_a_decision_must_say_who_took_part_the_patients_view_and_why() -> None:
    blank = decision(participants="", patient_view=" ", rationale="")
    problems = forms.decision_form_problems(blank)
    assert [p.column for p in problems] == ["participants", "patient_view", "rationale"]


def test_a_switch_or_an_adjustment_must_say_to_what() -> None:
    assert forms.decision_form_problems(decision()) == []
    assert forms.decision_form_problems(decision(decision="adjust_dose")) == []
    missing = forms.decision_form_problems(decision(decision="adjust_dose", dose_to=None))
    assert [p.column for p in missing] == ["dose_to_mg"]
    assert [(p.column, p.message) for p in missing] == [("dose_to_mg", "give the new dose")]
    same = forms.decision_form_problems(decision(decision="switch_route", route_to="ketamine_iv"))
    assert [p.column for p in same] == ["route_to"]


def _problems_script() -> None:
    from ui import widgets

    grouped: dict[str | None, list[str]] = {"dose_mg": ["Z"], "route_from": ["X"], None: ["Y"]}
    widgets.field_problems(grouped, "dose_mg")
    widgets.remaining_problems(grouped)


def test_each_message_is_shown_once_and_none_is_lost_when_its_field_is_hidden() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_problems_script, default_timeout=30).run()
    assert not at.exception
    assert [error.value for error in at.error] == ["Z", "X", "Y"]


def test_the_line_above_a_new_session_names_the_latest_and_any_change_decided_since() -> None:
    from services.patients import NextTreatment, SessionChoice

    latest = SessionChoice(
        session_id=1,
        session_at=datetime(2026, 11, 21, 10, 30),
        time_recorded=True,
        route="ketamine_iv",
        dose_mg=35.0,
    )
    same = NextTreatment(route="ketamine_iv", dose_mg=35.0, latest=latest)
    assert forms.next_treatment_words(same) == (
        "Latest session: 21 Nov 2026, 10:30 · IV ketamine, 35 mg."
    )
    adjusted = NextTreatment(
        route="ketamine_iv",
        dose_mg=30.0,
        latest=latest,
        decided_at=datetime(2026, 11, 24, 16, 0),
        decision="adjust_dose",
    )
    assert forms.next_treatment_words(adjusted).endswith(
        "Decided since (24 Nov 2026, 16:00, adjust dose): IV ketamine, 30 mg."
    )
    switched = NextTreatment(
        route="esketamine_nasal",
        dose_mg=None,
        latest=latest,
        decided_at=datetime(2026, 11, 24, 16, 0),
        decision="switch_route",
    )
    assert forms.next_treatment_words(switched).endswith(
        "(24 Nov 2026, 16:00, switch route): Esketamine nasal (Spravato)."
    ), "no dose decided: none named"


def test_a_second_click_on_save_is_recognised_only_soon_after_a_save() -> None:
    from ui.forms import REPEAT_CLICK_SECONDS, SavedForm, is_repeat_click

    saved = {"patient_id": "P-1", "session_date": "2026-11-20T09:30", "route": "ketamine_iv"}
    blank = {"patient_id": "P-1", "session_date": "2026-11-20", "route": "", "dose_mg": ""}
    last = SavedForm(saved, at=100.0)
    assert is_repeat_click(saved, last, 101.0)
    assert is_repeat_click(blank, last, 101.0)
    assert not is_repeat_click(saved, last, 100.0 + REPEAT_CLICK_SECONDS + 0.1)
    assert not is_repeat_click(saved, None, 101.0)
    assert not is_repeat_click({**saved, "session_date": "2026-11-20T10:30"}, last, 101.0)
    assert not is_repeat_click({**blank, "patient_id": "P-2"}, last, 101.0)
    assert not is_repeat_click({**blank, "phq9": "8"}, last, 101.0)


def test_the_banner_by_the_save_button_says_how_many_problems_and_where() -> None:
    problems = [
        Problem("4 is out of range", None, "phq9_item9"),
        Problem("1600 is out of range", None, "bp_pre_sys"),
        Problem("another", None, "phq9_item9"),
        Problem("the form as a whole", None, None),
    ]
    assert forms.problems_summary(problems) == (
        "4 problems, at PHQ-9 item 9, systolic before dosing"
    )
    assert forms.problems_summary(problems[3:]) == "1 problem"


def test_a_session_without_a_time_is_said_only_on_its_own_day() -> None:
    untimed = [datetime(2026, 11, 3), datetime(2026, 11, 10)]
    said = forms.untimed_session_that_day(untimed, date(2026, 11, 10))
    assert said is not None and said.startswith("This patient's session of 10 Nov 2026 was")
    assert forms.untimed_session_that_day(untimed, date(2026, 11, 9)) is None
    assert forms.untimed_session_that_day(untimed, None) is None
    assert forms.untimed_session_that_day([], date(2026, 11, 10)) is None
