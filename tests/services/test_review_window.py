"""The database's recent window equals the rules engine's own, so the review is the same."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import Engine, insert

from models.db import write_session
from models.tables import decision_table, patient_table, session_table, utc_now
from redflags.codes import Role
from redflags.config import load_rules
from redflags.engine import evaluate_history, recent_window
from redflags.fields import THEMES
from services.access import Actor
from services.review import weekly_review

READER = Actor("reader", Role.VIEWER)
AS_OF = date(2026, 6, 30)


def _random_caseload(seed: int, patients: int) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    decisions: list[dict[str, object]] = []
    for number in range(patients):
        code = f"P{number:03d}"
        start = datetime(2026, 1, 5, 9, 0) + timedelta(days=rng.randint(0, 60))
        count = rng.randint(0, 14)
        for index in range(count):
            when = start + timedelta(days=4 * index, hours=rng.randint(0, 6))
            row: dict[str, object] = {
                "patient_id": code,
                "session_at": when,
                "route": rng.choice(("esketamine_nasal", "ketamine_iv")),
                "phq9": rng.choice((None, rng.randint(0, 27))),
                "phq9_item9": None,
                "observation_min": rng.choice((None, 90, 130)),
                "bp_pre_sys": rng.choice((None, 120, 150)),
                "bp_pre_dia": 80,
            }
            row["dose_mg"] = rng.choice((56, 84)) if row["route"] == "esketamine_nasal" else 35
            for theme in THEMES:
                level = rng.choice((None, 0, 3, 5, 7, 9))
                row[theme] = level
                row[f"{theme}_course"] = (
                    rng.choice((None, "reflected", "contained", "persisted", "escalated"))
                    if level
                    else None
                )
            rows.append(row)
        if count and rng.random() < 0.3:
            decisions.append(
                {
                    "patient_id": code,
                    "decided_at": start + timedelta(days=4 * count + 1),
                    "decision": "continue",
                    "flags_considered": "repeated_panic;watch_panic;bp_pre_dose;nonresponse",
                }
            )
    return pd.DataFrame(rows), decisions


def _store(
    engine: Engine, history: pd.DataFrame, decisions: list[dict[str, object]], n: int
) -> None:
    with write_session(engine) as session:
        ids = {}
        for number in range(n):
            code = f"P{number:03d}"
            result = session.execute(
                insert(patient_table)
                .values(code=code, created_at=utc_now())
                .returning(patient_table.c.id)
            )
            ids[code] = result.scalar_one()
        records: list[dict[str, object]] = []
        for row in history.to_dict("records"):
            values = {
                str(k): (None if pd.isna(v) else v) for k, v in row.items() if k != "patient_id"
            }
            values.update(patient_id=ids[row["patient_id"]], time_recorded=True, recorded_by="t")
            values.update(created_at=utc_now(), updated_at=utc_now())
            records.append(values)
        if records:
            session.execute(insert(session_table), records)
        for decision in decisions:
            session.execute(
                insert(decision_table).values(
                    **{**decision, "patient_id": ids[str(decision["patient_id"])]},
                    recorded_by="t",
                    created_at=utc_now(),
                )
            )


@pytest.mark.parametrize("seed", [1, 2])
def test_database_window_and_review_equal_the_engines_own(engine: Engine, seed: int) -> None:
    config = load_rules()
    history, decisions = _random_caseload(seed, patients=40)
    _store(engine, history, decisions, 40)
    codes = [f"P{n:03d}" for n in range(40)]

    from_db = weekly_review(engine=engine, actor=READER, as_of=AS_OF, config=config)
    decisions_frame = pd.DataFrame(
        decisions, columns=["patient_id", "decided_at", "decision", "flags_considered"]
    )
    from_pandas = evaluate_history(history, decisions_frame, codes, AS_OF, config)

    assert_frame_equal(from_db.table, from_pandas.table, check_dtype=False)
    assert_frame_equal(
        from_db.recommendations.reset_index(drop=True),
        from_pandas.recommendations.reset_index(drop=True),
        check_dtype=False,
    )
    assert set(from_db.table["status"]) >= {"green"}
    # The evidence (and so what a decision addresses) is the same too, nonresponse's
    # review point (the 8th session, from the database's own summary) included.
    columns = ["patient_id", "code", "addressed", "evidence_at", "evidence"]
    assert_frame_equal(
        from_db.findings[columns].reset_index(drop=True),
        from_pandas.findings[columns].reset_index(drop=True),
        check_dtype=False,
    )
    assert {"nonresponse"} <= set(from_db.findings["code"])


def test_sessions_after_the_as_of_day_are_left_out_by_the_database(engine: Engine) -> None:
    config = load_rules()
    history, decisions = _random_caseload(3, patients=30)
    _store(engine, history, decisions, 30)
    early = date(2026, 3, 1)
    window = recent_window(history, early, config)
    from_db = weekly_review(engine=engine, actor=READER, as_of=early, config=config)
    assert from_db.table["latest_session"].max() <= pd.Timestamp(early) + pd.Timedelta(days=1)
    with_sessions = set(window.summary["patient_id"])
    has_latest = set(from_db.table.loc[from_db.table["latest_session"].notna(), "patient_id"])
    assert has_latest == with_sessions


def test_an_empty_clinic_and_patients_without_sessions_review_without_error(
    engine: Engine,
) -> None:
    config = load_rules()
    empty = weekly_review(engine=engine, actor=READER, as_of=AS_OF, config=config)
    assert empty.table.empty
    _store(engine, pd.DataFrame(columns=["patient_id"]), [], 2)
    review = weekly_review(engine=engine, actor=READER, as_of=AS_OF, config=config)
    assert list(review.table["patient_id"]) == ["P000", "P001"]
    assert set(review.table["status"]) == {"green"} and review.table["stale"].all()
