"""The engine: which database, the SQLite pragmas, sessions and migrations.

``DATABASE_URL`` selects the database; unset means the SQLite file
``data/redflags.db``. PostgreSQL is reached through psycopg 3
(``postgresql+psycopg://``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "redflags.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: How long a writer waits for another writer's lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: What SQLAlchemy raises when the database does not answer (lost connection, timeout).
DATABASE_DOWN = (OperationalError, InterfaceError)
#: Execution option that marks a transaction as a write (BEGIN IMMEDIATE on SQLite).
WRITE_OPTION = "redflags_write"


class DatabaseUrlError(ValueError):
    """DATABASE_URL names a database this program cannot use."""


def database_url() -> str:
    """The URL from ``DATABASE_URL``, or the embedded SQLite file under data/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"
    backend = url.split(":", 1)[0]
    if backend not in ("sqlite", "postgresql+psycopg"):
        raise DatabaseUrlError(
            f"DATABASE_URL must start with sqlite:/// or postgresql+psycopg:// (got {backend}://…)"
        )
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below, so that a
    # write transaction can start with BEGIN IMMEDIATE. The pragmas run on a
    # plain cursor: the SQLAlchemy docs' recipe trips over Python 3.11's
    # sqlite3 ``autocommit`` attribute.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # INSERT OR REPLACE deletes the row it replaces; only with recursive triggers
    # does that deletion meet the audit table's append-only DELETE trigger.
    cursor.execute("PRAGMA recursive_triggers=ON")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    # Writers take the write lock up front: a deferred transaction that reads
    # first and writes later fails with "database is locked" instead of
    # waiting when another writer got there in between.
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (SQLite gives its -wal and
    -shm files the same mode); an existing file is left as it is."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for PostgreSQL or an in-memory database."""
    if not url.startswith("sqlite"):
        return None
    path = make_url(url).database
    return Path(path) if path and path != ":memory:" else None


def create_db_engine(url: str | None = None) -> Engine:
    """A new engine for ``url`` (default: :func:`database_url`).

    Statement parameters are never put into error messages (``hide_parameters``):
    they hold patient data, and error messages reach logs.
    """
    url = url or database_url()
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


@cache
def get_engine() -> Engine:
    """The process-wide engine for ``DATABASE_URL``."""
    return create_db_engine()


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; it never writes."""
    with Session(engine or get_engine()) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error.

    On SQLite it begins ``IMMEDIATE`` so that concurrent writers queue on the
    busy timeout instead of failing.
    """
    engine = (engine or get_engine()).execution_options(**{WRITE_OPTION: True})
    with Session(engine) as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Any:
    """An Alembic configuration for ``engine``, without an alembic.ini."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def check_encoding(engine: Engine) -> None:
    """Refuse a PostgreSQL database that cannot store every character (not UTF-8).

    Patient names and notes hold any script; a LATIN1 or SQL_ASCII database
    would refuse some at import time, or store bytes it cannot give back.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        encoding = str(connection.execute(text("SHOW server_encoding")).scalar_one())
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise DatabaseUrlError(
            f"The database at {describe_url(str(engine.url))} uses the {encoding} encoding; "
            "it must be UTF8 to store every name and note. Create it with "
            "CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0, and point DATABASE_URL at it."
        )


def upgrade(engine: Engine | None = None) -> tuple[str | None, str | None]:
    """Create or upgrade the schema to the latest migration (UTF-8 databases only).

    Returns the schema's revision before (None: there was no schema) and after.
    """
    from alembic import command

    engine = engine or get_engine()
    check_encoding(engine)
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at; None when it has no schema of ours yet."""
    from alembic.runtime.migration import MigrationContext

    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(engine: Engine | None = None) -> bool:
    """Whether the database has been migrated to the latest schema."""
    from alembic.script import ScriptDirectory

    engine = engine or get_engine()
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    return current_revision(engine) == head
