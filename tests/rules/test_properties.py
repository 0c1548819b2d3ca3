"""Properties of the rules over generated caseloads (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflags.codes import ADDRESSABLE_FLAGS, Status
from redflags.engine import Review, evaluate_history
from redflags.fields import THEMES
from tests.rules.builders import RULES, decisions, history

AS_OF = date(2025, 6, 30)
FIRST = datetime(2025, 3, 1, 8, 0)
STATUS_RANK = {Status.URGENT: 0, Status.RED: 1, Status.AMBER: 2, Status.GREEN: 3}
KIND_STATUS = {"safety": Status.URGENT, "red": Status.RED, "watch": Status.AMBER}
RED_THEMES = ("panic", "despair", "vulnerability")

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


#: Presets drawn with one choice each, so that a session costs a handful of draws; each list
#: straddles the thresholds of rules.md (hard 7, green 4, BP 140/90, +40/+25, 180/110, 120 min).
ROUTE_DOSES = [
    ("ketamine_iv", 35.0),
    ("esketamine_nasal", 56),
    ("esketamine_nasal", 84),
    ("ketamine_im", 50.0),
    ("esketamine_nasal", 28),
    ("ketamine_oral", 52.5),
    ("ketamine_iv", 40.0),
]
THEME_LEVELS = [
    (None, None),
    (0, None),
    (3, "reflected"),
    (4, "reflected"),
    (4, "contained"),
    (6, "persisted"),
    (7, None),
    (7, "persisted"),
    (8, "escalated"),
    (9, "reflected"),
    (10, "contained"),
]
BLOOD_PRESSURES = [
    (None, None, None, None, None, None),
    (120, 80, 130, 85, 125, 80),
    (141, 85, 150, 90, 140, 85),
    (130, 91, None, None, None, None),
    (120, 80, 160, 90, None, None),
    (120, 80, 130, 105, 125, 80),
    (150, 95, 185, 100, 150, 95),
    (None, None, 170, 112, None, None),
    (140, 90, 179, 109, 150, None),
]
PHQ9 = [(None, None), (20, None), (20, 0), (12, 1), (5, 0), (3, None), (0, None), (18, 2), (10, 0)]
OBSERVATION = [None, 150, 120, 119, 60]
BP_COLUMNS = ("bp_pre_sys", "bp_pre_dia", "bp_40_sys", "bp_40_dia", "bp_end_sys", "bp_end_dia")


@st.composite
def session_values(draw: st.DrawFn) -> dict[str, Any]:
    route, dose = draw(st.sampled_from(ROUTE_DOSES))
    row: dict[str, Any] = {"route": route, "dose_mg": dose}
    for theme in THEMES:
        row[theme], row[f"{theme}_course"] = draw(st.sampled_from(THEME_LEVELS))
    row.update(zip(BP_COLUMNS, draw(st.sampled_from(BLOOD_PRESSURES)), strict=True))
    row["observation_min"] = draw(st.sampled_from(OBSERVATION))
    row["phq9"], row["phq9_item9"] = draw(st.sampled_from(PHQ9))
    return row


@st.composite
def caseloads(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Sessions, decisions and the patient list of a small clinic (some without sessions)."""
    patients = [f"P{n}" for n in range(draw(st.integers(1, 5)))]
    rows: list[dict[str, Any]] = []
    made: list[dict[str, Any]] = []
    for patient in patients:
        at = FIRST + timedelta(days=draw(st.integers(0, 60)))
        for _ in range(draw(st.integers(0, 10))):
            at += timedelta(days=draw(st.integers(1, 12)), hours=draw(st.integers(0, 5)))
            rows.append({"patient_id": patient, "session_at": at, **draw(session_values())})
        for _ in range(draw(st.integers(0, 3))):
            codes = draw(st.lists(st.sampled_from(ADDRESSABLE_FLAGS), max_size=4, unique=True))
            made.append(
                {
                    "patient_id": patient,
                    "decided_at": FIRST + timedelta(hours=draw(st.integers(0, 24 * 130))),
                    "decision": draw(st.sampled_from(("continue", "pause", "adjust_dose"))),
                    "flags_considered": ";".join(codes),
                }
            )
    return rows, made, patients


def evaluate_rows(
    rows: list[dict[str, Any]], made: list[dict[str, Any]], patients: list[str]
) -> Review:
    return evaluate_history(history(rows), decisions(made), patients, AS_OF, RULES)


def assert_same_frames(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        left.reset_index(drop=True),
        right.reset_index(drop=True),
        check_dtype=False,
        check_index_type=False,
    )


def status_of(result: Review, patient: str) -> Status:
    return Status(str(result.table.set_index("patient_id").loc[patient, "status"]))


@PROPERTY_SETTINGS
@given(caseloads())
def test_status_is_the_highest_class_of_unaddressed_flag_present(
    caseload: tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]],
) -> None:
    result = evaluate_rows(*caseload)
    open_flags = result.findings.loc[~result.findings["addressed"].astype(bool)]
    for patient in caseload[2]:
        kinds = open_flags.loc[open_flags["patient_id"] == patient, "kind"]
        present = [KIND_STATUS[k] for k in kinds if k in KIND_STATUS] + [Status.GREEN]
        assert status_of(result, patient) == min(present, key=STATUS_RANK.__getitem__)


@PROPERTY_SETTINGS
@given(caseloads(), st.data())
def test_adding_a_hard_session_as_the_newest_never_lowers_status(
    caseload: tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]], data: st.DataObject
) -> None:
    rows, made, patients = caseload
    patient = data.draw(st.sampled_from(patients))
    mine = sorted((r for r in rows if r["patient_id"] == patient), key=lambda r: r["session_at"])
    before = evaluate_rows(rows, made, patients)
    # The new session repeats the latest session's readings (so no safety flag is dropped)
    # and is hard for every red-flag theme: a session hard for one theme only may push an
    # older hard session of another theme out of the window.
    newest = (
        dict(mine[-1]) if mine else {"patient_id": patient, "route": "ketamine_iv", "dose_mg": 35.0}
    )
    newest["session_at"] = (mine[-1]["session_at"] if mine else FIRST) + timedelta(hours=1)
    for theme in RED_THEMES:
        newest[theme] = data.draw(st.integers(RULES.theme.hard, 10))
        newest[f"{theme}_course"] = data.draw(st.sampled_from((None, "persisted", "escalated")))
    after = evaluate_rows([*rows, newest], made, patients)
    rank = STATUS_RANK.__getitem__
    assert rank(status_of(after, patient)) <= rank(status_of(before, patient))


@PROPERTY_SETTINGS
@given(caseloads())
def test_one_patient_at_a_time_equals_the_whole_caseload(
    caseload: tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]],
) -> None:
    rows, made, patients = caseload
    whole = evaluate_rows(rows, made, patients)
    for patient in patients:
        alone = evaluate_rows(
            [r for r in rows if r["patient_id"] == patient],
            [d for d in made if d["patient_id"] == patient],
            [patient],
        )
        for part in ("table", "findings", "recommendations"):
            frame = getattr(whole, part)
            assert_same_frames(frame.loc[frame["patient_id"] == patient], getattr(alone, part))
        assert whole.for_patient(patient) == alone.for_patient(patient)


@PROPERTY_SETTINGS
@given(caseloads(), st.randoms(use_true_random=False))
def test_shuffling_the_input_rows_changes_nothing(
    caseload: tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]], random: Any
) -> None:
    rows, made, patients = caseload
    first = evaluate_rows(rows, made, patients)
    shuffled_rows, shuffled_made = list(rows), list(made)
    random.shuffle(shuffled_rows)
    random.shuffle(shuffled_made)
    second = evaluate_rows(shuffled_rows, shuffled_made, patients)
    for part in ("table", "findings", "recommendations"):
        assert_same_frames(getattr(first, part), getattr(second, part))


@PROPERTY_SETTINGS
@given(caseloads())
def test_every_patient_gets_recommendations_and_continue_stands_alone(
    caseload: tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]],
) -> None:
    result = evaluate_rows(*caseload)
    for recommendations in result.table["recommendations"]:
        assert recommendations
        assert len(set(recommendations)) == len(recommendations)
        assert recommendations == ("continue",) or "continue" not in recommendations


@PROPERTY_SETTINGS
@given(caseloads())
def test_table_lists_agree_with_the_findings(
    caseload: tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]],
) -> None:
    result = evaluate_rows(*caseload)
    findings = result.findings
    assert all(len(evidence) > 0 for evidence in findings["evidence"])
    for _, row in result.table.iterrows():
        mine = findings.loc[findings["patient_id"] == row["patient_id"]]
        opened = mine.loc[~mine["addressed"].astype(bool)]
        for column, kind in (("safety_flags", "safety"), ("red_flags", "red"), ("watch", "watch")):
            assert row[column] == tuple(opened.loc[opened["kind"] == kind, "code"])
        assert row["green_lights"] == tuple(mine.loc[mine["kind"] == "green", "code"])
        assert row["addressed"] == tuple(mine.loc[mine["addressed"].astype(bool), "code"])
