"""The pure pieces: the one-row validators the forms share, and the CSV dialect."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from redflags.csv_format import (
    CsvRefused,
    decode_csv,
    format_local_time,
    format_number,
    neutralise,
    unneutralise,
    write_csv,
)
from redflags.validation import (
    SESSION_RECORD_KEYS,
    Problem,
    parse_iso_time,
    validate_decision_row,
    validate_session_row,
)
from tests.records.conftest import GOOD_DECISION, GOOD_SESSION, NOW, TODAY, UTC_ZONE

LONDON = ZoneInfo("Europe/London")


def test_a_valid_form_gives_typed_values_ready_for_the_table() -> None:
    values, problems = validate_session_row(GOOD_SESSION, today=TODAY, tz=UTC_ZONE)
    assert problems == []
    assert values is not None and tuple(values) == SESSION_RECORD_KEYS
    assert values["patient_code"] == "P-001"
    assert values["session_at"] == datetime(2026, 11, 2, 9, 30)
    assert values["time_recorded"] is True
    assert values["dose_mg"] == 56.0 and isinstance(values["dose_mg"], float)
    assert values["panic"] == 8 and isinstance(values["panic"], int)
    assert values["vulnerability"] is None
    assert values["note"] == "Tolerated the dose."


def test_a_form_with_several_problems_gets_all_of_them_by_field() -> None:
    form = {**GOOD_SESSION, "dose_mg": "abc", "phq9": "30", "unknown": "x"}
    values, problems = validate_session_row(form, today=TODAY, tz=UTC_ZONE)
    assert values is None
    assert [p.column for p in problems] == ["dose_mg", "phq9", "unknown"]
    assert all(p.row is None for p in problems)
    assert str(problems[0]).startswith("column dose_mg: 'abc' is not a number")


def test_vocabulary_words_ignore_case_and_surrounding_spaces() -> None:
    form = {**GOOD_SESSION, "route": " Esketamine_Nasal ", "panic_course": "PERSISTED"}
    values, problems = validate_session_row(form, today=TODAY, tz=UTC_ZONE)
    assert problems == [] and values is not None
    assert (values["route"], values["panic_course"]) == ("esketamine_nasal", "persisted")


def test_free_text_is_kept_verbatim_but_spaces_alone_are_blank() -> None:
    form = {**GOOD_SESSION, "note": "  two leading spaces ", "commitment": "   "}
    values, _ = validate_session_row(form, today=TODAY, tz=UTC_ZONE)
    assert values is not None
    assert (values["note"], values["commitment"]) == ("  two leading spaces ", None)


def test_text_with_a_nul_character_is_refused() -> None:
    _, problems = validate_session_row({**GOOD_SESSION, "note": "a\x00b"}, today=TODAY, tz=UTC_ZONE)
    assert [p.column for p in problems] == ["note"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("5", 5), ("05", 5), ("+5", 5), ("5.0", 5), ("5.", 5), (" 5 ", 5)],
)
def test_integer_spellings_that_are_whole_numbers_are_accepted(text: str, value: int) -> None:
    values, problems = validate_session_row(
        {**GOOD_SESSION, "panic": text}, today=TODAY, tz=UTC_ZONE
    )
    assert problems == [] and values is not None and values["panic"] == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5.5", "must be a whole number"),
        ("5,5", "decimal comma"),
        # Never a hint that turns a thousand into one (or one into a thousand).
        (
            "1,000",
            "'1,000' has a comma, which separates thousands in some countries and "
            "decimals in others: write 1000 or 1.000, whichever it means",
        ),
        ("1,000,000", "'1,000,000' has thousands separators: write 1000000"),
        ("٥", "is not a number"),
        ("1e1", "has an exponent"),
        ("five", "is not a number"),
        ("5 pts", "no units"),
    ],
)
def test_integer_spellings_that_are_not_are_refused_with_why(text: str, reason: str) -> None:
    _, problems = validate_session_row({**GOOD_SESSION, "panic": text}, today=TODAY, tz=UTC_ZONE)
    assert len(problems) == 1 and reason in problems[0].message


def test_a_clock_change_is_handled_in_the_clinic_zone() -> None:
    skipped = parse_iso_time
    with pytest.raises(ValueError, match="does not exist in Europe/London"):
        skipped("2026-03-29T01:30", LONDON)
    with pytest.raises(ValueError, match=r"happened twice .* add the UTC offset"):
        parse_iso_time("2026-10-25T01:30", LONDON)
    first = parse_iso_time("2026-10-25T01:30+01:00", LONDON)
    second = parse_iso_time("2026-10-25T01:30+00:00", LONDON)
    assert second.utc - first.utc == timedelta(hours=1)
    assert format_local_time(first.utc, LONDON) == "2026-10-25T01:30+01:00"
    assert format_local_time(second.utc, LONDON) == "2026-10-25T01:30+00:00"
    assert format_local_time(datetime(2026, 10, 25, 3, 0), LONDON) == "2026-10-25T03:00"


def test_a_valid_decision_form_gives_typed_values() -> None:
    values, problems = validate_decision_row(GOOD_DECISION, now=NOW, tz=UTC_ZONE)
    assert problems == [] and values is not None
    assert values["patient_code"] == "P-001"
    assert values["decided_at"] == datetime(2026, 11, 3, 16, 0)
    assert values["dose_from_mg"] == 40.0 and values["flags_considered"] == "repeated_panic"


def test_problems_print_as_row_column_reason() -> None:
    assert str(Problem("bad", 3, "dose_mg")) == "row 3, column dose_mg: bad"
    assert str(Problem("bad", 0)) == "row 0: bad"
    assert str(Problem("bad")) == "file: bad"


# ---------------------------------------------------------------- the dialect


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("'=x", "''=x"),
        ("''+x", "'''+x"),
        ("'plain", "'plain"),
        ("'", "'"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_cells_get_one_quote_and_the_import_takes_exactly_it_off(
    text: str, cell: str
) -> None:
    assert neutralise(text) == cell
    assert unneutralise(cell) == text


def test_numeric_columns_keep_plain_numbers_but_not_other_text() -> None:
    data = write_csv(["n", "t"], [["-2", "-2"], ["-0.55", "x"], ["=1", "y"]], numeric_columns=["n"])
    assert data == b"n,t\r\n-2,'-2\r\n-0.55,x\r\n'=1,y\r\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (56.0, "56"),
        (37.5, "37.5"),
        (1e-05, "0.00001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (3, "3"),
        (None, ""),
    ],
)
def test_numbers_are_formatted_canonically(value: float | None, text: str) -> None:
    assert format_number(value) == text
    if value is not None:
        assert float(text) == value


def test_decode_accepts_utf8_with_or_without_bom_and_refuses_the_rest() -> None:
    assert decode_csv("a,é\n".encode()) == "a,é\n"
    assert decode_csv(b"\xef\xbb\xbfa,\xc3\xa9\n") == "a,é\n"
    for data, words in [
        (b"", "empty"),
        ("a,b\n".encode("utf-16"), "UTF-16"),
        (b"a\x00,b\n", "NUL"),
        (b"PK\x03\x04rest", "Excel workbook"),
        ("a,b\ncafé,x\n".encode("cp1252"), "not UTF-8"),
    ]:
        with pytest.raises(CsvRefused, match=words):
            decode_csv(data)


def test_the_local_date_and_time_formats() -> None:
    moment = datetime(2026, 6, 1, 8, 0)
    assert format_local_time(moment, UTC_ZONE, with_time=False) == "2026-06-01"
    assert format_local_time(moment, UTC_ZONE) == "2026-06-01T08:00"
    assert format_local_time(moment.replace(second=5), UTC_ZONE) == "2026-06-01T08:00:05"
    assert format_local_time(moment.replace(microsecond=7), UTC_ZONE) == (
        "2026-06-01T08:00:00.000007"
    )
    assert format_local_time(moment, LONDON) == "2026-06-01T09:00"
    assert date.fromisoformat(format_local_time(moment, LONDON, with_time=False))


def test_merged_problem_logs_list_in_row_order_and_keep_every_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redflags import records as csv_records
    from redflags.validation import Problem

    monkeypatch.setattr(csv_records, "MAX_LISTED_PROBLEMS", 50)
    file_log, conflicts = csv_records.ProblemLog(), csv_records.ProblemLog()
    limit = csv_records.MAX_LISTED_PROBLEMS
    file_log.extend(Problem("bad", row, "dose_mg") for row in range(2, 2 * limit + 2, 2))
    conflicts.extend(Problem("conflict", row, "session_date") for row in (1, 3))
    both = file_log.merged(conflicts)
    assert both.total == limit + 2
    assert [p.row for p in both.listed[:3]] == [1, 2, 3]
    assert len(both.listed) == limit
    assert both.lines()[-1] == "… and 2 more problems not listed (dose_mg: 2)"


def test_every_problem_of_a_500000_row_file_is_listed_even_two_to_a_row() -> None:
    from redflags import records as csv_records

    assert csv_records.MAX_LISTED_PROBLEMS >= 2 * 500_000  # records.md: all are reported
