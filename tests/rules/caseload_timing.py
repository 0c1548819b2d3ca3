"""Timing sanity check (not a test): evaluate 5,000 patients × 3 recent sessions.

Run: ``.venv/bin/python -m tests.rules.caseload_timing``. Prints the best and
median wall-clock and CPU time of ``evaluate`` over a synthetic caseload, for
a "stress" caseload (every value random, so most patients carry several
flags) and a "typical" one (most sessions unremarkable).
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from redflags.config import load_rules
from redflags.engine import Review, evaluate, recent_window
from redflags.fields import COURSES, ROUTES, THEMES

PATIENTS = 5_000
SESSIONS = 3
AS_OF = date(2025, 10, 30)
REPEATS = 15


def caseload(seed: int, remarkable: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.Index]:
    """Sessions and decisions; ``remarkable`` is the share of values drawn from the whole range."""
    rng = np.random.default_rng(seed)
    rows = PATIENTS * SESSIONS
    codes = np.array([f"P{i:05d}" for i in range(PATIENTS)], dtype=object)
    days = np.tile(np.arange(SESSIONS) * 7, PATIENTS) + rng.integers(0, 5, rows)
    history: dict[str, object] = {
        "patient_id": np.repeat(codes, SESSIONS),
        "session_at": np.datetime64("2025-10-01T09:00") + days.astype("timedelta64[D]"),
        "route": rng.choice(np.array(ROUTES, dtype=object), rows),
        "dose_mg": rng.choice([28.0, 56.0, 84.0], rows),
    }

    def values(low: int, high: int, calm: int) -> np.ndarray:
        drawn = rng.integers(low, high, rows).astype(float)
        drawn = np.where(rng.random(rows) < remarkable, drawn, calm)
        drawn[rng.random(rows) < 0.1] = np.nan
        return drawn

    for theme in THEMES:
        level = values(0, 11, 2)
        course = rng.choice(np.array([*COURSES, None], dtype=object), rows)
        course[~(level > 0)] = None
        history[theme], history[f"{theme}_course"] = level, course
    for column, low, high, calm in (
        ("bp_pre_sys", 100, 160, 125),
        ("bp_pre_dia", 60, 100, 80),
        ("bp_40_sys", 110, 200, 135),
        ("bp_40_dia", 60, 120, 85),
        ("bp_end_sys", 100, 170, 125),
        ("bp_end_dia", 60, 100, 80),
        ("observation_min", 60, 180, 130),
        ("phq9", 0, 27, 12),
        ("phq9_item9", 0, 2, 0),
    ):
        history[column] = values(low, high, calm)
    frame = pd.DataFrame(history)
    frame["phq9"] = frame["phq9"].astype("Int64")
    decisions = pd.DataFrame(
        {
            "patient_id": codes[::3],
            "decided_at": pd.Timestamp("2025-10-20"),
            "decision": "continue",
            "flags_considered": "repeated_panic;watch_panic;suicidality",
        }
    )
    return frame, decisions, pd.Index(codes)


def timed(frame: pd.DataFrame, decisions: pd.DataFrame, patients: pd.Index) -> Review:
    rules = load_rules()
    window = recent_window(frame, AS_OF, rules)
    evaluate(window, decisions, patients, AS_OF, rules)  # warm-up
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(REPEATS):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = evaluate(window, decisions, patients, AS_OF, rules)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(
        f"  evaluate: wall best {min(wall):.3f} s, median {statistics.median(wall):.3f} s; "
        f"cpu best {min(cpu):.3f} s ({len(result.findings)} findings, "
        f"{len(result.recommendations)} recommendations)"
    )
    return result


def main() -> None:
    for name, remarkable in (("stress (all values random)", 1.0), ("typical", 0.15)):
        frame, decisions, patients = caseload(7, remarkable)
        started = time.perf_counter()
        recent_window(frame, AS_OF, load_rules())
        print(f"{name}: {PATIENTS} patients × {SESSIONS} sessions")
        print(f"  recent_window: {time.perf_counter() - started:.3f} s")
        result = timed(frame, decisions, patients)
        print(f"  status: {result.table['status'].value_counts().to_dict()}")


if __name__ == "__main__":
    main()
