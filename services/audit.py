"""The audit trail: append-only rows, each chained to the one before by SHA-256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import queries
from models.tables import AuditEvent, utc_now
from services.access import Actor

GENESIS_HASH = "0" * 64


def _canonical(event: AuditEvent) -> str:
    body = {
        "at": event.at.isoformat(timespec="microseconds"),
        "username": event.username,
        "role": event.role,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "patient_code": event.patient_code,
        "details": event.details,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 over the previous row's hash and this row's content."""
    return hashlib.sha256((prev_hash + _canonical(event)).encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity: str = "",
    entity_id: str = "",
    patient_code: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row inside ``session``'s (write) transaction.

    ``details`` must never hold a password or other secret. The chain is
    serialised: SQLite write transactions already hold the write lock, and on
    PostgreSQL an advisory transaction lock is taken before the last hash is read.
    """
    queries.lock_audit_chain(session)
    prev_hash = queries.last_audit_hash(session) or GENESIS_HASH
    event = AuditEvent(
        at=utc_now(),
        username=actor.username if actor else "",
        role=actor.role.value if actor else "",
        action=action,
        entity=entity,
        entity_id=entity_id,
        patient_code=patient_code,
        details=json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=False, default=str),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    """One place where the audit chain does not hold."""

    event_id: int
    problem: str


def verify_chain(events: list[AuditEvent]) -> list[ChainProblem]:
    """Every break in the chain of ``events`` (in id order): edits, deletions, reordering."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    for event in events:
        event_id = event.id or 0
        if event.prev_hash != expected_prev:
            problems.append(
                ChainProblem(
                    event_id,
                    "does not follow the row before it: a row was deleted, inserted or moved",
                )
            )
        if event_hash(event.prev_hash, event) != event.hash:
            problems.append(
                ChainProblem(event_id, "content does not match its hash: the row was edited")
            )
        expected_prev = event.hash
    return problems
