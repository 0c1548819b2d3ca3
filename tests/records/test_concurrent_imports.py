"""Imports run at the same time behave as if one had waited for the other, on both databases.

SQLite's single writer serialises them by itself; on PostgreSQL an advisory
lock does, so that a file imported twice at once is imported once and found
unchanged once (not refused), two files that create the same new patient both
land, and overlapping rows in different orders cannot deadlock.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import PROJECT_ROOT, create_db_engine, upgrade
from models.tables import patient_table, session_table
from redflags.fields import SESSION_COLUMNS
from tests.records.bigfile import session_rows

ROWS = 10_000
LAST_DAY = date.today() - timedelta(days=10)  # the CLI judges "the future" by the real clock


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(SESSION_COLUMNS)
        writer.writerows(rows)
    return path


def _start(url: str, path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDFLAGS_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "import-sessions", str(path)],
        cwd=PROJECT_ROOT,
        env={**env, "DATABASE_URL": url, "CLINIC_TIMEZONE": "UTC"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_together(url: str, paths: list[Path]) -> list[tuple[int, str]]:
    processes = [_start(url, path) for path in paths]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert "Traceback" not in out + err, err
        outcomes.append((process.returncode, out + err))
    return outcomes


def _counted(output: str, what: str) -> int:
    found = re.search(rf"{what}: (\d+)", output)
    assert found, output
    return int(found.group(1))


@pytest.mark.slow
def test_the_same_rows_imported_three_times_at_once_are_stored_once_and_never_refused(
    db_url: str, tmp_path: Path
) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine)
    rows = session_rows(ROWS, last_day=LAST_DAY)
    same = _write(tmp_path / "same.csv", rows)
    backwards = _write(tmp_path / "backwards.csv", rows[::-1])
    outcomes = _run_together(db_url, [same, same, backwards])
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    imported = [_counted(output, "imported") for _, output in outcomes]
    unchanged = [_counted(output, "unchanged") for _, output in outcomes]
    assert sorted(imported) == [0, 0, ROWS] and sorted(unchanged) == [0, ROWS, ROWS]
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(session_table))
        assert stored.scalar_one() == ROWS
    engine.dispose()


@pytest.mark.slow
def test_two_files_that_create_the_same_new_patient_at_once_both_land(
    db_url: str, tmp_path: Path
) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine)
    rows = session_rows(ROWS, last_day=LAST_DAY)  # 100 sessions per patient
    # Each patient's sessions split between the two files: every new patient is in both.
    paths = [
        _write(tmp_path / "even.csv", rows[0::2]),
        _write(tmp_path / "odd.csv", rows[1::2]),
    ]
    outcomes = _run_together(db_url, paths)
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert sum(_counted(output, "imported") for _, output in outcomes) == ROWS
    with engine.connect() as connection:
        patients = connection.execute(select(func.count()).select_from(patient_table))
        assert patients.scalar_one() == ROWS // 100
        stored = connection.execute(select(func.count()).select_from(session_table))
        assert stored.scalar_one() == ROWS
    engine.dispose()
