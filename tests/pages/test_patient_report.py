"""The patient report page: status at the top, evidence, recommendations, charts, history, audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from redflags.clinic_time import clinic_timezone, local_today, utc_to_local
from redflags.config import SHIPPED_RULES_FILE
from redflags.labels import JOINER, format_date
from services.access import Actor
from services.patients import add_patient
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
from ui import navigation

REPORT = navigation.PATIENT_REPORT.path


def report(patient: str, actor: Actor = ADMIN) -> AppTest:
    at = open_page(logged_in(actor), REPORT, patient=patient)
    no_exception(at)
    return at


def figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_top_shows_status_route_and_dose(demo_engine: Engine) -> None:
    at = report("DEMO-001")
    assert "DEMO-001 · Arden Xu" in at.header[0].value.replace("\\", "")
    # The status is a badge: colour, icon and word together.
    assert ":red-badge[:material/flag: Red]" in [m.value for m in at.markdown]
    captions, markdown = [c.value for c in at.caption], [m.value for m in at.markdown]
    assert "Current route" in captions and "**IV ketamine**" in markdown
    assert "Current dose" in captions and "**35 mg**" in markdown


def test_every_flag_is_shown_with_its_threshold_and_evidence_sessions(demo_engine: Engine) -> None:
    at = report("DEMO-004")  # suicidality and unrelenting despair
    text = all_text(at)
    assert "Safety flags (1)" in text and "Red flags (1)" in text
    assert "Thoughts of self-harm (PHQ-9 item 9)" in text
    assert "Threshold: PHQ-9 item 9 ≥ 1 at the latest session" in text
    evidence = [df.value for df in at.dataframe if "session" in df.value.columns]
    despair = next(df for df in evidence if "despair" in df.columns)
    assert len(despair) == 2 and set(despair["despair course"]) == {"persisted"}


def test_evidence_of_a_session_given_without_its_time_shows_the_date_alone(
    demo_engine: Engine,
) -> None:
    at = report("DEMO-004")  # its latest session (item 9 = 2) was logged with its date only
    today = local_today(clinic_timezone())
    evidence = [df.value for df in at.dataframe if "session" in df.value.columns]
    item9 = next(df for df in evidence if "PHQ-9 item 9" in df.columns)
    assert list(item9["session"]) == [format_date(today)], "no made-up 00:00"
    despair = next(df for df in evidence if "despair" in df.columns)
    assert format_date(today) in list(despair["session"])
    assert any(", " in moment for moment in despair["session"]), "a timed session keeps its time"


def test_recommendations_are_worded_as_options_with_their_reasons(demo_engine: Engine) -> None:
    at = report("DEMO-004")
    urgent = [e.value.replace("\\", "") for e in at.error]
    (safety,) = [v for v in urgent if v.startswith("**Consider a same-day safety review")]
    assert safety.startswith(
        "**Consider a same-day safety review, holding the next dose until it is addressed:** "
        "PHQ-9 item 9"
    )
    warnings = [w.value.replace("\\", "") for w in at.warning]
    advice = [w for w in warnings if w.startswith("**Consider a moment to pause")]
    assert advice and "despair" in advice[0]
    assert all(box.count("Consider") == 1 for box in (safety, *advice)), "the option said once"


def test_a_paused_patient_without_open_flags_is_not_told_to_continue(demo_engine: Engine) -> None:
    at = report("DEMO-021")  # paused by a demo decision, no flag open since
    assert "treatment paused" in all_text(at)
    advice = [box.value.replace("\\", "") for box in at.success]
    assert any(
        box.startswith("**Treatment is paused by a decision — consider discussing")
        for box in advice
    ), advice
    assert "continuing" not in " ".join(advice)


def test_a_dose_decided_since_the_latest_session_is_shown_under_the_current_one(
    demo_engine: Engine,
) -> None:
    from services.decisions import record_decision

    assert "Decided since the latest session" not in all_text(report("DEMO-001"))
    now = datetime.now(UTC)
    done = record_decision(
        engine=demo_engine,
        actor=CLINICIAN,
        values={
            "patient_id": "DEMO-001",
            "decided_at": utc_to_local(now.replace(tzinfo=None), clinic_timezone()).isoformat(
                timespec="minutes"
            ),
            "decision": "adjust_dose",
            "route_from": "ketamine_iv",
            "route_to": "ketamine_iv",
            "dose_from_mg": "35",
            "dose_to_mg": "30",
            "participants": "the patient; Dr Sato",
            "patient_view": "A little less, please.",
            "rationale": "Two hard panic sessions at 35 mg.",
            "flags_considered": "repeated_panic",
        },
        now=now,
    )
    assert done.ok, done.problems
    text = all_text(report("DEMO-001"))
    assert "**35 mg**" in text, "the current dose is the latest session's"
    assert "Decided since the latest session" in text and "adjust dose): IV ketamine, 30 mg" in text
    earlier = open_page(
        logged_in(ADMIN),
        REPORT,
        patient="DEMO-001",
        as_of=(local_today(clinic_timezone()) - timedelta(days=30)).isoformat(),
    )
    assert "Decided since the latest session" not in all_text(earlier), "not in an earlier view"


def test_four_plotly_charts_are_drawn_with_the_thresholds_of_the_rules(demo_engine: Engine) -> None:
    at = report("DEMO-001")
    themes, phq9, bp, dose = figures(at)
    phq9_lines = {a["text"].split(" ")[0]: a["y"] for a in phq9["layout"]["annotations"]}
    assert phq9_lines["response"] == pytest.approx(19 * (1 - 0.5))
    assert phq9_lines["remission"] == 4
    bp_lines = sorted(s["y0"] for s in bp["layout"]["shapes"] if s["name"] == "threshold")
    assert bp_lines == [90, 110, 140, 180]
    hard = next(t for t in themes["data"] if t["name"].startswith("hard session"))
    assert sorted(hard["y"]) == [8, 9], "the two hard panic sessions are marked"
    assert dose["data"][0]["name"] == "IV ketamine"


def test_the_response_line_follows_the_rules_file_in_force(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        SHIPPED_RULES_FILE.read_text().replace("response = -0.50", "response = -0.40"),
        encoding="utf-8",
    )
    monkeypatch.setenv("REDFLAGS_RULES_FILE", str(rules))
    phq9 = figures(report("DEMO-001"))[1]
    response = next(a for a in phq9["layout"]["annotations"] if a["text"].startswith("response"))
    assert response["y"] == pytest.approx(19 * (1 - 0.4))


def test_decisions_are_marked_on_every_time_axis(demo_engine: Engine) -> None:
    at = report("DEMO-019")  # the demo's patient with a recorded decision
    assert "Care-team decisions (1)" in all_text(at)
    for figure in figures(at):
        marks = [s for s in figure["layout"]["shapes"] if s["name"] == "decision"]
        assert len(marks) == 1
        assert any(a["text"].startswith("Continue (") for a in figure["layout"]["annotations"])


def test_the_session_table_holds_notes_and_the_patients_commitment(demo_engine: Engine) -> None:
    at = report("DEMO-004")
    sessions = next(df.value for df in at.dataframe if "commitment" in df.value.columns)
    assert sessions["note"].str.len().gt(0).any()
    assert sessions["commitment"].str.len().gt(0).any()
    assert "Chosen small commitment" in all_text(at)


def test_opening_a_patient_is_audited_once_not_on_every_rerun(demo_engine: Engine) -> None:
    at = report("DEMO-001")
    at.run()
    at.date_input(key="as_of").set_value(at.date_input(key="as_of").value).run()
    views = [e for e in audit_rows(demo_engine, "patient_viewed") if e.patient_code == "DEMO-001"]
    assert len(views) == 1
    at.selectbox(key="patient").set_value("DEMO-002").run()
    assert [e.patient_code for e in audit_rows(demo_engine, "patient_viewed")][-1] == "DEMO-002"


def test_a_patient_without_sessions_is_told_what_to_do_next(demo_engine: Engine) -> None:
    assert add_patient(engine=demo_engine, actor=CLINICIAN, code="NEW-1").ok
    at = report("NEW-1")
    text = all_text(at)
    assert "No session is recorded for this patient" in text
    assert "Log a session" in text
    assert not at.get("plotly_chart")


def test_a_viewer_gets_no_download_and_no_decision_link(demo_engine: Engine) -> None:
    viewer = report("DEMO-001", VIEWER)
    assert not viewer.get("download_button")
    assert not [p for p in viewer.main.get("page_link")]
    clinician = report("DEMO-001", CLINICIAN)
    labels = [d.proto.label for d in clinician.get("download_button")]
    assert labels == [
        "Download this patient's sessions (CSV)",
        "Download this patient's decisions (CSV)",
    ]


def test_without_a_patient_the_page_asks_for_one(demo_engine: Engine) -> None:
    at = open_page(logged_in(ADMIN), REPORT)
    no_exception(at)
    assert "Choose a patient above" in all_text(at)


def test_an_unknown_patient_code_in_the_address_is_ignored_safely(demo_engine: Engine) -> None:
    at = report("NO-SUCH-PATIENT")
    assert at.selectbox(key="patient").value is None
    assert "Choose a patient above" in all_text(at)


def test_a_link_to_an_unknown_patient_says_no_patient_has_that_code(demo_engine: Engine) -> None:
    at = open_page(logged_in(ADMIN), REPORT, patient="NOPE", as_of="2099-01-01")
    no_exception(at)
    (warning,) = at.warning
    assert "No patient has the code NOPE" in warning.value
    assert "Choose a patient above" in warning.value
    assert at.selectbox(key="patient").value is None


def test_an_unknown_code_from_a_link_is_shown_as_text_not_markdown(demo_engine: Engine) -> None:
    at = open_page(logged_in(ADMIN), REPORT, patient="**X**[y](https://e.test)<b>")
    no_exception(at)
    (warning,) = at.warning
    assert "**X**" not in warning.value and "](" not in warning.value
    assert "**X**[y](https://e.test)<b>" in warning.value.replace("\\", "").replace(JOINER, "")
    assert "https://" not in warning.value.replace("\\", ""), "no bare address to link"


def test_a_patient_without_a_name_is_headed_by_the_code_alone(demo_engine: Engine) -> None:
    assert add_patient(engine=demo_engine, actor=ADMIN, code="NO-NAME-1").ok
    at = open_page(logged_in(ADMIN), REPORT, patient="NO-NAME-1")
    no_exception(at)
    assert at.header[0].value.replace("\\", "") == "NO-NAME-1"


@pytest.mark.parametrize(
    ("as_of", "words"),
    [("2099-01-01", "is in the future"), ("yesterday", "is not a date")],
)
def test_an_as_of_date_the_page_cannot_use_is_replaced_by_today_and_said_so(
    demo_engine: Engine, as_of: str, words: str
) -> None:
    at = open_page(logged_in(ADMIN), REPORT, patient="DEMO-001", as_of=as_of)
    no_exception(at)
    assert at.date_input(key="as_of").value == local_today(clinic_timezone())
    (note,) = [c.value for c in at.caption if "in the link" in c.value]
    assert words in note.replace("\\", "") and "today" in note


def test_a_usable_as_of_date_in_the_link_is_kept_without_a_note(demo_engine: Engine) -> None:
    day = local_today(clinic_timezone()) - timedelta(days=3)
    at = open_page(logged_in(ADMIN), REPORT, patient="DEMO-001", as_of=day.isoformat())
    no_exception(at)
    assert at.date_input(key="as_of").value == day
    assert not [c.value for c in at.caption if "in the link" in c.value]
    at.date_input(key="as_of").set_value(day - timedelta(days=5)).run()
    no_exception(at)
    assert not [c.value for c in at.caption if "in the link" in c.value], "a chosen date is no link"


def test_a_patient_without_a_phq9_score_reads_not_recorded_in_full(demo_engine: Engine) -> None:
    from services.sessions import log_session

    assert add_patient(engine=demo_engine, actor=CLINICIAN, code="NEW-2").ok
    yesterday = local_today(clinic_timezone()) - timedelta(days=1)
    values = {
        "patient_id": "NEW-2",
        "session_date": yesterday.isoformat(),
        "route": "ketamine_iv",
        "dose_mg": "40",
    }
    assert log_session(engine=demo_engine, actor=CLINICIAN, values=values).ok
    at = report("NEW-2")
    assert not at.metric, "a metric cuts 'not recorded' short"
    captions, markdown = [c.value for c in at.caption], [m.value for m in at.markdown]
    assert "PHQ-9 baseline → latest" in captions and "**not recorded**" in markdown
