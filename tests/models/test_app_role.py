"""The least-privilege PostgreSQL login of scripts/postgresql-app-role.sql.

The script is run with psql, as README's production notes say, on a schema
created by init-db; then the dashboard's services run as that login (the demo
clinic loaded through the importers, a session logged, edited and removed, a
decision, logins and a lockout, an export, the audit verified), and what the
login must not do is refused by the server: rewriting or emptying the audit
trail, dropping its triggers, changing the schema.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from models import store
from models.db import PROJECT_ROOT, create_db_engine, upgrade
from models.tables import audit_table, session_table
from redflags.codes import Role
from redflags.config import load_rules
from services import audit, auth, demo, records
from services.access import Actor, command_line_actor
from services.decisions import record_decision
from services.review import weekly_review
from services.sessions import edit_session, log_session, remove_session

pytestmark = pytest.mark.postgres

SCRIPT = PROJECT_ROOT / "scripts" / "postgresql-app-role.sql"
TODAY = date(2026, 11, 20)
CLINICIAN = Actor("dr.app", Role.CLINICIAN)


def _psql(url: str, role: str) -> subprocess.CompletedProcess[str]:
    """Run the script as README says, with the URL's schema as the search path."""
    psql = shutil.which("psql")
    if psql is None:
        missing = "psql runs scripts/postgresql-app-role.sql: apt-get install postgresql-client"
        if os.environ.get("REQUIRE_POSTGRES") == "1":  # CI installs it (.ci/run)
            pytest.fail(missing)
        pytest.skip(missing)
    parsed = make_url(url)
    env = {
        **os.environ,
        "PGOPTIONS": str(parsed.query.get("options", "")),
        "PGHOST": parsed.host or "127.0.0.1",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username or "postgres",
        "PGDATABASE": parsed.database or "",
    }
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return subprocess.run(
        [psql, "-X", "-q", "-v", f"app_role={role}", "-f", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def app_engine(pg_url: str, pg_admin_engine: Engine) -> Iterator[Engine]:
    """An engine logged in as a new role given only the script's grants."""
    owner = create_db_engine(pg_url)
    upgrade(owner)
    owner.dispose()
    role = f"redflags_app_{uuid.uuid4().hex[:8]}"
    with pg_admin_engine.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    engine: Engine | None = None
    try:
        ran = _psql(pg_url, role)
        assert ran.returncode == 0, ran.stderr
        url = make_url(pg_url).set(username=role, password=None)
        engine = create_db_engine(url.render_as_string(hide_password=False))
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        with pg_admin_engine.connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


def _refused(engine: Engine, statement: str) -> str:
    with engine.connect() as connection, pytest.raises(ProgrammingError) as refused:
        connection.execute(text(statement))
    return str(refused.value.orig)


def test_the_dashboard_runs_as_the_least_privileged_login(
    app_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app_engine.connect() as connection:
        assert (
            connection.execute(text("SELECT current_user")).scalar_one().startswith("redflags_app_")
        )
    loaded = demo.load_demo(engine=app_engine, actor=command_line_actor(), today=TODAY)
    assert loaded.sessions_imported > 400
    review = weekly_review(engine=app_engine, actor=CLINICIAN, as_of=TODAY, config=load_rules())
    assert len(review.table) == 46

    # A large import asks for fresh statistics, which only the owner may take: a warning
    # from the server, not a failed import.
    monkeypatch.setattr(store, "STATISTICS_AFTER_ROWS", 1)
    imported = records.import_sessions(
        engine=app_engine,
        actor=CLINICIAN,
        data=b"patient_id,session_date,route,dose_mg\nAPP-1,2026-11-02,ketamine_iv,35\n",
        filename="one.csv",
        today=TODAY,
    )
    assert imported.ok, imported.messages()

    values = {
        "patient_id": "APP-1",
        "session_date": "2026-11-09T09:30",
        "route": "ketamine_iv",
        "dose_mg": "35",
    }
    logged = log_session(engine=app_engine, actor=CLINICIAN, values=values, today=TODAY)
    assert logged.ok and logged.record_id is not None, logged.problems
    edited = edit_session(
        engine=app_engine,
        actor=CLINICIAN,
        session_id=logged.record_id,
        values={**values, "dose_mg": "40"},
        reason="dose mistyped",
        today=TODAY,
    )
    assert edited.ok, edited.problems
    removed = remove_session(
        engine=app_engine, actor=CLINICIAN, session_id=logged.record_id, reason="a duplicate"
    )
    assert removed.ok, removed.problems
    decided = record_decision(
        engine=app_engine,
        actor=CLINICIAN,
        values={
            "patient_id": "APP-1",
            "decided_at": "2026-11-10T10:00",
            "decision": "pause",
            "participants": "patient; Dr App",
            "patient_view": "I would like a break.",
            "rationale": "Agreed together.",
        },
        now=datetime(2026, 11, 20, 12, 0),
    )
    assert decided.ok, decided.problems

    later = datetime(2026, 11, 20, 12, 0)
    for attempt in range(5):  # wrong passwords count, then lock the account
        auth.login(
            engine=app_engine,
            username=demo.DEMO_USERNAME,
            password="wrong",
            now=later + timedelta(seconds=attempt),
        )
    locked = auth.login(
        engine=app_engine, username=demo.DEMO_USERNAME, password=demo.DEMO_PASSWORD, now=later
    )
    assert locked.actor is None
    fine = auth.login(
        engine=app_engine,
        username=demo.DEMO_USERNAME,
        password=demo.DEMO_PASSWORD,
        now=later + timedelta(days=1),
    )
    assert fine.actor is not None, fine.message

    exported = records.export_sessions(engine=app_engine, actor=CLINICIAN)
    assert exported.rows == loaded.sessions_imported + 1
    report = audit.verify_audit(engine=app_engine, actor=command_line_actor())
    assert not report.problems and report.rows > 10


def test_the_audit_trail_and_the_schema_are_out_of_the_logins_reach(app_engine: Engine) -> None:
    demo.load_demo(engine=app_engine, actor=command_line_actor(), today=TODAY)
    with app_engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(audit_table)).scalar_one()
    for statement in (
        "UPDATE audit_event SET username = 'someone else'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        assert "permission denied" in _refused(app_engine, statement), statement
    for statement in (
        "DROP TRIGGER audit_event_no_update_delete ON audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "ALTER TABLE dosing_session DROP CONSTRAINT IF EXISTS ck_dosing_session_panic",
    ):
        assert "must be owner" in _refused(app_engine, statement), statement
    assert "permission denied for schema" in _refused(app_engine, "CREATE TABLE side_door (x int)")
    with app_engine.connect() as connection:
        after = connection.execute(select(func.count()).select_from(audit_table)).scalar_one()
        sessions = connection.execute(select(func.count()).select_from(session_table)).scalar_one()
    assert after == before and sessions > 400


def test_every_table_of_the_schema_is_granted_by_the_script() -> None:
    """A table added by a later migration must be added to the script as well."""
    from sqlmodel import SQLModel

    script = SCRIPT.read_text(encoding="utf-8")
    tables = {*SQLModel.metadata.tables, "alembic_version"}
    missing = sorted(
        name for name in tables if f"'{name}'" not in script and f".{name} " not in script
    )
    assert not missing, f"not granted in {SCRIPT.name}: {missing}"
