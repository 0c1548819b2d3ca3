"""The frame: login gate, menu per role, every page rendering on the demo clinic."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from services.access import Actor
from tests.pages.helpers import (
    ADMIN,
    CLINICIAN,
    ENTRY,
    ROOT,
    TIMEOUT,
    VIEWER,
    all_text,
    audit_rows,
    logged_in,
    no_exception,
    open_page,
)
from ui import navigation, state

PAGES = [spec.path for spec in navigation.PAGES]


def menu(at: AppTest) -> list[str]:
    return [link.proto.label for link in at.sidebar.get("page_link")]


def menu_urls(at: AppTest) -> list[str]:
    return [link.proto.page for link in at.sidebar.get("page_link")]


def test_a_visitor_who_is_not_logged_in_sees_only_the_login_page(demo_engine: Engine) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT).run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Log in"]
    assert menu(at) == []
    assert "Weekly review" not in all_text(at)


def test_logging_in_as_demo_opens_the_dashboard_as_an_admin(demo_engine: Engine) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT).run()
    at.text_input[0].input("demo")
    at.text_input[1].input("demo")
    at.button[0].click().run()
    no_exception(at)
    assert at.session_state[state.ACTOR_KEY].username == "demo"
    # AppTest stays on the login page's script; a browser lands on the default page.
    at.switch_page(navigation.WEEKLY_REVIEW.path).run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Weekly review"]
    assert at.session_state[state.ACTOR_KEY].role.value == "admin"


def test_a_wrong_password_keeps_the_visitor_out(demo_engine: Engine) -> None:
    at = AppTest.from_file(ENTRY, default_timeout=TIMEOUT).run()
    at.text_input[0].input("demo")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    no_exception(at)
    assert state.ACTOR_KEY not in at.session_state
    assert at.error
    assert menu(at) == []


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (VIEWER, ["Weekly review", "Patient report", "Rules in force"]),
        (
            CLINICIAN,
            [
                "Weekly review",
                "Patient report",
                "Log a session",
                "Care-team decision",
                "Records",
                "Rules in force",
            ],
        ),
        (
            ADMIN,
            [
                "Weekly review",
                "Patient report",
                "Log a session",
                "Care-team decision",
                "Records",
                "Rules in force",
                "Audit log",
                "Users",
            ],
        ),
    ],
    ids=["viewer", "clinician", "admin"],
)
def test_the_menu_lists_only_the_pages_a_role_may_use(
    demo_engine: Engine, actor: Actor, expected: list[str]
) -> None:
    at = logged_in(actor).run()
    no_exception(at)
    assert menu(at) == expected


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo_clinic_without_an_exception(
    demo_engine: Engine, page: str
) -> None:
    at = open_page(logged_in(ADMIN), page, patient="DEMO-001")
    no_exception(at)
    title = next(spec.title for spec in navigation.PAGES if spec.path == page)
    assert [t.value for t in at.title] == [title]


def test_the_demo_database_is_labelled_as_synthetic(demo_engine: Engine) -> None:
    # AppTest keeps the entry script's own elements only on the first run of a session.
    at = logged_in(ADMIN).run()
    assert "Synthetic demo data" in all_text(at)


@pytest.mark.parametrize("page", ["pages/log_session.py", "pages/decision.py", "pages/records.py"])
def test_a_viewer_who_reaches_a_clinical_page_is_stopped_by_the_page_itself(
    demo_engine: Engine, page: str
) -> None:
    # Run the page as its own script: the menu would not even offer it.
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    at.session_state[state.ACTOR_KEY] = VIEWER
    at.session_state[state.LOGGED_IN_AT_KEY] = at.session_state[state.LAST_ACTIVITY_KEY] = (
        state.clock()
    )
    at.run()
    no_exception(at)
    assert any("does not give access" in e.value for e in at.error)
    assert not at.button and not at.number_input


@pytest.mark.parametrize(
    ("actor", "refused"),
    [
        (VIEWER, {"log_session", "decision", "records", "audit_log", "users"}),
        (CLINICIAN, {"audit_log", "users"}),
        (ADMIN, set()),
    ],
    ids=["viewer", "clinician", "admin"],
)
def test_the_pages_a_role_may_not_open_keep_their_urls_but_not_their_scripts(
    demo_engine: Engine, actor: Actor, refused: set[str]
) -> None:
    """A viewer sent a /log_session link gets a refusal there, not the home page in silence."""
    at = logged_in(actor).run()
    registered = {info.get("url_pathname"): info for info in at._registered_pages.values()}
    assert set(registered) == {"", *navigation.url_paths_behind_login()}
    runs_a_script = {url for url, info in registered.items() if info.get("script_path")}
    assert runs_a_script == set(registered) - refused
    assert not refused & {link.removeprefix("/") for link in menu_urls(at)}


def _refuse(url_path: str, title: str) -> None:
    from services.access import Permission
    from tests.pages.helpers import VIEWER as viewer
    from ui import state as ui_state

    ui_state.refuse_page(viewer, Permission.WRITE_CLINICAL, title, url_path)


def test_the_refusal_under_a_page_url_names_the_page_and_is_audited(demo_engine: Engine) -> None:
    at = AppTest.from_function(_refuse, args=("log_session", "Log a session")).run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Log a session"]
    assert "Your role (viewer) does not give access to Log a session" in at.error[0].value
    denied = audit_rows(demo_engine, "access_denied")
    assert denied and denied[-1].username == VIEWER.username
    assert "page log_session" in str(denied[-1].details)


def test_a_page_run_without_a_login_asks_to_log_in(demo_engine: Engine) -> None:
    at = AppTest.from_file(str(ROOT / "pages/patient_report.py"), default_timeout=TIMEOUT).run()
    no_exception(at)
    assert any("log in" in w.value for w in at.warning)
    assert not at.selectbox


def test_pages_load_in_well_under_a_second_on_the_demo(demo_engine: Engine) -> None:
    at = logged_in(ADMIN).run()  # imports and caches warm up here
    timings: dict[str, float] = {}
    for page in PAGES:
        at.switch_page(page)
        at.query_params["patient"] = "DEMO-004"
        at.run()
        started = time.perf_counter()
        at.run()
        timings[page] = time.perf_counter() - started
        no_exception(at)
    slow = {page: round(seconds, 2) for page, seconds in timings.items() if seconds > 0.9}
    assert not slow, f"pages slower than 0.9 s: {slow} (all: {timings})"
