"""Large files: all-or-nothing under a failure mid-way, and the 500,000-row budget.

The 500,000-row run takes about a minute per database and ~1.2 GB; it runs
when ``REDFLAGS_BENCH_500K=1`` (CI sets it in its nightly job), and always at
a smaller scale.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from models import store
from services import records
from tests.records.bigfile import session_rows, write_sessions_file
from tests.records.conftest import audit_details, clinical_counts, csv_bytes, import_sessions

REPO = Path(__file__).resolve().parents[2]
LAST_DAY = date(2026, 11, 1)


def big_file(rows: int) -> bytes:
    from redflags.fields import SESSION_COLUMNS

    return csv_bytes(SESSION_COLUMNS, session_rows(rows, last_day=LAST_DAY))


def test_a_failure_after_the_first_chunk_leaves_nothing_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "INSERT_CHUNK", 100)
    written: list[int] = []
    real_insert = store.insert_session_chunk

    def insert_then_fail(
        session: Session, columns: Sequence[str], rows: Sequence[Sequence[object]], same: object
    ) -> None:
        if written:
            raise RuntimeError("the disk is full")
        real_insert(session, columns, rows, same)  # type: ignore[arg-type]
        written.append(len(rows))

    monkeypatch.setattr(store, "insert_session_chunk", insert_then_fail)
    before = clinical_counts(engine)
    with pytest.raises(RuntimeError, match="the disk is full"):
        import_sessions(engine, big_file(1_000), filename="big.csv")
    assert written == [100]  # the first chunk did reach the database…
    assert clinical_counts(engine) == before  # …and was rolled back with the rest
    failed = audit_details(engine, "sessions_import")[-1]
    assert (failed["outcome"], failed["file"], failed["imported"]) == ("failed", "big.csv", 0)


def test_a_file_of_many_chunks_imports_whole(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "INSERT_CHUNK", 700)
    monkeypatch.setattr("redflags.records.CHUNK_ROWS", 900)
    result = import_sessions(engine, big_file(5_000), today=date(2026, 11, 20))
    assert result.ok and result.imported == 5_000, result.messages()
    assert clinical_counts(engine) == {"patients": 50, "sessions": 5_000, "decisions": 0}
    again = import_sessions(engine, big_file(5_000), today=date(2026, 11, 20))
    assert (again.imported, again.unchanged) == (0, 5_000)


def test_one_bad_row_deep_in_a_large_file_refuses_it_all(engine: Engine) -> None:
    data = big_file(3_000).replace(b"\r\nP00029,", b"\r\nP 29,", 1)
    result = import_sessions(engine, data)
    assert not result.ok
    assert result.messages() == [
        "row 2901, column patient_id: a patient code is 1–64 letters, digits, '-', '_' or '.' "
        "(no spaces or other signs)"
    ]
    assert clinical_counts(engine)["sessions"] == 0


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("REDFLAGS_BENCH_500K") != "1", reason="set REDFLAGS_BENCH_500K=1 to run"
)
def test_500000_rows_import_within_60_seconds_and_2_gb(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "500k.csv"
    write_sessions_file(path, 500_000, last_day=LAST_DAY)
    env = {**os.environ, "DATABASE_URL": db_url, "CLINIC_TIMEZONE": "UTC"}
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "init-db"], cwd=REPO, env=env, check=True, capture_output=True)
    started = time.monotonic()
    done = subprocess.run(
        [*manage, "import-sessions", str(path)], cwd=REPO, env=env, capture_output=True, text=True
    )
    elapsed = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"500,000 rows: {elapsed:.1f} s, peak {peak_mb:.0f} MB")
    assert done.returncode == 0, done.stderr
    assert "imported: 500000" in done.stdout
    assert elapsed <= 60
    assert peak_mb <= 2048
    assert path.stat().st_size <= records.DEFAULT_MAX_BYTES


def test_a_row_stored_by_someone_else_between_check_and_insert_refuses_the_file(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique key catches what the check could not see (a concurrent import)."""
    assert import_sessions(engine, big_file(150)).ok
    before = clinical_counts(engine)
    monkeypatch.setattr(store, "stored_sessions", lambda *_args: {})  # blind to stored rows
    result = import_sessions(engine, big_file(300))
    assert result.outcome is records.Outcome.REFUSED
    assert result.messages()[0].startswith("file: the database refused the rows")
    assert clinical_counts(engine) == before
    assert audit_details(engine, "sessions_import")[-1]["outcome"] == "refused"
