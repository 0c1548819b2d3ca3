"""The recent window (rules.md §2) and the per-patient summary behind §7."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from redflags.engine import evaluate_history
from redflags.signals import SUMMARY_COLUMNS, recent_window
from tests.rules.builders import (
    AS_OF,
    RULES,
    START,
    decisions,
    history,
    review,
    row_of,
    session,
    weekly,
    with_rules,
)

HARD_PANIC = {"panic": 8, "panic_course": "persisted"}


def test_recent_sessions_are_the_last_three_with_position_one_latest() -> None:
    rows = weekly("P1", {}, {}, {}, {}, {})
    window = recent_window(history(rows), date(2025, 12, 31), RULES)
    recent = window.recent.sort_values("position")
    assert list(recent["position"]) == [1, 2, 3]
    assert list(recent["session_at"]) == [START + timedelta(days=d) for d in (28, 21, 14)]


def test_recent_keeps_the_history_columns_and_adds_position() -> None:
    frame = history(weekly("P1", {}, {}))
    frame["extra"] = "ignored"
    window = recent_window(frame, AS_OF, RULES)
    assert list(window.recent.columns) == [*frame.columns, "position"]


def test_older_hard_sessions_drop_out_of_the_window() -> None:
    rows = weekly("P1", HARD_PANIC, HARD_PANIC, {}, {}, {})
    result = review(rows, as_of=date(2025, 12, 31))
    assert row_of(result)["status"] == "green"
    assert result.findings.empty


def test_sessions_after_the_as_of_date_are_ignored() -> None:
    rows = weekly("P1", {}, HARD_PANIC, HARD_PANIC)  # 3, 10, 17 Nov
    before = review(rows, as_of=date(2025, 11, 16))
    assert row_of(before)["red_flags"] == ()
    assert row_of(before)["watch"] == ("watch_panic",)
    assert row_of(before)["latest_session"] == datetime(2025, 11, 10, 10)
    assert row_of(review(rows, as_of=date(2025, 11, 17)))["red_flags"] == ("repeated_panic",)


def test_a_session_later_on_the_as_of_day_counts() -> None:
    rows = [session("P1", datetime(2025, 11, 20, 23, 59), **HARD_PANIC)]
    result = review(rows, as_of=date(2025, 11, 20))
    assert row_of(result)["watch"] == ("watch_panic",)
    assert result.table["stale"].tolist() == [False]


def test_rows_in_any_order_give_the_same_window() -> None:
    rows = weekly("P1", {"phq9": 20}, {}, {"phq9": 12}, {}, {"phq9": 9}) + weekly("P2", {}, {})
    frame = history(rows)
    ordered = recent_window(frame, AS_OF + timedelta(days=30), RULES)
    shuffled = recent_window(
        frame.sample(frac=1, random_state=3), AS_OF + timedelta(days=30), RULES
    )
    key = ["patient_id", "session_at"]
    pd.testing.assert_frame_equal(
        ordered.recent.sort_values(key).reset_index(drop=True),
        shuffled.recent.sort_values(key).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(ordered.summary, shuffled.summary)


def test_summary_counts_sessions_and_finds_first_and_last_phq9() -> None:
    rows = weekly("P1", {"phq9": 20}, {}, {"phq9": 15}, {}, {"phq9": 9}, {})
    window = recent_window(history(rows), date(2025, 12, 31), RULES)
    assert list(window.summary.columns) == list(SUMMARY_COLUMNS)
    summary = window.summary.iloc[0]
    assert summary["session_count"] == 6
    assert summary["latest_session_at"] == START + timedelta(days=35)
    assert summary["phq9_count"] == 3
    assert summary["phq9_baseline"] == 20
    assert summary["phq9_baseline_at"] == START
    assert summary["phq9_latest"] == 9
    assert summary["phq9_latest_at"] == START + timedelta(days=28)
    assert pd.isna(summary["review_after_at"])  # fewer than 8 sessions


def test_summary_names_the_session_that_reached_the_review_point() -> None:
    rows = weekly("P1", *([{}] * 9))
    summary = recent_window(history(rows), date(2025, 12, 31), RULES).summary.iloc[0]
    assert summary["review_after_at"] == START + timedelta(days=7 * 7)


def test_phq9_after_the_as_of_date_is_not_the_latest() -> None:
    rows = weekly("P1", {"phq9": 20}, {"phq9": 15}, {"phq9": 3})
    summary = recent_window(history(rows), date(2025, 11, 12), RULES).summary.iloc[0]
    assert summary["phq9_latest"] == 15
    assert summary["phq9_count"] == 2


def test_nullable_integer_columns_are_read_like_floats() -> None:
    rows = weekly("P1", HARD_PANIC, {"panic": None}, HARD_PANIC)
    frame = history(rows)
    frame["panic"] = frame["panic"].astype("Int64")
    frame["phq9_item9"] = pd.array([None, None, 2], dtype="Int64")
    result = evaluate_history(frame, decisions(), ["P1"], AS_OF, RULES)
    assert row_of(result)["red_flags"] == ("repeated_panic",)
    assert row_of(result)["safety_flags"] == ("suicidality",)


def test_a_missing_optional_column_reads_as_blank() -> None:
    frame = history(weekly("P1", HARD_PANIC, HARD_PANIC)).drop(columns=["grief", "grief_course"])
    result = evaluate_history(frame, decisions(), ["P1"], AS_OF, RULES)
    assert row_of(result)["red_flags"] == ("repeated_panic",)


def test_a_larger_window_keeps_more_sessions() -> None:
    rows = weekly("P1", HARD_PANIC, HARD_PANIC, {}, {}, {})
    wide = with_rules(window={"sessions": 5})
    result = review(rows, as_of=date(2025, 12, 31), config=wide)
    assert row_of(result)["red_flags"] == ("repeated_panic",)
    assert "of the last 5 sessions" in str(result.findings["sentence"].iloc[0])
