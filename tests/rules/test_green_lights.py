"""Green lights (rules.md §6): one qualifying recent session is enough; never addressed."""

from __future__ import annotations

from datetime import date

import pytest

from tests.rules.builders import codes, decision, finding, review, row_of, weekly

GREEN = {"fear_to_reflection", "grief_contained", "shame_reframed"}


def greens(*sessions: dict[str, object]) -> set[str]:
    return codes(review(weekly("P1", *sessions), as_of=date(2025, 12, 31))) & GREEN


@pytest.mark.parametrize(("level", "fires"), [(3, False), (4, True), (None, False)])
@pytest.mark.parametrize("theme", ["panic", "death_imagery"])
def test_fear_that_gave_way_to_reflection(theme: str, level: int | None, fires: bool) -> None:
    course = "reflected" if level else None
    assert ("fear_to_reflection" in greens({theme: level, f"{theme}_course": course})) is fires


@pytest.mark.parametrize("course", ["contained", "persisted", "escalated", None])
def test_fear_must_be_reflected_not_only_contained(course: str | None) -> None:
    assert "fear_to_reflection" not in greens({"panic": 6, "panic_course": course})


@pytest.mark.parametrize(
    ("level", "course", "fires"),
    [
        (3, "contained", False),
        (4, "contained", True),
        (4, "reflected", True),
        (9, "persisted", False),
        (9, "escalated", False),
        (6, None, False),
        (None, None, False),
    ],
)
def test_grief_that_felt_contained(level: int | None, course: str | None, fires: bool) -> None:
    assert ("grief_contained" in greens({"grief": level, "grief_course": course})) is fires


@pytest.mark.parametrize(
    ("level", "course", "fires"),
    [(3, "reflected", False), (4, "reflected", True), (8, "contained", False), (None, None, False)],
)
def test_shame_reframed_as_history(level: int | None, course: str | None, fires: bool) -> None:
    assert ("shame_reframed" in greens({"shame": level, "shame_course": course})) is fires


def test_a_green_light_in_an_older_session_drops_out_of_the_window() -> None:
    assert greens({"grief": 6, "grief_course": "contained"}, {}, {}, {}) == set()


def test_green_lights_leave_the_status_green_and_are_listed_in_table_order() -> None:
    result = review(
        weekly(
            "P1",
            {"shame": 5, "shame_course": "reflected"},
            {"grief": 5, "grief_course": "contained", "death_imagery": 6},
            {"death_imagery": 4, "death_imagery_course": "reflected"},
        )
    )
    row = row_of(result)
    assert row["status"] == "green"
    assert row["green_lights"] == ("fear_to_reflection", "grief_contained", "shame_reframed")
    assert row["recommendations"] == ("continue",)


def test_green_light_evidence_is_every_qualifying_session() -> None:
    result = review(
        weekly(
            "P1",
            {"grief": 6, "grief_course": "contained"},
            {"grief": 2, "grief_course": "contained"},
            {"grief": 5, "grief_course": "reflected"},
        )
    )
    green = finding(result, "grief_contained")
    assert [item["grief"] for item in green["evidence"]] == [6, 5]
    assert [item["grief_course"] for item in green["evidence"]] == ["contained", "reflected"]
    assert green["kind"] == "green"


def test_fear_evidence_shows_both_themes_when_both_qualify() -> None:
    both = {
        "panic": 5,
        "panic_course": "reflected",
        "death_imagery": 7,
        "death_imagery_course": "reflected",
    }
    green = finding(review(weekly("P1", both)), "fear_to_reflection")
    assert "panic 5, reflected; death imagery 7, reflected" in green["sentence"]


def test_green_lights_are_never_addressed() -> None:
    rows = weekly("P1", {"grief": 6, "grief_course": "contained"})
    made = [decision("P1", rows[0]["session_at"].replace(hour=18), "grief_contained")]
    result = review(rows, made)
    assert not finding(result, "grief_contained")["addressed"]
    assert row_of(result)["green_lights"] == ("grief_contained",)
    assert row_of(result)["addressed"] == ()
