"""The review table (records.md columns), patients without sessions, staleness, sorting, CSV."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from redflags.codes import Status
from redflags.engine import (
    FINDING_COLUMNS,
    RECOMMENDATION_COLUMNS,
    FlagKind,
    Window,
    evaluate,
    for_patient,
    recent_window,
    review_csv_frame,
    sort_review,
)
from redflags.fields import REVIEW_COLUMNS
from tests.rules.builders import (
    AS_OF,
    RULES,
    START,
    decision,
    decisions,
    history,
    review,
    row_of,
    session,
    weekly,
)

PANIC = {"panic": 8, "panic_course": "persisted"}


def test_table_has_exactly_the_review_csv_columns_in_order() -> None:
    result = review(weekly("P1", {}))
    assert tuple(result.table.columns) == REVIEW_COLUMNS
    assert tuple(result.findings.columns[: len(FINDING_COLUMNS)]) == FINDING_COLUMNS
    assert tuple(result.recommendations.columns) == RECOMMENDATION_COLUMNS


def test_one_row_per_listed_patient_in_the_order_given() -> None:
    rows = weekly("P2", PANIC) + weekly("P1", {})
    result = review(rows, patients=["P3", "P1", "P2", "P1"])
    assert list(result.table["patient_id"]) == ["P3", "P1", "P2"]


def test_patients_not_listed_are_left_out() -> None:
    result = review(weekly("P1", PANIC) + weekly("P2", PANIC), patients=["P2"])
    assert list(result.table["patient_id"]) == ["P2"]
    assert set(result.findings["patient_id"]) == {"P2"}
    assert set(result.recommendations["patient_id"]) == {"P2"}


def test_a_patient_without_sessions_is_green_stale_and_continues() -> None:
    result = review(weekly("P1", PANIC), patients=["P1", "NEW-1"])
    row = row_of(result, "NEW-1")
    assert row["status"] == "green"
    assert row["stale"]
    assert row["recommendations"] == ("continue",)
    for column in ("safety_flags", "red_flags", "watch", "green_lights", "addressed"):
        assert row[column] == ()
    assert pd.isna(row["latest_session"]) and pd.isna(row["dose_mg"]) and pd.isna(row["route"])
    assert pd.isna(row["phq9_baseline"]) and pd.isna(row["phq9_change"])
    reason = result.recommendations.set_index("patient_id").loc["NEW-1", "reason"]
    assert (
        reason
        == "Consider continuing the current plan: no session on or before 20 Nov 2025 to review."
    )


def test_a_patient_whose_sessions_are_all_after_as_of_counts_as_without_sessions() -> None:
    rows = weekly("P1", PANIC, start=datetime(2025, 12, 1, 9))
    row = row_of(review(rows, as_of=date(2025, 11, 30)))
    assert row["status"] == "green" and row["stale"] and row["recommendations"] == ("continue",)


def test_an_empty_caseload_gives_empty_frames_with_the_columns() -> None:
    result = review([], patients=[])
    assert result.table.empty and tuple(result.table.columns) == REVIEW_COLUMNS
    assert result.findings.empty and result.recommendations.empty


def test_listed_patients_none_of_whom_has_sessions() -> None:
    result = review([], patients=["A", "B"])
    assert list(result.table["status"]) == ["green", "green"]
    assert list(result.table["recommendations"]) == [("continue",), ("continue",)]


@pytest.mark.parametrize(("days", "stale"), [(20, False), (21, False), (22, True)])
def test_stale_after_more_than_21_days(days: int, stale: bool) -> None:
    rows = [session("P1", datetime(2025, 11, 1, 23, 30), **PANIC)]
    result = review(rows, as_of=date(2025, 11, 1) + timedelta(days=days))
    assert row_of(result)["stale"] == stale


def test_staleness_does_not_change_status() -> None:
    rows = weekly("P1", PANIC, PANIC)
    result = review(rows, as_of=date(2026, 6, 1))
    assert row_of(result)["stale"]
    assert row_of(result)["status"] == "red"


def test_latest_session_route_dose_and_phq9_columns() -> None:
    rows = weekly(
        "P1",
        {"route": "esketamine_nasal", "dose_mg": 56, "phq9": 22},
        {"route": "esketamine_nasal", "dose_mg": 84, "phq9": 10},
    )
    row = row_of(review(rows))
    assert row["latest_session"] == START + timedelta(days=7)
    assert (row["route"], row["dose_mg"]) == ("esketamine_nasal", 84.0)
    assert (row["phq9_baseline"], row["phq9_latest"]) == (22, 10)
    assert row["phq9_change"] == pytest.approx(-12 / 22)


def test_review_csv_cells_follow_records_md() -> None:
    rows = [
        *weekly(
            "P1",
            {"dose_mg": 37.5, "phq9": 20, "grief": 6, "grief_course": "contained", **PANIC},
            {"dose_mg": 35, "phq9": 9, **PANIC, "despair": 8, "despair_course": "persisted"},
        ),
        session("P2", datetime(2025, 11, 4), route="esketamine_nasal", dose_mg=56),
    ]
    result = review(rows, patients=["P1", "P2", "P3"])
    csv = review_csv_frame(result)
    assert tuple(csv.columns) == REVIEW_COLUMNS
    one, two, three = (dict(csv.iloc[i]) for i in range(3))
    assert one == {
        "patient_id": "P1",
        "status": "red",
        "safety_flags": "",
        "red_flags": "repeated_panic",
        "watch": "watch_despair",
        "green_lights": "grief_contained;mood_response",
        "addressed": "",
        "recommendations": "pause;switch_route",
        "latest_session": "2025-11-10T10:00",
        "route": "ketamine_iv",
        "dose_mg": "35",
        "stale": "false",
        "phq9_baseline": "20",
        "phq9_latest": "9",
        "phq9_change": "-0.55",
    }
    assert two["latest_session"] == "2025-11-04"  # a date-only session is local midnight
    assert two["phq9_change"] == "" and two["phq9_baseline"] == ""
    assert three["stale"] == "true" and three["latest_session"] == "" and three["dose_mg"] == ""
    assert three["recommendations"] == "continue"


def test_csv_dose_keeps_decimals_and_seconds_are_kept() -> None:
    rows = [session("P1", datetime(2025, 11, 4, 9, 30, 15), dose_mg=37.5)]
    csv = review_csv_frame(review(rows))
    assert csv["dose_mg"].iloc[0] == "37.5"
    assert csv["latest_session"].iloc[0] == "2025-11-04T09:30:15"


def test_csv_change_rounds_to_two_decimals() -> None:
    rows = weekly("P1", {"phq9": 3}, {"phq9": 2})
    assert review_csv_frame(review(rows))["phq9_change"].iloc[0] == "-0.33"
    rows = weekly("P1", {"phq9": 10}, {"phq9": 10})
    assert review_csv_frame(review(rows))["phq9_change"].iloc[0] == "0.00"


def test_addressed_column_lists_addressed_flags() -> None:
    rows = weekly("P1", PANIC, PANIC)
    made = decision("P1", START + timedelta(days=7, hours=1), "repeated_panic")
    csv = review_csv_frame(review(rows, [made]))
    assert csv["addressed"].iloc[0] == "repeated_panic"
    assert csv["red_flags"].iloc[0] == ""


def test_sort_puts_urgent_red_amber_green_then_most_recent_first() -> None:
    rows = [
        session("G-old", datetime(2025, 11, 1)),
        session("G-new", datetime(2025, 11, 15)),
        session("A", datetime(2025, 11, 2), **PANIC),
        *weekly("R", PANIC, PANIC),
        session("U", datetime(2025, 10, 1), phq9=10, phq9_item9=1),
    ]
    result = review(rows, patients=["G-old", "NONE", "G-new", "A", "R", "U"])
    ordered = sort_review(result.table)
    assert list(ordered["patient_id"]) == ["U", "R", "A", "G-new", "G-old", "NONE"]
    assert list(ordered.columns) == list(REVIEW_COLUMNS)


def test_sort_breaks_ties_by_patient_code() -> None:
    rows = [session("b", START), session("a", START)]
    assert list(sort_review(review(rows).table)["patient_id"]) == ["a", "b"]


def test_for_patient_gives_typed_findings_and_recommendations() -> None:
    rows = weekly(
        "P1",
        {"phq9": 20, **PANIC},
        {"grief": 5, "grief_course": "reflected"},
        {"phq9": 10, "phq9_item9": 1, **PANIC},
    )
    made = decision("P1", START + timedelta(days=14, hours=1), "suicidality", "continue")
    result = review(rows, [made])
    patient = for_patient(result, "P1")
    assert patient == result.for_patient("P1")
    assert patient.status is Status.RED
    assert patient.safety_flags == ()
    assert [f.code for f in patient.addressed] == ["suicidality"]
    assert patient.addressed[0].addressed_by_decision == "continue"
    assert patient.addressed[0].kind is FlagKind.SAFETY
    assert [f.code for f in patient.red_flags] == ["repeated_panic"]
    assert patient.red_flags[0].addressed_by_decided_at is None
    assert [f.code for f in patient.green_lights] == ["grief_contained", "mood_response"]
    assert [r.code for r in patient.recommendations] == ["pause", "switch_route"]
    assert [r.order for r in patient.recommendations] == [1, 2]
    assert patient.recommendations[0].based_on == ("repeated_panic",)
    assert (patient.phq9_baseline, patient.phq9_latest) == (20, 10)
    assert patient.phq9_change == pytest.approx(-0.5)
    assert patient.dose_mg == 35.0 and patient.route == "ketamine_iv"
    assert patient.latest_session == START + timedelta(days=14)
    assert patient.stale is False


def test_for_patient_without_sessions() -> None:
    patient = review([], patients=["NEW"]).for_patient("NEW")
    assert patient.status is Status.GREEN and patient.stale
    assert patient.latest_session is None and patient.dose_mg is None and patient.route is None
    assert patient.phq9_baseline is None and patient.phq9_change is None
    assert [r.code for r in patient.recommendations] == ["continue"]


def test_for_patient_outside_the_review_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="NOPE"):
        review(weekly("P1", {})).for_patient("NOPE")


def test_evaluate_reads_only_the_documented_window_columns() -> None:
    window = recent_window(history(weekly("P1", PANIC, PANIC, {"phq9": 9})), AS_OF, RULES)
    keep = ["patient_id", "session_at", "position", "route", "dose_mg", "panic", "panic_course"]
    trimmed = type(window)(recent=window.recent.loc[:, keep], summary=window.summary)
    result = evaluate(trimmed, decisions(), ["P1"], AS_OF, RULES)
    assert row_of(result)["red_flags"] == ("repeated_panic",)


def test_a_window_with_capped_counts_from_the_database_gives_the_same_review() -> None:
    rows = weekly("P1", {"phq9": 20}, *[{}] * 8, {"phq9": 19}, {"phq9": 18})
    as_of = date(2026, 3, 1)
    window = recent_window(history(rows), as_of, RULES)
    capped = window.summary.assign(
        session_count=np.minimum(window.summary["session_count"], RULES.outcome.review_after),
        phq9_count=np.minimum(window.summary["phq9_count"], 2),
    )
    full = evaluate(window, decisions(), ["P1"], as_of, RULES)
    cut = evaluate(type(window)(window.recent, capped), decisions(), ["P1"], as_of, RULES)
    pd.testing.assert_frame_equal(full.table, cut.table)
    pd.testing.assert_frame_equal(full.findings, cut.findings)


def test_an_empty_window_without_columns_lists_every_patient_green() -> None:
    empty = Window(recent=pd.DataFrame(), summary=pd.DataFrame())
    result = evaluate(empty, pd.DataFrame(), ["A", "B"], AS_OF, RULES)
    assert list(result.table["status"]) == ["green", "green"]
    assert list(result.table["stale"]) == [True, True]
    assert list(result.table["recommendations"]) == [("continue",), ("continue",)]


def test_csv_frame_of_a_sorted_table_keeps_its_order() -> None:
    rows = [session("G", datetime(2025, 11, 1)), *weekly("R", PANIC, PANIC)]
    result = review(rows, patients=["G", "R"])
    assert list(review_csv_frame(sort_review(result.table))["patient_id"]) == ["R", "G"]
    assert list(review_csv_frame(result)["patient_id"]) == ["G", "R"]
