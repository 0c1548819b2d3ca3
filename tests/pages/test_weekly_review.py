"""The weekly review page: order, counts, filters, sparklines, addressed flags, opening a report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import pandas as pd
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from models import queries
from redflags.clinic_time import clinic_timezone, local_today
from redflags.config import load_rules
from services.access import Actor
from services.caseload import caseload
from services.patients import add_patient
from services.report import patient_report
from services.review import weekly_review
from tests.access.test_session_limits import run_entry
from tests.pages.helpers import (
    ADMIN,
    CLINICIAN,
    VIEWER,
    all_text,
    audit_rows,
    logged_in,
    no_exception,
    open_page,
)
from ui import navigation, state

TABLE = "review.table"


def review_page(actor: Actor = ADMIN) -> AppTest:
    at = logged_in(actor).run()
    no_exception(at)
    return at


def table(at: AppTest) -> pd.DataFrame:
    frame = next(df for df in at.dataframe if df.key == TABLE).value
    return frame


def metrics(at: AppTest) -> dict[str, int]:
    return {m.label.split(" ", 1)[1]: int(m.value) for m in at.metric}


def today() -> date:
    return local_today(clinic_timezone())


def test_the_table_lists_urgent_then_red_amber_green_and_latest_session_first(
    demo_engine: Engine,
) -> None:
    shown = table(review_page())
    rank = shown["status_text"].map({"🚨 Urgent": 0, "🔴 Red": 1, "🟠 Amber": 2, "🟢 Green": 3})
    assert rank.notna().all(), "every status reads as an icon and a word"
    assert rank.is_monotonic_increasing
    for _, group in shown.groupby(rank):
        latest = group["latest_session"].dropna()
        assert latest.is_monotonic_decreasing


def test_the_counts_at_the_top_are_the_reviews_own_counts_for_active_and_paused_patients(
    demo_engine: Engine,
) -> None:
    review = weekly_review(engine=demo_engine, actor=ADMIN, as_of=today(), config=load_rules())
    with demo_engine.connect() as connection:
        patients = queries.patients_frame(connection).set_index("patient_id")
    active = patients.index[patients["treatment_status"].isin(["active", "paused"])]
    expected = review.table.loc[review.table["patient_id"].isin(active), "status"].value_counts()
    counts = metrics(review_page())
    for status in ("urgent", "red", "amber", "green"):
        assert counts[status.capitalize()] == int(expected.get(status, 0))
    assert counts["Urgent"] >= 1 and counts["Red"] >= 1


def test_each_row_says_its_flags_in_words_and_its_first_recommendation_as_an_option(
    demo_engine: Engine,
) -> None:
    shown = table(review_page()).set_index("patient_id")
    urgent = shown.loc[shown["status_text"] == "🚨 Urgent"]
    assert not urgent.empty
    assert urgent["flags"].str.len().gt(0).all()
    assert (urgent["recommendation"] == "Consider a same-day safety review").all()
    assert not shown["flags"].str.contains("_").any(), "codes are shown in plain words"
    assert {"route_text", "dose_mg", "latest_session", "stale_text"} <= set(shown.columns)


def test_the_status_filter_narrows_the_table_to_that_status(demo_engine: Engine) -> None:
    at = review_page()
    everyone = len(table(at))
    at.multiselect(key="review.statuses").set_value(["red"]).run()
    shown = table(at)
    assert 0 < len(shown) < everyone
    assert set(shown["status_text"]) == {"🔴 Red"}
    assert metrics(at)["Urgent"] > 0, "the counts ignore the status filter"


def test_the_overdue_filter_keeps_only_stale_patients(demo_engine: Engine) -> None:
    at = review_page()
    everyone = table(at)
    stale = int(everyone["stale"].sum())
    assert 0 < stale < len(everyone), "the demo has stale and current patients"
    at.toggle(key="review.stale_only").set_value(True).run()
    no_exception(at)
    shown = table(at)
    assert len(shown) == stale and shown["stale"].all()
    assert metrics(at)["Green"] > len(shown[shown["status"] == "green"]), "counts stay whole"


def test_the_route_filter_keeps_only_patients_whose_latest_session_was_on_that_route(
    demo_engine: Engine,
) -> None:
    at = review_page()
    at.multiselect(key="review.routes").set_value(["ketamine_iv"]).run()
    shown = table(at)
    assert len(shown) > 0
    assert set(shown["route_text"]) == {"IV ketamine"}


def test_the_clinician_filter_keeps_only_that_clinicians_patients(demo_engine: Engine) -> None:
    at = review_page()
    clinician = at.multiselect(key="review.clinicians").options[0]
    at.multiselect(key="review.clinicians").set_value([clinician]).run()
    shown = table(at)
    assert len(shown) > 0
    assert set(shown["clinician"]) == {clinician}


def test_stopped_and_completed_patients_appear_only_when_asked_for(demo_engine: Engine) -> None:
    at = review_page()
    assert set(table(at)["treatment"]) <= {"Active", "Paused"}
    with demo_engine.connect() as connection:
        patients = queries.patients_frame(connection)
    ended = patients.loc[patients["treatment_status"].isin(["stopped", "completed"])]
    assert not ended.empty, "the demo has patients whose treatment ended"
    at.multiselect(key="review.treatment").set_value(["stopped", "completed"]).run()
    assert set(table(at)["patient_id"]) == set(ended["patient_id"])


def test_the_phq9_sparkline_holds_the_last_eight_scores_oldest_first(demo_engine: Engine) -> None:
    shown = table(review_page()).set_index("patient_id")
    report = patient_report(
        engine=demo_engine,
        actor=ADMIN,
        patient_code="DEMO-002",
        as_of=today(),
        config=load_rules(),
        audit_view=False,
    )
    scores = report.sessions["phq9"].dropna().astype(int).tolist()
    assert len(scores) > 8, "the test needs a patient with a long history"
    trend = cast(list[int], shown.at["DEMO-002", "phq9_trend"])
    assert [int(v) for v in trend] == scores[-8:]


def test_a_flag_addressed_by_a_decision_is_shown_with_that_decision(demo_engine: Engine) -> None:
    review = weekly_review(engine=demo_engine, actor=ADMIN, as_of=today(), config=load_rules())
    addressed = review.findings.loc[review.findings["addressed"].astype(bool)]
    assert not addressed.empty, "the demo has an addressed flag"
    patient = str(addressed.iloc[0]["patient_id"])
    shown = table(review_page()).set_index("patient_id")
    assert "addressed:" in str(shown.at[patient, "addressed"])


def test_an_earlier_as_of_date_reviews_the_caseload_as_it_was(demo_engine: Engine) -> None:
    at = review_page()
    before = table(at).set_index("patient_id")["latest_session"]
    at.date_input(key="review.as_of").set_value(today() - timedelta(days=30)).run()
    no_exception(at)
    after = table(at).set_index("patient_id")["latest_session"]
    assert (after.dropna() <= pd.Timestamp(today() - timedelta(days=29))).all()
    assert not after.equals(before)


def test_an_earlier_date_is_said_plainly_and_one_click_brings_back_today(
    demo_engine: Engine,
) -> None:
    at = review_page()
    assert "Not today's review" not in all_text(at)
    assert at.date_input(key="review.as_of").max == today(), "no review of days to come"
    at.date_input(key="review.as_of").set_value(today() - timedelta(days=30)).run()
    assert "Not today's review" in all_text(at)
    (back,) = [b for b in at.button if b.label == "Back to today"]
    back.click().run()
    no_exception(at)
    assert at.date_input(key="review.as_of").value == today()
    assert "Not today's review" not in all_text(at)


def test_a_date_before_any_session_says_so_instead_of_an_all_green_caseload(
    demo_engine: Engine,
) -> None:
    at = review_page()
    assert "No patient has a session on or before" not in all_text(at)
    at.date_input(key="review.as_of").set_value(today() - timedelta(days=365)).run()
    no_exception(at)
    assert "No patient has a session on or before" in all_text(at)
    assert set(table(at)["status"]) == {"green"}


def test_choosing_a_row_opens_that_patients_report(demo_engine: Engine) -> None:
    at = review_page()
    shown = table(at)
    at.session_state[TABLE] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Patient report"]
    assert at.query_params["patient"] == shown.iloc[1]["patient_id"]
    assert at.selectbox(key="patient").value == shown.iloc[1]["patient_id"]


def test_the_open_report_picker_opens_the_chosen_patients_report(demo_engine: Engine) -> None:
    at = review_page(VIEWER)
    at.selectbox(key="review.open").set_value("DEMO-004").run()
    next(b for b in at.button if b.label == "Open report").click().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Patient report"]
    assert "DEMO-004" in all_text(at)


def test_a_clinic_without_patients_is_told_how_to_import_or_log(empty_engine: Engine) -> None:
    at = open_page(logged_in(ADMIN), navigation.WEEKLY_REVIEW.path)
    no_exception(at)
    text = all_text(at)
    assert "No patients yet" in text
    assert "import-sessions" in text and "Log a session" in text
    assert not at.dataframe
    assert "Synthetic demo data" not in text


def test_a_patient_without_a_phq9_score_shows_an_empty_cell_not_none(
    demo_engine: Engine,
) -> None:
    assert add_patient(engine=demo_engine, actor=ADMIN, code="NEW-1").ok
    at = review_page()
    (element,) = [df for df in at.dataframe if df.key == TABLE]
    shown = element.value.set_index("patient_id")["phq9_latest"]
    assert shown.loc[["NEW-1"]].isna().all()
    assert element.proto.HasField("placeholder") and element.proto.placeholder == "", (
        "a missing value is drawn as a grey 'None' unless the table says otherwise"
    )


def test_only_a_date_before_today_is_told_to_choose_a_later_date(empty_engine: Engine) -> None:
    assert add_patient(engine=empty_engine, actor=ADMIN, code="NEW-1").ok
    at = open_page(logged_in(ADMIN), navigation.WEEKLY_REVIEW.path)
    no_exception(at)
    (warning,) = [w.value for w in at.warning if "No patient has a session" in w.value]
    assert "Choose a later date" not in warning, "today is the latest date there is"
    at.date_input(key="review.as_of").set_value(today() - timedelta(days=7)).run()
    no_exception(at)
    (warning,) = [w.value for w in at.warning if "No patient has a session" in w.value]
    assert "Choose a later date" in warning


def test_a_filter_reuses_the_caseload_and_a_colleagues_change_shows_at_the_next_run(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[date] = []

    def counted(**arguments: Any) -> Any:
        computed.append(arguments["as_of"])
        return caseload(**arguments)

    monkeypatch.setattr(state, "caseload", counted)
    at = review_page()
    assert len(computed) == 1
    at.multiselect(key="review.statuses").set_value(["red"]).run()
    at.toggle(key="review.stale_only").set_value(True).run()
    at.toggle(key="review.stale_only").set_value(False).run()
    no_exception(at)
    assert len(computed) == 1, "a filter only narrows the caseload already computed"
    assert set(table(at)["status_text"]) == {"🔴 Red"}

    # A colleague (another browser session) adds a patient: this page shows it next run.
    assert add_patient(engine=demo_engine, actor=CLINICIAN, code="NEW-9").ok
    at.multiselect(key="review.statuses").set_value([]).run()
    no_exception(at)
    assert len(computed) == 2
    assert "NEW-9" in set(table(at)["patient_id"])
    at.date_input(key="review.as_of").set_value(today() - timedelta(days=7)).run()
    assert computed[-1] == today() - timedelta(days=7), "another date is another caseload"
    assert len(audit_rows(demo_engine, "caseload_viewed")) == 2, "each date's first showing"


def test_logging_out_drops_the_kept_caseload(demo_engine: Engine) -> None:
    at = review_page()
    assert state.CASELOAD_KEY in at.session_state
    next(b for b in at.sidebar.button if b.label == "Log out").click()
    run_entry(at)
    no_exception(at)
    assert state.ACTOR_KEY not in at.session_state
    assert state.CASELOAD_KEY not in at.session_state
