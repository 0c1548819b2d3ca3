"""The synthetic demo clinic: deterministic, current, and showing every rule code."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from models.tables import decision_table, session_table
from redflags import demo_clinic
from redflags.codes import GreenLight, Recommendation, RedFlag, Role, SafetyFlag, Status, Watch
from redflags.config import load_rules
from redflags.engine import evaluate_history
from services import auth, demo, users
from services.access import Actor, command_line_actor
from services.decisions import withdraw_decision
from services.review import weekly_review
from services.sessions import remove_session

TODAY = date(2026, 11, 25)


def _codes(cells: object) -> set[str]:
    return {code for cell in cells for code in cell}  # type: ignore[attr-defined]


def test_the_generator_is_deterministic_and_the_committed_csvs_are_its_output() -> None:
    assert demo_clinic.generate() == demo_clinic.generate()
    for path, content in demo_clinic.files():
        assert path.read_bytes() == content, (
            f"{path.name} is stale: run python -m redflags.demo_clinic"
        )


def test_the_demo_is_a_clinic_of_forty_patients_over_six_months_on_all_routes() -> None:
    clinic = demo_clinic.generate()
    assert len(clinic.patients) >= 40
    assert {row["route"] for row in clinic.sessions} == {
        "esketamine_nasal",
        "ketamine_iv",
        "ketamine_im",
        "ketamine_oral",
    }
    first = min(row["session_date"][:10] for row in clinic.sessions)
    assert date.fromisoformat(first) <= demo_clinic.ANCHOR - timedelta(days=180)


def test_esketamine_induction_is_twice_weekly_for_four_weeks_then_weekly() -> None:
    clinic = demo_clinic.generate()
    # A filler-free scenario patient on esketamine since well before week 8.
    dates = sorted(
        date.fromisoformat(r["session_date"][:10])
        for r in clinic.sessions
        if r["patient_id"] == "DEMO-003"
    )
    first_four_weeks = [d for d in dates if (d - dates[0]).days < 28]
    weeks_five_to_eight = [d for d in dates if 28 <= (d - dates[0]).days < 56]
    assert len(first_four_weeks) == 8
    assert len(weeks_five_to_eight) == 4


def test_every_rule_code_shows_in_the_review_of_the_committed_csv() -> None:
    clinic = demo_clinic.generate()
    history = pd.DataFrame(clinic.sessions)
    # The engine's own window over the raw CSV rows (types as the importer gives them).
    numeric = [
        c
        for c in history.columns
        if c not in ("patient_id", "session_date", "route", "commitment", "note")
        and not c.endswith("_course")
    ]
    for column in numeric:
        history[column] = pd.to_numeric(history[column].replace("", None))
    for column in [c for c in history.columns if c.endswith("_course")]:
        history[column] = history[column].replace("", None)
    history["session_at"] = pd.to_datetime(history["session_date"], format="ISO8601")
    decisions = pd.DataFrame(clinic.decisions)
    decisions["decided_at"] = pd.to_datetime(decisions["decided_at"])
    codes = [row["patient_id"] for row in clinic.patients]
    review = evaluate_history(history, decisions, codes, demo_clinic.ANCHOR, load_rules())
    _assert_every_code(review.table)


def _assert_every_code(table: object) -> None:
    assert isinstance(table, pd.DataFrame)
    assert set(table["status"]) == {s.value for s in Status}
    assert _codes(table["safety_flags"]) == {c.value for c in SafetyFlag}
    assert _codes(table["red_flags"]) == {c.value for c in RedFlag}
    assert _codes(table["watch"]) == {c.value for c in Watch}
    assert _codes(table["green_lights"]) == {c.value for c in GreenLight}
    assert _codes(table["recommendations"]) == {c.value for c in Recommendation}
    assert _codes(table["addressed"]), "no addressed flag in the demo"
    assert table["stale"].any() and not table["stale"].all()


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    demo.load_demo(engine=engine, actor=command_line_actor(), today=TODAY)
    return engine


def test_loaded_demo_shows_every_rule_code_on_the_day_it_is_loaded(demo_engine: Engine) -> None:
    reviewer = Actor("reviewer", Role.VIEWER)
    review = weekly_review(engine=demo_engine, actor=reviewer, as_of=TODAY, config=load_rules())
    _assert_every_code(review.table)
    latest = review.table["latest_session"].dropna().max()
    assert latest.date() == TODAY


def test_no_demo_session_lies_later_than_the_start_of_the_day_it_is_loaded() -> None:
    # The demo loads at any hour; a session later than "now" would show a session
    # that has not happened yet (and a decision recorded that morning would find
    # its flags still open). Sessions on the anchor day therefore carry no time.
    shifted = demo_clinic.shift_rows(
        demo_clinic.read_csv(demo_clinic.SESSIONS_CSV),
        "session_date",
        (TODAY - demo_clinic.ANCHOR).days,
    )
    times = pd.to_datetime(pd.Series([row["session_date"] for row in shifted]), format="ISO8601")
    assert times.max() == pd.Timestamp(TODAY)
    assert (times <= pd.Timestamp(TODAY)).all()


def test_loading_the_demo_again_the_same_day_changes_nothing(demo_engine: Engine) -> None:
    again = demo.load_demo(engine=demo_engine, actor=command_line_actor(), today=TODAY)
    assert (again.sessions_imported, again.decisions_imported) == (0, 0)
    assert again.sessions_unchanged == len(demo_clinic.read_csv(demo_clinic.SESSIONS_CSV))
    assert not again.refreshed


def test_loading_the_demo_on_a_later_day_moves_it_to_that_day(demo_engine: Engine) -> None:
    later = TODAY + timedelta(days=9)
    result = demo.load_demo(engine=demo_engine, actor=command_line_actor(), today=later)
    assert result.refreshed
    with demo_engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(session_table)).scalar_one()
    assert count == len(demo_clinic.read_csv(demo_clinic.SESSIONS_CSV))
    review = weekly_review(
        engine=demo_engine, actor=Actor("r", Role.VIEWER), as_of=later, config=load_rules()
    )
    _assert_every_code(review.table)


@pytest.mark.parametrize("days_later", [0, 9])
def test_a_demo_session_removed_in_the_dashboard_comes_back_when_the_demo_is_loaded_again(
    demo_engine: Engine, days_later: int
) -> None:
    """An import refuses a session removed as entered in error; the demo's own reload does not."""
    with demo_engine.connect() as connection:
        first = connection.execute(select(func.min(session_table.c.id))).scalar_one()
    removed = remove_session(
        engine=demo_engine, actor=command_line_actor(), session_id=first, reason="trying it out"
    )
    assert removed.ok, removed.problems
    again = demo.load_demo(
        engine=demo_engine, actor=command_line_actor(), today=TODAY + timedelta(days=days_later)
    )
    with demo_engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(session_table)).scalar_one()
    assert count == len(demo_clinic.read_csv(demo_clinic.SESSIONS_CSV))
    assert again.sessions_imported == (1 if days_later == 0 else count)


@pytest.mark.parametrize("days_later", [0, 9])
def test_a_demo_decision_withdrawn_in_the_dashboard_comes_back_when_the_demo_is_loaded_again(
    demo_engine: Engine, days_later: int
) -> None:
    with demo_engine.connect() as connection:
        first = connection.execute(select(func.min(decision_table.c.id))).scalar_one()
    withdrawn = withdraw_decision(
        engine=demo_engine, actor=command_line_actor(), decision_id=first, reason="trying it out"
    )
    assert withdrawn.ok, withdrawn.problems
    again = demo.load_demo(
        engine=demo_engine, actor=command_line_actor(), today=TODAY + timedelta(days=days_later)
    )
    with demo_engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(decision_table)).scalar_one()
    assert count == len(demo_clinic.read_csv(demo_clinic.DECISIONS_CSV))
    assert again.decisions_imported == (1 if days_later == 0 else count)


def test_the_demo_login_exists_only_in_the_demo_database(
    demo_engine: Engine, engine: Engine
) -> None:
    assert demo.is_demo(engine=demo_engine)
    result = auth.login(engine=demo_engine, username="demo", password="demo")
    assert result.actor is not None and result.actor.username == "demo"


def test_the_demo_refuses_a_database_with_real_records(engine: Engine) -> None:
    users.create_user(
        engine=engine,
        actor=command_line_actor(),
        username="dr_real",
        role=Role.CLINICIAN,
        password="a long enough password",
    )
    with pytest.raises(demo.DemoRefused):
        demo.load_demo(engine=engine, actor=command_line_actor(), today=TODAY)
    assert not demo.is_demo(engine=engine)
    assert not users.user_exists(engine=engine, username="demo")


def test_loading_the_demo_leaves_an_audit_row_for_each_of_its_writes(engine: Engine) -> None:
    from models.tables import audit_table

    demo.load_demo(engine=engine, actor=command_line_actor(), today=TODAY)
    with engine.connect() as connection:
        actions = list(
            connection.execute(select(audit_table.c.action).order_by(audit_table.c.id)).scalars()
        )
    assert [
        a for a in actions if a in {"sessions_import", "demo_patients_loaded", "decisions_import"}
    ] == ["sessions_import", "demo_patients_loaded", "decisions_import"]
