"""The dashboard in a real browser: log in, review, open a red patient, charts, decision, CSV.

Runs ``streamlit run dashboard.py`` on a free port against a temporary SQLite
database holding the demo clinic (``manage.py init-db`` then ``manage.py demo``),
and drives Debian's Chromium (never a browser downloaded by ``playwright
install``) headless with a fresh profile.
Skips when Chromium is missing, unless ``REQUIRE_BROWSER=1`` (CI), which
makes that a failure. Table cells are drawn on a canvas, so data is checked
through the downloaded file and AppTest; the browser checks layout.

``SAVE_DOC_SCREENSHOTS=1`` also writes the README's screenshots to
docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from redflags.fields import SESSION_COLUMNS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("REDFLAGS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
RED_PATIENT = "DEMO-001"


def _chromium_or_skip() -> Path:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = (
        f"Chromium is not at {CHROMIUM}: install it with `apt-get install -y chromium` "
        "(or set REDFLAGS_CHROMIUM) to run the browser tests"
    )
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit was not healthy within 90 s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a server on a demo-clinic database of its own."""
    _chromium_or_skip()
    folder = tmp_path_factory.mktemp("e2e")
    return _demo_clinic(f"sqlite:///{folder / 'demo.db'}")


def _demo_clinic(url: str) -> dict[str, str]:
    """``manage.py init-db`` and ``demo`` on ``url``; the environment naming it."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.pop("REDFLAGS_RULES_FILE", None)
    for command in ("init-db", "demo"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {command}: {done.stdout}{done.stderr}"
    return env


@contextmanager
def _served(env: dict[str, str], log: Path) -> Iterator[str]:
    """``streamlit run dashboard.py`` on a free port; its base URL until the block ends."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "dashboard.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(base, server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, f"the server logged an exception:\n{text}"
    # A page's uncaught exception is logged without its traceback (ui/log_privacy.py).
    assert "Uncaught app execution" not in text, f"a page failed:\n{text}"
    # Streamlit's own warnings come with a stack but no "Traceback" line.
    assert "Session State API" not in text, f"the server logged a widget warning:\n{text}"


@pytest.fixture(scope="module")
def dashboard(demo_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard's base URL, shared by the tests of this module."""
    with _served(demo_env, tmp_path_factory.mktemp("server") / "streamlit.log") as base:
        yield base


@pytest.fixture
def fresh_dashboard(demo_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A server of its own that nobody has visited yet (the first visit is routed
    differently by Streamlit, see ui.state.run_through_the_entry_script)."""
    with _served(demo_env, tmp_path / "streamlit.log") as base:
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A page of a fresh, headless Chromium profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(_chromium_or_skip()),
            headless=True,
            args=CHROMIUM_ARGS,
            accept_downloads=True,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def settle(page: Any) -> float:
    """Wait until the script run the last action started has finished; return the seconds."""
    started = time.perf_counter()
    page.wait_for_timeout(150)  # let the rerun the action requested begin
    page.wait_for_selector(IDLE, timeout=60_000)
    return time.perf_counter() - started


def shot(page: Any, name: str, *, doc_name: str | None = None) -> None:
    page.mouse.move(5, 5)  # no hover highlight where the last click was
    page.wait_for_timeout(200)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if doc_name and os.environ.get("SAVE_DOC_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SCREENSHOTS / doc_name))


def menu(page: Any, name: str) -> None:
    page.get_by_test_id("stSidebarUserContent").get_by_role("link", name=name).click()


def go(page: Any, *names: str) -> None:
    """Through the menu to each page in turn, waiting for each to be drawn."""
    for name in names:
        menu(page, name)
        settle(page)


def choose(page: Any, label: str, text: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    page.get_by_role("option").first.click()


def _log_in_at(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.get_by_role("textbox", name="Username").fill("demo")
    page.get_by_role("textbox", name="Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    settle(page)


def test_a_clinician_reviews_opens_a_red_patient_decides_and_downloads(
    dashboard: str, page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    timings: dict[str, float] = {}
    page.goto(dashboard)
    page.wait_for_selector(IDLE, timeout=60_000)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("textbox", name="Username").fill("demo")
    page.get_by_role("textbox", name="Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    timings["login → weekly review"] = settle(page)

    # The weekly review: counts, the table (a canvas), the menu.
    expect(page.get_by_role("heading", name="Weekly review")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Urgent")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Red")).to_be_visible()
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    assert table.bounding_box()["width"] > 900
    expect(page.get_by_text("Synthetic demo data")).to_be_visible()
    page.set_viewport_size({"width": 1600, "height": 1100})
    page.wait_for_timeout(800)  # the canvas draws its rows (and sparklines)
    shot(page, "weekly-review", doc_name="weekly-review.png")
    page.set_viewport_size({"width": 1440, "height": 1000})

    # Open a red patient's report from the review.
    choose(page, "Open a patient's report", RED_PATIENT)
    settle(page)
    page.get_by_role("button", name="Open report").click()
    timings["weekly review → report"] = settle(page)
    expect(page.get_by_role("heading", name="Patient report")).to_be_visible()
    expect(page.get_by_role("heading", name=f"{RED_PATIENT} · Arden Xu")).to_be_visible()
    expect(page.get_by_text("Repeated overwhelming panic").first).to_be_visible()
    expect(page.get_by_text("Consider a moment to pause and see with the patient")).to_be_visible()

    # The four plotly charts drew their SVG (axes and traces).
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg .scatterlayer .trace').length >= 4",
        timeout=30_000,
    )
    charts = page.locator(".js-plotly-plot")
    assert charts.count() == 4
    for index in range(4):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        assert chart.locator("svg.main-svg").count() >= 1
        assert chart.locator(".scatterlayer .trace path").count() >= 1
        assert chart.bounding_box()["height"] > 200
    page.get_by_role("heading", name="What to discuss").scroll_into_view_if_needed()
    page.set_viewport_size({"width": 1440, "height": 2300})
    page.wait_for_timeout(800)  # plotly redraws at the new size
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_role("heading", name="Patient report").scroll_into_view_if_needed()
    shot(page, "patient-report", doc_name="patient-report.png")
    page.set_viewport_size({"width": 1440, "height": 1000})

    # Download this patient's sessions: the CSV of records.md, this patient only.
    with page.expect_download(timeout=30_000) as download_info:
        page.get_by_role("button", name="Download this patient's sessions (CSV)").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    assert download.suggested_filename.startswith(f"sessions-{RED_PATIENT}-")
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows[0] == list(SESSION_COLUMNS)
    assert len(rows) > 2 and {row[0] for row in rows[1:]} == {RED_PATIENT}

    # Record a decision with the patient: a pause, considering the open red flag.
    page.get_by_test_id("stMainBlockContainer").get_by_role(
        "link", name="Record a care-team decision"
    ).click()
    timings["report → decision"] = settle(page)
    expect(page.get_by_role("heading", name="Care-team decision")).to_be_visible()
    expect(page.get_by_role("combobox", name="Patient")).to_have_value(f"{RED_PATIENT} · Arden Xu")
    page.get_by_role("radiogroup", name="Decision").get_by_role("radio", name="Pause").click()
    settle(page)
    page.get_by_role("textbox", name="Who took part").fill("the patient; Dr Hana Sato")
    page.get_by_role("textbox", name="The patient's view, in their own words").fill(
        "I'd like a break before deciding."
    )
    page.get_by_role("textbox", name="Rationale").fill("Two hard panic sessions out of three.")
    page.keyboard.press("Tab")
    settle(page)
    page.get_by_role("button", name="Record the decision").click()
    timings["record decision"] = settle(page)
    expect(page.get_by_text(f"Decision recorded for {RED_PATIENT}.")).to_be_visible()
    expect(page.get_by_text("Repeated overwhelming panic: addressed by Pause")).to_be_visible()
    # The form starts the next decision blank, in the browser too.
    expect(
        page.get_by_role("radiogroup", name="Decision").get_by_role("radio", name="Pause")
    ).not_to_be_checked()
    expect(page.get_by_role("button", name="Record the decision")).to_be_disabled()
    shot(page, "decision-recorded")

    # Back on the weekly review, the layout still holds.
    menu(page, "Weekly review")
    timings["decision → weekly review"] = settle(page)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-timings.txt").write_text(
        "\n".join(f"{step}: {seconds:.2f} s" for step, seconds in timings.items()) + "\n",
        encoding="utf-8",
    )
    slow = {step: s for step, s in timings.items() if s > 10}
    assert not slow, f"steps slower than 10 s in the browser: {slow}"


def test_a_link_to_a_report_opens_that_report_after_logging_in(
    fresh_dashboard: str, page: Any
) -> None:
    """The first visit to a server just started, by a link: the login form, then the report."""
    from playwright.sync_api import expect

    dashboard = fresh_dashboard
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(f"{dashboard}/patient_report?patient={RED_PATIENT}")
    page.wait_for_selector(IDLE, timeout=60_000)
    expect(page.get_by_text("to see this page")).to_have_count(0)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.get_by_role("textbox", name="Username").fill("demo")
    page.get_by_role("textbox", name="Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    settle(page)
    expect(page.get_by_role("heading", name="Patient report")).to_be_visible()
    expect(page.get_by_role("heading", name=f"{RED_PATIENT} · Arden Xu")).to_be_visible()
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4", timeout=30_000
    )
    assert hosts <= {"127.0.0.1", "localhost", ""}, f"requests left the machine: {hosts}"


def _session_count(env: dict[str, str]) -> int:
    from sqlalchemy import create_engine, func, select

    from models.tables import session_table

    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            counted = select(func.count()).select_from(session_table)
            return int(connection.execute(counted).scalar_one())
    finally:
        engine.dispose()


def test_a_number_out_of_range_is_reported_not_saved_as_not_recorded(
    dashboard: str, demo_env: dict[str, str], page: Any
) -> None:
    """The browser itself must not swallow an out-of-range number: a PHQ-9 item 9 of 4
    saved as "not recorded" would fire no safety flag."""
    from playwright.sync_api import expect

    _log_in_at(page, f"{dashboard}/log_session")
    expect(page.get_by_role("heading", name="Log a session")).to_be_visible()
    choose(page, "Patient", "DEMO-003")
    settle(page)
    choose(page, "Route", "IV ketamine")
    settle(page)
    for label, typed in (
        ("Dose (mg)", "35"),
        ("PHQ-9 total", "15"),
        ("PHQ-9 item 9", "4"),
        ("Systolic before dosing", "1600"),
        ("Diastolic before dosing", "95"),
    ):
        page.get_by_role("spinbutton", name=label).fill(typed)
        page.keyboard.press("Tab")
        settle(page)
    before = _session_count(demo_env)
    page.get_by_role("button", name="Save session").click()
    settle(page)
    expect(page.get_by_text("Not saved: 2 problems")).to_be_visible()
    expect(page.get_by_text("4 is out of range: it must be from 0 to 3")).to_be_visible()
    expect(page.get_by_text("1600 is out of range: it must be from 50 to 300")).to_be_visible()
    assert _session_count(demo_env) == before
    # Corrected, the same form saves, with the values as typed.
    page.get_by_role("spinbutton", name="PHQ-9 item 9").fill("2")
    page.get_by_role("spinbutton", name="Systolic before dosing").fill("160")
    page.keyboard.press("Tab")
    settle(page)
    page.get_by_role("button", name="Save session").click()
    settle(page)
    expect(page.get_by_text("Session saved for DEMO-003.")).to_be_visible()
    assert _session_count(demo_env) == before + 1


def test_a_look_at_the_report_half_way_through_a_form_loses_nothing(
    dashboard: str, page: Any
) -> None:
    """Streamlit forgets the widgets of a page left; the forms' typed values come back."""
    from playwright.sync_api import expect

    _log_in_at(page, f"{dashboard}/log_session")
    choose(page, "Patient", "DEMO-030")
    settle(page)
    page.get_by_role("spinbutton", name="Dose (mg)").fill("200")
    page.get_by_label("Clinician note").fill("Anxious at onset, settled by 20 minutes.")
    page.keyboard.press("Tab")
    settle(page)
    go(page, "Patient report", "Weekly review", "Log a session")
    expect(page.get_by_role("spinbutton", name="Dose (mg)")).to_have_value("200")
    expect(page.get_by_label("Clinician note")).to_have_value(
        "Anxious at onset, settled by 20 minutes."
    )
    expect(page.get_by_text("Typed for another patient")).to_have_count(0)
    go(page, "Care-team decision")
    page.get_by_label("Rationale").fill("Two hard sessions in a row.")
    page.keyboard.press("Tab")
    settle(page)
    go(page, "Patient report", "Care-team decision")
    expect(page.get_by_label("Rationale")).to_have_value("Two hard sessions in a row.")


def test_an_earlier_review_date_is_said_and_back_to_today_restores_it(
    dashboard: str, page: Any
) -> None:
    from playwright.sync_api import expect

    _log_in_at(page, dashboard)
    day = page.get_by_role("spinbutton", name="day, As of")
    today = [
        page.get_by_role("spinbutton", name=f"{part}, As of").inner_text()
        for part in ("day", "month", "year")
    ]
    day.click()
    page.keyboard.type(f"{date.today() - timedelta(days=10):%d%m%Y}")  # DD/MM/YYYY, the default
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Weekly review").click()
    settle(page)
    expect(page.get_by_text("Not today's review")).to_be_visible()
    page.get_by_role("button", name="Back to today").click()
    settle(page)
    expect(page.get_by_text("Not today's review")).to_have_count(0)
    assert [
        page.get_by_role("spinbutton", name=f"{part}, As of").inner_text()
        for part in ("day", "month", "year")
    ] == today


def save_changes(tab: Any, reason: str, *, note: str | None = None) -> None:
    """On the session form in edit mode: the note (if given), the reason, Save changes."""
    if note is not None:
        tab.get_by_role("textbox", name="Clinician note").fill(note)
    tab.get_by_role("textbox", name="Reason for the change").fill(reason)
    tab.keyboard.press("Tab")
    settle(tab)
    tab.get_by_role("button", name="Save changes").click()
    settle(tab)


def test_two_people_editing_one_session_the_later_save_is_refused_not_a_crash(
    dashboard: str, page: Any
) -> None:
    """A colleague's change to the session's dose changes its description in the chooser;
    the browser then sends the old description back, which names no session any more."""
    from playwright.sync_api import expect

    mine, theirs = page, page.context.new_page()  # two tabs: two sessions of the app
    for tab in (mine, theirs):
        _log_in_at(tab, f"{dashboard}/log_session?patient=DEMO-030")
        expect(tab.get_by_role("heading", name="Log a session")).to_be_visible()
        tab.get_by_text("Edit a stored session", exact=True).click()
        settle(tab)
        choose(tab, "Session to edit (newest first)", "")
        settle(tab)
    dose = theirs.get_by_role("spinbutton", name="Dose (mg)")
    new_dose = "22" if dose.input_value() != "22" else "24"
    dose.fill(new_dose)
    save_changes(theirs, "the dose was mistyped")
    expect(theirs.get_by_text("Changes saved for DEMO-030.")).to_be_visible()

    save_changes(mine, "note added", note="Calm throughout.")
    expect(mine.get_by_text("Someone else saved this session at")).to_be_visible()
    mine.get_by_text("Someone else saved this session at").scroll_into_view_if_needed()
    shot(mine, "edit-conflict")
    expect(mine.get_by_role("textbox", name="Clinician note")).to_have_value("Calm throughout.")
    mine.get_by_role("button", name="Load the stored session again").click()
    settle(mine)
    expect(mine.get_by_role("spinbutton", name="Dose (mg)")).to_have_value(new_dose)
    expect(mine.get_by_text("Someone else saved this session at")).to_have_count(0)
    save_changes(mine, "note added", note="Calm throughout.")
    expect(mine.get_by_text("Changes saved for DEMO-030.")).to_be_visible()
    theirs.close()


@pytest.mark.postgres
def test_a_database_that_stops_answering_is_said_and_the_next_click_recovers(
    pg_url: str, page: Any, tmp_path: Path
) -> None:
    """PostgreSQL restarting or the network dropping, between two clicks of a logged-in
    user: a sentence and a way to try again, not Streamlit's error page; then back."""
    from playwright.sync_api import expect
    from sqlalchemy.engine import make_url

    from tests.relay import Relay

    env = _demo_clinic(pg_url)
    url = make_url(pg_url)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    env["DATABASE_URL"] = url.set(host="127.0.0.1", port=relay.port).render_as_string(
        hide_password=False
    )
    try:
        with _served(env, tmp_path / "streamlit.log") as base:
            _log_in_at(page, base)
            expect(page.get_by_role("heading", name="Weekly review")).to_be_visible()
            relay.cut()
            go(page, "Patient report")
            expect(page.get_by_text("The database is not answering.")).to_be_visible()
            expect(page.get_by_text("This app has encountered an error")).to_have_count(0)
            shot(page, "database-not-answering")
            relay.restore()
            page.get_by_role("button", name="Try again").click()
            settle(page)
            expect(page.get_by_text("The database is not answering.")).to_have_count(0)
            expect(page.get_by_role("heading", name="Patient report")).to_be_visible()
            expect(page.get_by_role("button", name="Log out")).to_be_visible()
            # A button whose callback reads the database (it checks the login first).
            go(page, "Log a session")
            typed_note = "Tearful at 20 minutes, settled by 40; wants to talk about her father."
            page.get_by_role("textbox", name="Clinician note").fill(typed_note)
            page.get_by_role("spinbutton", name="Dose (mg)").fill("35")
            settle(page)
            relay.cut()
            page.get_by_role("button", name="Save session").click()
            settle(page)
            expect(page.get_by_text("The database is not answering.")).to_be_visible()
            expect(page.get_by_text("This app has encountered an error")).to_have_count(0)
            relay.restore()
            page.get_by_role("button", name="Try again").click()
            settle(page)
            expect(page.get_by_role("heading", name="Log a session")).to_be_visible()
            # What was typed before the outage is still there to save.
            expect(page.get_by_role("textbox", name="Clinician note")).to_have_value(typed_note)
            expect(page.get_by_role("spinbutton", name="Dose (mg)")).to_have_value("35")
    finally:
        relay.close()


HOSTILE = (
    "![x](http://127.0.0.1:9/leak.png) www.evil.example x@evil.example "
    ":material/emergency: :red[RED] <b>b</b>"
)


def test_typed_text_is_shown_as_text_never_as_a_link_an_icon_or_a_code_block(
    dashboard: str, demo_env: dict[str, str], page: Any
) -> None:
    """A name, a clinician and an imported commitment, each carrying what Markdown or
    Streamlit would draw: the browser shows them as the text that was typed."""
    from playwright.sync_api import expect
    from sqlalchemy import create_engine

    from services.access import command_line_actor
    from services.patients import add_patient
    from services.records import import_sessions

    engine = create_engine(demo_env["DATABASE_URL"])
    try:
        assert add_patient(
            engine=engine,
            actor=command_line_actor(),
            code="HOSTILE-1",
            display_name=HOSTILE,
            primary_clinician="Dr http://127.0.0.1:9/clin",
        ).ok
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        imported = import_sessions(
            engine=engine,
            actor=command_line_actor(),
            data=(
                "patient_id,session_date,route,dose_mg,commitment\r\n"
                f'HOSTILE-1,{yesterday},ketamine_iv,35,"walk\r\r    indented www.evil.example"\r\n'
            ).encode(),
        )
        assert imported.ok, imported.messages()
    finally:
        engine.dispose()
    requested: set[str] = set()
    page.on("request", lambda request: requested.add(urlparse(request.url).netloc))
    _log_in_at(page, f"{dashboard}/patient_report?patient=HOSTILE-1")
    main = page.get_by_test_id("stMain")
    header = main.get_by_role("heading", level=2)
    expect(header).to_contain_text("leak.png")
    expect(header).to_contain_text("www")
    expect(main.get_by_text("Dr http")).to_be_visible()
    expect(main.get_by_text("indented www")).to_be_visible()
    hrefs = main.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert not [h for h in hrefs if "evil" in h or "127.0.0.1:9" in h], hrefs
    assert header.locator("[role='img'], img, b").count() == 0, "no icon, image or HTML"
    assert main.locator("pre").filter(has_text="indented").count() == 0, "no code block"
    assert requested <= {urlparse(dashboard).netloc}, requested
