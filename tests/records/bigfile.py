"""A large valid sessions CSV, for the 500,000-row import checks (and by hand).

.venv/bin/python -m tests.records.bigfile OUT.csv [ROWS]
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

from redflags.fields import SESSION_COLUMNS

SESSIONS_PER_PATIENT = 100
NOTES = (
    "Tolerated dose; mild dissociation resolved by discharge.",
    "Discussed imagery with curiosity rather than conclusions.",
    'Said "it felt, for once, like weather passing", then rested.',
    "Brought insight to therapy session.",
)


def session_rows(rows: int, *, last_day: date, seed: int = 7) -> list[list[str]]:
    """``rows`` valid sessions: 100 per patient, on distinct days up to ``last_day``."""
    rng = random.Random(seed)
    out: list[list[str]] = []
    for index in range(rows):
        patient, nth = divmod(index, SESSIONS_PER_PATIENT)
        day = last_day - timedelta(days=3 * (SESSIONS_PER_PATIENT - nth))
        route = rng.choice(("esketamine_nasal", "ketamine_iv", "ketamine_im", "ketamine_oral"))
        dose = rng.choice(("28", "56", "84")) if route == "esketamine_nasal" else "37.5"
        themes = [str(rng.randint(0, 10)) if rng.random() < 0.5 else "" for _ in range(6)]
        courses = [
            rng.choice(("reflected", "contained", "persisted", "escalated"))
            if t not in ("", "0") and rng.random() < 0.7
            else ""
            for t in themes
        ]
        pre_sys, pre_dia = rng.randint(100, 150), rng.randint(60, 95)
        phq9 = rng.randint(0, 27)
        when = day.isoformat() + (f"T{rng.randint(8, 17):02d}:30" if nth % 2 else "")
        out.append(
            [
                f"P{patient:05d}",
                when,
                route,
                dose,
                str(rng.randint(50, 110)),
                *themes,
                *courses,
                str(rng.randint(0, 40)) if rng.random() < 0.3 else "",
                str(pre_sys),
                str(pre_dia),
                str(pre_sys + 10),
                str(pre_dia + 5),
                str(pre_sys + 2),
                str(pre_dia + 1),
                str(rng.choice((120, 125, 150))),
                str(phq9),
                str(min(phq9, rng.randint(0, 3))),
                "a walk without my phone",
                rng.choice(NOTES),
            ]
        )
    return out


def write_sessions_file(path: Path, rows: int, *, last_day: date) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(SESSION_COLUMNS)
        writer.writerows(session_rows(rows, last_day=last_day))


if __name__ == "__main__":
    write_sessions_file(
        Path(sys.argv[1]),
        int(sys.argv[2]) if len(sys.argv) > 2 else 500_000,
        last_day=date(2026, 11, 1),
    )
