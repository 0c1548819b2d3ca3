"""The audit trail: append-only rows, each chained to the one before by SHA-256.

The database refuses UPDATE and DELETE on ``audit_event`` (triggers of the
first migration); the chain makes what slips past them visible: an edited row
no longer matches its hash, a deleted, inserted or moved row breaks the link
to the row before. Two limits, by design of an unkeyed chain: whoever can
rewrite the table *and* recompute every later hash, or delete only the newest
rows, leaves a chain that still verifies. Keep the head hash that
:func:`verify_audit` reports somewhere else (a ticket, a printout) to catch both.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from models import audit_queries, queries
from models.db import read_session, write_session
from models.tables import AuditEvent, utc_now
from redflags.config import RulesConfig, load_rules, rules_file_in_force
from services.access import Actor, Permission, require

GENESIS_HASH = "0" * 64

#: Audited actions that change no patient, session or decision: reads, logins,
#: exports, the rules being loaded, accounts. Every other action is written in the
#: same transaction as the change it records, which :func:`records_version` relies on;
#: an action missing here only makes a kept weekly review be computed again.
UNCHANGING_ACTIONS: frozenset[str] = frozenset(
    {
        "access_denied",
        "account_locked",
        "audit_export",
        "caseload_viewed",
        "login",
        "login_failed",
        "logout",
        "patient_viewed",
        "records_export",
        "rules_loaded",
        "user_created",
        "user_disabled",
        "user_enabled",
        "user_password_reset",
        "user_role_changed",
        "user_unlocked",
    }
)


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


def storable_text(text: str) -> str:
    """``text`` with undecodable bytes shown as U+FFFD.

    A file name that is not UTF-8 reaches Python as lone surrogates, which no
    database text column (nor the hash) can hold; the audit row must still be written.
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity: str = "",
    entity_id: str = "",
    patient_code: str = "",
    details: Mapping[str, Any] | None = None,
    system_user: str = "",
) -> AuditEvent:
    """Append one audit row inside ``session``'s (write) transaction.

    ``actor`` is who acted; None for an attempt by nobody yet known (a failed
    login) or for the program itself, then named by ``system_user``
    (e.g. ``process:dashboard``). ``details`` must never hold a password or
    other secret. The chain is
    serialised: SQLite write transactions already hold the write lock, and on
    PostgreSQL an advisory transaction lock is taken before the last hash is read.
    """
    queries.lock_audit_chain(session)
    prev_hash = queries.last_audit_hash(session) or GENESIS_HASH
    event = AuditEvent(
        at=utc_now(),
        username=actor.username if actor else system_user,
        role=actor.role.value if actor else "",
        action=action,
        entity=entity,
        entity_id=storable_text(entity_id),
        patient_code=storable_text(patient_code),
        details=storable_text(
            json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=False, default=str)
        ),
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event)
    session.add(event)
    session.flush()
    return event


def records_version(*, engine: Engine) -> int:
    """A number that grows with every change to the clinic's records, by anyone.

    The id of the newest audit row of a change: every write to patients, sessions
    or decisions appends one in its own transaction, and appends are serialised,
    so ids follow the order of commits. Read it *before* what it versions: a
    change committed in between then only makes the next run read again.
    """
    with engine.connect() as connection:
        return queries.latest_change_id(connection, unchanging_actions=UNCHANGING_ACTIONS)


def record_alone(
    engine: Engine,
    *,
    actor: Actor | None,
    action: str,
    entity: str = "",
    entity_id: str = "",
    patient_code: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """:func:`record` in a transaction of its own, for an event that writes nothing
    else (a logout, a view, an export)."""
    with write_session(engine) as session:
        record(
            session,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            patient_code=patient_code,
            details=details,
        )


@dataclass(frozen=True)
class ChainProblem:
    """One place where the audit chain does not hold."""

    event_id: int
    problem: str


def verify_chain(events: Iterable[AuditEvent]) -> list[ChainProblem]:
    """Every break in the chain of ``events`` (in id order): edits, deletions, reordering."""
    return _walk_chain(events).problems


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the whole audit trail."""

    rows: int
    #: The newest row's hash (GENESIS_HASH for an empty trail): note it down elsewhere.
    head_hash: str
    problems: list[ChainProblem]
    #: A hash noted down earlier that is no longer in the chain: rows were cut from the
    #: end, or the whole trail was rewritten. ``None`` when none was asked about or it is there.
    missing_hash: str | None = None

    @property
    def intact(self) -> bool:
        return not self.problems and self.missing_hash is None


def _walk_chain(events: Iterable[AuditEvent], noted_hash: str | None = None) -> ChainReport:
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    rows = 0
    noted_found = noted_hash is None or noted_hash == GENESIS_HASH
    for event in events:
        rows += 1
        noted_found = noted_found or event.hash == noted_hash
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
    return ChainReport(
        rows=rows,
        head_hash=expected_prev,
        problems=problems,
        missing_hash=None if noted_found else noted_hash,
    )


def is_audit_hash(text: str) -> bool:
    """Whether ``text`` has the form of a hash that verify-audit prints (64 hex digits)."""
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def verify_audit(*, engine: Engine, actor: Actor, noted_hash: str | None = None) -> ChainReport:
    """Walk the whole trail in order and report every break (manage.py verify-audit).

    A hash chain cannot show that rows were cut from its end: the shorter chain is
    intact. ``noted_hash``, a newest hash printed by an earlier run and kept outside
    the database, must still be in the chain; if it is not, the report says so.

    Needs VIEW_AUDIT. Reads in batches, so a trail of millions of rows fits in memory.
    """
    require(actor, Permission.VIEW_AUDIT)
    if noted_hash is not None and not is_audit_hash(noted_hash):
        raise ValueError("a noted audit hash is 64 hexadecimal digits (0-9, a-f)")
    with read_session(engine) as session:
        return _walk_chain(audit_queries.iter_audit_events(session), noted_hash)


# ---------------------------------------------------------------- the rules file


@dataclass(frozen=True)
class RulesLoaded:
    """The rules file a process loaded: where, its SHA-256, and its validated values."""

    path: Path
    sha256: str
    size_bytes: int
    config: RulesConfig


_rules_recorded: set[tuple[str, str, str]] = set()
_rules_lock = threading.Lock()


def _program_name() -> str:
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"


def load_rules_recorded(
    *,
    engine: Engine,
    actor: Actor | None = None,
    program: str | None = None,
    path: Path | None = None,
) -> RulesLoaded:
    """Load the rules file in force and audit it once per process ("rules_loaded").

    The audit row holds the file's path and the SHA-256 of its bytes, so that
    which thresholds were in force at any time can be shown later. A process
    records each (database, file, content) once, however often it loads: a
    Streamlit rerun records nothing new, a changed file loaded again does.
    ``actor`` is the command-line operator; None for the dashboard process
    itself (recorded as ``process:<program>``).
    """
    file = (path if path is not None else rules_file_in_force()).resolve()
    for _attempt in range(3):
        try:
            before = file.read_bytes()
        except OSError:
            before = None
        config = load_rules(path)  # raises RulesConfigError with the clinic-facing message
        after = file.read_bytes()
        if before == after:
            break
    digest = hashlib.sha256(after).hexdigest()
    loaded = RulesLoaded(path=file, sha256=digest, size_bytes=len(after), config=config)
    name = program or _program_name()
    key = (engine.url.render_as_string(hide_password=True), str(file), digest)
    with _rules_lock:
        if key in _rules_recorded:
            return loaded
        with write_session(engine) as session:
            record(
                session,
                actor=actor,
                system_user=f"process:{name}",
                action="rules_loaded",
                entity="rules_file",
                entity_id=str(file)[-200:],
                details={
                    "path": str(file),
                    "sha256": digest,
                    "bytes": len(after),
                    "program": name,
                    "pid": os.getpid(),
                },
            )
        _rules_recorded.add(key)
    return loaded
