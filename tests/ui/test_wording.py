"""The pages' words for counts, checked imports and values from links."""

from __future__ import annotations

from datetime import date

import pytest

from services.records import ImportResult, Outcome
from ui import wording

TODAY = date(2026, 11, 20)


def checked(outcome: Outcome, **counts: int) -> ImportResult:
    return ImportResult(
        what="sessions",
        filename="sessions.csv",
        sha256="0" * 64,
        size_bytes=10,
        outcome=outcome,
        dry_run=True,
        **counts,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("what", "count", "label"),
    [
        ("sessions", 1, "Import 1 session now"),
        ("sessions", 2, "Import 2 sessions now"),
        ("decisions", 1, "Import 1 decision now"),
        ("decisions", 0, "Import 0 decisions now"),
        ("sessions", 12000, "Import 12,000 sessions now"),
    ],
)
def test_the_import_button_counts_in_the_singular_or_the_plural(
    what: str, count: int, label: str
) -> None:
    assert wording.import_button_label(what, count) == label


def test_a_valid_check_is_worded_for_the_page_not_as_the_command_lines_dry_run() -> None:
    result = checked(Outcome.VALID, rows_read=3, imported=2, unchanged=1, patients_created=1)
    assert "Dry run" in result.summary(), "manage.py keeps its own words"
    assert wording.import_check_summary(result) == (
        "Checked: the file is valid; nothing has been imported yet. "
        "Rows read: 3, to import: 2, unchanged: 1, new patients: 1."
    )


def test_a_refused_check_keeps_the_services_summary() -> None:
    result = checked(Outcome.REFUSED, problem_count=2)
    assert wording.import_check_summary(result) == result.summary()


@pytest.mark.parametrize(
    ("total", "line"),
    [
        (0, "No matching rows."),
        (1, "1 matching row."),
        (2, "2 matching rows, newest first."),
        (1500, "1,500 matching rows, newest first."),
    ],
)
def test_the_audit_row_count_reads_as_words(total: int, line: str) -> None:
    assert wording.matching_rows(total) == line


def test_a_later_date_is_suggested_only_before_today() -> None:
    assert wording.no_session_warning(date(2026, 11, 1), TODAY).endswith("Choose a later date.")
    for as_of in (TODAY, date(2026, 12, 1)):
        text = wording.no_session_warning(as_of, TODAY)
        assert text.startswith("No patient has a session on or before")
        assert "later date" not in text


def test_an_unknown_patient_code_from_a_link_is_named_and_cut_when_long() -> None:
    assert wording.unknown_patient_message("NOPE").startswith("No patient has the code NOPE.")
    long = wording.unknown_patient_message("X" * 500 + "\nY")
    assert "X" * (wording.LINK_TEXT_LIMIT - 1) + "…" in long
    assert "\n" not in long


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("2099-01-01", "is in the future"),
        ("2026-11-21", "is in the future"),
        ("yesterday", "is not a date"),
        ("2026-13-01", "is not a date"),
        ("1990-01-01", "is earlier than this page offers"),
    ],
)
def test_a_link_date_the_page_did_not_use_is_named_with_the_reason(given: str, reason: str) -> None:
    note = wording.replaced_link_date(given, TODAY, TODAY)
    assert note == (
        f"The as-of date in the link ({given}) {reason}: showing 20 Nov 2026 (today) instead."
    )


@pytest.mark.parametrize("given", [None, "", "2026-11-20", "2026/11/20"])
def test_no_note_when_the_link_gave_no_date_or_the_date_shown(given: str | None) -> None:
    assert wording.replaced_link_date(given, TODAY, TODAY) is None


def test_counted_takes_an_irregular_plural() -> None:
    assert wording.counted(1, "patient") == "1 patient"
    assert wording.counted(3, "entry", "entries") == "3 entries"
