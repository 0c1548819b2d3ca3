"""import_sessions against a catalogue of good and bad files, on SQLite and PostgreSQL.

Every refused file must name the exact row and column, and leave the database
exactly as it was (rows counted before and after); every attempt is audited.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from models.tables import patient_table, session_table
from redflags.codes import Role
from redflags.fields import SESSION_COLUMNS
from redflags.records import parse_sessions_csv
from services import records
from services.access import Actor, PermissionDenied
from services.sessions import log_session, remove_session
from tests.records.conftest import (
    CLINICIAN,
    GOOD_DECISION,
    GOOD_SESSION,
    TODAY,
    UTC_ZONE,
    audit_details,
    clinical_counts,
    counts,
    csv_bytes,
    decisions_file,
    export_sessions,
    import_decisions,
    import_sessions,
    session,
    sessions_file,
)

REQUIRED_ONLY = ("patient_id", "session_date", "route", "dose_mg")


def refused_with(
    engine: Engine, data: bytes | Path, *expected: str, **options: object
) -> list[str]:
    """Import ``data``; it must be refused with each expected line, and write nothing."""
    before = clinical_counts(engine)
    result = import_sessions(engine, data, **options)
    assert result.outcome is records.Outcome.REFUSED, result.summary()
    assert not result.ok
    lines = result.messages()
    for line in expected:
        assert any(message.startswith(line) for message in lines), (line, lines)
    assert clinical_counts(engine) == before
    return lines


# ---------------------------------------------------------------- files that import


def test_a_valid_file_imports_every_row_in_one_go(engine: Engine) -> None:
    data = sessions_file(session(), session(patient_id="P-002", session_date="2026-11-03"))
    result = import_sessions(engine, data)
    assert result.outcome is records.Outcome.IMPORTED
    assert (result.rows_read, result.imported, result.unchanged) == (2, 2, 0)
    assert result.patients_created == 2
    assert clinical_counts(engine) == {"patients": 2, "sessions": 2, "decisions": 0}


def test_a_utf8_byte_order_mark_is_accepted(engine: Engine) -> None:
    data = csv_bytes(SESSION_COLUMNS, [list(GOOD_SESSION.values())], bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    result = import_sessions(engine, data)
    assert result.ok and result.imported == 1


def test_header_names_are_matched_trimmed_and_in_any_case(engine: Engine) -> None:
    header = [" Patient_ID", "SESSION_DATE ", " Route ", "Dose_MG"]
    data = csv_bytes(header, [["P-9", "2026-11-01", "ketamine_iv", "35"]])
    result = import_sessions(engine, data)
    assert result.ok and result.imported == 1


def test_only_the_required_columns_are_needed(engine: Engine) -> None:
    data = sessions_file(session(), columns=REQUIRED_ONLY)
    result = import_sessions(engine, data)
    assert result.ok and result.imported == 1


def test_ids_stay_text_and_na_or_null_are_ids_not_missing_values(engine: Engine) -> None:
    codes = ["007", "NA", "null", "None", "n/a"[:1], "0.10"]
    rows = [session(patient_id=code) for code in codes]
    result = import_sessions(engine, sessions_file(*rows))
    assert result.ok, result.messages()
    with engine.connect() as connection:
        stored = set(connection.execute(select(patient_table.c.code)).scalars())
    assert stored == set(codes)


def test_quoted_line_breaks_and_commas_inside_notes_are_kept(engine: Engine) -> None:
    note = 'First line, with a comma\nsecond line "quoted"\r\nthird line'
    result = import_sessions(engine, sessions_file(session(note=note)))
    assert result.ok
    with engine.connect() as connection:
        stored = connection.execute(select(session_table.c.note)).scalar_one()
    assert stored == note


def test_a_header_only_file_is_valid_and_imports_nothing(engine: Engine) -> None:
    result = import_sessions(engine, csv_bytes(SESSION_COLUMNS))
    assert result.outcome is records.Outcome.IMPORTED
    assert (result.rows_read, result.imported) == (0, 0)
    assert clinical_counts(engine)["sessions"] == 0


def test_blank_rows_are_skipped_but_still_counted_in_row_numbers(engine: Engine) -> None:
    header = ",".join(REQUIRED_ONLY)
    data = (
        f"{header}\r\nP-1,2026-11-01,ketamine_iv,35\r\n\r\n,,,\r\nP-2,2026-11-31,ketamine_iv,35\r\n"
    )
    lines = refused_with(engine, data.encode(), "row 4, column session_date:")
    assert len(lines) == 1


def test_values_are_stored_typed_and_blank_means_not_recorded(engine: Engine) -> None:
    result = import_sessions(engine, sessions_file(session(panic="", panic_course="")))
    assert result.ok
    with engine.connect() as connection:
        row = connection.execute(select(session_table)).mappings().one()
    assert row["dose_mg"] == 56 and isinstance(row["dose_mg"], float)
    assert row["weight_kg"] == 71.5
    assert row["panic"] is None and row["death_imagery"] == 0
    assert row["grief_course"] == "contained"
    assert row["session_at"] == datetime(2026, 11, 2, 9, 30)
    assert row["time_recorded"] is True
    assert row["recorded_by"] == CLINICIAN.username


def test_a_date_alone_is_stored_as_local_midnight_without_a_time(engine: Engine) -> None:
    london = ZoneInfo("Europe/London")
    rows = [
        session(patient_id="A", session_date="2026-07-01"),
        session(patient_id="B", session_date="2026-07-01T09:30"),
        session(patient_id="C", session_date="2026-07-01 09:30:15"),
        session(patient_id="D", session_date="2026-07-01T09:30+02:00"),
    ]
    result = import_sessions(engine, sessions_file(*rows), tz=london)
    assert result.ok, result.messages()
    with engine.connect() as connection:
        stored = {
            code: (at, timed)
            for code, at, timed in connection.execute(
                select(
                    patient_table.c.code, session_table.c.session_at, session_table.c.time_recorded
                ).join(patient_table)
            )
        }
    assert stored == {
        "A": (datetime(2026, 6, 30, 23, 0), False),  # London midnight (BST) is 23:00 UTC
        "B": (datetime(2026, 7, 1, 8, 30), True),
        "C": (datetime(2026, 7, 1, 8, 30, 15), True),
        "D": (datetime(2026, 7, 1, 7, 30), True),  # the offset given wins
    }


def test_whole_numbers_written_with_a_zero_fraction_are_accepted(engine: Engine) -> None:
    result = import_sessions(engine, sessions_file(session(panic="8.0", dose_mg="56.00")))
    assert result.ok, result.messages()


def test_an_unknown_patient_id_creates_the_patient(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session(patient_id="OLD")))
    result = import_sessions(
        engine,
        sessions_file(
            session(patient_id="OLD", session_date="2026-11-05"), session(patient_id="NEW")
        ),
    )
    assert result.ok and result.patients_created == 1
    assert clinical_counts(engine)["patients"] == 2


# ---------------------------------------------------------------- idempotence


def test_importing_the_same_file_twice_changes_nothing_the_second_time(engine: Engine) -> None:
    data = sessions_file(session(), session(session_date="2026-11-05"))
    first = import_sessions(engine, data)
    before = clinical_counts(engine)
    second = import_sessions(engine, data)
    assert (first.imported, first.unchanged) == (2, 0)
    assert (second.imported, second.unchanged, second.outcome) == (0, 2, records.Outcome.IMPORTED)
    assert clinical_counts(engine) == before


def _remove_stored(engine: Engine, code: str, session_at: datetime) -> None:
    """Remove a stored session as entered in error, as the dashboard does."""
    with engine.connect() as connection:
        session_id = connection.execute(
            select(session_table.c.id)
            .join(patient_table, patient_table.c.id == session_table.c.patient_id)
            .where(patient_table.c.code == code, session_table.c.session_at == session_at)
        ).scalar_one()
    removed = remove_session(
        engine=engine, actor=CLINICIAN, session_id=session_id, reason="logged for the wrong patient"
    )
    assert removed.ok, removed.problems


def test_a_session_removed_as_entered_in_error_is_not_brought_back_by_an_import(
    engine: Engine,
) -> None:
    data = sessions_file(session(), session(session_date="2026-11-05"))
    assert import_sessions(engine, data).imported == 2
    _remove_stored(engine, "P-001", datetime(2026, 11, 2, 9, 30))
    expected = "row 1, column session_date: this session was removed as entered in error"
    lines = refused_with(engine, data, expected)
    assert len(lines) == 1, "the other row is unchanged, not a problem"
    assert "log it again in the dashboard" in lines[0]
    dry = import_sessions(engine, data, dry_run=True)
    assert dry.outcome is records.Outcome.REFUSED and dry.messages()[0].startswith(expected)
    # It did take place after all: logged again in the dashboard, the file then matches.
    again = log_session(engine=engine, actor=CLINICIAN, values=GOOD_SESSION, today=TODAY)
    assert again.ok, again.problems
    second = import_sessions(engine, data)
    assert (second.outcome, second.imported, second.unchanged) == (records.Outcome.IMPORTED, 0, 2)


def test_a_removal_blocks_only_that_patients_session_at_that_time(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session(), session(patient_id="P-002")))
    _remove_stored(engine, "P-001", datetime(2026, 11, 2, 9, 30))
    other = sessions_file(
        session(patient_id="P-002"),  # unchanged
        session(patient_id="P-003"),  # a new patient at the same time
        session(session_date="2026-11-02T09:45"),  # P-001 a quarter of an hour later
    )
    result = import_sessions(engine, other)
    assert (result.outcome, result.imported, result.unchanged) == (records.Outcome.IMPORTED, 2, 1)


def _decided(engine: Engine, decided_at: str, **options: object) -> None:
    """Store a decision of P-001 at ``decided_at`` through the decisions import."""
    done = import_decisions(engine, decisions_file({**GOOD_DECISION, "decided_at": decided_at}))
    assert done.outcome is records.Outcome.IMPORTED, done.summary()


def test_a_session_without_its_time_on_a_day_with_a_decision_is_refused(engine: Engine) -> None:
    # Stored at the day's start, it would count as before the 16:00 decision and
    # be addressed by it, even if it took place in the evening (rules.md §8).
    import_sessions(engine, sessions_file(session()))
    _decided(engine, "2026-11-03T16:00")
    data = sessions_file(
        session(),  # unchanged
        session(session_date="2026-11-03"),
        session(session_date="2026-11-04"),  # another day: fine on its own
    )
    expected = (
        "row 2, column session_date: this patient has a care-team decision recorded at 16:00 "
        "that day: give session_date with the time (2026-11-02T14:30), so that the review can "
        "tell whether the decision came before or after the session"
    )
    assert refused_with(engine, data, expected) == [expected]
    dry = import_sessions(engine, data, dry_run=True)
    assert dry.messages() == [expected]
    with_time = sessions_file(session(), session(session_date="2026-11-03T18:00"))
    assert import_sessions(engine, with_time).imported == 1


def test_only_that_patients_decisions_on_that_clinic_day_refuse_a_dateless_session(
    engine: Engine,
) -> None:
    tz = ZoneInfo("America/New_York")  # 16:00 local is 21:00 UTC: the clinic's day counts
    import_sessions(engine, sessions_file(session()), tz=tz)
    done = records.import_decisions(
        engine=engine,
        actor=CLINICIAN,
        data=decisions_file({**GOOD_DECISION, "decided_at": "2026-11-03T20:30"}),
        today=TODAY,
        tz=tz,
    )
    assert done.outcome is records.Outcome.IMPORTED, done.summary()
    fine = sessions_file(
        session(session_date="2026-11-04"),  # 20:30 New York is 01:30 UTC on the 4th
        session(patient_id="P-002", session_date="2026-11-03"),  # another patient
    )
    result = import_sessions(engine, fine, tz=tz)
    assert (result.outcome, result.imported) == (records.Outcome.IMPORTED, 2)
    refused = import_sessions(engine, sessions_file(session(session_date="2026-11-03")), tz=tz)
    assert refused.messages()[0].startswith(
        "row 1, column session_date: this patient has a care-team decision recorded at 20:30"
    )


def test_a_dateless_session_problem_is_reported_with_the_files_own_problems(
    engine: Engine,
) -> None:
    import_sessions(engine, sessions_file(session()))
    _decided(engine, "2026-11-03T16:00")
    data = sessions_file(
        session(session_date="2026-11-03"), session(session_date="2026-11-05", panic="11")
    )
    lines = refused_with(
        engine,
        data,
        "row 1, column session_date: this patient has a care-team decision",
        "row 2, column panic:",
    )
    assert len(lines) == 2


def test_the_same_key_with_different_values_is_a_conflict_and_nothing_is_written(
    engine: Engine,
) -> None:
    import_sessions(engine, sessions_file(session()))
    changed = sessions_file(
        session(session_date="2026-11-10"),  # new, but must not be written either
        session(dose_mg="84", note="changed"),
    )
    lines = refused_with(engine, changed, "row 2, column session_date: a different session")
    assert "dose_mg" in lines[0] and "note" in lines[0]
    assert "84" not in lines[0]  # names the columns, never the values


#: Another valid value for each stored column of GOOD_SESSION (the key columns excepted).
CHANGED_VALUE: dict[str, str] = {
    "route": "ketamine_iv",
    "dose_mg": "84",
    "weight_kg": "72",
    "panic": "9",
    "despair": "3",
    "vulnerability": "1",
    "death_imagery": "1",
    "shame": "2",
    "grief": "6",
    "panic_course": "escalated",
    "grief_course": "reflected",
    "dissociation_cadss": "13",
    "bp_pre_sys": "129",
    "bp_pre_dia": "83",
    "bp_40_sys": "151",
    "bp_40_dia": "91",
    "bp_end_sys": "131",
    "bp_end_dia": "81",
    "observation_min": "125",
    "phq9": "15",
    "phq9_item9": "0",
    "commitment": "a walk with my phone",
    "note": "Tolerated the dose well.",
}


@pytest.mark.parametrize("column", sorted(CHANGED_VALUE))
def test_a_difference_in_any_one_column_is_a_conflict(engine: Engine, column: str) -> None:
    import_sessions(engine, sessions_file(session()))
    lines = refused_with(
        engine,
        sessions_file(session(**{column: CHANGED_VALUE[column]})),
        "row 1, column session_date: a different session is already stored",
    )
    assert f"(it differs in {column})" in lines[0]


def test_a_course_added_to_a_stored_intensity_is_a_conflict(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session()))
    lines = refused_with(engine, sessions_file(session(despair_course="contained")))
    assert "(it differs in despair_course)" in lines[0]


def test_a_conflict_is_reported_together_with_the_files_own_problems(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session()))
    data = sessions_file(
        session(dose_mg="84"),  # valid on its own, but conflicts with the stored session
        session(patient_id="P-2", session_date="2026-13-01"),
    )
    lines = refused_with(
        engine,
        data,
        "row 1, column session_date: a different session is already stored",
        "row 2, column session_date: '2026-13-01' is not a real date",
    )
    assert len(lines) == 2


def test_a_stored_date_and_an_imported_midnight_conflict_in_words_of_the_file(
    engine: Engine,
) -> None:
    import_sessions(engine, sessions_file(session(session_date="2026-11-02")))
    lines = refused_with(engine, sessions_file(session(session_date="2026-11-02T00:00")))
    assert "whether session_date gives a time of day" in lines[0]
    assert "time_recorded" not in lines[0]


def test_a_date_only_row_and_a_midnight_time_are_the_same_key(engine: Engine) -> None:
    data = sessions_file(
        session(session_date="2026-11-02"), session(session_date="2026-11-02T00:00")
    )
    refused_with(engine, data, "row 2, column session_date: row 1 has the same patient_id")


def test_two_rows_with_the_same_key_in_one_file_are_refused(engine: Engine) -> None:
    data = sessions_file(session(), session(note="again"), session(session_date="2026-11-04"))
    lines = refused_with(engine, data, "row 2, column session_date: row 1 has the same")
    assert len(lines) == 1


# ---------------------------------------------------------------- the catalogue of bad files


def test_cp1252_bytes_are_refused_at_their_row_and_column(engine: Engine) -> None:
    rows = [
        list(session().values()),
        list(session(session_date="2026-11-05", note="café").values()),
    ]
    data = csv_bytes(SESSION_COLUMNS, rows, encoding="cp1252")
    lines = refused_with(engine, data, "row 2, column note: byte 0xE9 is not UTF-8")
    assert "CSV UTF-8" in lines[0]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_are_refused_with_how_to_save_as_utf8(engine: Engine, encoding: str) -> None:
    data = sessions_file(session()).decode().encode(encoding)
    lines = refused_with(engine, data, "file: the file")
    assert "CSV UTF-8" in lines[0]


def test_a_semicolon_separated_file_is_refused_with_a_message_to_use_commas(
    engine: Engine,
) -> None:
    data = b"patient_id;session_date;route;dose_mg\r\nP-1;2026-11-01;ketamine_iv;35\r\n"
    lines = refused_with(engine, data, "row 0: the file is separated by semicolons")
    assert "comma" in lines[0]


def test_an_unknown_column_is_refused_and_named(engine: Engine) -> None:
    data = sessions_file(session(), columns=[*REQUIRED_ONLY, "nots"])
    lines = refused_with(
        engine,
        data,
        "row 0, column nots: unknown column (did you mean note?) — the sessions columns are",
    )
    assert "note" in lines[0]


def test_an_unknown_column_far_from_any_name_gets_no_guess(engine: Engine) -> None:
    data = sessions_file(session(), columns=[*REQUIRED_ONLY, "outcome"])
    refused_with(engine, data, "row 0, column outcome: unknown column — the sessions columns are")


def test_the_guess_for_an_unknown_column_is_never_one_the_file_already_has(
    engine: Engine,
) -> None:
    data = sessions_file(session(note="x"), columns=[*REQUIRED_ONLY, "note", "notes"])
    refused_with(engine, data, "row 0, column notes: unknown column — the sessions columns are")


def test_a_missing_required_column_is_refused_and_named(engine: Engine) -> None:
    data = sessions_file(session(), columns=["patient_id", "session_date", "dose_mg"])
    refused_with(engine, data, "row 0, column route: required column missing")


def test_a_missing_required_column_still_lets_every_row_problem_be_reported(
    engine: Engine,
) -> None:
    data = sessions_file(
        session(session_date="03/04/2026"),
        session(patient_id="P 2", panic="11"),
        columns=["session_date", "patient_id", "panic"],
    )
    lines = refused_with(
        engine,
        data,
        "row 0, column route: required column missing",
        "row 0, column dose_mg: required column missing",
        "row 1, column session_date: '03/04/2026' is not an ISO 8601 date",
        "row 2, column patient_id:",
        "row 2, column panic:",
    )
    assert len(lines) == 5, lines  # nothing about each row lacking the absent columns
    slow = parse_sessions_csv(data, today=date(2026, 11, 20), tz=UTC_ZONE, fast=False)
    assert slow.problems.lines() == lines


def test_a_column_given_twice_is_refused(engine: Engine) -> None:
    data = sessions_file(session(), columns=[*REQUIRED_ONLY, "Route"])
    refused_with(engine, data, "row 0, column route: the column appears twice (columns 3 and 5)")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("03/04/2026", "'03/04/2026' is not an ISO 8601 date: write YYYY-MM-DD"),
        ("2026-02-30", "'2026-02-30' is not a real date"),
        ("2026-11-02T25:00", "'2026-11-02T25:00' is not a real time"),
        (
            "2026-11-02T09:30:60",
            "'2026-11-02T09:30:60' is not a real time: hours 00–23, minutes 00–59, seconds 00–59",
        ),
        # A real date, then a time cut short: the message is about the time.
        ("2026-11-02T09", "'2026-11-02T09' has a time that is not HH:MM or HH:MM:SS"),
        ("2026-11-02 noon", "'2026-11-02 noon' has a time that is not HH:MM or HH:MM:SS"),
        ("2026-02-30T09", "'2026-02-30T09' is not a real date"),
        ("02 Nov 2026", "'02 Nov 2026' is not an ISO 8601 date"),
        # Year first is unambiguous: the message gives the date as it must be written.
        ("2026/11/02", "'2026/11/02' is not an ISO 8601 date: write it as 2026-11-02"),
        (
            "2026.11.2 9:30",
            "'2026.11.2 9:30' is not an ISO 8601 date: write it as 2026-11-02T09:30",
        ),
        ("2026/02/30", "'2026/02/30' is not an ISO 8601 date: write YYYY-MM-DD"),
        ("２０２６-11-02", "'２０２６-11-02' has digits other than 0–9 (full-width ones, say)"),
        ("2026-12-25", "2026-12-25 is in the future (today is 2026-11-20 at the clinic)"),
        # A mistyped year: pandas cannot hold it, and time-zone arithmetic overflows.
        ("1026-11-02", "'1026-11-02' has the year 1026: dates run from 1900 to 2999"),
        ("1899-12-31T23:59", "'1899-12-31T23:59' has the year 1899: dates run from 1900"),
        ("0001-01-01T00:00+01:00", "'0001-01-01T00:00+01:00' has the year 1: dates run"),
        ("9999-12-31T23:00-05:00", "'9999-12-31T23:00-05:00' has the year 9999: dates run"),
        # Its export (clinic time, UTC here) would read 1899-12-31T23:30 and not import again.
        ("1900-01-01T00:30+01:00", "'1900-01-01T00:30+01:00' falls in the year 1899 at the"),
    ],
)
def test_bad_session_dates_are_refused_with_the_reason(
    engine: Engine, text: str, reason: str
) -> None:
    data = sessions_file(session(), session(patient_id="P-2", session_date=text))
    refused_with(engine, data, f"row 2, column session_date: {reason}")


def test_an_import_refuses_a_session_dated_tomorrow_and_takes_one_late_today(
    engine: Engine,
) -> None:
    for tomorrow in ("2026-11-21", "2026-11-21T00:00"):
        refused_with(
            engine,
            sessions_file(session(session_date=tomorrow)),
            "row 1, column session_date: 2026-11-21 is in the future (today is 2026-11-20",
        )
    result = import_sessions(engine, sessions_file(session(session_date="2026-11-20T23:59")))
    assert result.ok and result.imported == 1


@pytest.mark.parametrize("fast", [True, False])
def test_given_now_an_import_refuses_a_session_later_today(engine: Engine, fast: bool) -> None:
    """At 14:00 a session at 14:01 has not taken place; a decision now would not address it."""
    now = datetime(2026, 11, 20, 14, 0)
    later = sessions_file(session(session_date="2026-11-20T14:01"))
    before = clinical_counts(engine)
    parsed = parse_sessions_csv(later, today=now.date(), tz=UTC_ZONE, fast=fast, now=now)
    assert parsed.problems.lines() == [
        "row 1, column session_date: 2026-11-20T14:01 is later than now (14:00 on 2026-11-20 "
        "at the clinic): a session is recorded once it has taken place"
    ]
    refused_with(engine, later, "row 1, column session_date: 2026-11-20T14:01 is later", now=now)
    assert clinical_counts(engine) == before
    for taken_place in ("2026-11-20T14:00", "2026-11-20", "2026-11-19T23:59"):
        data = sessions_file(session(session_date=taken_place))
        assert not parse_sessions_csv(
            data, today=now.date(), tz=UTC_ZONE, fast=fast, now=now
        ).problems


def test_an_import_without_a_date_or_instant_judges_by_the_current_time(engine: Engine) -> None:
    in_an_hour = datetime.now(ZoneInfo("UTC")) + timedelta(hours=1)
    data = sessions_file(session(session_date=in_an_hour.strftime("%Y-%m-%dT%H:%M")))
    result = records.import_sessions(
        engine=engine, actor=CLINICIAN, data=data, filename="s.csv", tz=UTC_ZONE
    )
    expected = "in the future" if in_an_hour.date() > datetime.now(UTC).date() else "later than now"
    assert not result.ok and expected in result.messages()[0]


def test_an_import_judges_the_future_by_the_clinic_date(engine: Engine) -> None:
    """23:30 on 20 November in New York is already 21 November in UTC: still today."""
    new_york = ZoneInfo("America/New_York")
    late = sessions_file(session(session_date="2026-11-20T23:30"))
    assert import_sessions(engine, late, tz=new_york).ok
    refused_with(engine, sessions_file(session(session_date="2026-11-21T00:30")), tz=new_york)


def _stored_times(engine: Engine) -> list[datetime]:
    with engine.connect() as connection:
        found = connection.execute(select(session_table.c.session_at).order_by("session_at"))
        return list(found.scalars())


def test_an_import_on_clock_change_days_stores_the_right_utc_instant(engine: Engine) -> None:
    london = ZoneInfo("Europe/London")  # BST from 29 March, GMT again from 25 October 2026
    rows = [
        session(session_date="2026-03-29T10:00"),  # BST: 09:00 UTC
        session(session_date="2026-03-28T10:00"),  # GMT: 10:00 UTC
        session(session_date="2026-10-25T12:00"),  # GMT: 12:00 UTC
        session(session_date="2026-10-24T12:00"),  # BST: 11:00 UTC
        session(session_date="2026-10-25T01:30+01:00"),  # the first 01:30 (BST)
        session(session_date="2026-10-25T01:30+00:00"),  # the second 01:30 (GMT)
    ]
    result = import_sessions(engine, sessions_file(*rows), tz=london)
    assert result.ok and result.imported == 6, result.messages()
    assert _stored_times(engine) == [
        datetime(2026, 3, 28, 10, 0),
        datetime(2026, 3, 29, 9, 0),
        datetime(2026, 10, 24, 11, 0),
        datetime(2026, 10, 25, 0, 30),
        datetime(2026, 10, 25, 1, 30),
        datetime(2026, 10, 25, 12, 0),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-03-29T01:30", "'2026-03-29T01:30' does not exist in Europe/London"),
        (
            "2026-10-25T01:30",
            "'2026-10-25T01:30' happened twice in Europe/London (the clocks went back)",
        ),
    ],
)
def test_an_import_refuses_a_time_the_clock_change_skips_or_repeats(
    engine: Engine, text: str, reason: str
) -> None:
    london = ZoneInfo("Europe/London")
    data = sessions_file(session(session_date=text))
    refused_with(engine, data, f"row 1, column session_date: {reason}", tz=london)


def test_the_future_is_judged_by_the_clinic_date_not_utc() -> None:
    """At 23:30 on 20 November in New York it is already 21 November in UTC."""
    from datetime import date

    from redflags.validation import check_session

    new_york = ZoneInfo("America/New_York")
    raw = {**GOOD_SESSION, "session_date": "2026-11-21"}
    record, problems = check_session(raw, today=date(2026, 11, 20), tz=new_york)
    assert record is None and "in the future" in problems[0].message
    _, problems = check_session(
        {**GOOD_SESSION, "session_date": "2026-11-20T23:30"}, today=date(2026, 11, 20), tz=new_york
    )
    assert problems == []


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("dose_mg", "0"),
        ("dose_mg", "1000.5"),
        ("dose_mg", "-5"),
        ("dose_mg", "56mg"),
        ("dose_mg", "5,5"),
        ("dose_mg", "1e2"),
        ("dose_mg", "nan"),
        ("weight_kg", "19.9"),
        ("weight_kg", "401"),
        ("panic", "11"),
        ("panic", "-1"),
        ("panic", "7.5"),
        ("grief", "high"),
        ("dissociation_cadss", "93"),
        ("bp_pre_sys", "301"),
        ("bp_pre_dia", "19"),
        ("observation_min", "1441"),
        ("phq9", "28"),
        ("phq9_item9", "4"),
        ("route", "ketamine"),
        ("grief_course", "better"),
        ("grief_course", "reflected;contained"),
    ],
)
def test_out_of_range_and_malformed_values_are_refused_at_their_column(
    engine: Engine, column: str, value: str
) -> None:
    data = sessions_file(session(), session(patient_id="P-2", **{column: value}))
    refused_with(engine, data, f"row 2, column {column}:")


def test_a_number_out_of_range_is_named_as_typed_without_quotes(engine: Engine) -> None:
    data = sessions_file(session(dose_mg="1000.5", weight_kg="19.9", panic="11"))
    refused_with(
        engine,
        data,
        "row 1, column dose_mg: 1000.5 is out of range: it must be above 0 and at most 1000",
        "row 1, column weight_kg: 19.9 is out of range: it must be from 20 to 400",
        "row 1, column panic: 11 is out of range: it must be from 0 to 10",
    )


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"panic": "", "panic_course": "reflected"}, "panic_course"),
        ({"panic": "0", "panic_course": "reflected"}, "panic_course"),
        ({"route": "esketamine_nasal", "dose_mg": "50"}, "dose_mg"),
        ({"bp_40_sys": "90", "bp_40_dia": "90"}, "bp_40_sys"),
        ({"phq9": "2", "phq9_item9": "3"}, "phq9_item9"),
    ],
)
def test_rules_between_two_fields_are_enforced(
    engine: Engine, changes: dict[str, str], column: str
) -> None:
    refused_with(engine, sessions_file(session(**changes)), f"row 1, column {column}:")


def test_a_required_value_left_blank_is_refused(engine: Engine) -> None:
    refused_with(
        engine,
        sessions_file(session(route="", dose_mg=" ")),
        "row 1, column route: route is required and is blank",
        "row 1, column dose_mg: dose_mg is required and is blank",
    )


def test_a_bad_patient_id_is_refused(engine: Engine) -> None:
    # a combining accent on a digit is no letter, even after normalisation
    for code in ("P 1", "x" * 65, "P/1", "P-1\u0301"):
        refused_with(engine, sessions_file(session(patient_id=code)), "row 1, column patient_id:")


def test_letters_of_any_script_make_one_patient_however_they_are_encoded(engine: Engine) -> None:
    composed = unicodedata.normalize("NFC", "Ünal-é7")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    data = sessions_file(
        session(patient_id=composed),
        session(patient_id=decomposed, session_date="2026-11-05"),
        session(patient_id="\uff21\uff22-\uff11"),  # full-width "AB-1", as East Asian input gives
        session(patient_id="Αλφα_3"),
    )
    result = import_sessions(engine, data)
    assert result.ok and result.patients_created == 3, result.messages()
    with engine.connect() as connection:
        codes = sorted(connection.execute(select(patient_table.c.code)).scalars())
    assert codes == ["AB-1", composed, "Αλφα_3"]
    again = import_sessions(engine, data)
    assert again.ok and again.unchanged == 4
    exported = export_sessions(engine, patient=decomposed).data.decode()
    assert exported.count(composed) == 2


def test_a_code_mixing_look_alike_scripts_is_refused_not_made_a_second_patient(
    engine: Engine,
) -> None:
    assert import_sessions(engine, sessions_file(session(patient_id="PT-001"))).ok
    refused_with(
        engine,
        sessions_file(
            session(patient_id="PT-0\u041e1", session_date="2026-11-05"),  # Cyrillic О
            session(patient_id="\u0391B-7", session_date="2026-11-05"),  # Greek Α
            session(patient_id="PT-1\u0662", session_date="2026-11-05"),  # Arabic-Indic 2
        ),
        "row 1, column patient_id: the patient code mixes letters of different scripts "
        "(Cyrillic and Latin)",
        "row 2, column patient_id: the patient code mixes letters of different scripts "
        "(Greek and Latin)",
        "row 3, column patient_id: the patient code mixes digits of different numbering systems",
    )
    with engine.connect() as connection:
        assert list(connection.execute(select(patient_table.c.code)).scalars()) == ["PT-001"]
    # scripts that are written together stay one code
    mixed_as_written = sessions_file(
        session(patient_id="田中たなか-A1"), session(patient_id="김-B2")
    )
    assert import_sessions(engine, mixed_as_written).patients_created == 2


def test_one_code_written_two_ways_in_one_file_is_a_duplicate(engine: Engine) -> None:
    composed = unicodedata.normalize("NFC", "é-1")
    data = sessions_file(
        session(patient_id=composed), session(patient_id=unicodedata.normalize("NFD", composed))
    )
    refused_with(engine, data, "row 2, column session_date: row 1 has the same patient_id")


def test_ragged_rows_are_reported_with_their_row(engine: Engine) -> None:
    header = ",".join(REQUIRED_ONLY)
    data = (
        f"{header}\r\nP-1,2026-11-01,ketamine_iv,35\r\nP-2,2026-11-01,ketamine_iv\r\n"
        "P-3,2026-11-01,ketamine_iv,35,extra\r\n"
    ).encode()
    refused_with(
        engine,
        data,
        "row 2, column dose_mg: the row has 3 cells but the header has 4",
        "row 3, column 5 (beyond the header): the row has 5 cells but the header has 4",
    )


def test_an_unclosed_quote_is_reported_not_raised(engine: Engine) -> None:
    header = ",".join(REQUIRED_ONLY)
    data = f'{header}\r\nP-1,2026-11-01,ketamine_iv,35\r\nP-2,"2026-11-01,ketamine_iv,35\r\n'
    refused_with(engine, data.encode(), "row 2: the CSV is malformed here")


def test_an_empty_file_is_refused(engine: Engine) -> None:
    refused_with(engine, b"", "row 0: the file is empty")
    refused_with(engine, b"\xef\xbb\xbf\r\n", "row 0: the file is empty")


@pytest.mark.parametrize(
    "data",
    [
        bytes(random.Random(4).randrange(256) for _ in range(2048)),
        b"PK\x03\x04" + bytes(range(200)),
        b"%PDF-1.7\n" + bytes(range(1, 200)),
        b"\x00\x01\x02\x03",
    ],
    ids=["random", "xlsx", "pdf", "nul"],
)
def test_binary_files_are_refused(engine: Engine, data: bytes) -> None:
    lines = refused_with(engine, data, "")
    assert lines


def test_every_problem_of_the_file_is_reported_not_just_the_first(engine: Engine) -> None:
    data = sessions_file(
        session(dose_mg="0"),
        session(patient_id="P-2", session_date="2026-13-01", panic="12"),
        session(patient_id="P-3"),
        session(patient_id="P-4", route="im"),
    )
    lines = refused_with(
        engine,
        data,
        "row 1, column dose_mg:",
        "row 2, column session_date:",
        "row 2, column panic:",
        "row 4, column route:",
    )
    assert len(lines) == 4
    assert [line.split(",")[0] for line in lines] == ["row 1", "row 2", "row 2", "row 4"]


def test_problems_beyond_the_listing_limit_are_counted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("redflags.records.MAX_LISTED_PROBLEMS", 5)
    rows = [session(patient_id=f"P-{n}", dose_mg="0") for n in range(12)]
    result = import_sessions(engine, sessions_file(*rows))
    assert result.problem_count == 12
    assert len(result.messages()) == 6
    assert result.messages()[-1] == "… and 7 more problems not listed (dose_mg: 7)"


def test_a_trimmed_result_lists_fewer_problems_and_counts_the_rest_by_column(
    engine: Engine,
) -> None:
    rows = [session(patient_id=f"P-{n}", dose_mg="0", panic="11") for n in range(6)]
    result = import_sessions(engine, sessions_file(*rows))
    assert result.problem_count == 12 and len(result.messages()) == 12
    trimmed = result.trimmed(5)
    assert trimmed.messages()[:5] == result.messages()[:5]
    assert trimmed.messages()[5:] == ["… and 7 more problems not listed (panic: 4, dose_mg: 3)"]
    assert (trimmed.problem_count, trimmed.summary()) == (12, result.summary())
    assert result.trimmed(12) is result


def test_a_trimmed_result_of_a_log_already_cut_short_still_counts_every_problem(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("redflags.records.MAX_LISTED_PROBLEMS", 8)
    rows = [session(patient_id=f"P-{n}", dose_mg="0") for n in range(12)]
    trimmed = import_sessions(engine, sessions_file(*rows)).trimmed(3)
    assert len(trimmed.messages()) == 4
    assert trimmed.messages()[-1] == "… and 9 more problems not listed"


# ---------------------------------------------------------------- size, dry run, audit, roles


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(sessions_file(session()))
    monkeypatch.setenv(records.MAX_BYTES_VARIABLE, "100")

    def never(*_args: object) -> bytes:
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", never)
    lines = refused_with(engine, path, "file: the file is")
    assert "over the import limit of 100 bytes" in lines[0]
    assert records.MAX_BYTES_VARIABLE in lines[0]


def test_the_size_limit_applies_to_uploaded_bytes_too(engine: Engine) -> None:
    data = sessions_file(session())
    refused_with(engine, data, "file: the file is", max_bytes=len(data) - 1)
    assert import_sessions(engine, data, max_bytes=len(data)).ok


def test_a_bad_size_limit_setting_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(records.MAX_BYTES_VARIABLE, "200MB")
    with pytest.raises(records.RecordsError, match=records.MAX_BYTES_VARIABLE):
        records.max_import_bytes()


def test_a_missing_file_is_refused_not_raised(engine: Engine, tmp_path: Path) -> None:
    refused_with(engine, tmp_path / "nope.csv", "file: cannot read the file nope.csv")


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(engine: Engine) -> None:
    before = clinical_counts(engine)
    result = import_sessions(engine, sessions_file(session()), dry_run=True)
    assert result.outcome is records.Outcome.VALID and result.ok
    assert (result.imported, result.patients_created) == (1, 1)
    assert clinical_counts(engine) == before


def test_every_attempt_is_audited_with_the_file_hash_and_counts(engine: Engine) -> None:
    good = sessions_file(session())
    bad = sessions_file(session(dose_mg="0"))
    import_sessions(engine, good, filename="good.csv")
    import_sessions(engine, bad, filename="bad.csv")
    import_sessions(engine, good, filename="good.csv", dry_run=True)
    import_sessions(engine, good, filename="good.csv")
    rows = audit_details(engine, "sessions_import")
    assert [(r["file"], r["outcome"], r["dry_run"]) for r in rows] == [
        ("good.csv", "imported", False),
        ("bad.csv", "refused", False),
        ("good.csv", "valid", True),
        ("good.csv", "imported", False),
    ]
    assert rows[0]["sha256"] == hashlib.sha256(good).hexdigest()
    assert rows[1]["sha256"] == hashlib.sha256(bad).hexdigest()
    assert (rows[0]["rows_read"], rows[0]["imported"], rows[0]["unchanged"]) == (1, 1, 0)
    assert (rows[1]["problems"], rows[1]["imported"]) == (1, 0)
    assert (rows[3]["imported"], rows[3]["unchanged"]) == (0, 1)
    assert {r["_username"] for r in rows} == {CLINICIAN.username}
    assert all("Tolerated" not in str(r) for r in rows)  # no row contents in the audit


def test_a_viewer_may_not_import(engine: Engine) -> None:
    before = counts(engine)
    with pytest.raises(PermissionDenied):
        records.import_sessions(
            engine=engine, actor=Actor("v", Role.VIEWER), data=sessions_file(session())
        )
    assert counts(engine) == before


def test_a_note_longer_than_the_csv_modules_cell_limit_is_one_problem_among_all(
    engine: Engine,
) -> None:
    """A 200,000-character note is a too-long note, not a malformed file; rows after it count."""
    data = sessions_file(
        session(dose_mg="bad"),
        session(patient_id="P-2", note="x" * 200_000),
        session(patient_id="P-3", dose_mg="bad"),
    )
    lines = refused_with(
        engine,
        data,
        "row 1, column dose_mg:",
        "row 2, column note: the text is 200,000 characters long; at most 100,000 fit",
        "row 3, column dose_mg:",
    )
    assert not any("malformed" in line for line in lines), lines
