"""Queries of access control: the audit trail (filtered, in order) and the user accounts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from models.tables import AuditEvent, User

#: Rows fetched per round trip when the whole trail is walked (verify, export).
AUDIT_BATCH_ROWS = 5_000


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to show: every given condition must hold (None: any).

    Times are naive UTC, ``start_utc`` inclusive and ``end_utc`` exclusive.
    Username and action match exactly; the patient code matches exactly.
    """

    start_utc: datetime | None = None
    end_utc: datetime | None = None
    username: str | None = None
    action: str | None = None
    patient_code: str | None = None


def _filtered(
    statement: Select[tuple[AuditEvent]], where: AuditFilter
) -> Select[tuple[AuditEvent]]:
    if where.start_utc is not None:
        statement = statement.where(col(AuditEvent.at) >= where.start_utc)
    if where.end_utc is not None:
        statement = statement.where(col(AuditEvent.at) < where.end_utc)
    if where.username is not None:
        statement = statement.where(col(AuditEvent.username) == where.username)
    if where.action is not None:
        statement = statement.where(col(AuditEvent.action) == where.action)
    if where.patient_code is not None:
        statement = statement.where(col(AuditEvent.patient_code) == where.patient_code)
    return statement


def audit_events(
    session: Session, where: AuditFilter, *, newest_first: bool = True, limit: int | None = None
) -> list[AuditEvent]:
    """The audit rows matching ``where``, newest (highest id) first unless told otherwise."""
    order = col(AuditEvent.id).desc() if newest_first else col(AuditEvent.id).asc()
    statement = _filtered(select(AuditEvent), where).order_by(order)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.execute(statement).scalars().all())


def count_audit_events(session: Session, where: AuditFilter) -> int:
    """How many audit rows match ``where``."""
    inner = _filtered(select(AuditEvent), where).subquery()
    return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def iter_audit_events(session: Session, *, batch: int = AUDIT_BATCH_ROWS) -> Iterator[AuditEvent]:
    """Every audit row in the order written (by id), fetched in batches by keyset."""
    after = 0
    while True:
        statement = (
            select(AuditEvent)
            .where(col(AuditEvent.id) > after)
            .order_by(col(AuditEvent.id))
            .limit(batch)
        )
        rows = list(session.execute(statement).scalars().all())
        if not rows:
            return
        yield from rows
        after = rows[-1].id or after
        session.expunge_all()


def audit_usernames(session: Session) -> list[str]:
    """Every username that appears in the trail (blank for failed logins of unknown users)."""
    statement = select(col(AuditEvent.username)).distinct()
    return sorted(str(name) for name in session.execute(statement).scalars().all())


def audit_actions(session: Session) -> list[str]:
    """Every action that appears in the trail, alphabetically."""
    statement = select(col(AuditEvent.action)).distinct()
    return sorted(str(action) for action in session.execute(statement).scalars().all())


def all_users(session: Session) -> list[User]:
    """Every account, by username ignoring case (sorted here: the same on every collation)."""
    found = session.execute(select(User)).scalars().all()
    return sorted(found, key=lambda user: (user.username.casefold(), user.username))


def user_for_update(session: Session, username: str) -> User | None:
    """The account called ``username`` (ignoring case), its row locked until commit."""
    statement = (
        select(User)
        .where(func.lower(col(User.username)) == username.strip().lower())
        .with_for_update()
    )
    return session.execute(statement).scalars().first()


def active_admin_count(session: Session) -> int:
    """How many active accounts hold the admin role."""
    statement = (
        select(func.count())
        .select_from(User)
        .where(col(User.role) == "admin")
        .where(col(User.active).is_(True))
    )
    return int(session.execute(statement).scalar_one())
