"""Safety flags (rules.md §5): the latest session only; a missing value never fires."""

from __future__ import annotations

from typing import Any

import pytest

from tests.rules.builders import codes, finding, review, row_of, weekly

SAFETY = {"suicidality", "bp_pre_dose", "bp_rise", "bp_post_dose", "short_observation"}


def latest(**values: Any) -> set[str]:
    """The safety flags raised when the latest session has these values (default IV)."""
    result = review(weekly("P1", {}, {"route": "ketamine_iv", **values}))
    return codes(result) & SAFETY


@pytest.mark.parametrize(("item9", "fires"), [(0, False), (1, True), (3, True), (None, False)])
def test_suicidality_fires_at_item9_of_one_or_more(item9: int | None, fires: bool) -> None:
    assert ("suicidality" in latest(phq9_item9=item9, phq9=10)) is fires


@pytest.mark.parametrize(
    ("systolic", "diastolic", "fires"),
    [
        (140, 90, False),
        (141, 80, True),
        (130, 91, True),
        (None, 90, False),
        (140, None, False),
        (None, None, False),
        (150, None, True),
    ],
)
def test_bp_pre_dose_fires_above_140_over_90(
    systolic: int | None, diastolic: int | None, fires: bool
) -> None:
    assert ("bp_pre_dose" in latest(bp_pre_sys=systolic, bp_pre_dia=diastolic)) is fires


@pytest.mark.parametrize(
    ("readings", "fires"),
    [
        ({"bp_40_sys": 159, "bp_40_dia": 80}, False),  # +39 systolic
        ({"bp_40_sys": 160, "bp_40_dia": 80}, True),  # +40 systolic
        ({"bp_40_sys": 130, "bp_40_dia": 104}, False),  # +24 diastolic
        ({"bp_40_sys": 130, "bp_40_dia": 105}, True),  # +25 diastolic
        ({"bp_end_sys": 160, "bp_end_dia": 80}, True),  # at discharge
        ({"bp_end_sys": 125, "bp_end_dia": 105}, True),
        ({"bp_40_sys": None, "bp_40_dia": None}, False),
    ],
)
def test_bp_rise_fires_at_40_systolic_or_25_diastolic(
    readings: dict[str, int], fires: bool
) -> None:
    flags = latest(bp_pre_sys=120, bp_pre_dia=80, **readings)
    assert ("bp_rise" in flags) is fires


def test_bp_rise_needs_a_reading_before_dosing() -> None:
    assert "bp_rise" not in latest(bp_pre_sys=None, bp_pre_dia=None, bp_40_sys=170, bp_40_dia=100)


@pytest.mark.parametrize(
    ("readings", "fires"),
    [
        ({"bp_40_sys": 179, "bp_40_dia": 109}, False),
        ({"bp_40_sys": 180, "bp_40_dia": 100}, True),
        ({"bp_40_sys": 170, "bp_40_dia": 110}, True),
        ({"bp_end_sys": 180, "bp_end_dia": 100}, True),
        ({"bp_end_sys": 150, "bp_end_dia": 110}, True),
        ({"bp_40_sys": None, "bp_end_dia": None}, False),
    ],
)
def test_bp_post_dose_fires_at_180_over_110(readings: dict[str, int], fires: bool) -> None:
    assert ("bp_post_dose" in latest(**readings)) is fires


@pytest.mark.parametrize(
    ("minutes", "fires"), [(119, True), (120, False), (0, True), (None, False)]
)
def test_short_observation_fires_under_120_minutes_of_esketamine(
    minutes: int | None, fires: bool
) -> None:
    flags = latest(route="esketamine_nasal", dose_mg=56, observation_min=minutes)
    assert ("short_observation" in flags) is fires


@pytest.mark.parametrize("route", ["ketamine_iv", "ketamine_im", "ketamine_oral"])
def test_short_observation_is_an_esketamine_rule_only(route: str) -> None:
    assert "short_observation" not in latest(route=route, observation_min=30)


def test_only_the_latest_session_counts_for_safety() -> None:
    alarming = {"phq9": 20, "phq9_item9": 3, "bp_pre_sys": 190, "bp_40_sys": 250}
    result = review(weekly("P1", alarming, alarming, {}))
    assert codes(result) & SAFETY == set()
    assert row_of(result)["status"] == "green"


def test_a_safety_flag_makes_the_patient_urgent() -> None:
    result = review(weekly("P1", {"phq9": 12, "phq9_item9": 1}))
    assert row_of(result)["status"] == "urgent"
    assert row_of(result)["safety_flags"] == ("suicidality",)


def test_safety_flags_are_listed_in_the_order_of_the_table() -> None:
    result = review(
        weekly(
            "P1",
            {
                "route": "esketamine_nasal",
                "dose_mg": 56,
                "observation_min": 60,
                "bp_pre_sys": 150,
                "bp_pre_dia": 95,
                "bp_40_sys": 200,
                "bp_40_dia": 120,
                "phq9": 9,
                "phq9_item9": 2,
            },
        )
    )
    assert row_of(result)["safety_flags"] == (
        "suicidality",
        "bp_pre_dose",
        "bp_rise",
        "bp_post_dose",
        "short_observation",
    )


def test_safety_evidence_is_the_latest_session_with_not_recorded_for_blanks() -> None:
    result = review(weekly("P1", {}, {"bp_pre_sys": 120, "bp_pre_dia": 80, "bp_40_sys": 165}))
    rise = finding(result, "bp_rise")
    (item,) = rise["evidence"]
    assert item["session_at"].day == 10
    assert item["bp_pre_sys"] == 120
    assert item["bp_40_sys"] == 165
    assert item["bp_40_dia"] == "not recorded"
    assert item["bp_end_sys"] == "not recorded"
    assert "165/not recorded at 40 min" in rise["sentence"]
    assert "not recorded at discharge" in rise["sentence"]


def test_short_observation_evidence_shows_route_and_minutes() -> None:
    result = review(
        weekly("P1", {"route": "esketamine_nasal", "dose_mg": 84, "observation_min": 90})
    )
    (item,) = finding(result, "short_observation")["evidence"]
    assert item["route"] == "esketamine_nasal"
    assert item["observation_min"] == 90
    assert finding(result, "short_observation")["threshold"] == (
        "esketamine nasal and observation < 120 min at the latest session"
    )
