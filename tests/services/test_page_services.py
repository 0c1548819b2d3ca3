"""The pages' own services: caseload rows and filters, patients, report tables, rules table."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine

from redflags.codes import Role
from redflags.config import SHIPPED_RULES_FILE, load_rules, rules_rows
from redflags.engine import evaluate_history
from services.access import Actor, PermissionDenied
from services.caseload import CaseloadFilters, caseload, patient_status
from services.patients import add_patient, patient_choices, session_choices
from services.records import import_decisions, import_sessions
from services.report_view import decision_table, session_markers, session_table
from services.rules_info import rule_comments, rules_table

CLINICIAN = Actor("cleo", Role.CLINICIAN)
VIEWER = Actor("vic", Role.VIEWER)
AS_OF = date(2026, 11, 20)
HEADER = (
    "patient_id,session_date,route,dose_mg,panic,panic_course,despair,despair_course,"
    "grief,grief_course,phq9,phq9_item9,commitment\n"
)
SESSIONS = (
    HEADER
    + """A,2026-11-02T10:00,ketamine_iv,35,8,persisted,,,,,20,0,a walk
A,2026-11-06T10:00,ketamine_iv,35,9,escalated,,,,,18,0,
A,2026-11-10T10:00,ketamine_iv,35,3,reflected,,,6,contained,15,0,journaling
B,2026-11-03,esketamine_nasal,84,,,8,persisted,,,12,0,
B,2026-11-17,esketamine_nasal,84,,,2,contained,,,5,1,
C,2026-10-01,ketamine_oral,100,,,,,,,9,0,
"""
).encode()
DECISIONS = b"""patient_id,decided_at,decision,flags_considered,participants
A,2026-11-11T09:00,pause,repeated_panic,the patient; Dr A
"""


@pytest.fixture
def clinic(engine: Engine) -> Engine:
    assert import_sessions(engine=engine, actor=CLINICIAN, data=SESSIONS, today=AS_OF).ok
    assert import_decisions(engine=engine, actor=CLINICIAN, data=DECISIONS, today=AS_OF).ok
    assert add_patient(
        engine=engine,
        actor=CLINICIAN,
        code="D",
        primary_clinician="Dr B",
        treatment_status="stopped",
    ).ok
    return engine


def test_the_caseload_is_the_review_in_words_most_urgent_first(clinic: Engine) -> None:
    rows = caseload(engine=clinic, actor=VIEWER, as_of=AS_OF, config=load_rules()).rows
    assert list(rows["patient_id"]) == ["B", "A", "C", "D"]
    b, a, c, d = (rows.iloc[i] for i in range(4))
    assert b["status_text"] == "🚨 Urgent" and "Thoughts of self-harm" in b["flags"]
    assert a["flags"] == "" and a["addressed"].startswith("Repeated overwhelming panic")
    assert "Pause" in a["addressed"]
    assert a["green_lights"] == "Grief that feels contained"
    assert c["stale"] and c["stale_text"].endswith("since the last session")
    assert d["stale_text"] == "⏰ no session yet" and d["phq9_trend"] == []
    assert list(a["phq9_trend"]) == [20, 18, 15]
    assert (b["now_text"], c["now_text"]) == (
        "Esketamine nasal (Spravato), 84 mg",
        "Oral ketamine, 100 mg",
    )
    assert d["now_text"] == "not recorded"
    assert d["recommendation"] == "Treatment stopped by a decision", "not 'continue'"
    assert b["recommendation"] == "Consider a same-day safety review"


def test_a_held_treatment_replaces_continue_but_never_a_flagged_recommendation() -> None:
    from services.caseload import first_to_discuss

    assert first_to_discuss(["continue"], "paused").startswith("Treatment paused")
    assert first_to_discuss(["continue"], "active") == "Consider continuing the current plan"
    assert first_to_discuss(["review_safety", "pause"], "paused") == (
        "Consider a same-day safety review"
    )
    assert first_to_discuss([], "paused") == ""


def test_a_held_treatment_turns_continue_into_what_the_decision_left_to_discuss() -> None:
    from redflags.engine import RecommendationItem
    from services.caseload import reason_to_discuss

    quiet = RecommendationItem(
        "continue",
        1,
        "Consider continuing the current plan: no unaddressed safety, red or watch flag.",
        (),
    )
    assert reason_to_discuss(quiet, "active") == quiet.reason
    paused = reason_to_discuss(quiet, "paused")
    assert paused.startswith("Treatment is paused by a decision — consider discussing")
    assert paused.endswith(": no unaddressed safety, red or watch flag."), "the evidence stays"
    assert "continuing" not in paused
    assert reason_to_discuss(quiet, "stopped").startswith("Treatment was stopped by a decision")
    watched = RecommendationItem(
        "continue",
        1,
        "Consider continuing the current plan; note for the next session: watch: x.",
        (),
    )
    assert reason_to_discuss(watched, "paused").endswith("; note for the next session: watch: x.")
    pause = RecommendationItem("pause", 1, "Consider a moment to pause: despair 9.", ("x",))
    assert reason_to_discuss(pause, "paused") == pause.reason, "a flag's option is never replaced"


def test_choosing_every_route_keeps_patients_without_a_session(clinic: Engine) -> None:
    """The route filter's "Select all" is no filter: a new patient has no route yet."""
    from redflags.fields import ROUTES

    assert add_patient(engine=clinic, actor=CLINICIAN, code="NEW").ok
    everyone = caseload(engine=clinic, actor=VIEWER, as_of=AS_OF, config=load_rules())
    unfiltered = everyone.view(CaseloadFilters())
    assert "NEW" in set(unfiltered.table["patient_id"])
    every_route = everyone.view(CaseloadFilters(routes=frozenset(ROUTES)))
    assert list(every_route.table["patient_id"]) == list(unfiltered.table["patient_id"])
    assert every_route.counts == unfiltered.counts
    all_but_one = everyone.view(CaseloadFilters(routes=frozenset(ROUTES[1:])))
    assert "NEW" not in set(all_but_one.table["patient_id"])


def test_filters_keep_what_they_name_and_none_means_everyone(clinic: Engine) -> None:
    everyone = caseload(engine=clinic, actor=VIEWER, as_of=AS_OF, config=load_rules())
    default = everyone.view(CaseloadFilters())
    assert list(default.table["patient_id"]) == ["B", "A", "C"], "stopped patients hidden"
    assert default.counts == {"urgent": 1, "red": 0, "amber": 0, "green": 2}
    all_treatments = everyone.view(CaseloadFilters(treatment_statuses=None))
    assert len(all_treatments.table) == 4
    iv = everyone.view(CaseloadFilters(routes=frozenset({"ketamine_iv"})))
    assert list(iv.table["patient_id"]) == ["A"]
    green = everyone.view(CaseloadFilters(statuses=frozenset({"green"})))
    assert list(green.table["patient_id"]) == ["A", "C"]
    assert green.counts["urgent"] == 1, "the counts ignore the status filter"
    by_clinician = everyone.view(
        CaseloadFilters(clinicians=frozenset({"Dr B"}), treatment_statuses=None)
    )
    assert list(by_clinician.table["patient_id"]) == ["D"]
    assert everyone.clinicians == ["Dr B"]


def test_patient_status_is_the_review_of_one_patient(clinic: Engine) -> None:
    status = patient_status(
        engine=clinic, actor=VIEWER, patient_code="A", as_of=AS_OF, config=load_rules()
    )
    assert status.status.value == "green" and status.addressed[0].code == "repeated_panic"


def test_adding_a_patient_checks_the_code_and_refuses_one_taken(clinic: Engine) -> None:
    bad = add_patient(engine=clinic, actor=CLINICIAN, code="has space")
    assert not bad.ok and bad.problems[0].column == "patient_id"
    taken = add_patient(engine=clinic, actor=CLINICIAN, code="A")
    assert not taken.ok and "already has this code" in taken.problems[0].message
    long_name = add_patient(engine=clinic, actor=CLINICIAN, code="E", display_name="x" * 201)
    assert not long_name.ok and long_name.problems[0].column == "display_name"
    with pytest.raises(PermissionDenied):
        add_patient(engine=clinic, actor=VIEWER, code="F")
    assert [c.code for c in patient_choices(engine=clinic, actor=VIEWER)] == ["A", "B", "C", "D"]


def test_the_sessions_to_edit_are_the_patients_newest_first(clinic: Engine) -> None:
    choices = session_choices(engine=clinic, actor=VIEWER, patient_code="A")
    assert [c.session_at for c in choices] == [
        datetime(2026, 11, 10, 10),
        datetime(2026, 11, 6, 10),
        datetime(2026, 11, 2, 10),
    ]
    assert all(c.time_recorded for c in choices)
    assert not session_choices(engine=clinic, actor=VIEWER, patient_code="B")[0].time_recorded


def history() -> pd.DataFrame:
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(SESSIONS.decode())))
    frame = pd.DataFrame(rows).replace("", None)
    frame["session_at"] = pd.to_datetime(frame.pop("session_date"), format="ISO8601")
    for column in ("dose_mg", "panic", "despair", "grief", "phq9", "phq9_item9"):
        frame[column] = pd.to_numeric(frame[column])
    return frame


def test_chart_markers_agree_with_the_engines_evidence_for_the_recent_sessions() -> None:
    frame = history()
    config = load_rules()
    no_decisions = pd.DataFrame(
        {"patient_id": [], "decided_at": [], "decision": [], "flags_considered": []}
    )
    review = evaluate_history(frame, no_decisions, ["A", "B", "C"], AS_OF, config)
    for code in ("A", "B"):
        mine = frame.loc[frame["patient_id"] == code]
        markers = session_markers(mine, config)
        findings = review.findings.loc[review.findings["patient_id"] == code]
        for row in findings.to_dict("records"):
            if row["kind"] in ("red", "watch") and row["code"] != "nonresponse":
                at = {item["session_at"] for item in row["evidence"]}
                hard = markers.loc[markers["kind"] == "hard", "session_at"]
                assert at <= {t.to_pydatetime() for t in hard}
            if row["kind"] == "green" and row["code"] in (
                "fear_to_reflection",
                "grief_contained",
                "shame_reframed",
            ):
                at = {item["session_at"] for item in row["evidence"]}
                green = markers.loc[markers["code"] == row["code"], "session_at"]
                assert at == {t.to_pydatetime() for t in green}


def test_the_session_table_is_text_newest_first_with_courses_beside_intensities() -> None:
    frame = history()
    frame["time_recorded"] = frame["session_at"].dt.hour != 0
    table = session_table(frame.loc[frame["patient_id"] == "A"])
    assert list(table["session"]) == [
        "10 Nov 2026, 10:00",
        "6 Nov 2026, 10:00",
        "2 Nov 2026, 10:00",
    ]
    assert table.iloc[0]["panic"] == "3, reflected"
    assert table.iloc[0]["commitment"] == "journaling"
    assert table.iloc[0]["bp_pre"] == ""


def test_the_decision_table_says_what_was_decided_in_words() -> None:
    decisions = pd.DataFrame(
        {
            "decided_at": [datetime(2026, 11, 11, 9)],
            "decision": ["switch_route"],
            "route_from": ["ketamine_iv"],
            "route_to": ["esketamine_nasal"],
            "dose_from_mg": [None],
            "dose_to_mg": [None],
            "participants": ["the patient"],
            "patient_view": ["I'd like something gentler"],
            "rationale": [""],
            "flags_considered": ["repeated_panic;watch_despair"],
            "recorded_by": ["cleo"],
        }
    )
    row = decision_table(decisions).iloc[0]
    assert row["decision"] == "Switch route"
    assert row["route"] == "IV ketamine → Esketamine nasal (Spravato)"
    assert row["dose"] == ""
    assert row["flags_considered"] == "Repeated overwhelming panic; Watch: unresolved despair"


def test_a_pause_shows_the_treatment_it_held_without_question_marks() -> None:
    decisions = pd.DataFrame(
        {
            "decided_at": [datetime(2026, 11, 12, 9), datetime(2026, 11, 11, 9)],
            "decision": ["pause", "adjust_dose"],
            "route_from": ["ketamine_iv", None],
            "route_to": [None, None],
            "dose_from_mg": [40.0, None],
            "dose_to_mg": [None, 30.0],
            "participants": ["Dr. Hana Sato;patient; therapist", ""],
            "patient_view": ["", ""],
            "rationale": ["", ""],
            "flags_considered": ["", ""],
            "recorded_by": ["cleo", "cleo"],
        }
    )
    paused, adjusted = decision_table(decisions).to_dict("records")
    assert (paused["route"], paused["dose"]) == ("IV ketamine", "40 mg")
    assert paused["participants"] == "Dr. Hana Sato; patient; therapist"
    assert (adjusted["route"], adjusted["dose"]) == ("", "→ 30 mg")


def test_the_rules_table_has_every_value_with_the_comment_above_it() -> None:
    config = load_rules()
    table = rules_table(config, SHIPPED_RULES_FILE)
    assert list(table["key"]) == [key for key, _ in rules_rows(config)]
    meaning = table.set_index("key")["meaning"]
    assert meaning["window.sessions"].startswith("How many of a patient's latest sessions")
    assert meaning["dose.max_mg.esketamine_nasal"].startswith("Highest dose per route")
    assert table.set_index("key").loc["outcome.response", "value"] == "-0.5"


def test_comments_above_a_section_header_describe_no_key() -> None:
    text = "# about the file\n\n[window]\n# the window\nsessions = 3\n\n# stray\n\nrepeat = 2\n"
    assert rule_comments(text) == {"window.sessions": "the window"}
