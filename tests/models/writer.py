"""A separate writer process for the concurrency and durability tests.

    python -m tests.models.writer DATABASE_URL PATIENT_CODE COUNT [--hold]

Waits until the file named by ``REDFLAGS_TEST_GO`` exists (so that all writers
start together), then writes COUNT sessions, one transaction each, each
transaction reading before it writes. With --hold it prints "committed" after
the last commit and sleeps, waiting to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from models.db import create_db_engine, write_session
from models.tables import patient_table, session_table


def main() -> None:
    url, code, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    hold = "--hold" in sys.argv
    go = os.environ.get("REDFLAGS_TEST_GO")
    while go and not Path(go).exists():
        time.sleep(0.005)
    engine = create_db_engine(url)
    sessions = session_table
    start = datetime(2025, 1, 1, 8, 0)
    for i in range(count):
        with write_session(engine) as session:
            patient_id = session.execute(
                select(patient_table.c.id).where(patient_table.c.code == code)
            ).scalar_one()
            already = session.execute(
                select(func.count())
                .select_from(sessions)
                .where(sessions.c.patient_id == patient_id)
            ).scalar_one()
            session.execute(
                insert(sessions).values(
                    patient_id=patient_id,
                    session_at=start + timedelta(hours=already),
                    time_recorded=True,
                    route="ketamine_iv",
                    dose_mg=35,
                    note=f"write {i}",
                    recorded_by="writer",
                    created_at=start,
                    updated_at=start,
                )
            )
    if hold:
        print("committed", flush=True)
        time.sleep(60)


if __name__ == "__main__":
    main()
