"""The engine keeps patient data out of error messages and the SQLite file private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from models.db import create_db_engine, upgrade
from models.tables import patient_table, utc_now


def test_a_database_error_does_not_carry_the_values_it_was_given(engine: Engine) -> None:
    row = {
        "code": "P-1",
        "display_name": "Secret Name",
        "primary_clinician": "",
        "treatment_status": "active",
        "created_at": utc_now(),
    }
    with engine.begin() as connection:
        connection.execute(insert(patient_table).values(**row))
    with pytest.raises(IntegrityError) as error, engine.begin() as connection:
        connection.execute(insert(patient_table).values(**{**row, "display_name": "Other Name"}))
    assert "Other Name" not in str(error.value)
    assert "parameters hidden" in str(error.value)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_a_new_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path, umask: int) -> None:
    import os

    previous = os.umask(umask)
    try:
        path = tmp_path / "clinic.db"
        engine = create_db_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.begin() as connection:  # a write: the -wal and -shm files exist now
            connection.exec_driver_sql("CREATE TABLE probe (x INTEGER)")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob("clinic.db*")}
        engine.dispose()
    finally:
        os.umask(previous)
    assert {"clinic.db", "clinic.db-wal", "clinic.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes
