"""Concurrent writers wait instead of failing, and a commit survives a killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from models.db import PROJECT_ROOT, create_db_engine, upgrade
from models.tables import patient_table, session_table

WRITERS = 8
SESSIONS_PER_WRITER = 200


def _add_patients(engine: Engine, codes: list[str]) -> None:
    with engine.begin() as connection:
        for code in codes:
            connection.execute(
                insert(patient_table).values(
                    code=code,
                    display_name="",
                    primary_clinician="",
                    treatment_status="active",
                    created_at=datetime(2025, 1, 1),
                )
            )


def _writer(
    url: str, code: str, count: int, *extra: str, env: dict[str, str]
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.models.writer", url, code, str(count), *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_eight_processes_writing_at_once_lose_nothing_and_never_see_a_lock_error(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_db_engine(sqlite_url)
    upgrade(engine)
    codes = [f"W{n}" for n in range(WRITERS)]
    _add_patients(engine, codes)
    go = tmp_path / "go"
    env = {**os.environ, "REDFLAGS_TEST_GO": str(go)}
    writers = [_writer(sqlite_url, code, SESSIONS_PER_WRITER, env=env) for code in codes]
    go.touch()
    outcomes = [writer.communicate(timeout=300) for writer in writers]
    errors = [stderr for _, stderr in outcomes if stderr.strip()]
    assert not any("database is locked" in e for e in errors), errors
    assert [w.returncode for w in writers] == [0] * WRITERS, errors
    with engine.connect() as connection:
        rows = connection.execute(
            select(patient_table.c.code, func.count(session_table.c.id))
            .join(session_table, session_table.c.patient_id == patient_table.c.id)
            .group_by(patient_table.c.code)
        ).all()
    per_patient = {code: count for code, count in rows}
    assert per_patient == dict.fromkeys(codes, SESSIONS_PER_WRITER)


def test_a_process_killed_right_after_a_commit_leaves_its_row_on_disk(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine)
    _add_patients(engine, ["K1"])
    writer = _writer(db_url, "K1", 1, "--hold", env=dict(os.environ))
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "committed"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    engine.dispose()
    fresh = create_db_engine(db_url)  # a new connection, as after a restart
    with fresh.connect() as connection:
        notes = connection.execute(select(session_table.c.note)).scalars().all()
    assert notes == ["write 0"]
