"""Fixtures of the access tests: actors of each role, a small clinic, and a dashboard database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import db
from models.tables import AuditEvent
from redflags.codes import Role
from services import users
from services.access import Actor, command_line_actor

ADMIN = Actor("ada", Role.ADMIN)
CLINICIAN = Actor("cleo", Role.CLINICIAN)
VIEWER = Actor("vic", Role.VIEWER)
ACTORS = {"viewer": VIEWER, "clinician": CLINICIAN, "admin": ADMIN}
PASSWORD = "correct horse battery"
AS_OF = date(2026, 11, 20)
PATIENT = "P-001"
SESSIONS_CSV = (
    "patient_id,session_date,route,dose_mg,panic,phq9\n"
    f"{PATIENT},2026-11-02,ketamine_iv,35,2,18\n"
    f"{PATIENT},2026-11-09,ketamine_iv,35,1,15\n"
).encode()


def audit_rows(engine: Engine, action: str | None = None) -> list[AuditEvent]:
    """The audit rows (of one action), oldest first."""
    with Session(engine) as session:
        statement = select(AuditEvent).order_by(col(AuditEvent.id))
        if action is not None:
            statement = statement.where(col(AuditEvent.action) == action)
        return list(session.exec(statement).all())


def details(event: AuditEvent) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(event.details)
    return loaded


@pytest.fixture
def accounts(engine: Engine) -> Engine:
    """The migrated database with one account per role, all with :data:`PASSWORD`."""
    for actor in ACTORS.values():
        users.create_user(
            engine=engine,
            actor=command_line_actor(),
            username=actor.username,
            role=actor.role,
            password=PASSWORD,
        )
    return engine


@pytest.fixture
def clinic(accounts: Engine) -> Engine:
    """Accounts plus one patient with two sessions (imported as the admin)."""
    from services.records import import_sessions

    result = import_sessions(
        engine=accounts,
        actor=ADMIN,
        data=SESSIONS_CSV,
        filename="sessions.csv",
        today=AS_OF,
    )
    assert result.ok, result.messages()
    return accounts


@pytest.fixture
def app_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Engine]]:
    """A migrated SQLite database with accounts, that the dashboard (AppTest) uses."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    db.get_engine.cache_clear()
    st.cache_resource.clear()
    engine = db.get_engine()
    db.upgrade(engine)
    for actor in ACTORS.values():
        users.create_user(
            engine=engine,
            actor=command_line_actor(),
            username=actor.username,
            role=actor.role,
            password=PASSWORD,
        )
    yield url, engine
    st.cache_resource.clear()
    db.get_engine.cache_clear()
    engine.dispose()
