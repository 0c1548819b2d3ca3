"""The audit trail for administrators: filtered, shown as a table, exported as CSV (audited).

Dates in the filter are the clinic's calendar days (``CLINIC_TIMEZONE``); the
rows keep their UTC time, shown and exported as ISO 8601 with ``Z``. The CSV
goes through the same formula-injection-safe writer as the records exports
(:func:`redflags.csv_format.write_csv`): a username or file name that starts
with ``=`` cannot become a spreadsheet formula.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine

from models import audit_queries
from models.audit_queries import AuditFilter
from models.db import read_session
from models.tables import AuditEvent
from redflags.clinic_time import clinic_timezone, local_to_utc, utc_to_local
from redflags.csv_format import write_csv
from redflags.labels import format_date
from services import audit
from services.access import Actor, Permission, require
from services.audit_words import action_words, audit_summary

#: Columns of the audit table and of its CSV, in order.
AUDIT_COLUMNS: tuple[str, ...] = (
    "id",
    "at_utc",
    "username",
    "role",
    "action",
    "entity",
    "entity_id",
    "patient_id",
    "details",
    "hash",
)
#: Most rows the page shows at once (the CSV holds every matching row).
PAGE_ROWS = 2_000


class AuditQueryError(ValueError):
    """A filter that cannot be applied (e.g. a date range that ends before it starts)."""


@dataclass(frozen=True)
class AuditQuery:
    """The filters of the audit page; None or blank means any."""

    first_day: date | None = None
    last_day: date | None = None
    username: str | None = None
    action: str | None = None
    patient_code: str | None = None

    def to_filter(self, tz: ZoneInfo) -> AuditFilter:
        """The same filter in UTC (whole clinic days, the last day included)."""
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise AuditQueryError("The date range ends before it starts.")

        def blank_is_any(text: str | None) -> str | None:
            return text.strip() if text is not None and text.strip() else None

        return AuditFilter(
            start_utc=local_to_utc(datetime.combine(self.first_day, time()), tz)
            if self.first_day
            else None,
            end_utc=local_to_utc(datetime.combine(self.last_day + timedelta(days=1), time()), tz)
            if self.last_day
            else None,
            username=blank_is_any(self.username),
            action=blank_is_any(self.action),
            patient_code=blank_is_any(self.patient_code),
        )


@dataclass(frozen=True)
class AuditPage:
    """What the audit page shows: the newest matching rows and how many match in all."""

    rows: pd.DataFrame
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


@dataclass(frozen=True)
class AuditExport:
    """A CSV of the matching audit rows; its export is itself in the trail."""

    data: bytes
    rows: int
    sha256: str
    filename: str


@dataclass(frozen=True)
class AuditChoices:
    """The values the filters offer."""

    usernames: list[str]
    actions: list[str]


def _utc_text(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def _cells(event: AuditEvent) -> tuple[str, ...]:
    return (
        str(event.id or ""),
        _utc_text(event.at),
        event.username,
        event.role,
        event.action,
        event.entity,
        event.entity_id,
        event.patient_code,
        event.details,
        event.hash,
    )


def _frame(events: list[AuditEvent], tz: ZoneInfo) -> pd.DataFrame:
    """The page's rows: the CSV's columns, ``when`` in the clinic's time and format, and
    ``what`` and ``summary``: the action and its details in words (:mod:`services.audit_words`).
    """
    frame = pd.DataFrame([_cells(e) for e in events], columns=list(AUDIT_COLUMNS), dtype=object)
    local = [utc_to_local(e.at, tz) for e in events]
    frame.insert(1, "when", [f"{format_date(t)}, {t:%H:%M:%S}" for t in local])
    frame["what"] = [action_words(e.action) for e in events]
    frame["summary"] = [audit_summary(e.action, e.details) for e in events]
    order = [c for c in frame.columns if c not in ("what", "summary")]
    order.insert(order.index("action"), "what")
    order.insert(order.index("details"), "summary")
    return frame[order]


def audit_choices(*, engine: Engine, actor: Actor) -> AuditChoices:
    """The usernames and actions present in the trail. Needs VIEW_AUDIT."""
    require(actor, Permission.VIEW_AUDIT)
    with read_session(engine) as session:
        return AuditChoices(
            usernames=audit_queries.audit_usernames(session),
            actions=audit_queries.audit_actions(session),
        )


def audit_page(
    *,
    engine: Engine,
    actor: Actor,
    query: AuditQuery,
    tz: ZoneInfo | None = None,
    limit: int = PAGE_ROWS,
) -> AuditPage:
    """The newest ``limit`` rows matching ``query`` and the number matching. Needs VIEW_AUDIT."""
    require(actor, Permission.VIEW_AUDIT)
    tz = tz or clinic_timezone()
    where = query.to_filter(tz)
    with read_session(engine) as session:
        events = audit_queries.audit_events(session, where, limit=limit)
        total = audit_queries.count_audit_events(session, where)
    return AuditPage(rows=_frame(events, tz), total=total)


def export_audit(
    *,
    engine: Engine,
    actor: Actor,
    query: AuditQuery,
    tz: ZoneInfo | None = None,
    destination: str = "dashboard download",
) -> AuditExport:
    """Every row matching ``query``, oldest first, as CSV; audited ("audit_export").

    The audit row of the export names the filters, the number of rows and the
    SHA-256 of the file, so a copy that turns up later can be matched to it.
    Needs VIEW_AUDIT.
    """
    require(actor, Permission.VIEW_AUDIT)
    where = query.to_filter(tz or clinic_timezone())
    with read_session(engine) as session:
        events = audit_queries.audit_events(session, where, newest_first=False)
    data = write_csv(AUDIT_COLUMNS, [_cells(e) for e in events], numeric_columns=("id",))
    digest = hashlib.sha256(data).hexdigest()
    audit.record_alone(
        engine,
        actor=actor,
        action="audit_export",
        entity="audit_event",
        entity_id=destination[:200],
        patient_code=where.patient_code or "",
        details={
            "what": "audit",
            "filters": {
                "first_day": query.first_day.isoformat() if query.first_day else None,
                "last_day": query.last_day.isoformat() if query.last_day else None,
                "username": where.username,
                "action": where.action,
                "patient": where.patient_code,
            },
            "rows": len(events),
            "bytes": len(data),
            "sha256": digest,
            "destination": destination,
        },
    )
    stamp = (query.last_day or date.today()).isoformat()
    return AuditExport(data=data, rows=len(events), sha256=digest, filename=f"audit-{stamp}.csv")
