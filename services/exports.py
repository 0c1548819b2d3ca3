"""The CSV files behind the pages' download buttons: the same exports as ``manage.py export``.

A download button calls :func:`build_export` only when it is clicked (Streamlit's
deferred download), so each file is built, and audited, once per download.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import Engine

from redflags.config import RulesConfig
from services import records
from services.access import Actor

#: Written into the audit row of each export as where the file went.
DOWNLOAD_DESTINATION = "dashboard download"


class ExportKind(StrEnum):
    """What a file holds (records.md, "Export")."""

    SESSIONS = "sessions"
    REVIEW = "review"
    DECISIONS = "decisions"


EXPORT_WORDS: dict[ExportKind, str] = {
    ExportKind.SESSIONS: "Sessions (one row per dosing session)",
    ExportKind.REVIEW: "Review (one row per patient, as of a date)",
    ExportKind.DECISIONS: "Decisions (one row per care-team decision)",
}


@dataclass(frozen=True)
class ExportRequest:
    """One file to build: what, for whom (None: the whole caseload) and as of when."""

    what: ExportKind
    patient: str | None = None
    #: The review's evaluation date; for sessions and decisions, the last day included
    #: (None: everything).
    as_of: date | None = None


def file_name(request: ExportRequest, today: date) -> str:
    """The download's file name, e.g. ``review-DEMO-001-2026-11-25.csv``."""
    stamp = (request.as_of or today).isoformat()
    who = f"-{request.patient}" if request.patient else ""
    return f"{request.what.value}{who}-{stamp}.csv"


def build_export(
    *, engine: Engine, actor: Actor, request: ExportRequest, config: RulesConfig
) -> records.ExportResult:
    """The CSV bytes of ``request``, through :mod:`services.records` (audited there)."""
    if request.what is ExportKind.SESSIONS:
        return records.export_sessions(
            engine=engine,
            actor=actor,
            patient=request.patient,
            as_of=request.as_of,
            destination=DOWNLOAD_DESTINATION,
        )
    if request.what is ExportKind.DECISIONS:
        return records.export_decisions(
            engine=engine,
            actor=actor,
            patient=request.patient,
            as_of=request.as_of,
            destination=DOWNLOAD_DESTINATION,
        )
    return records.export_review(
        engine=engine,
        actor=actor,
        as_of=request.as_of,
        patient=request.patient,
        config=config,
        destination=DOWNLOAD_DESTINATION,
    )
