"""Migrations take an empty database to exactly the schema the tables describe."""

from __future__ import annotations

import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError, InternalError, ProgrammingError

from models.db import alembic_config, schema_is_current, upgrade
from models.tables import metadata


def test_an_empty_database_is_not_current_until_migrated(empty_engine: Engine) -> None:
    assert not schema_is_current(empty_engine)
    upgrade(empty_engine)
    assert schema_is_current(empty_engine)


def test_the_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as connection, warnings.catch_warnings():
        # Expression indexes (lower(username)) cannot be reflected for comparison.
        warnings.simplefilter("ignore")
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables


def test_downgrade_to_base_and_back_up(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert schema_is_current(engine)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"]
)
def test_the_audit_table_refuses_updates_and_deletes(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO audit_event (at, username, role, action, entity, entity_id, patient_code,"
            " details, prev_hash, hash) VALUES ('2026-01-01 00:00:00', 'u', 'admin', 'login', '',"
            " '', '', '{}', '', '')"
        )
    refused = (IntegrityError, InternalError, ProgrammingError)
    with pytest.raises(refused) as error, engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert "append-only" in str(error.value)
