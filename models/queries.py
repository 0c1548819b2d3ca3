"""Queries: everything that reads or writes SQL outside plain ORM adds."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, select

from models.tables import AuditEvent

#: PostgreSQL advisory-lock key that serialises appends to the audit chain.
AUDIT_CHAIN_LOCK = 74_201_113


def lock_audit_chain(session: Session) -> None:
    """Serialise audit appends (SQLite write transactions are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})


def last_audit_hash(session: Session) -> str | None:
    """The hash of the newest audit row, or None for an empty trail."""
    statement = select(AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)
    return session.exec(statement).first()


def audit_events_in_order(session: Session) -> list[AuditEvent]:
    """The whole audit trail in the order it was written."""
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())
