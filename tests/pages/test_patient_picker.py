"""The patient picker shared by the report, session and decision pages."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.pages.helpers import CLINICIAN, logged_in, no_exception, open_page
from ui import navigation


def test_a_link_with_a_patient_opens_the_next_page_on_that_patient(demo_engine: Engine) -> None:
    at = open_page(logged_in(CLINICIAN), navigation.PATIENT_REPORT.path, patient="DEMO-001")
    assert at.selectbox(key="patient").value == "DEMO-001"
    at.switch_page(navigation.DECISION.path)
    at.query_params["patient"] = "DEMO-004"
    at.run()
    no_exception(at)
    assert at.selectbox(key="patient").value == "DEMO-004"
    assert at.query_params["patient"] == "DEMO-004"


def test_the_menu_keeps_the_patient_last_chosen(demo_engine: Engine) -> None:
    at = open_page(logged_in(CLINICIAN), navigation.PATIENT_REPORT.path, patient="DEMO-002")
    at.query_params.clear()  # the menu's links carry no patient
    at.switch_page(navigation.LOG_SESSION.path)
    at.run()
    no_exception(at)
    assert at.selectbox(key="patient").value == "DEMO-002"


def test_choosing_another_patient_puts_only_the_code_in_the_address(demo_engine: Engine) -> None:
    at = open_page(logged_in(CLINICIAN), navigation.PATIENT_REPORT.path, patient="DEMO-001")
    at.selectbox(key="patient").set_value("DEMO-005").run()
    no_exception(at)
    assert at.query_params["patient"] == "DEMO-005", "the code, never the patient's name"


def test_clearing_the_picker_forgets_the_patient(demo_engine: Engine) -> None:
    at = open_page(logged_in(CLINICIAN), navigation.PATIENT_REPORT.path, patient="DEMO-001")
    at.selectbox(key="patient").set_value(None).run()
    no_exception(at)
    assert "patient" not in at.query_params
    at.switch_page(navigation.DECISION.path).run()
    assert at.selectbox(key="patient").value is None
