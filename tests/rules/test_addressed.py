"""Addressed flags (rules.md §8): a later decision that lists the flag's code addresses it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from tests.rules.builders import START, decision, finding, review, row_of, weekly

HARD = {"panic": 8, "panic_course": "persisted"}
#: Hard panic on 3 and 10 Nov (red), a calm session on 17 Nov.
RED_ROWS = weekly("P1", HARD, HARD, {})
LAST_HARD = START + timedelta(days=7)


def test_a_decision_after_the_latest_hard_session_listing_the_code_addresses_it() -> None:
    made = decision("P1", LAST_HARD + timedelta(hours=2), "repeated_panic", "pause")
    result = review(RED_ROWS, [made])
    row = row_of(result)
    assert row["red_flags"] == ()
    assert row["addressed"] == ("repeated_panic",)
    assert row["status"] == "green"
    assert row["recommendations"] == ("continue",)
    flag = finding(result, "repeated_panic")
    assert flag["addressed"]
    assert flag["addressed_by_decided_at"] == LAST_HARD + timedelta(hours=2)
    assert flag["addressed_by_decision"] == "pause"


def test_a_decision_before_the_latest_evidence_session_does_not_address() -> None:
    made = decision("P1", LAST_HARD - timedelta(hours=1), "repeated_panic")
    result = review(RED_ROWS, [made])
    assert row_of(result)["red_flags"] == ("repeated_panic",)
    assert row_of(result)["addressed"] == ()
    assert not finding(result, "repeated_panic")["addressed"]


def test_a_decision_at_the_same_moment_as_the_evidence_does_not_address() -> None:
    result = review(RED_ROWS, [decision("P1", LAST_HARD, "repeated_panic")])
    assert row_of(result)["red_flags"] == ("repeated_panic",)


def test_a_decision_listing_a_different_code_does_not_address() -> None:
    made = decision("P1", LAST_HARD + timedelta(days=1), "watch_panic;unrelenting_despair")
    result = review(RED_ROWS, [made])
    assert row_of(result)["red_flags"] == ("repeated_panic",)
    assert row_of(result)["status"] == "red"


def test_a_decision_of_another_patient_does_not_address() -> None:
    made = decision("P2", LAST_HARD + timedelta(days=1), "repeated_panic")
    result = review(RED_ROWS, [made], patients=["P1", "P2"])
    assert row_of(result)["red_flags"] == ("repeated_panic",)


def test_a_decision_after_the_as_of_day_is_ignored() -> None:
    made = decision("P1", datetime(2025, 11, 21, 0, 0), "repeated_panic")
    result = review(RED_ROWS, [made], as_of=date(2025, 11, 20))
    assert row_of(result)["red_flags"] == ("repeated_panic",)


def test_a_decision_late_on_the_as_of_day_counts() -> None:
    made = decision("P1", datetime(2025, 11, 20, 23, 0), "repeated_panic")
    result = review(RED_ROWS, [made], as_of=date(2025, 11, 20))
    assert row_of(result)["addressed"] == ("repeated_panic",)


def test_a_new_hard_session_after_the_decision_unaddresses_the_flag() -> None:
    made = decision("P1", LAST_HARD + timedelta(hours=2), "repeated_panic")
    rows = weekly("P1", HARD, HARD, HARD)  # the third hard session is after the decision
    result = review(rows, [made])
    assert row_of(result)["red_flags"] == ("repeated_panic",)
    assert row_of(result)["addressed"] == ()


def test_a_calm_session_after_the_decision_keeps_the_flag_addressed() -> None:
    made = decision("P1", LAST_HARD + timedelta(hours=2), "repeated_panic")
    result = review(RED_ROWS, [made])  # 17 Nov is calm
    assert row_of(result)["addressed"] == ("repeated_panic",)


def test_a_safety_flag_is_addressed_only_after_the_latest_session() -> None:
    rows = weekly("P1", {}, {"phq9": 12, "phq9_item9": 2})
    latest = rows[-1]["session_at"]
    before = review(rows, [decision("P1", latest - timedelta(minutes=5), "suicidality")])
    assert row_of(before)["status"] == "urgent"
    after = review(rows, [decision("P1", latest + timedelta(minutes=5), "suicidality")])
    assert row_of(after)["status"] == "green"
    assert row_of(after)["safety_flags"] == ()
    assert row_of(after)["addressed"] == ("suicidality",)


def test_a_watch_signal_can_be_addressed() -> None:
    rows = weekly("P1", {}, HARD)
    made = decision("P1", rows[-1]["session_at"] + timedelta(hours=1), "watch_panic")
    assert row_of(review(rows, [made]))["status"] == "green"


def test_addressing_a_watch_signal_does_not_address_the_red_flag_it_becomes() -> None:
    rows = weekly("P1", {}, HARD)
    made = decision("P1", rows[-1]["session_at"] + timedelta(hours=1), "watch_panic")
    grown = review([*rows, *weekly("P1", HARD, start=START + timedelta(days=14))], [made])
    assert row_of(grown)["red_flags"] == ("repeated_panic",)


def test_nonresponse_is_addressed_until_a_new_phq9_score() -> None:
    rows = weekly("P1", {"phq9": 20}, {}, {}, {}, {}, {}, {}, {"phq9": 19})
    last_score = rows[-1]["session_at"]
    made = decision("P1", last_score + timedelta(hours=1), "nonresponse")
    as_of = date(2026, 1, 31)
    assert row_of(review(rows, [made], as_of=as_of))["addressed"] == ("nonresponse",)
    later = [*rows, *weekly("P1", {"phq9": 18}, start=last_score + timedelta(days=7))]
    assert row_of(review(later, [made], as_of=as_of))["watch"] == ("nonresponse",)


def test_a_decision_before_the_eighth_session_does_not_address_nonresponse() -> None:
    # Seven sessions (no nonresponse yet: it needs 8 in all), a decision listing it,
    # then the 8th session: that session is evidence, so the flag is open.
    rows = weekly("P1", {"phq9": 20}, {}, {}, {}, {}, {}, {"phq9": 19}, {})
    eighth = rows[-1]["session_at"]
    made = decision("P1", eighth - timedelta(days=3), "nonresponse")
    as_of = date(2025, 12, 31)
    result = review(rows, [made], as_of=as_of)
    assert row_of(result)["watch"] == ("nonresponse",)
    assert row_of(result)["addressed"] == ()
    flag = finding(result, "nonresponse")
    assert flag["evidence_at"] == eighth
    assert flag["evidence"][-1] == {"session_at": eighth, "sessions_in_all": 8}
    assert f"{eighth.day} {eighth:%b}: session 8" in flag["sentence"]
    after = decision("P1", eighth + timedelta(hours=1), "nonresponse")
    assert row_of(review(rows, [made, after], as_of=as_of))["addressed"] == ("nonresponse",)


def test_the_latest_addressing_decision_is_shown() -> None:
    made = [
        decision("P1", LAST_HARD + timedelta(hours=1), "repeated_panic", "continue"),
        decision("P1", LAST_HARD + timedelta(hours=5), "repeated_panic;watch_despair", "pause"),
    ]
    flag = finding(review(RED_ROWS, made), "repeated_panic")
    assert flag["addressed_by_decision"] == "pause"
    assert flag["addressed_by_decided_at"] == LAST_HARD + timedelta(hours=5)


def test_codes_may_carry_spaces_and_blank_lists_address_nothing() -> None:
    made = [
        decision("P1", LAST_HARD + timedelta(hours=1), ""),
        decision("P1", LAST_HARD + timedelta(hours=2), " watch_despair ; repeated_panic "),
    ]
    assert row_of(review(RED_ROWS, made))["addressed"] == ("repeated_panic",)


def test_missing_flags_considered_addresses_nothing() -> None:
    made = decision("P1", LAST_HARD + timedelta(hours=1), "repeated_panic")
    made["flags_considered"] = None
    assert row_of(review(RED_ROWS, [made]))["red_flags"] == ("repeated_panic",)


def test_only_unaddressed_flags_set_status_and_recommendations() -> None:
    rows = weekly("P1", HARD, HARD, {"phq9": 10, "phq9_item9": 1})
    made = decision("P1", rows[-1]["session_at"] + timedelta(hours=1), "suicidality")
    row = row_of(review(rows, [made]))
    assert row["status"] == "red"
    assert row["safety_flags"] == ()
    assert row["addressed"] == ("suicidality",)
    assert row["recommendations"] == ("pause", "switch_route")


def test_addressed_flags_stay_in_the_findings() -> None:
    made = decision("P1", LAST_HARD + timedelta(hours=2), "repeated_panic")
    findings = review(RED_ROWS, [made]).findings
    assert list(findings["code"]) == ["repeated_panic"]
    assert findings["addressed"].tolist() == [True]


def test_no_decisions_at_all_leaves_every_flag_open() -> None:
    result = review(RED_ROWS, [])
    assert not result.findings["addressed"].any()
    assert result.findings["addressed_by_decided_at"].isna().all()
    assert pd.isna(finding(result, "repeated_panic")["addressed_by_decision"])
