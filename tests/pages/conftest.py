"""Fixtures of the page tests: the demo clinic in a database the dashboard (AppTest) uses.

The demo is loaded once per test session into a template SQLite file (for
today, as ``manage.py demo`` would) and copied for each test, so every test
starts from the same clinic and may write to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine

from models import db
from tests.pages.helpers import load_demo_clinic


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the demo clinic, loaded once for the whole test session."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = db.create_db_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    load_demo_clinic(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


def _use_database(url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDFLAGS_RULES_FILE", raising=False)
    db.get_engine.cache_clear()
    st.cache_resource.clear()
    return db.get_engine()


@pytest.fixture
def demo_engine(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """This test's own copy of the demo clinic, named by DATABASE_URL for the dashboard."""
    path = tmp_path / "clinic.db"
    shutil.copyfile(demo_template, path)
    engine = _use_database(f"sqlite:///{path}", monkeypatch)
    yield engine
    st.cache_resource.clear()
    db.get_engine.cache_clear()
    engine.dispose()


@pytest.fixture
def empty_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated database without any patient, named by DATABASE_URL."""
    engine = _use_database(f"sqlite:///{tmp_path / 'empty.db'}", monkeypatch)
    db.upgrade(engine)
    yield engine
    st.cache_resource.clear()
    db.get_engine.cache_clear()
    engine.dispose()
