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
        st.write("another page")
    else:
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


def test_a_form_left_for_another_page_is_not_given_back_without_an_outage() -> None:
    """Only an outage brings values back: leaving the page forgets them, as it always did."""
    at = _typed()
    at.session_state["test.elsewhere"] = True
    at.run()
    at.session_state["test.elsewhere"] = False
    at.run()
    assert at.text_area(key="log.note").value == ""
    assert at.number_input(key="log.dose_mg").value is None
