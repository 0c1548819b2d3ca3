"""Helpers for the records tests: CSV builders, row counts, audit rows."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from models.tables import audit_table, decision_table, patient_table, session_table
from redflags.codes import Role
from redflags.fields import DECISION_COLUMNS, SESSION_COLUMNS
from services import records
from services.access import Actor

TODAY = date(2026, 11, 20)
#: The clinic's clock for decisions: noon on TODAY (UTC clinic).
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
CLINICIAN = Actor(username="dr.test", role=Role.CLINICIAN)

#: One valid session per key, as the cells of the full sessions header.
GOOD_SESSION: dict[str, str] = {
    "patient_id": "P-001",
    "session_date": "2026-11-02T09:30",
    "route": "esketamine_nasal",
    "dose_mg": "56",
    "weight_kg": "71.5",
    "panic": "8",
    "despair": "2",
    "vulnerability": "",
    "death_imagery": "0",
    "shame": "",
    "grief": "5",
    "panic_course": "persisted",
    "despair_course": "",
    "vulnerability_course": "",
    "death_imagery_course": "",
    "shame_course": "",
    "grief_course": "contained",
    "dissociation_cadss": "12",
    "bp_pre_sys": "128",
    "bp_pre_dia": "82",
    "bp_40_sys": "150",
    "bp_40_dia": "90",
    "bp_end_sys": "130",
    "bp_end_dia": "80",
    "observation_min": "120",
    "phq9": "14",
    "phq9_item9": "1",
    "commitment": "a walk without my phone",
    "note": "Tolerated the dose.",
}

GOOD_DECISION: dict[str, str] = {
    "patient_id": "P-001",
    "decided_at": "2026-11-03T16:00",
    "decision": "switch_route",
    "route_from": "ketamine_iv",
    "route_to": "esketamine_nasal",
    "dose_from_mg": "40",
    "dose_to_mg": "56",
    "participants": "Dr. Sato;patient;partner",
    "patient_view": "The fast onset scares me; I'd like something gentler.",
    "rationale": "Repeated panic on IV.",
    "flags_considered": "repeated_panic",
    "recorded_by": "dr.sato",
}


def csv_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[str]] = (),
    *,
    newline: str = "\r\n",
    bom: bool = False,
    encoding: str = "utf-8",
) -> bytes:
    """A CSV file, quoting cells only where needed (commas, quotes, line breaks)."""

    def cell(text: str) -> str:
        if any(c in text for c in ',"\r\n'):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [",".join(cell(c) for c in header), *(",".join(cell(c) for c in r) for r in rows)]
    text = newline.join(lines) + newline
    return (("\ufeff" if bom else "") + text).encode(encoding)


def session(**changes: str) -> dict[str, str]:
    """A valid session with some cells changed."""
    return {**GOOD_SESSION, **changes}


def sessions_file(*rows: Mapping[str, str], columns: Sequence[str] = SESSION_COLUMNS) -> bytes:
    return csv_bytes(columns, [[row.get(c, "") for c in columns] for row in rows])


def decisions_file(*rows: Mapping[str, str], columns: Sequence[str] = DECISION_COLUMNS) -> bytes:
    return csv_bytes(columns, [[row.get(c, "") for c in columns] for row in rows])


def counts(engine: Engine) -> dict[str, int]:
    """How many patients, sessions, decisions and audit rows the database holds."""
    with engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in (
                ("patients", patient_table),
                ("sessions", session_table),
                ("decisions", decision_table),
                ("audit", audit_table),
            )
        }


def clinical_counts(engine: Engine) -> dict[str, int]:
    return {k: v for k, v in counts(engine).items() if k != "audit"}


def audit_details(engine: Engine, action: str) -> list[dict[str, Any]]:
    """The details of every audit row with ``action``, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(audit_table.c.details, audit_table.c.username, audit_table.c.entity_id)
            .where(audit_table.c.action == action)
            .order_by(audit_table.c.id)
        ).all()
    return [
        {**json.loads(details), "_username": username, "_entity_id": entity_id}
        for details, username, entity_id in rows
    ]


def import_sessions(engine: Engine, data: bytes | Path, **options: Any) -> records.ImportResult:
    named = {"filename": "sessions.csv"} if isinstance(data, bytes) else {}
    options = {**named, "today": TODAY, "tz": UTC_ZONE, **options}
    return records.import_sessions(engine=engine, actor=CLINICIAN, data=data, **options)


def import_decisions(engine: Engine, data: bytes | Path, **options: Any) -> records.ImportResult:
    named = {"filename": "decisions.csv"} if isinstance(data, bytes) else {}
    options = {**named, "now": NOW, "tz": UTC_ZONE, **options}
    return records.import_decisions(engine=engine, actor=CLINICIAN, data=data, **options)


def export_sessions(engine: Engine, **options: Any) -> records.ExportResult:
    return records.export_sessions(engine=engine, actor=CLINICIAN, tz=UTC_ZONE, **options)


@pytest.fixture(autouse=True)
def _clinic_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Services that read CLINIC_TIMEZONE themselves (the review) see the tests' zone."""
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")
    yield
