"""The pages' queries: the last few PHQ-9 scores per patient by an index seek, patient insert."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, text

from models import page_queries
from models.db import write_session
from models.tables import patient_table, session_table, utc_now

UTC = ZoneInfo("UTC")
START = datetime(2026, 1, 5, 9, 0)


def _clinic(engine: Engine) -> None:
    with engine.begin() as connection:
        for number, code in enumerate(("A", "B", "C"), start=1):
            connection.execute(insert(patient_table).values(id=number, code=code))
        rows = []
        for index in range(20):  # A: 20 sessions, PHQ-9 on the even ones
            rows.append(
                {
                    "patient_id": 1,
                    "session_at": START + timedelta(days=3 * index),
                    "route": "ketamine_iv",
                    "dose_mg": 35,
                    "phq9": 27 - index if index % 2 == 0 else None,
                }
            )
        rows.append(
            {"patient_id": 2, "session_at": START, "route": "ketamine_iv", "dose_mg": 35, "phq9": 9}
        )
        connection.execute(insert(session_table), rows)


def test_the_last_scores_of_each_patient_come_oldest_first_and_no_more(engine: Engine) -> None:
    _clinic(engine)
    with engine.connect() as connection:
        scores = page_queries.recent_phq9_scores(
            connection, end_utc=START + timedelta(days=100), per_patient=4, tz=UTC
        )
    a = scores.loc[scores["patient_id"] == "A"]
    # Sessions before day 100: index 0..33 → PHQ-9 at even index ≤ 32, i.e. up to index 32.
    assert list(a["phq9"]) == [27 - i for i in (12, 14, 16, 18)]
    assert a["session_at"].is_monotonic_increasing
    assert list(scores.loc[scores["patient_id"] == "B", "phq9"]) == [9]
    assert "C" not in set(scores["patient_id"]), "a patient without scores has no rows"


def test_scores_after_the_end_are_left_out_and_patients_can_be_named(engine: Engine) -> None:
    _clinic(engine)
    with engine.connect() as connection:
        scores = page_queries.recent_phq9_scores(
            connection,
            end_utc=START + timedelta(days=7),
            per_patient=8,
            tz=UTC,
            patient_codes=["A"],
        )
    assert list(scores["phq9"]) == [27, 25]
    assert set(scores["patient_id"]) == {"A"}


def test_on_sqlite_the_scores_are_read_through_the_phq9_index(sqlite_url: str) -> None:
    from models.db import create_db_engine, upgrade

    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    statement = page_queries._recent_phq9_statement("sqlite", START, 8, None)
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = " ".join(
            str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    engine.dispose()
    assert "ix_dosing_session_phq9" in plan, plan


def test_a_patient_code_is_added_once(engine: Engine) -> None:
    with write_session(engine) as session:
        first = page_queries.insert_patient(
            session,
            code="P-1",
            display_name="",
            primary_clinician="",
            treatment_status="active",
            now=utc_now(),
        )
        again = page_queries.insert_patient(
            session,
            code="P-1",
            display_name="",
            primary_clinician="",
            treatment_status="active",
            now=utc_now(),
        )
    assert isinstance(first, int) and again is None
