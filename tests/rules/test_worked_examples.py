"""The worked examples of rules.md §11 come out exactly as written."""

from __future__ import annotations

from tests.rules.builders import recommended, review, row_of, weekly


def test_patient_a_repeated_panic_on_iv_ketamine_pause_and_switch_route() -> None:
    rows = weekly(
        "A",
        {"route": "ketamine_iv", "dose_mg": 35, "panic": 8, "panic_course": "persisted"},
        {"route": "ketamine_iv", "dose_mg": 35, "panic": 9, "panic_course": "escalated"},
        {"route": "ketamine_iv", "dose_mg": 35, "panic": 3, "panic_course": "reflected"},
    )
    row = row_of(review(rows), "A")
    assert row["red_flags"] == ("repeated_panic",)
    assert row["safety_flags"] == ()
    assert row["watch"] == ()
    assert row["status"] == "red"
    assert recommended(review(rows), "A") == ("pause", "switch_route")


def test_patient_b_despair_after_a_dose_increase_pause_and_adjust_dose() -> None:
    rows = weekly(
        "B",
        {"route": "esketamine_nasal", "dose_mg": 56, "despair": 2, "despair_course": "contained"},
        {"route": "esketamine_nasal", "dose_mg": 84, "despair": 7, "despair_course": "persisted"},
        {"route": "esketamine_nasal", "dose_mg": 84, "despair": 8, "despair_course": "persisted"},
    )
    row = row_of(review(rows), "B")
    assert row["red_flags"] == ("unrelenting_despair",)
    assert row["status"] == "red"
    assert row["recommendations"] == ("pause", "adjust_dose")


def test_patient_c_no_hard_session_green_lights_continue() -> None:
    rows = weekly(
        "C",
        {"route": "esketamine_nasal", "dose_mg": 84, "panic": 8, "panic_course": "reflected"},
        {"route": "esketamine_nasal", "dose_mg": 84, "grief": 6, "grief_course": "contained"},
        {"route": "esketamine_nasal", "dose_mg": 84, "grief": 5, "grief_course": "contained"},
    )
    row = row_of(review(rows), "C")
    assert row["red_flags"] == () and row["watch"] == () and row["safety_flags"] == ()
    assert row["green_lights"] == ("fear_to_reflection", "grief_contained")
    assert row["status"] == "green"
    assert row["recommendations"] == ("continue",)


def test_patient_d_suicidality_and_despair_on_iv_review_safety_and_pause() -> None:
    despair = {"despair": 9, "despair_course": "persisted"}
    for hard_positions in ((0, 1), (0, 2), (1, 2)):
        values = [
            {"route": "ketamine_iv", "dose_mg": 40, **(despair if i in hard_positions else {})}
            for i in range(3)
        ]
        values[2].update(phq9=14, phq9_item9=2)
        row = row_of(review(weekly("D", *values)), "D")
        assert row["safety_flags"] == ("suicidality",)
        assert row["red_flags"] == ("unrelenting_despair",)
        assert row["status"] == "urgent"
        assert row["recommendations"] == ("review_safety", "pause")


def test_all_four_examples_in_one_caseload() -> None:
    rows = [
        *weekly(
            "A",
            *[
                {"dose_mg": 35, "panic": p, "panic_course": c}
                for p, c in ((8, "persisted"), (9, "escalated"), (3, "reflected"))
            ],
        ),
        *weekly(
            "B",
            *[
                {
                    "route": "esketamine_nasal",
                    "dose_mg": d,
                    "despair": v,
                    "despair_course": "persisted" if v >= 7 else None,
                }
                for d, v in ((56, 2), (84, 7), (84, 8))
            ],
        ),
        *weekly(
            "C",
            {"route": "esketamine_nasal", "dose_mg": 84, "panic": 8, "panic_course": "reflected"},
            {"route": "esketamine_nasal", "dose_mg": 84, "grief": 6, "grief_course": "contained"},
            {"route": "esketamine_nasal", "dose_mg": 84, "grief": 5, "grief_course": "contained"},
        ),
        *weekly(
            "D",
            {"dose_mg": 40, "despair": 9, "despair_course": "persisted"},
            {"dose_mg": 40, "despair": 9, "despair_course": "persisted"},
            {"dose_mg": 40, "phq9": 14, "phq9_item9": 2},
        ),
    ]
    table = review(rows).table.set_index("patient_id")
    assert table["status"].to_dict() == {"A": "red", "B": "red", "C": "green", "D": "urgent"}
    assert table["recommendations"].to_dict() == {
        "A": ("pause", "switch_route"),
        "B": ("pause", "adjust_dose"),
        "C": ("continue",),
        "D": ("review_safety", "pause"),
    }
