"""Properties, checked with generated data (hypothesis).

- Any valid sessions survive export → import → export byte for byte, losslessly.
- Any bytes given to the importer end in a result, never an exception, and
  the database holds either all the file's new rows or none of them.
- The column-wise session check agrees with the row-by-row one on every file.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from models import store
from models.db import read_session, write_session
from models.tables import decision_table, patient_table, session_table
from redflags.clinic_time import local_to_utc, utc_to_local
from redflags.codes import Course
from redflags.csv_format import write_csv
from redflags.fields import (
    BP_DIA_HIGH,
    BP_DIA_LOW,
    BP_SYS_HIGH,
    ESKETAMINE_DOSES_MG,
    ROUTES,
    SESSION_COLUMNS,
    SESSION_FIELDS,
    THEMES,
    Kind,
)
from redflags.records import parse_sessions_csv, sessions_csv
from redflags.validation import SESSION_RECORD_KEYS, is_blank
from services import records
from tests.records.conftest import (
    CLINICIAN,
    GOOD_SESSION,
    TODAY,
    clinical_counts,
    session,
    sessions_file,
)

ZONES = (ZoneInfo("UTC"), ZoneInfo("Europe/London"), ZoneInfo("America/New_York"))
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def clear(engine: Engine) -> None:
    with write_session(engine) as session_:
        for table in (decision_table, session_table, patient_table):
            session_.execute(delete(table))


# ---------------------------------------------------------------- valid sessions

codes = st.from_regex(r"[A-Za-z0-9_.\-]{1,10}", fullmatch=True)
free_text = st.one_of(
    st.none(),
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30
    ).filter(lambda text: not is_blank(text)),
    st.sampled_from(["=1+1", "'=x", "''@y", "-2+3", "\tTab", "a\r\nb", 'q"uote', "é ü 中"]),
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def stored_sessions(draw: st.DrawFn, tz: ZoneInfo) -> tuple[object, ...]:
    """One valid session as stored (SESSION_RECORD_KEYS order)."""
    day = draw(st.dates(min_value=date(2000, 1, 1), max_value=TODAY))
    timed = draw(st.booleans())
    if timed:
        moment = datetime.combine(day, draw(st.times()))
        utc = local_to_utc(moment, tz)
        assume(utc_to_local(utc, tz).date() <= TODAY)
    else:
        utc = local_to_utc(datetime.combine(day, time()), tz)
    route = draw(st.sampled_from(ROUTES))
    if route == "esketamine_nasal":
        dose = float(draw(st.sampled_from(ESKETAMINE_DOSES_MG)))
    else:
        dose = draw(st.floats(min_value=0, max_value=1000, exclude_min=True))
    values: dict[str, object] = {
        "route": route,
        "dose_mg": dose,
        "weight_kg": draw(optional(st.floats(min_value=20, max_value=400))),
        "dissociation_cadss": draw(optional(st.integers(0, 92))),
        "observation_min": draw(optional(st.integers(0, 1440))),
        "commitment": draw(free_text),
        "note": draw(free_text),
    }
    for theme in THEMES:
        intensity = draw(optional(st.integers(0, 10)))
        values[theme] = intensity
        values[f"{theme}_course"] = (
            draw(optional(st.sampled_from([c.value for c in Course]))) if intensity else None
        )
    for sys_col, dia_col in (
        ("bp_pre_sys", "bp_pre_dia"),
        ("bp_40_sys", "bp_40_dia"),
        ("bp_end_sys", "bp_end_dia"),
    ):
        diastolic = draw(optional(st.integers(BP_DIA_LOW, BP_DIA_HIGH)))
        values[dia_col] = diastolic
        low = max(50, (diastolic or 0) + 1)
        values[sys_col] = draw(optional(st.integers(low, BP_SYS_HIGH)))
    phq9 = draw(optional(st.integers(0, 27)))
    values["phq9"] = phq9
    values["phq9_item9"] = draw(optional(st.integers(0, min(3, phq9 if phq9 is not None else 3))))
    return (draw(codes), utc, timed, *(values[key] for key in SESSION_RECORD_KEYS[3:]))


@st.composite
def clinics(draw: st.DrawFn) -> tuple[ZoneInfo, list[tuple[object, ...]]]:
    tz = draw(st.sampled_from(ZONES))
    sessions = draw(st.lists(stored_sessions(tz), max_size=12, unique_by=lambda r: (r[0], r[1])))
    sessions.sort(key=lambda r: (str(r[0]), r[1]))  # the export's order
    return tz, sessions


@DB_SETTINGS
@given(clinic=clinics())
def test_any_valid_sessions_survive_export_import_export_byte_for_byte(
    engine: Engine, clinic: tuple[ZoneInfo, list[tuple[object, ...]]]
) -> None:
    tz, sessions = clinic
    clear(engine)
    written = sessions_csv(sessions, tz)
    first = records.import_sessions(
        engine=engine, actor=CLINICIAN, data=written, today=TODAY, tz=tz
    )
    assert first.ok and first.imported == len(sessions), first.messages()
    with read_session(engine) as session_:
        stored = store.session_records(session_)
    assert stored == sessions  # nothing lost or changed on the way in
    exported = records.export_sessions(engine=engine, actor=CLINICIAN, tz=tz).data
    assert exported == written

    clear(engine)
    again = records.import_sessions(
        engine=engine, actor=CLINICIAN, data=exported, today=TODAY, tz=tz
    )
    assert again.ok
    assert records.export_sessions(engine=engine, actor=CLINICIAN, tz=tz).data == exported


# ---------------------------------------------------------------- any bytes


@st.composite
def damaged_files(draw: st.DrawFn) -> bytes:
    """A valid file with bytes replaced, inserted or removed here and there."""
    data = bytearray(sessions_file(session(), session(patient_id="P-2", session_date="2026-11-03")))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if edit == "insert" or at == len(data):
            data[at:at] = bytes([byte])
        elif edit == "replace":
            data[at] = byte
        else:
            del data[at]
    return bytes(data)


text_cells = st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=6), max_size=5).map(
    lambda rows: "\r\n".join(
        [",".join(("patient_id", "session_date", "route", "dose_mg"))]
        + [",".join(cells) for cells in rows]
    ).encode("utf-8", "surrogatepass")
)

any_bytes = st.one_of(st.binary(max_size=600), damaged_files(), text_cells)


@settings(DB_SETTINGS, max_examples=60)
@given(data=any_bytes)
def test_any_bytes_end_in_a_result_and_never_in_a_partial_write(
    engine: Engine, data: bytes
) -> None:
    before = clinical_counts(engine)
    result = records.import_sessions(
        engine=engine, actor=CLINICIAN, data=data, today=TODAY, tz=ZoneInfo("UTC")
    )
    assert isinstance(result, records.ImportResult)
    after = clinical_counts(engine)
    if result.outcome is records.Outcome.IMPORTED:
        assert after["sessions"] == before["sessions"] + result.imported
        assert after["patients"] == before["patients"] + result.patients_created
    else:
        assert result.outcome is records.Outcome.REFUSED
        assert after == before
        assert result.messages() and all(isinstance(m, str) for m in result.messages())


# ---------------------------------------------------------------- fast check == slow check


def cells_for(kind: Kind, name: str) -> st.SearchStrategy[str]:
    spec = next(f for f in SESSION_FIELDS if f.name == name)
    if name == "patient_id":
        return st.sampled_from(["P1", "007", "NA", " P2", "a b", "'-5", "-5", "", "x" * 65])
    if name == "session_date":
        return st.sampled_from(
            [
                "2026-11-02",
                "2026-11-02T09:30",
                "2026-11-02T09:30:15",
                "2026-11-02 09:30",
                "2026-03-29T01:30",
                "2026-10-25T01:30",
                "2026-10-25",
                "2026-02-30",
                "03/04/2026",
                "2026-12-01",
                "2026-11-20T23:59",
                "2026-11-21",
                "",
                " 2026-11-02",
                "2026-11-02Z",
                "2026-11-02T09:30Z",
                "2026-11-02T24:00",
                "２０２６-11-02",
            ]
        )
    if kind is Kind.INTEGER:
        high = int(spec.high or 0)
        return st.one_of(
            st.integers(-2, high + 2).map(str),
            st.sampled_from(["", " ", "05", "+3", "3.0", "3.5", " 4", "x", "1e1", "٣", "-0"]),
        )
    if kind is Kind.NUMBER:
        return st.one_of(
            st.floats(min_value=-1, max_value=1100, allow_nan=False).map(repr),
            st.sampled_from(
                [
                    "",
                    "28",
                    "56",
                    "84",
                    "56.0",
                    "37.5",
                    ".5",
                    "5.",
                    "1,5",
                    "0",
                    "1000",
                    "1000.0001",
                    "20",
                    "400",
                    "nan",
                    "inf",
                    "1_0",
                ]
            ),
        )
    if kind is Kind.CHOICE:
        return st.sampled_from([*spec.choices, "", " Reflected", "KETAMINE_IV", "x"])
    return st.one_of(st.text(max_size=8), st.sampled_from(["'=x", "''", "'", " ", "\t=1"]))


@st.composite
def near_valid_files(draw: st.DrawFn) -> bytes:
    columns = draw(
        st.lists(st.sampled_from(SESSION_COLUMNS[4:]), unique=True, max_size=8).map(
            lambda extra: [*SESSION_COLUMNS[:4], *extra]
        )
    )
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            rows.append([GOOD_SESSION[c] for c in columns])  # a mostly valid file
            rows[-1][0] = draw(st.sampled_from(["P1", "P2", "P3"]))
            rows[-1][1] = f"2026-11-{draw(st.integers(1, 19)):02d}"
        else:
            kinds = {f.name: f.kind for f in SESSION_FIELDS}
            rows.append([draw(cells_for(kinds[c], c)) for c in columns])
    return write_csv(columns, rows)


@settings(max_examples=300, deadline=None)
@given(data=near_valid_files(), tz=st.sampled_from(ZONES))
def test_the_column_wise_check_agrees_with_the_row_by_row_check(data: bytes, tz: ZoneInfo) -> None:
    fast = parse_sessions_csv(data, today=TODAY, tz=tz, fast=True)
    slow = parse_sessions_csv(data, today=TODAY, tz=tz, fast=False)
    assert fast.problems.lines() == slow.problems.lines()
    assert fast.records == slow.records
    assert fast.rows == slow.rows and fast.rows_read == slow.rows_read
    for record in fast.records:
        assert all(type(a) is type(b) for a, b in zip(record, record, strict=True))


def test_the_fast_check_returns_the_same_types_as_the_slow_one() -> None:
    data = sessions_file(session())
    fast = parse_sessions_csv(data, today=TODAY, tz=ZONES[0], fast=True).records
    slow = parse_sessions_csv(data, today=TODAY, tz=ZONES[0], fast=False).records
    assert [[type(v) for v in r] for r in fast] == [[type(v) for v in r] for r in slow]
    assert fast == slow


@pytest.mark.parametrize("tz", ZONES, ids=lambda z: z.key)
def test_a_date_alone_is_midnight_in_the_clinic_zone(tz: ZoneInfo) -> None:
    record = parse_sessions_csv(
        sessions_file(session(session_date="2026-03-29")), today=TODAY, tz=tz
    ).records[0]
    assert record[1] == local_to_utc(datetime(2026, 3, 29), tz)
    assert utc_to_local(record[1], tz) == datetime(2026, 3, 29)  # type: ignore[arg-type]
    assert timedelta(0) <= abs(record[1] - datetime(2026, 3, 29)) < timedelta(hours=6)  # type: ignore[operator]
