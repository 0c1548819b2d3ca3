"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

PostgreSQL tests run when ``TEST_DATABASE_URL`` names a server, e.g.
``TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test``; each
test gets a schema of its own there. Without it they skip, unless
``REQUIRE_POSTGRES=1`` (set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text

from models.db import create_db_engine, upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES", "") == "1"
HOW_TO_ENABLE_POSTGRES = (
    "PostgreSQL tests are off: set "
    "TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run them"
)


def _postgres_or_skip() -> str:
    if not PG_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip(HOW_TO_ENABLE_POSTGRES)
    return PG_URL


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[Engine]:
    """A plain engine on the PostgreSQL test database, for creating schemas."""
    url = _postgres_or_skip()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # the server is down or the URL is wrong
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {error}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin_engine: Engine) -> Iterator[str]:
    """A DATABASE_URL for a fresh, empty PostgreSQL schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    with pg_admin_engine.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A DATABASE_URL for a new SQLite file."""
    return f"sqlite:///{tmp_path / 'redflags.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def empty_engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty (unmigrated) database."""
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a database migrated to the latest schema."""
    upgrade(empty_engine)
    return empty_engine
