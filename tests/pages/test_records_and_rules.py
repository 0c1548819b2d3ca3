"""The records page (import checked first, then confirmed; exports) and the rules page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from models.tables import session_table
from redflags.clinic_time import clinic_timezone, local_today
from redflags.config import SHIPPED_RULES_FILE, load_rules, rules_rows
from redflags.fields import DECISION_COLUMNS, REVIEW_COLUMNS, SESSION_COLUMNS
from services.access import Actor
from services.exports import ExportKind, ExportRequest, build_export, file_name
from services.review import weekly_review
from tests.pages.helpers import (
    ADMIN,
    CLINICIAN,
    VIEWER,
    all_text,
    audit_details,
    audit_rows,
    logged_in,
    no_exception,
    open_page,
)
from ui import navigation
from ui.widgets import PROBLEMS_LISTED

BAD_CSV = (
    b"patient_id,session_date,route,dose_mg,panic,panic_course\n"
    b"NEW-7,2026-11-02,ketamine_iv,35,8,persisted\n"
    b"NEW-7,03/11/2026,ketamine_iv,35,,reflected\n"
    b"NEW-7,2026-11-04,esketamine_nasal,50,,\n"
)


def good_csv() -> bytes:
    day = local_today(clinic_timezone()) - timedelta(days=1)
    return (
        "patient_id,session_date,route,dose_mg,panic,panic_course,phq9\n"
        f"NEW-7,{day.isoformat()}T09:30,ketamine_iv,35,8,persisted,17\n"
        f"NEW-8,{day.isoformat()},esketamine_nasal,56,,,12\n"
    ).encode()


def session_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(session_table)).scalar_one())


def records_page() -> AppTest:
    at = open_page(logged_in(CLINICIAN), navigation.RECORDS_PAGE.path)
    no_exception(at)
    return at


def upload(at: AppTest, data: bytes, name: str = "sessions.csv") -> AppTest:
    at.file_uploader(key="records.upload").set_value((name, data, "text/csv")).run()
    no_exception(at)
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label.startswith(label)).click().run()
    no_exception(at)
    return at


def code_blocks(at: AppTest) -> str:
    return "\n".join(c.value for c in at.code)


def test_an_invalid_file_lists_every_problem_by_row_and_column_and_writes_nothing(
    demo_engine: Engine,
) -> None:
    before = session_count(demo_engine)
    at = click(upload(records_page(), BAD_CSV), "Check the file")
    report = code_blocks(at)
    assert "row 2, column session_date:" in report
    assert "row 2, column panic_course:" in report
    assert "row 3, column dose_mg:" in report
    assert "Nothing was imported" in "\n".join(e.value for e in at.error)
    assert not [b for b in at.button if b.label.startswith("Import ")], "nothing to confirm"
    assert session_count(demo_engine) == before


def test_a_file_with_more_problems_than_the_page_lists_says_how_many_more(
    demo_engine: Engine,
) -> None:
    day = local_today(clinic_timezone()) - timedelta(days=1)
    rows = [f"NEW-{n},{day.isoformat()},ketamine_iv,0,11," for n in range(PROBLEMS_LISTED // 2 + 1)]
    data = ("patient_id,session_date,route,dose_mg,panic,panic_course\n" + "\n".join(rows)).encode()
    at = click(upload(records_page(), data), "Check the file")
    lines = code_blocks(at).splitlines()
    assert len(lines) == PROBLEMS_LISTED + 1
    assert lines[-1] == "… and 2 more problems not listed (dose_mg: 1, panic: 1)"
    assert f"{PROBLEMS_LISTED + 2} problems" in "\n".join(e.value for e in at.error)


def test_a_valid_file_is_checked_first_and_imported_only_on_confirmation(
    demo_engine: Engine,
) -> None:
    before = session_count(demo_engine)
    at = click(upload(records_page(), good_csv()), "Check the file")
    assert "Checked: the file is valid; nothing has been imported yet." in all_text(at)
    assert "Dry run" not in all_text(at), "the command line's words, not the page's"
    assert session_count(demo_engine) == before, "the check writes nothing"
    dry = audit_details(audit_rows(demo_engine, "sessions_import")[-1])
    assert dry["dry_run"] is True
    click(at, "Import 2 sessions now")
    assert session_count(demo_engine) == before + 2
    assert "imported: 2" in all_text(at)
    assert audit_details(audit_rows(demo_engine, "sessions_import")[-1])["dry_run"] is False


def test_one_checked_record_is_offered_as_one_session_or_one_decision(
    demo_engine: Engine,
) -> None:
    at = click(upload(records_page(), b"\n".join(good_csv().splitlines()[:2]) + b"\n"), "Check")
    assert [b.label for b in at.button if b.label.startswith("Import ")] == ["Import 1 session now"]
    day = local_today(clinic_timezone()) - timedelta(days=1)
    decisions = f"patient_id,decided_at,decision\nDEMO-001,{day.isoformat()}T17:00,pause\n"
    at = records_page()
    at.segmented_control(key="records.import_what").set_value("decisions").run()
    at = click(upload(at, decisions.encode(), "decisions.csv"), "Check")
    assert "Checked: the file is valid" in all_text(at)
    assert [b.label for b in at.button if b.label.startswith("Import ")] == [
        "Import 1 decision now"
    ]


def test_the_export_offers_a_download_for_the_chosen_records(demo_engine: Engine) -> None:
    at = records_page()
    at.selectbox(key="records.export_what").set_value(ExportKind.REVIEW).run()
    at.selectbox(key="records.export_patient").set_value("DEMO-004").run()
    no_exception(at)
    (button,) = at.get("download_button")
    assert button.proto.label == "Download CSV"
    assert "Review (one row per patient, as of a date) for DEMO-004" in all_text(at).replace(
        "\\", ""
    )


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_the_review_download_is_the_review_of_the_caseload_as_of_the_date(
    demo_engine: Engine,
) -> None:
    as_of = local_today(clinic_timezone())
    result = build_export(
        engine=demo_engine,
        actor=CLINICIAN,
        request=ExportRequest(what=ExportKind.REVIEW, as_of=as_of),
        config=load_rules(),
    )
    header, *rows = rows_of(result.data)
    assert header == list(REVIEW_COLUMNS)
    review = weekly_review(engine=demo_engine, actor=CLINICIAN, as_of=as_of, config=load_rules())
    assert len(rows) == len(review.table)
    status = {row[0]: row[1] for row in rows}
    assert status["DEMO-004"] == "urgent" and status["DEMO-001"] == "red"
    assert audit_rows(demo_engine, "records_export")[-1].entity == "review"


def test_a_patients_session_download_holds_only_that_patients_sessions(
    demo_engine: Engine,
) -> None:
    result = build_export(
        engine=demo_engine,
        actor=CLINICIAN,
        request=ExportRequest(what=ExportKind.SESSIONS, patient="DEMO-001"),
        config=load_rules(),
    )
    header, *rows = rows_of(result.data)
    assert header == list(SESSION_COLUMNS)
    assert rows and {row[0] for row in rows} == {"DEMO-001"}
    assert result.rows == len(rows)


def test_the_decisions_download_has_the_decisions_columns(demo_engine: Engine) -> None:
    result = build_export(
        engine=demo_engine,
        actor=CLINICIAN,
        request=ExportRequest(what=ExportKind.DECISIONS),
        config=load_rules(),
    )
    header, *rows = rows_of(result.data)
    assert header == list(DECISION_COLUMNS)
    assert len(rows) >= 1


def test_download_file_names_say_what_whose_and_when() -> None:
    day = local_today(clinic_timezone())
    request = ExportRequest(what=ExportKind.SESSIONS, patient="DEMO-001", as_of=day)
    assert file_name(request, day) == f"sessions-DEMO-001-{day.isoformat()}.csv"
    assert file_name(ExportRequest(what=ExportKind.REVIEW), day) == f"review-{day.isoformat()}.csv"


def test_a_viewer_may_not_build_an_export(demo_engine: Engine) -> None:
    from services.access import PermissionDenied

    with pytest.raises(PermissionDenied):
        build_export(
            engine=demo_engine,
            actor=VIEWER,
            request=ExportRequest(what=ExportKind.SESSIONS),
            config=load_rules(),
        )


def rules_page(actor: Actor = ADMIN) -> AppTest:
    at = open_page(logged_in(actor), navigation.RULES.path)
    no_exception(at)
    return at


def test_the_rules_page_shows_the_file_in_force_and_every_value(demo_engine: Engine) -> None:
    at = rules_page()
    assert str(SHIPPED_RULES_FILE.resolve()) in all_text(at)
    viewer = all_text(rules_page(VIEWER))
    assert f"Rules file: `{SHIPPED_RULES_FILE.name}`" in viewer, "the name, not the server path"
    assert str(SHIPPED_RULES_FILE.parent) not in viewer
    table = at.dataframe[0].value
    expected = rules_rows(load_rules())
    assert list(table["key"]) == [key for key, _ in expected]
    assert table.set_index("key").loc["safety.pre_sys", "value"] == "140"
    assert "bp_pre_dose" in str(table.set_index("key").at["safety.pre_sys", "meaning"])


def test_the_rules_page_shows_a_clinics_own_file(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "clinic-rules.toml"
    own.write_text(
        SHIPPED_RULES_FILE.read_text().replace("stale_days = 21", "stale_days = 14"),
        encoding="utf-8",
    )
    monkeypatch.setenv("REDFLAGS_RULES_FILE", str(own))
    at = rules_page()
    assert str(own.resolve()) in all_text(at)
    assert "the clinic's own file" in all_text(at)
    assert at.dataframe[0].value.set_index("key").loc["window.stale_days", "value"] == "14"


def test_an_invalid_rules_file_stops_the_dashboard_with_the_key_named(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "clinic-rules.toml"
    own.write_text(
        SHIPPED_RULES_FILE.read_text().replace("hard = 7", "hard = 11"), encoding="utf-8"
    )
    monkeypatch.setenv("REDFLAGS_RULES_FILE", str(own))
    at = logged_in(VIEWER).run()  # even a logged-in user sees no page
    no_exception(at)
    assert [t.value for t in at.title] == ["The dashboard cannot start"]
    assert "theme.hard" in all_text(at)
    assert not at.dataframe and not at.sidebar.children
    own.write_text(SHIPPED_RULES_FILE.read_text(), encoding="utf-8")  # corrected: taken up
    at.run()
    no_exception(at)
    assert "The dashboard cannot start" not in [t.value for t in at.title]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLINIC_TIMEZONE", "Mars/Olympus_Mons"),
        ("REDFLAGS_IDLE_MINUTES", "a quarter hour"),
        ("REDFLAGS_SESSION_HOURS", "0"),
        ("REDFLAGS_DATE_INPUT_FORMAT", "DD-MM-YY"),
        ("REDFLAGS_IMPORT_MAX_BYTES", "200MB"),
    ],
)
def test_a_setting_the_dashboard_cannot_use_stops_it_with_the_variable_named(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    at = logged_in(VIEWER).run()
    no_exception(at)  # not Streamlit's redacted "This app has encountered an error"
    assert [t.value for t in at.title] == ["The dashboard cannot start"]
    text = all_text(at)
    assert "A setting of this installation is not valid" in text and variable in text
    assert not at.dataframe and not at.sidebar.children
    monkeypatch.delenv(variable)
    at.run()
    no_exception(at)
    assert "The dashboard cannot start" not in [t.value for t in at.title]


@pytest.mark.parametrize("chosen", ["MM/DD/YYYY", "YYYY-MM-DD", "dd/mm/yyyy"])
def test_date_fields_are_typed_in_the_clinics_order(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch, chosen: str
) -> None:
    monkeypatch.setenv("REDFLAGS_DATE_INPUT_FORMAT", chosen)
    at = logged_in(VIEWER).run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Weekly review"]
    assert at.date_input(key="review.as_of").proto.format == chosen.upper()


def test_date_fields_default_to_day_month_year(demo_engine: Engine) -> None:
    at = logged_in(VIEWER).run()
    assert at.date_input(key="review.as_of").proto.format == "DD/MM/YYYY"
