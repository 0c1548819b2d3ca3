"""Sentences present options, carry the threshold and the evidence dates (rules.md preamble)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from tests.rules.builders import finding, review, weekly

OPTION_OPENINGS = ("Consider ", "Note ", "Note, ", "Continue ")
ORDERS = re.compile(r"\b(must|should|stop|do not|don't|required|immediately)\b", re.IGNORECASE)
LATE = date(2026, 3, 1)

# (code, sessions oldest first, as-of, fragments the sentence must hold)
CASES = [
    (
        "repeated_panic",
        [{"panic": 8, "panic_course": "persisted"}, {}, {"panic": 9, "panic_course": "escalated"}],
        None,
        [
            "panic ≥ 7",
            "in 2 of the last 3 sessions",
            "3 Nov: panic 8, persisted",
            "17 Nov: panic 9, escalated",
        ],
    ),
    (
        "unrelenting_despair",
        [{"despair": 7}, {"despair": 10, "despair_course": "persisted"}],
        None,
        ["despair ≥ 7", "3 Nov: despair 7, course not recorded", "10 Nov: despair 10, persisted"],
    ),
    (
        "extraordinary_vulnerability",
        [{"vulnerability": 7, "vulnerability_course": "escalated"}] * 2,
        None,
        ["vulnerability ≥ 7", "3 Nov", "10 Nov"],
    ),
    (
        "watch_panic",
        [{}, {"panic": 7, "panic_course": "persisted"}],
        None,
        ["panic ≥ 7", "in 1 of the last 2 sessions", "10 Nov: panic 7, persisted"],
    ),
    (
        "suicidality",
        [{"phq9": 15, "phq9_item9": 2}],
        None,
        ["item 9", "≥ 1", "3 Nov: PHQ-9 item 9 = 2"],
    ),
    (
        "bp_pre_dose",
        [{}, {"bp_pre_sys": 150, "bp_pre_dia": 85}],
        None,
        ["above 140 systolic or 90 diastolic", "10 Nov: 150/85 before dosing"],
    ),
    (
        "bp_rise",
        [{"bp_pre_sys": 120, "bp_pre_dia": 80, "bp_end_sys": 130, "bp_end_dia": 105}],
        None,
        ["≥ 40 systolic or ≥ 25 diastolic", "3 Nov: 120/80 before dosing", "130/105 at discharge"],
    ),
    (
        "bp_post_dose",
        [{"bp_40_sys": 185, "bp_40_dia": 100}],
        None,
        [
            "≥ 180 systolic or ≥ 110 diastolic",
            "3 Nov: 185/100 at 40 min",
            "not recorded at discharge",
        ],
    ),
    (
        "short_observation",
        [{"route": "esketamine_nasal", "dose_mg": 56, "observation_min": 100}],
        None,
        ["under 120 minutes", "3 Nov: observed 100 min"],
    ),
    (
        "fear_to_reflection",
        [{"death_imagery": 5, "death_imagery_course": "reflected"}],
        None,
        ["≥ 4", "3 Nov: death imagery 5, reflected"],
    ),
    (
        "grief_contained",
        [{"grief": 4, "grief_course": "contained"}, {"grief": 6, "grief_course": "reflected"}],
        None,
        ["grief ≥ 4", "3 Nov: grief 4, contained", "10 Nov: grief 6, reflected"],
    ),
    (
        "shame_reframed",
        [{}, {}, {"shame": 4, "shame_course": "reflected"}],
        None,
        ["shame ≥ 4", "17 Nov: shame 4, reflected"],
    ),
    (
        "mood_response",
        [{"phq9": 20}, {"phq9": 8}],
        LATE,
        ["-0.50", "3 Nov 2025: PHQ-9 20, baseline", "10 Nov 2025: PHQ-9 8, change -0.60"],
    ),
    (
        "remission",
        [{"phq9": 20}, {"phq9": 4}],
        LATE,
        ["PHQ-9 of 4 or less", "3 Nov 2025", "10 Nov 2025: PHQ-9 4"],
    ),
    (
        "nonresponse",
        [{"phq9": 20}, *[{}] * 6, {"phq9": 18}],
        LATE,
        [
            "above -0.25",
            "at least 8 sessions",
            "3 Nov 2025: PHQ-9 20",
            "22 Dec 2025: PHQ-9 18, change -0.10",
        ],
    ),
]


@pytest.mark.parametrize(
    ("code", "sessions", "as_of", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_sentence_holds_threshold_and_evidence_dates(
    code: str, sessions: list[dict[str, object]], as_of: date | None, fragments: list[str]
) -> None:
    result = review(weekly("P1", *sessions), as_of=as_of or date(2025, 11, 20))
    sentence = finding(result, code)["sentence"]
    for fragment in fragments:
        assert fragment in sentence, f"{fragment!r} not in {sentence!r}"


@pytest.mark.parametrize(
    ("code", "sessions", "as_of", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_sentence_presents_an_option_never_an_order(
    code: str, sessions: list[dict[str, object]], as_of: date | None, fragments: list[str]
) -> None:
    result = review(weekly("P1", *sessions), as_of=as_of or date(2025, 11, 20))
    sentence = finding(result, code)["sentence"]
    assert sentence.startswith(OPTION_OPENINGS)
    assert not ORDERS.search(sentence)
    assert sentence.endswith(".")


@pytest.mark.parametrize(
    ("code", "sessions", "as_of", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_threshold_line_names_the_configured_numbers(
    code: str, sessions: list[dict[str, object]], as_of: date | None, fragments: list[str]
) -> None:
    result = review(weekly("P1", *sessions), as_of=as_of or date(2025, 11, 20))
    threshold = finding(result, code)["threshold"]
    assert re.search(r"[≥≤<>] ?-?\d", threshold), threshold


@pytest.mark.parametrize(
    ("code", "sessions", "as_of", "fragments"), CASES, ids=[c[0] for c in CASES]
)
def test_every_evidence_item_has_its_session_time(
    code: str, sessions: list[dict[str, object]], as_of: date | None, fragments: list[str]
) -> None:
    result = review(weekly("P1", *sessions), as_of=as_of or date(2025, 11, 20))
    evidence = finding(result, code)["evidence"]
    assert evidence, "a flag without evidence"
    assert all("session_at" in item for item in evidence)
    moments = [item["session_at"] for item in evidence]
    assert moments == sorted(moments)


def test_kind_openings() -> None:
    result = review(
        weekly(
            "P1",
            {"panic": 8, "panic_course": "persisted", "grief": 5, "grief_course": "contained"},
            {"panic": 8, "despair": 7, "phq9": 9, "phq9_item9": 1},
        )
    )
    assert finding(result, "suicidality")["sentence"].startswith("Consider a same-day review")
    assert finding(result, "repeated_panic")["sentence"].startswith("Consider pausing")
    assert finding(result, "watch_despair")["sentence"].startswith("Note for the next session: ")
    assert finding(result, "grief_contained")["sentence"].startswith("Note, a green light: ")


def test_dates_carry_the_year_only_outside_the_as_of_year() -> None:
    rows = weekly("P1", {"panic": 8}, {"panic": 8}, start=datetime(2025, 12, 29, 9))
    sentence = finding(review(rows, as_of=date(2026, 1, 10)), "repeated_panic")["sentence"]
    assert "29 Dec 2025: panic 8" in sentence
    assert "5 Jan: panic 8" in sentence
