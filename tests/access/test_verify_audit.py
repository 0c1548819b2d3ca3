"""The audit trail is append-only in the database, and verify-audit finds what got past that.

To tamper, a test must first get around the database's own refusal: on SQLite
it drops the triggers in a connection of its own (and puts them back), on
PostgreSQL it disables the user triggers as the superuser. Then it edits,
deletes or reorders rows, and both the service function and
``python manage.py verify-audit`` must name the row where the chain breaks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from models.db import write_session
from services import audit
from services.access import command_line_actor
from tests.access.conftest import ADMIN

ROOT = Path(__file__).resolve().parents[2]
ROWS = 6
CONTENT_COLUMNS = (
    "at, username, role, action, entity, entity_id, patient_code, details, prev_hash, hash"
)
SQLITE_TRIGGERS = {
    "audit_event_no_update": "BEFORE UPDATE",
    "audit_event_no_delete": "BEFORE DELETE",
}


@pytest.fixture
def trail(engine: Engine) -> Engine:
    """A database holding an intact trail of :data:`ROWS` rows (ids 1..ROWS)."""
    for number in range(1, ROWS + 1):
        with write_session(engine) as session:
            audit.record(
                session,
                actor=ADMIN,
                action="patient_viewed",
                entity="patient",
                entity_id=f"P-{number}",
                patient_code=f"P-{number}",
                details={"n": number},
            )
    return engine


@contextmanager
def triggers_bypassed(engine: Engine) -> Iterator[Connection]:
    """A connection on which audit_event accepts UPDATE and DELETE, restored afterwards."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for name in SQLITE_TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER {name}")
            yield connection
            for name, when in SQLITE_TRIGGERS.items():
                connection.exec_driver_sql(
                    f"CREATE TRIGGER {name} {when} ON audit_event "
                    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
                )
        else:
            connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            yield connection
            connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")


def edit_a_row(connection: Connection) -> int:
    connection.execute(text("UPDATE audit_event SET patient_code = 'P-999' WHERE id = 3"))
    return 3


def delete_a_row(connection: Connection) -> int:
    connection.execute(text("DELETE FROM audit_event WHERE id = 3"))
    return 4  # the row after the gap no longer follows the one before it


def reorder_two_rows(connection: Connection) -> int:
    # Swap the whole content of rows 3 and 4: each row is intact, their order is not.
    parking = 1_000_000
    columns = CONTENT_COLUMNS.split(", ")
    assignments = ", ".join(f"{c} = other.{c}" for c in columns)
    for target, source in ((parking, 3), (3, 4), (4, parking)):
        if target == parking:
            connection.execute(
                text(
                    f"INSERT INTO audit_event (id, {CONTENT_COLUMNS}) "
                    f"SELECT {parking}, {CONTENT_COLUMNS} FROM audit_event WHERE id = 3"
                )
            )
            continue
        connection.execute(
            text(
                f"UPDATE audit_event SET {assignments} FROM "
                f"(SELECT {CONTENT_COLUMNS} FROM audit_event WHERE id = :source) AS other "
                "WHERE audit_event.id = :target"
            ),
            {"source": source, "target": target},
        )
    connection.execute(text(f"DELETE FROM audit_event WHERE id = {parking}"))
    return 3


TAMPERING: dict[str, Callable[[Connection], int]] = {
    "edited": edit_a_row,
    "deleted": delete_a_row,
    "reordered": reorder_two_rows,
}


def run_verify_audit(engine: Engine, *options: str) -> subprocess.CompletedProcess[str]:
    url = engine.url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "manage.py", "verify-audit", *options],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_untouched_trail_verifies_by_function_and_command(trail: Engine) -> None:
    report = audit.verify_audit(engine=trail, actor=command_line_actor())
    assert report.intact and report.rows == ROWS
    done = run_verify_audit(trail)
    assert done.returncode == 0, done.stderr
    assert f"intact: {ROWS} rows" in done.stdout and report.head_hash in done.stdout


def test_the_database_refuses_to_update_or_delete_audit_rows(trail: Engine) -> None:
    for statement in (
        "UPDATE audit_event SET username = 'someone' WHERE id = 1",
        "DELETE FROM audit_event WHERE id = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), trail.begin() as connection:
            connection.execute(text(statement))
    if trail.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), trail.begin() as connection:
            connection.execute(text("TRUNCATE audit_event"))
    assert audit.verify_audit(engine=trail, actor=command_line_actor()).rows == ROWS


def test_an_insert_that_would_replace_an_audit_row_is_refused(trail: Engine) -> None:
    # SQLite's INSERT OR REPLACE deletes the row it replaces; PostgreSQL's upsert updates it.
    replace = (
        "INSERT OR REPLACE INTO audit_event (id, at, username, role, action, entity, entity_id, "
        "patient_code, details, prev_hash, hash) SELECT id, at, 'someone', role, action, entity, "
        "entity_id, patient_code, details, prev_hash, hash FROM audit_event WHERE id = 2"
        if trail.dialect.name == "sqlite"
        else "INSERT INTO audit_event SELECT * FROM audit_event WHERE id = 2 "
        "ON CONFLICT (id) DO UPDATE SET username = 'someone'"
    )
    with pytest.raises(DBAPIError, match="append-only"), trail.begin() as connection:
        connection.execute(text(replace))
    assert audit.verify_audit(engine=trail, actor=command_line_actor()).intact


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_audit_names_the_row_where_tampering_broke_the_chain(
    kind: str, trail: Engine
) -> None:
    with triggers_bypassed(trail) as connection:
        broken_row = TAMPERING[kind](connection)
    report = audit.verify_audit(engine=trail, actor=command_line_actor())
    assert not report.intact
    assert broken_row in {problem.event_id for problem in report.problems}
    if kind == "edited":
        assert any("edited" in p.problem for p in report.problems if p.event_id == broken_row)
    else:
        assert any("deleted, inserted or moved" in p.problem for p in report.problems)
    done = run_verify_audit(trail)
    assert done.returncode == 1
    assert f"audit row {broken_row}:" in done.stderr
    assert "The audit trail is broken" in done.stderr
    assert "Traceback" not in done.stderr


def test_appending_after_verification_keeps_the_chain_intact(trail: Engine) -> None:
    first = audit.verify_audit(engine=trail, actor=command_line_actor())
    with write_session(trail) as session:
        audit.record(session, actor=ADMIN, action="logout", entity="user", entity_id="ada")
    second = audit.verify_audit(engine=trail, actor=command_line_actor())
    assert second.intact and second.rows == ROWS + 1 and second.head_hash != first.head_hash


def test_a_noted_hash_finds_rows_cut_from_the_end_of_the_trail(trail: Engine) -> None:
    noted = audit.verify_audit(engine=trail, actor=command_line_actor()).head_hash
    assert audit.verify_audit(engine=trail, actor=command_line_actor(), noted_hash=noted).intact
    assert run_verify_audit(trail, "--expect", noted.upper()).returncode == 0
    with triggers_bypassed(trail) as connection:
        connection.execute(text(f"DELETE FROM audit_event WHERE id > {ROWS - 2}"))
    # The shorter chain holds together: without the noted hash nothing shows.
    assert audit.verify_audit(engine=trail, actor=command_line_actor()).intact
    report = audit.verify_audit(engine=trail, actor=command_line_actor(), noted_hash=noted)
    assert not report.intact and report.missing_hash == noted and report.problems == []
    done = run_verify_audit(trail, "--expect", noted)
    assert done.returncode == 1, done.stdout
    assert f"The noted hash {noted} is not in the trail" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_hash_noted_before_later_rows_were_appended_still_verifies(trail: Engine) -> None:
    noted = audit.verify_audit(engine=trail, actor=command_line_actor()).head_hash
    with write_session(trail) as session:
        audit.record(session, actor=ADMIN, action="logout", entity="user", entity_id="ada")
    report = audit.verify_audit(engine=trail, actor=command_line_actor(), noted_hash=noted)
    assert report.intact and report.head_hash != noted


@pytest.mark.parametrize("noted", ["", "abc", "g" * 64, "0" * 63])
def test_a_malformed_noted_hash_is_refused_with_what_to_give(trail: Engine, noted: str) -> None:
    with pytest.raises(ValueError, match="64 hexadecimal"):
        audit.verify_audit(engine=trail, actor=command_line_actor(), noted_hash=noted)
    done = run_verify_audit(trail, "--expect", noted)
    assert done.returncode == 1
    assert "is not an audit hash" in done.stderr and "Traceback" not in done.stderr
