"""Helpers of the page tests: a logged-in dashboard, page switching, reading the page."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from models.tables import AuditEvent, utc_now
from redflags.codes import Role
from services import demo
from services.access import Actor, command_line_actor
from ui import state

ROOT = Path(__file__).resolve().parents[2]
ENTRY = str(ROOT / "dashboard.py")
ADMIN = Actor("demo", Role.ADMIN)
CLINICIAN = Actor("cleo", Role.CLINICIAN)
VIEWER = Actor("vic", Role.VIEWER)
#: Generous: the first run in a process imports pandas, plotly and the engine.
TIMEOUT = 60


def logged_in(actor: Actor | None = ADMIN) -> AppTest:
    """The dashboard with ``actor`` logged in (as ui.state.log_in leaves the session)."""
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT)
    if actor is not None:
        now = utc_now()
        at.session_state[state.ACTOR_KEY] = actor
        at.session_state[state.LOGGED_IN_AT_KEY] = now
        at.session_state[state.LAST_ACTIVITY_KEY] = now
    return at


def open_page(at: AppTest, page: str, **params: str) -> AppTest:
    """Run the app once (so the menu exists), then open ``page`` with query parameters."""
    at.run()
    at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def texts(elements: object) -> list[str]:
    """The text of each element of an ElementList (markdown, alerts, captions …)."""
    return [str(getattr(e, "value", "")) for e in elements]  # type: ignore[attr-defined]


def all_text(at: AppTest) -> str:
    """Every piece of text the page shows, for "does it say …" checks."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning"):
        parts += texts(getattr(at, kind))
    parts += texts(at.error) + texts(at.success)
    return "\n".join(parts).replace("\\", "")


def audit_rows(engine: Engine, action: str) -> list[AuditEvent]:
    """The audit rows of one action, oldest first."""
    with Session(engine) as session:
        statement = (
            select(AuditEvent).where(col(AuditEvent.action) == action).order_by(col(AuditEvent.id))
        )
        return list(session.exec(statement).all())


def audit_details(event: AuditEvent) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(event.details)
    return loaded


def no_exception(at: AppTest) -> None:
    """The run ended without an exception (none reached the page)."""
    assert not at.exception, [e.value for e in at.exception]


def load_demo_clinic(engine: Engine) -> None:
    """Load the demo clinic for today with its demo/demo login, as ``manage.py demo`` does."""
    demo.load_demo(engine=engine, actor=command_line_actor())
