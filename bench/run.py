"""Benchmark: the weekly review at the scale of a clinic network (issue 7).

    python -m bench.run [--patients 5000] [--sessions 100] [--runs 5]
                        [--backends sqlite,postgresql]

Builds a deterministic caseload (P patients × S sessions, CSV in bench/out/,
and an older history of the same size) and, for each backend, two databases:
one with the caseload, one with the caseload and its older history (history
doubled). It prints the import of the CSV (time and peak memory of the
importing process), the weekly review for the whole caseload (database to
review table), the floor measured in the same run (the whole sessions table
read into pandas with one plain query), the same review and floor with the
history doubled, the weekly review page's table, one patient's report and the
review CSV export. Timings are medians over rounds in which the measurements
take turns. Run by hand, not by the test suite. PostgreSQL uses
BENCH_DATABASE_URL (default: the local test server), in schemas of its own that
are dropped afterwards.
"""

from __future__ import annotations

import argparse
import gc
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
from services.caseload import caseload
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


def timings(runs: int, actions: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median wall time of each action over ``runs`` rounds, after one warm-up round.

    The actions take turns within each round, so that a passing disturbance of
    the machine (autovacuum, another process) falls on all of them alike.
    """
    for action in actions.values():
        action()
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            gc.collect()
            start = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


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


def run_backend(urls: tuple[str, str], files: tuple[Path, Path], runs: int) -> list[Figure]:
    """Figures for one backend: ``urls`` are two empty databases (1× and 2× history)."""
    config = load_rules()
    actor = command_line_actor()
    engines = [create_db_engine(url) for url in urls]
    for engine in engines:
        upgrade(engine)
    figures: list[Figure] = []

    seconds, peak = import_in_child(urls[0], files[0])
    figures.append(Figure("import of the sessions CSV", seconds, f"peak {peak:,.0f} MB"))
    import_in_child(urls[1], files[0])
    seconds, peak = import_in_child(urls[1], files[1])
    figures.append(
        Figure("import of an older history into it (doubled)", seconds, f"peak {peak:,.0f} MB")
    )
    for engine in engines:
        settle(engine)

    def review(engine: Engine) -> Callable[[], object]:
        return lambda: weekly_review(engine=engine, actor=actor, as_of=AS_OF, config=config)

    def floor(engine: Engine) -> Callable[[], object]:
        def read_all() -> object:
            with engine.connect() as connection:
                return pd.read_sql(text("SELECT * FROM dosing_session"), connection)

        return read_all

    single, doubled = engines
    seconds_of = timings(
        runs,
        {
            "review": review(single),
            "floor": floor(single),
            "review2": review(doubled),
            "floor2": floor(doubled),
            "report": lambda: patient_report(
                engine=single,
                actor=actor,
                patient_code="B00042",
                as_of=AS_OF,
                config=config,
                audit_view=False,
            ),
            "export": lambda: export_review(engine=single, actor=actor, as_of=AS_OF),
            "page": lambda: caseload(
                engine=single, actor=actor, as_of=AS_OF, config=config, audit_view=False
            ),
        },
    )
    review_s, floor_s = seconds_of["review"], seconds_of["floor"]
    figures += [
        Figure("weekly review, whole caseload", review_s, f"{review_s / floor_s:.2f}× floor"),
        Figure("floor: whole sessions table into pandas", floor_s),
        Figure(
            "weekly review, history doubled",
            seconds_of["review2"],
            f"{seconds_of['review2'] / review_s:.2f}× the review at 1×",
        ),
        Figure("floor, history doubled", seconds_of["floor2"]),
        Figure(
            "the weekly review page's table (the review in words, names, sparklines)",
            seconds_of["page"],
            "computed once per change; a filter reuses it",
        ),
        Figure("one patient's report", seconds_of["report"]),
        Figure("review CSV export", seconds_of["export"]),
    ]
    for engine in engines:
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
        cleanups: list[Callable[[], None]] = []
        if backend == "sqlite":
            urls = []
            for name in ("bench.db", "bench2.db"):
                db = OUT / name
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                urls.append(f"sqlite:///{db}")
        else:
            base = os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)
            urls = []
            for _ in range(2):
                url, drop = postgres_schema_url(base)
                urls.append(url)
                cleanups.append(drop)
        try:
            figures = run_backend((urls[0], urls[1]), (newer, older), args.runs)
        finally:
            for cleanup in cleanups:
                cleanup()
        print(f"| {backend} | seconds | |")
        print("|---|---:|---|")
        for figure in figures:
            print(f"| {figure.what} | {figure.seconds:.3f} | {figure.note} |")
        print()


if __name__ == "__main__":
    main()
