"""Benchmark: the weekly review at the scale of a clinic network (issue 7).

    python -m bench.run [--patients 5000] [--sessions 100] [--backends sqlite,postgresql]

Builds a deterministic caseload (P patients × S sessions, CSV in bench/out/),
and for each backend prints: the import of the CSV (time and peak memory of
the importing process), the weekly review for the whole caseload (database to
review table), the floor measured in the same run (the whole sessions table
read into pandas with one plain query), the same review with the history
doubled, one patient's report and the review CSV export. Run by hand, not by
the test suite. PostgreSQL uses BENCH_DATABASE_URL (default: the local test
server) in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text

from models.db import PROJECT_ROOT, create_db_engine, upgrade
from redflags.config import load_rules
from redflags.fields import SESSION_COLUMNS, THEMES
from services.access import command_line_actor
from services.records import export_review
from services.report import patient_report
from services.review import weekly_review

OUT = PROJECT_ROOT / "bench" / "out"
AS_OF = date(2026, 11, 20)
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def build_csv(path: Path, patients: int, sessions: int, *, seed: int, older: bool) -> int:
    """Write ``patients × sessions`` valid sessions; ``older`` places them a history earlier."""
    rng = np.random.default_rng(seed)
    n = patients * sessions
    patient = np.repeat(np.arange(patients), sessions)
    index = np.tile(np.arange(sessions), patients)
    # Every patient's sessions 3 days apart, ending 0–6 days before AS_OF; the older
    # batch ends where the newer one starts, so doubling pushes history back in time.
    end_offset = np.random.default_rng(0).integers(0, 7, patients)[patient]
    days_back = end_offset + 3 * (sessions - 1 - index) + (3 * sessions if older else 0)
    moments = (
        pd.Timestamp(AS_OF)
        - pd.to_timedelta(days_back, unit="D")
        + pd.to_timedelta(rng.choice([9 * 60, 10 * 60 + 30, 13 * 60, 14 * 60 + 30], n), unit="m")
    )
    routes = np.array(["esketamine_nasal", "ketamine_iv", "ketamine_im", "ketamine_oral"])
    route = routes[rng.integers(0, 4, patients)][patient]
    dose = np.where(
        route == "esketamine_nasal",
        rng.choice([56, 84], n),
        rng.integers(30, 120, n),
    )
    frame = pd.DataFrame(
        {
            "patient_id": np.char.add("B", np.char.zfill(patient.astype(str), 5)),
            "session_date": moments.strftime("%Y-%m-%dT%H:%M"),
            "route": route,
            "dose_mg": dose,
        }
    )
    for theme in THEMES:
        level = rng.integers(0, 11, n).astype(float)
        level[rng.random(n) < 0.3] = np.nan
        courses = np.array(["reflected", "contained", "persisted", "escalated"])[
            rng.integers(0, 4, n)
        ]
        frame[theme] = pd.array(level, dtype="Int64")
        frame[f"{theme}_course"] = np.where(np.nan_to_num(level) > 0, courses, "")
    pre_sys = rng.integers(105, 150, n)
    pre_dia = rng.integers(60, 95, n)
    frame["bp_pre_sys"], frame["bp_pre_dia"] = pre_sys, pre_dia
    frame["bp_40_sys"], frame["bp_40_dia"] = pre_sys + rng.integers(0, 45, n), pre_dia + 5
    frame["bp_end_sys"], frame["bp_end_dia"] = pre_sys + 2, pre_dia + 1
    frame["observation_min"] = rng.choice([90, 120, 135], n)
    phq9 = rng.integers(0, 28, n).astype(float)
    phq9[rng.random(n) < 0.6] = np.nan
    frame["phq9"] = pd.array(phq9, dtype="Int64")
    item9 = np.minimum(rng.integers(0, 2, n), np.nan_to_num(phq9)).astype(float)
    item9[np.isnan(phq9)] = np.nan
    frame["phq9_item9"] = pd.array(item9, dtype="Int64")
    frame["note"] = np.where(rng.random(n) < 0.2, "Settled well; integration discussed.", "")
    frame = frame.reindex(columns=list(SESSION_COLUMNS))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return n


@dataclass
class Figure:
    what: str
    seconds: float
    note: str = ""


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Median wall time of ``runs`` calls, after one warm-up."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_in_child(url: str, csv: Path) -> tuple[float, float]:
    """Run the import in its own process: (seconds, peak RSS of that process in MB)."""
    env = {**os.environ, "DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_child", str(csv)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"import failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}"
        )
    peak_kb = int(done.stdout.rsplit("peak_rss_kb=", 1)[1].split()[0])
    return elapsed, peak_kb / 1024


def settle(engine: Engine) -> None:
    """Let PostgreSQL's post-import maintenance finish before timing (steady state)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE dosing_session")


def run_backend(
    name: str, url: str, files: tuple[Path, Path], patients: int, runs: int
) -> list[Figure]:
    config = load_rules()
    actor = command_line_actor()
    engine = create_db_engine(url)
    upgrade(engine)
    figures: list[Figure] = []

    seconds, peak = import_in_child(url, files[0])
    figures.append(Figure("import of the sessions CSV", seconds, f"peak {peak:,.0f} MB"))
    settle(engine)

    def review() -> object:
        return weekly_review(engine=engine, actor=actor, as_of=AS_OF, config=config)

    def floor() -> object:
        with engine.connect() as connection:
            return pd.read_sql(text("SELECT * FROM dosing_session"), connection)

    review_s = best_of(runs, review)
    floor_s = best_of(runs, floor)
    figures.append(
        Figure("weekly review, whole caseload", review_s, f"{review_s / floor_s:.2f}× floor")
    )
    figures.append(Figure("floor: whole sessions table into pandas", floor_s))

    code = "B00042"
    report_s = best_of(
        runs,
        lambda: patient_report(
            engine=engine,
            actor=actor,
            patient_code=code,
            as_of=AS_OF,
            config=config,
            audit_view=False,
        ),
    )
    figures.append(Figure("one patient's report", report_s))
    export_s = best_of(
        max(1, runs // 2), lambda: export_review(engine=engine, actor=actor, as_of=AS_OF)
    )
    figures.append(Figure("review CSV export", export_s))

    seconds, peak = import_in_child(url, files[1])
    figures.append(
        Figure("import of the older half (history doubled)", seconds, f"peak {peak:,.0f} MB")
    )
    doubled_s = best_of(runs, review)
    doubled_floor = best_of(runs, floor)
    figures.append(
        Figure(
            "weekly review, history doubled",
            doubled_s,
            f"{doubled_s / review_s:.2f}× the review at 1×",
        )
    )
    figures.append(Figure("floor, history doubled", doubled_floor))
    engine.dispose()
    return figures


def postgres_schema_url(base: str) -> tuple[str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", drop


def _nothing() -> None:
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()

    newer = OUT / f"sessions_{args.patients}x{args.sessions}.csv"
    older = OUT / f"sessions_{args.patients}x{args.sessions}_older.csv"
    for path, seed, is_older in ((newer, 1, False), (older, 2, True)):
        if not path.exists():
            rows = build_csv(path, args.patients, args.sessions, seed=seed, older=is_older)
            print(f"built {path.name}: {rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB")

    print(
        f"\n{args.patients:,} patients × {args.sessions} sessions "
        f"({args.patients * args.sessions:,} sessions), as of {AS_OF}; median of {args.runs} runs\n"
    )
    for backend in args.backends.split(","):
        cleanup: Callable[[], None] = _nothing
        if backend == "sqlite":
            db = OUT / "bench.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{db}"
        else:
            url, cleanup = postgres_schema_url(os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT))
        try:
            figures = run_backend(backend, url, (newer, older), args.patients, args.runs)
        finally:
            cleanup()
        print(f"| {backend} | seconds | |")
        print("|---|---:|---|")
        for figure in figures:
            print(f"| {figure.what} | {figure.seconds:.3f} | {figure.note} |")
        print()


if __name__ == "__main__":
    main()
