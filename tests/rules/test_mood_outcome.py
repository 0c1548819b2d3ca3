"""PHQ-9 outcome (rules.md §7): response, remission and nonresponse at their boundaries."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from redflags.engine import review_csv_frame
from tests.rules.builders import codes, finding, review, row_of, weekly, with_rules

MOOD = {"mood_response", "remission", "nonresponse"}
LATE = date(2026, 3, 1)


def scores(*phq9: int | None, extra_sessions: int = 0) -> list[dict[str, object]]:
    values = [{"phq9": score} for score in phq9] + [{} for _ in range(extra_sessions)]
    return weekly("P1", *values)


def mood(*phq9: int | None, extra_sessions: int = 0) -> set[str]:
    return codes(review(scores(*phq9, extra_sessions=extra_sessions), as_of=LATE)) & MOOD


@pytest.mark.parametrize(("latest", "fires"), [(10, True), (11, False), (9, True)])
def test_response_at_a_change_of_minus_half_or_more(latest: int, fires: bool) -> None:
    assert ("mood_response" in mood(20, latest)) is fires


def test_response_is_compared_unrounded() -> None:
    # (15 - 30) / 30 = -0.5 exactly; (16 - 31) / 31 = -0.4839 rounds to -0.48.
    assert "mood_response" in mood(30, 15)
    assert "mood_response" not in mood(31, 16)


@pytest.mark.parametrize(("latest", "fires"), [(4, True), (5, False), (0, True)])
def test_remission_at_a_latest_score_of_four_or_less(latest: int, fires: bool) -> None:
    assert ("remission" in mood(20, latest)) is fires


def test_one_score_is_no_outcome() -> None:
    assert mood(3) == set()
    row = row_of(review(scores(3), as_of=LATE))
    assert (row["phq9_baseline"], row["phq9_latest"]) == (3, 3)
    assert pd.isna(row["phq9_change"])


def test_baseline_zero_gives_no_change_but_remission_still_counts() -> None:
    result = review(scores(0, 2), as_of=LATE)
    assert codes(result) & MOOD == {"remission"}
    assert review_csv_frame(result)["phq9_change"].iloc[0] == ""


def test_blank_scores_are_skipped_for_baseline_and_latest() -> None:
    result = review(scores(None, 20, None, 8, None), as_of=LATE)
    row = row_of(result)
    assert (row["phq9_baseline"], row["phq9_latest"]) == (20, 8)
    assert row["phq9_change"] == pytest.approx(-0.6)


def test_baseline_outside_the_recent_window_still_counts() -> None:
    result = review(scores(24, None, None, None, None, 10), as_of=LATE)
    assert "mood_response" in codes(result)
    evidence = finding(result, "mood_response")["evidence"]
    assert [(e["role"], e["phq9"]) for e in evidence] == [("baseline", 24), ("latest", 10)]
    assert evidence[1]["change"] == pytest.approx(-14 / 24)


@pytest.mark.parametrize(("sessions", "fires"), [(7, False), (8, True)])
def test_nonresponse_waits_for_eight_sessions_in_all(sessions: int, fires: bool) -> None:
    assert ("nonresponse" in mood(20, 18, extra_sessions=sessions - 2)) is fires


@pytest.mark.parametrize(("latest", "fires"), [(15, False), (16, True), (24, True)])
def test_nonresponse_above_a_change_of_minus_a_quarter(latest: int, fires: bool) -> None:
    # (15 - 20) / 20 = -0.25 exactly is not above -0.25.
    assert ("nonresponse" in mood(20, latest, extra_sessions=6)) is fires


def test_nonresponse_is_a_watch_signal() -> None:
    result = review(scores(20, 19, extra_sessions=6), as_of=LATE)
    assert row_of(result)["watch"] == ("nonresponse",)
    assert row_of(result)["status"] == "amber"


def test_nonresponse_shows_the_session_that_made_eight_between_its_scores() -> None:
    rows = weekly("P1", {"phq9": 20}, *({} for _ in range(8)), {"phq9": 19})
    eighth = rows[7]["session_at"]
    flag = finding(review(rows, as_of=LATE), "nonresponse")
    assert [e.get("role", e.get("sessions_in_all")) for e in flag["evidence"]] == [
        "baseline",
        8,
        "latest",
    ]
    assert flag["evidence"][1]["session_at"] == eighth
    assert f"{eighth.day} {eighth:%b} {eighth.year}: session 8; " in flag["sentence"]
    assert flag["evidence_at"] == rows[-1]["session_at"], "the latest score is the latest evidence"


def test_the_eighth_session_is_not_repeated_when_it_holds_the_latest_score() -> None:
    flag = finding(review(scores(20, *([None] * 6), 19), as_of=LATE), "nonresponse")
    assert [e.get("role") for e in flag["evidence"]] == ["baseline", "latest"]


def test_nonresponse_needs_two_scores() -> None:
    assert mood(20, extra_sessions=9) == set()


def test_mood_codes_follow_the_clinics_thresholds() -> None:
    rules = with_rules(outcome={"response": -0.3, "remission": 6, "review_after": 3})
    result = review(scores(20, 14, 6), as_of=LATE, config=rules)
    assert codes(result) & MOOD == {"mood_response", "remission"}


def test_mood_evidence_and_sentence_show_both_scores_and_the_change() -> None:
    result = review(scores(20, 9), as_of=LATE)
    response = finding(result, "mood_response")
    assert response["threshold"] == "PHQ-9 change from baseline ≤ -0.50 (at least two PHQ-9 scores)"
    assert "3 Nov 2025: PHQ-9 20, baseline" in response["sentence"]
    assert "10 Nov 2025: PHQ-9 9, change -0.55" in response["sentence"]


def test_remission_from_a_baseline_of_zero_shows_the_change_as_not_computed() -> None:
    result = review(scores(0, 3), as_of=LATE)
    remission = finding(result, "remission")
    assert remission["evidence"][1]["change"] == "not computed"
    assert "PHQ-9 3, change not computed" in remission["sentence"]
