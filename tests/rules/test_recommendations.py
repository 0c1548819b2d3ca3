"""Recommendations (rules.md §9): in order, without duplicates, each with its reason."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from redflags.engine import Review
from tests.rules.builders import START, decision, recommended, review, row_of, weekly, with_rules

PANIC = {"panic": 8, "panic_course": "persisted"}
DESPAIR = {"despair": 9, "despair_course": "escalated"}
VULNERABLE = {"vulnerability": 7, "vulnerability_course": None}
LATE = date(2026, 3, 1)


def on(route: str, dose: float, **values: object) -> dict[str, object]:
    return {"route": route, "dose_mg": dose, **values}


def advice(result: Review, patient_id: str = "P1") -> dict[str, dict[str, Any]]:
    rows = result.recommendations
    mine = rows.loc[rows["patient_id"] == patient_id]
    return {row["code"]: dict(row) for _, row in mine.iterrows()}


def test_no_flag_means_continue() -> None:
    result = review(weekly("P1", {}, {}))
    assert recommended(result) == ("continue",)
    assert advice(result)["continue"]["reason"] == (
        "Consider continuing the current plan: no unaddressed safety, red or watch flag."
    )
    assert advice(result)["continue"]["based_on"] == ()


def test_continue_notes_a_watch_signal_for_the_next_session() -> None:
    result = review(weekly("P1", {}, PANIC))
    reason = advice(result)["continue"]["reason"]
    assert reason.startswith("Consider continuing the current plan; note for the next session: ")
    assert "panic ≥ 7" in reason and "10 Nov" in reason
    assert advice(result)["continue"]["based_on"] == ("watch_panic",)


def test_a_safety_flag_suggests_a_same_day_review() -> None:
    result = review(weekly("P1", {"bp_pre_sys": 160, "bp_pre_dia": 85}))
    assert recommended(result) == ("review_safety",)
    rec = advice(result)["review_safety"]
    assert rec["based_on"] == ("bp_pre_dose",)
    assert rec["reason"].startswith("Consider a same-day safety review, holding the next dose")
    assert "160/85" in rec["reason"]


def test_a_red_flag_suggests_a_pause() -> None:
    result = review(
        weekly("P1", on("ketamine_oral", 100, **DESPAIR), on("ketamine_oral", 100, **DESPAIR))
    )
    assert recommended(result) == ("pause",)
    assert advice(result)["pause"]["based_on"] == ("unrelenting_despair",)
    assert (
        "see with the patient whether the treatment is right" in advice(result)["pause"]["reason"]
    )


@pytest.mark.parametrize(
    ("doses", "adjusts"),
    [((56, 84, 84), True), ((84, 84, 84), False), ((84, 56, 84), False), ((84, 84, 56), False)],
)
def test_adjust_dose_when_the_latest_dose_is_above_the_earliest_recent_one(
    doses: tuple[int, int, int], adjusts: bool
) -> None:
    rows = weekly("P1", *(on("esketamine_nasal", d, **DESPAIR) for d in doses))
    assert ("adjust_dose" in recommended(review(rows))) is adjusts


def test_adjust_dose_compares_with_the_earliest_recent_session_on_the_same_route() -> None:
    rows = weekly(
        "P1",
        on("ketamine_iv", 20),
        on("ketamine_im", 50, **DESPAIR),
        on("ketamine_im", 60, **DESPAIR),
    )
    result = review(rows)
    assert recommended(result) == ("pause", "adjust_dose")
    reason = advice(result)["adjust_dose"]["reason"]
    assert reason == (
        "Consider returning to the previous dose: IM ketamine rose from 50 mg (10 Nov) to 60 mg "
        "(17 Nov) over the recent sessions, alongside unrelenting despair."
    )


def test_adjust_dose_after_nonresponse_below_the_esketamine_maximum() -> None:
    rows = weekly(
        "P1",
        on("esketamine_nasal", 56, phq9=20),
        *[on("esketamine_nasal", 56)] * 6,
        on("esketamine_nasal", 56, phq9=18),
    )
    result = review(rows, as_of=LATE)
    assert row_of(result)["watch"] == ("nonresponse",)
    assert recommended(result) == ("adjust_dose",)
    rec = advice(result)["adjust_dose"]
    assert rec["based_on"] == ("nonresponse",)
    assert rec["reason"].startswith("Consider a dose increase: ")
    assert "is below the configured maximum of 84 mg" in rec["reason"]


def test_no_dose_increase_at_the_esketamine_maximum() -> None:
    rows = weekly(
        "P1",
        on("esketamine_nasal", 84, phq9=20),
        *[on("esketamine_nasal", 84)] * 6,
        on("esketamine_nasal", 84, phq9=18),
    )
    result = review(rows, as_of=LATE)
    assert recommended(result) == ("continue",)
    assert advice(result)["continue"]["based_on"] == ("nonresponse",)


def test_ketamine_routes_have_no_maximum_so_nonresponse_suggests_an_increase() -> None:
    rows = weekly(
        "P1",
        on("ketamine_iv", 90, phq9=20),
        *[on("ketamine_iv", 90)] * 6,
        on("ketamine_iv", 90, phq9=19),
    )
    result = review(rows, as_of=LATE)
    assert recommended(result) == ("adjust_dose",)
    assert "has no configured maximum (flexible dosing)" in advice(result)["adjust_dose"]["reason"]


def test_a_clinic_maximum_for_a_ketamine_route_is_respected() -> None:
    rules = with_rules(dose={"max_mg": {"esketamine_nasal": 84.0, "ketamine_iv": 90.0}})
    rows = weekly(
        "P1",
        on("ketamine_iv", 90, phq9=20),
        *[on("ketamine_iv", 90)] * 6,
        on("ketamine_iv", 90, phq9=19),
    )
    assert recommended(review(rows, as_of=LATE, config=rules)) == ("continue",)


def test_nonresponse_does_not_adjust_the_dose_beside_a_red_or_safety_flag() -> None:
    base = [on("ketamine_iv", 40, phq9=20), *[on("ketamine_iv", 40)] * 5]
    red = review(
        weekly(
            "P1", *base, on("ketamine_iv", 40, **DESPAIR), on("ketamine_iv", 40, phq9=19, **DESPAIR)
        ),
        as_of=LATE,
    )
    assert recommended(red) == ("pause",)
    urgent = review(
        weekly("P1", *base, on("ketamine_iv", 40), on("ketamine_iv", 40, phq9=19, phq9_item9=1)),
        as_of=LATE,
    )
    assert recommended(urgent) == ("review_safety",)


@pytest.mark.parametrize(
    ("route", "hard", "switches"),
    [
        ("ketamine_iv", PANIC, True),
        ("ketamine_im", PANIC, True),
        ("ketamine_iv", VULNERABLE, True),
        ("ketamine_im", VULNERABLE, True),
        ("ketamine_iv", DESPAIR, False),
        ("ketamine_oral", PANIC, False),
    ],
)
def test_switch_to_esketamine_after_panic_or_vulnerability_on_iv_or_im(
    route: str, hard: dict[str, object], switches: bool
) -> None:
    result = review(weekly("P1", on(route, 40, **hard), on(route, 40, **hard)))
    assert ("switch_route" in recommended(result)) is switches
    if switches:
        assert advice(result)["switch_route"]["reason"].startswith(
            "Consider esketamine nasal spray (slower onset, structured coverage): "
        )


@pytest.mark.parametrize(("dose", "switches"), [(28, True), (56, True), (84, False)])
def test_switch_to_im_ketamine_after_a_red_flag_at_the_lowest_esketamine_doses(
    dose: int, switches: bool
) -> None:
    rows = weekly(
        "P1", on("esketamine_nasal", dose, **DESPAIR), on("esketamine_nasal", dose, **DESPAIR)
    )
    result = review(rows)
    assert ("switch_route" in recommended(result)) is switches
    if switches:
        assert advice(result)["switch_route"]["reason"].startswith(
            "Consider IM ketamine, for more flexibility in dosing: unrelenting despair"
        )


def test_the_switch_follows_the_latest_route_only() -> None:
    rows = weekly("P1", on("ketamine_iv", 40, **PANIC), on("esketamine_nasal", 84, **PANIC))
    assert recommended(review(rows)) == ("pause",)


def test_full_order_without_duplicates() -> None:
    rows = weekly(
        "P1",
        on("ketamine_im", 50, **PANIC, **VULNERABLE, **DESPAIR),
        on("ketamine_im", 60, **PANIC, **VULNERABLE, **DESPAIR, phq9=12, phq9_item9=2),
    )
    result = review(rows)
    assert recommended(result) == ("review_safety", "pause", "adjust_dose", "switch_route")
    table = result.recommendations
    assert list(table["order"]) == [1, 2, 3, 4]
    assert table["code"].is_unique
    assert advice(result)["switch_route"]["based_on"] == (
        "repeated_panic",
        "extraordinary_vulnerability",
    )
    assert advice(result)["pause"]["based_on"] == (
        "repeated_panic",
        "unrelenting_despair",
        "extraordinary_vulnerability",
    )


def test_continue_never_joins_another_recommendation() -> None:
    result = review(weekly("P1", {}, PANIC, {"phq9": 9, "phq9_item9": 1}))
    assert recommended(result) == ("review_safety",)


def test_an_addressed_red_flag_no_longer_drives_recommendations() -> None:
    rows = weekly("P1", on("ketamine_iv", 35, **PANIC), on("ketamine_iv", 35, **PANIC))
    made = decision("P1", START + timedelta(days=8), "repeated_panic", "switch_route")
    assert recommended(review(rows, [made])) == ("continue",)


def test_reasons_always_present_an_option() -> None:
    rows = weekly(
        "P1",
        on("ketamine_im", 50, **PANIC),
        on("ketamine_im", 60, **PANIC, phq9=12, phq9_item9=2),
    )
    for reason in review(rows).recommendations["reason"]:
        assert reason.startswith("Consider ")
        assert reason.endswith(".")
