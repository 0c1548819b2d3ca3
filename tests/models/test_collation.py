"""Lists show the same order on SQLite and on a PostgreSQL database with a language collation.

PostgreSQL's ORDER BY follows the database's collation: under en-US "_x" sorts
before "-5" and "a" before "B", where SQLite (and C) sort by code point. The
patient picker, the users list and the audit filters sort in Python, so a
clinic sees the same order whichever database it runs on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from models.db import create_db_engine, upgrade
from redflags.codes import Role
from services import patients, users
from services.access import command_line_actor
from services.audit_log import audit_choices

CODES = ["a_b", "B", "-5", "a-b", "_x", "a", "a.b", "DEMO-001", "demo-001", "Z9"]
USERNAMES = ["a_b", "A-C", "ab", "a.b", "a-b", "Bea"]
PASSWORD = "a long enough passphrase"


def _fill(engine: Engine) -> None:
    upgrade(engine)
    operator = command_line_actor()
    for code in CODES:
        assert patients.add_patient(engine=engine, actor=operator, code=code).ok
    for name in USERNAMES:
        users.create_user(
            engine=engine, actor=operator, username=name, role=Role.VIEWER, password=PASSWORD
        )


def _orders(engine: Engine) -> tuple[list[str], list[str], list[str]]:
    operator = command_line_actor()
    codes = [p.code for p in patients.patient_choices(engine=engine, actor=operator)]
    names = [u.username for u in users.list_users(engine=engine, actor=operator)]
    return codes, names, audit_choices(engine=engine, actor=operator).usernames


@pytest.fixture
def en_us_url(pg_admin_engine: Engine) -> Iterator[str]:
    """A new PostgreSQL database whose collation is en-US (ICU), dropped afterwards."""
    name = f"t_icu_{uuid.uuid4().hex[:10]}"
    with pg_admin_engine.connect() as connection:
        connection.execute(
            text(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        )
    url = make_url(str(pg_admin_engine.url)).set(database=name)
    yield url.render_as_string(hide_password=False)
    with pg_admin_engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.mark.postgres
def test_postgresql_with_an_en_us_collation_lists_in_the_same_order_as_sqlite(
    en_us_url: str, sqlite_url: str
) -> None:
    probe = create_engine(en_us_url)
    with probe.connect() as connection:
        database_order = connection.execute(
            text("SELECT c FROM unnest(CAST(:codes AS text[])) AS c ORDER BY c"), {"codes": CODES}
        ).scalars()
        assert list(database_order) != sorted(CODES), "the database itself sorts differently"
    probe.dispose()

    found = []
    for url in (en_us_url, sqlite_url):
        engine = create_db_engine(url)
        _fill(engine)
        found.append(_orders(engine))
        engine.dispose()
    on_postgresql, on_sqlite = found
    assert on_postgresql == on_sqlite
    codes, names, audit_names = on_postgresql
    assert codes == sorted(CODES)
    assert names == sorted(USERNAMES, key=lambda name: (name.casefold(), name))
    assert audit_names == sorted(audit_names) and "cli:" in " ".join(audit_names)
