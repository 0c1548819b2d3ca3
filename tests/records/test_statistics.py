"""A large import leaves the query planner's statistics up to date."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from models import store
from tests.records.conftest import import_sessions, session, sessions_file


def _analysed(engine: Engine, table: str = "dosing_session") -> bool:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            query = (
                "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables"
                " WHERE relname = :table AND schemaname = current_schema()"
            )
        else:
            exists = connection.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            ).scalar_one()
            if not exists:
                return False
            query = "SELECT count(*) > 0 FROM sqlite_stat1 WHERE tbl = :table"
        return bool(connection.execute(text(query), {"table": table}).scalar_one())


def _rows(count: int) -> bytes:
    return sessions_file(
        *(
            session(patient_id=f"P{n}", session_date=f"2026-11-{1 + n % 9:02d}")
            for n in range(count)
        )
    )


def test_an_import_above_the_threshold_refreshes_statistics(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "STATISTICS_AFTER_ROWS", 20)
    assert import_sessions(engine, _rows(25)).ok
    assert _analysed(engine)
    assert _analysed(engine, "patient"), "the import created its patients: they count too"


def test_a_large_import_of_known_patients_leaves_the_patient_statistics_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert import_sessions(engine, _rows(5)).ok  # creates P0…P4, below the threshold
    monkeypatch.setattr(store, "STATISTICS_AFTER_ROWS", 20)
    later = sessions_file(
        *(session(patient_id=f"P{n % 5}", session_date=f"2026-10-{1 + n:02d}") for n in range(25))
    )
    assert import_sessions(engine, later).ok
    assert _analysed(engine)
    assert not _analysed(engine, "patient")


def test_a_small_import_leaves_statistics_to_the_database(engine: Engine) -> None:
    assert import_sessions(engine, _rows(5)).ok
    assert not _analysed(engine)
