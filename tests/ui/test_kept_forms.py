"""A form's typed values outlive a run that the database stopped (ui.state.keep_typed_forms).

A small app in the entry script's shape: it keeps the forms first, then either
draws a form or says the database is not answering. The browser test
(tests/e2e, a real PostgreSQL cut by a relay) checks the dashboard itself.
"""

from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest


def _app() -> None:
    import streamlit as st

    from ui import state

    state.keep_typed_forms()
    if st.session_state.get("test.down"):
        state.database_unavailable()
    elif st.session_state.get("test.elsewhere"):
        state.note_page("patient_report")
        st.write("another page")
    else:
        state.note_page("log_session")
        if st.session_state.get("test.take_out"):
            st.session_state.pop("log.typed_for", None)  # a callback's clearing, say
            st.session_state["test.take_out"] = False
        st.session_state.setdefault("log.typed_for", "DEMO-001")
        st.text_area("Clinician note", key="log.note")
        st.number_input("Dose", value=None, key="log.dose_mg")
        st.date_input("Day", value=None, key="log.session_day")
        st.multiselect("Flags", ["repeated_panic", "persistent_despair"], key="decision.flags")
        st.checkbox("Entered in error", key="log.remove_confirm")
        st.text_input("Search", key="audit.search")


def _typed() -> AppTest:
    at = AppTest.from_function(_app).run()
    at.text_area(key="log.note").input("Tearful, then settled")
    at.number_input(key="log.dose_mg").set_value(35.0)
    at.date_input(key="log.session_day").set_value(date(2026, 11, 27))
    at.multiselect(key="decision.flags").select("repeated_panic")
    at.checkbox(key="log.remove_confirm").check()
    at.text_input(key="audit.search").input("DEMO-001")
    return at.run()


def _outage(at: AppTest) -> AppTest:
    at.session_state["test.down"] = True
    at.run()
    assert at.button(key="database_unavailable.retry")
    assert "log.note" not in at.session_state, "Streamlit forgets a widget it did not draw"
    at.session_state["test.down"] = False
    return at.run()


def test_typed_values_come_back_after_a_run_the_database_stopped() -> None:
    at = _outage(_typed())
    assert not at.exception
    assert at.text_area(key="log.note").value == "Tearful, then settled"
    assert at.number_input(key="log.dose_mg").value == 35.0
    assert at.date_input(key="log.session_day").value == date(2026, 11, 27)
    assert at.multiselect(key="decision.flags").value == ["repeated_panic"]


def test_a_confirmation_and_other_pages_fields_are_not_given_back() -> None:
    at = _outage(_typed())
    assert at.checkbox(key="log.remove_confirm").value is False, "confirmed again, on purpose"
    assert at.text_input(key="audit.search").value == "", "only the clinical forms are kept"


def _away_and_back(at: AppTest, runs_away: int = 2) -> AppTest:
    at.session_state["test.elsewhere"] = True
    for _ in range(runs_away):  # a click or two on the other page
        at.run()
    assert "log.note" not in at.session_state, "Streamlit forgets a widget it did not draw"
    at.session_state["test.elsewhere"] = False
    return at.run()


def test_a_form_left_for_another_page_is_given_back_on_return() -> None:
    """A look at the patient's report half-way through the form loses nothing."""
    at = _away_and_back(_typed())
    assert not at.exception
    assert at.text_area(key="log.note").value == "Tearful, then settled"
    assert at.number_input(key="log.dose_mg").value == 35.0
    assert at.date_input(key="log.session_day").value == date(2026, 11, 27)
    assert at.checkbox(key="log.remove_confirm").value is False, "confirmed again, on purpose"
    assert at.text_input(key="audit.search").value == ""
    # Arriving on the session form's page gives back that form alone (here the decision
    # widget shares the page; in the dashboard it has a page of its own).
    assert at.multiselect(key="decision.flags").value == []


def test_a_form_cleared_before_leaving_comes_back_clear() -> None:
    at = _typed()
    at.text_area(key="log.note").input("")
    at.number_input(key="log.dose_mg").set_value(None)
    at = _away_and_back(at.run())
    assert at.text_area(key="log.note").value == ""
    assert at.number_input(key="log.dose_mg").value is None


def test_a_value_taken_out_on_the_forms_page_does_not_come_back() -> None:
    at = _typed()
    at.session_state["log.typed_for"] = "DEMO-030"
    at.session_state["test.take_out"] = True
    at.run()
    assert at.session_state["log.typed_for"] == "DEMO-001", "taken out, then set afresh"
    at = _away_and_back(at)
    assert at.session_state["log.typed_for"] == "DEMO-001"
