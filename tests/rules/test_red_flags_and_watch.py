"""Hard sessions (rules.md §3), red flags and watch signals (§4), at their boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.builders import codes, finding, review, row_of, weekly, with_rules

THEMES = [
    ("panic", "repeated_panic", "watch_panic"),
    ("despair", "unrelenting_despair", "watch_despair"),
    ("vulnerability", "extraordinary_vulnerability", "watch_vulnerability"),
]


def hard(theme: str, level: int = 8, course: str | None = "persisted") -> dict[str, object]:
    return {theme: level, f"{theme}_course": course}


@pytest.mark.parametrize(("theme", "red", "watch"), THEMES)
def test_two_hard_sessions_of_three_raise_the_red_flag(theme: str, red: str, watch: str) -> None:
    result = review(weekly("P1", hard(theme), {}, hard(theme, 9, "escalated")))
    assert row_of(result)["red_flags"] == (red,)
    assert row_of(result)["watch"] == ()
    assert row_of(result)["status"] == "red"


@pytest.mark.parametrize(("theme", "red", "watch"), THEMES)
def test_three_hard_sessions_of_three_raise_the_red_flag(theme: str, red: str, watch: str) -> None:
    result = review(weekly("P1", hard(theme), hard(theme), hard(theme)))
    assert row_of(result)["red_flags"] == (red,)
    assert len(finding(result, red)["evidence"]) == 3


@pytest.mark.parametrize(("theme", "red", "watch"), THEMES)
def test_exactly_one_hard_session_is_a_watch_signal(theme: str, red: str, watch: str) -> None:
    result = review(weekly("P1", {}, hard(theme), {}))
    assert row_of(result)["watch"] == (watch,)
    assert row_of(result)["red_flags"] == ()
    assert row_of(result)["status"] == "amber"


@pytest.mark.parametrize(("theme", "red", "watch"), THEMES)
def test_intensity_one_below_hard_is_not_hard(theme: str, red: str, watch: str) -> None:
    result = review(weekly("P1", hard(theme, 6), hard(theme, 6), hard(theme, 6)))
    assert codes(result) == set()
    assert row_of(result)["status"] == "green"


@pytest.mark.parametrize(("theme", "red", "watch"), THEMES)
def test_intensity_at_hard_threshold_is_hard(theme: str, red: str, watch: str) -> None:
    result = review(weekly("P1", hard(theme, 7), hard(theme, 7)))
    assert row_of(result)["red_flags"] == (red,)


@pytest.mark.parametrize(("theme", "red", "watch"), THEMES)
def test_blank_intensity_is_not_assessed_never_hard(theme: str, red: str, watch: str) -> None:
    result = review(weekly("P1", hard(theme, None, None), hard(theme, None, None)))  # type: ignore[arg-type]
    assert codes(result) == set()


@pytest.mark.parametrize("course", ["reflected", "contained"])
def test_a_reflected_or_contained_course_settles_the_session(course: str) -> None:
    result = review(weekly("P1", hard("panic", 9, course), hard("panic", 9, course)))
    assert {"repeated_panic", "watch_panic"}.isdisjoint(codes(result))


@pytest.mark.parametrize("course", ["persisted", "escalated", None])
def test_persisted_escalated_or_blank_course_leaves_the_session_hard(course: str | None) -> None:
    result = review(weekly("P1", hard("panic", 9, course), hard("panic", 9, course)))
    assert row_of(result)["red_flags"] == ("repeated_panic",)


def test_blank_course_is_shown_as_not_recorded_in_the_evidence() -> None:
    result = review(weekly("P1", hard("despair", 8, None), hard("despair", 9, "persisted")))
    evidence = finding(result, "unrelenting_despair")["evidence"]
    assert evidence[0]["despair_course"] == "not recorded"
    assert "despair 8, course not recorded" in finding(result, "unrelenting_despair")["sentence"]


def test_each_theme_is_counted_on_its_own() -> None:
    result = review(weekly("P1", hard("panic"), hard("despair"), hard("vulnerability")))
    row = row_of(result)
    assert row["red_flags"] == ()
    assert row["watch"] == ("watch_panic", "watch_despair", "watch_vulnerability")


def test_red_flags_are_listed_in_the_order_of_the_table() -> None:
    both = {**hard("vulnerability"), **hard("panic"), **hard("despair")}
    result = review(weekly("P1", both, both))
    assert row_of(result)["red_flags"] == (
        "repeated_panic",
        "unrelenting_despair",
        "extraordinary_vulnerability",
    )


def test_a_single_session_patient_with_a_hard_session_is_watched() -> None:
    result = review(weekly("P1", hard("panic")))
    assert row_of(result)["watch"] == ("watch_panic",)
    assert "in the only recent session" in finding(result, "watch_panic")["sentence"]


def test_evidence_of_a_red_flag_is_the_hard_sessions_with_their_values() -> None:
    result = review(
        weekly("P1", hard("panic", 8), hard("panic", 3, "reflected"), hard("panic", 9, "escalated"))
    )
    red = finding(result, "repeated_panic")
    dates = [item["session_at"].day for item in red["evidence"]]
    assert dates == [3, 17]
    assert red["evidence"][1] == {
        "session_at": red["evidence"][1]["session_at"],
        "panic": 9,
        "panic_course": "escalated",
    }
    assert red["kind"] == "red"
    assert (
        red["threshold"] == "panic ≥ 7, not reflected or contained, in ≥ 2 of the last 3 sessions"
    )


def test_watch_threshold_says_exactly_one() -> None:
    result = review(weekly("P1", {}, hard("despair")))
    assert finding(result, "watch_despair")["threshold"] == (
        "despair ≥ 7, not reflected or contained, in exactly 1 of the last 3 sessions"
    )


def test_a_clinic_threshold_moves_the_boundary() -> None:
    strict = with_rules(theme={"hard": 9})
    rows = weekly("P1", hard("panic", 8), hard("panic", 8))
    assert codes(review(rows, config=strict)) == set()
    assert (
        "panic ≥ 9"
        in finding(review(weekly("P1", hard("panic", 9)), config=strict), "watch_panic")["sentence"]
    )


def test_with_repeat_three_two_hard_sessions_are_watched_not_red() -> None:
    rules = with_rules(window={"repeat": 3})
    result = review(weekly("P1", hard("panic"), hard("panic"), {}), config=rules)
    assert row_of(result)["watch"] == ("watch_panic",)
    assert row_of(result)["red_flags"] == ()
    three = review(weekly("P1", hard("panic"), hard("panic"), hard("panic")), config=rules)
    assert row_of(three)["red_flags"] == ("repeated_panic",)


def test_with_a_higher_repeat_fewer_hard_sessions_than_it_are_a_watch_signal() -> None:
    """rules.md §4 says "exactly one" for the default repeat of 2; with 3, two hard
    sessions are short of a red flag but must not vanish: they are a watch signal."""
    rules = with_rules(window={"sessions": 4, "repeat": 3})
    after_all = date(2025, 12, 1)  # four weekly sessions from 3 Nov 2025
    two = review(weekly("P1", hard("panic"), {}, hard("panic"), {}), config=rules, as_of=after_all)
    assert row_of(two)["red_flags"] == () and row_of(two)["watch"] == ("watch_panic",)
    three = review(
        weekly("P1", hard("panic"), hard("panic"), {}, hard("panic")), config=rules, as_of=after_all
    )
    assert row_of(three)["red_flags"] == ("repeated_panic",) and row_of(three)["watch"] == ()
