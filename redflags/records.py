"""Sessions and decisions CSV files (records.md): whole-file validation and export bytes.

Pure code: no database, no clock (``today``/``now`` and the clinic's time zone
are arguments). :mod:`services.records` adds the database and the audit.

Row numbers are those a spreadsheet user sees: the header is row 0 and data
rows count from 1, one per record (a quoted cell with line breaks is one row).
A row whose cells are all blank is skipped, but still counted in the numbering.
A file with a header and no data rows is valid and imports nothing.
"""

from __future__ import annotations

import csv
import gc
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from redflags.csv_format import (
    CsvRefused,
    decode_csv,
    format_local_time,
    format_number,
    iter_records,
    match_header,
    separator_problem,
    unneutralise,
    write_csv,
)
from redflags.fields import (
    BP_READINGS,
    DECISION_COLUMNS,
    ESKETAMINE_DOSES_MG,
    PATIENT_ID_PATTERN,
    REQUIRED_COLUMNS,
    REVIEW_COLUMNS,
    SESSION_COLUMNS,
    SESSION_FIELDS,
    THEMES,
    Field,
    Kind,
)
from redflags.validation import (
    DECISION_NUMBER_COLUMNS,
    DECISION_RECORD_KEYS,
    DECISION_REQUIRED_COLUMNS,
    DECISION_TEXT_COLUMNS,
    EARLIEST_YEAR,
    MAX_TEXT_CHARS,
    SESSION_RECORD_KEYS,
    Invalid,
    Problem,
    check_decision,
    check_session,
    is_utc_zone,
    parse_patient_code,
)

#: How many problems are listed one by one; beyond that they are counted per column.
#: Every problem of a 500,000-row file is listed, even two to a row (records.md: all
#: problems are reported); the limit only bounds the memory of an arbitrary file.
MAX_LISTED_PROBLEMS = 1_000_000
SESSION_TEXT_COLUMNS: tuple[str, ...] = tuple(f.name for f in SESSION_FIELDS if f.kind is Kind.TEXT)
SESSION_NUMBER_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in SESSION_FIELDS if f.kind in (Kind.NUMBER, Kind.INTEGER)
)
#: Review columns that hold numbers (never quoted against formula injection).
REVIEW_NUMBER_COLUMNS: tuple[str, ...] = ("dose_mg", "phq9_baseline", "phq9_latest", "phq9_change")

Record = tuple[object, ...]


@dataclass
class ProblemLog:
    """Every problem of a file: the first :data:`MAX_LISTED_PROBLEMS` listed, the rest counted."""

    listed: list[Problem] = field(default_factory=list)
    total: int = 0
    unlisted_by_column: Counter[str] = field(default_factory=Counter)

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.listed) < MAX_LISTED_PROBLEMS:
            self.listed.append(problem)
        else:
            self.unlisted_by_column[problem.column or "(row)"] += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def __bool__(self) -> bool:
        return self.total > 0

    def merged(self, other: ProblemLog) -> ProblemLog:
        """This log and ``other`` in one, listed in row order (a file's problems, then
        the conflicts of its valid rows with the stored ones)."""
        both = ProblemLog()
        both.extend(sorted([*self.listed, *other.listed], key=lambda p: p.row or 0))
        both.total = self.total + other.total
        both.unlisted_by_column.update(self.unlisted_by_column)
        both.unlisted_by_column.update(other.unlisted_by_column)
        return both

    def lines(self) -> list[str]:
        """One line per listed problem, and one line that sums up the rest."""
        lines = [str(problem) for problem in self.listed]
        unlisted = self.total - len(self.listed)
        if unlisted:
            lines.append(unlisted_line(unlisted, self.unlisted_by_column))
        return lines


def unlisted_line(count: int, by_column: Counter[str] | None = None) -> str:
    """The line that sums up problems not listed one by one, by column when known."""
    if not by_column:
        return f"… and {count:,} more problems not listed"
    counts = ", ".join(f"{c}: {n:,}" for c, n in by_column.most_common())
    return f"… and {count:,} more problems not listed ({counts})"


@dataclass
class ParsedFile:
    """A validated file: its valid records and its problems.

    The valid records are kept even when other rows have problems, so that
    their conflicts with stored records can be reported too: every problem of
    a file is reported at once.
    """

    records: list[Record]
    #: The row number of each record, for messages about conflicts with stored rows.
    rows: list[int]
    rows_read: int
    problems: ProblemLog
    #: (row, patient code) of the rows refused for other reasons whose patient_id is
    #: well formed: an importer that needs the patient to exist checks these too.
    invalid_row_codes: list[tuple[int, str]] = field(default_factory=list)


#: What a file checker returns for each row: (row, record or None, problems).
RowResult = tuple[int, Record | None, Sequence[Problem]]
#: Checks a chunk of rows given as (row numbers, cells); made for one header layout.
ChunkCheck = Callable[[list[int], list[list[str]]], Iterable[RowResult]]
#: How many rows are validated together (bounds the memory held as raw text).
CHUNK_ROWS = 50_000

# The csv module refuses a cell over 131,072 characters as malformed and stops
# reading there. The file's size is limited before it is read, and a text cell
# over MAX_TEXT_CHARS gets its own message (row, column, length), so no cell is
# too long to read: every row after a long note is checked too.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are made at once.

    Bulk work creates no reference cycles, but each collection walks every live
    object: on a 500,000-row file that costs more than the work itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(
    data: bytes,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    make_checker: Callable[[list[str | None]], ChunkCheck],
    key_column: str,
    what: str,
) -> ParsedFile:
    parsed = ParsedFile(records=[], rows=[], rows_read=0, problems=ProblemLog())
    problems = parsed.problems
    try:
        text = decode_csv(data)
    except CsvRefused as refusal:
        problems.add(refusal.problem)
        return parsed
    reader = iter_records(text)
    del text  # the reader holds its own copy
    seen: dict[tuple[object, object], int] = {}
    chunk_rows: list[int] = []
    chunk_cells: list[list[str]] = []
    found: list[Problem] = []

    def check_chunk(checker: ChunkCheck) -> None:
        for index, (row, record, row_problems) in enumerate(checker(chunk_rows, chunk_cells)):
            if record is None:
                if missing:
                    row_problems = [p for p in row_problems if p.column not in missing]
                found.extend(row_problems)
                code = _well_formed_code(chunk_cells[index], code_at, row_problems)
                if code is not None:
                    parsed.invalid_row_codes.append((row, code))
                continue
            first = seen.setdefault((record[0], record[1]), row)
            if first != row:
                found.append(
                    Problem(
                        f"row {first} has the same patient_id and {key_column}: each "
                        f"{what[:-1]} is recorded once — remove one of the rows or correct it",
                        row,
                        key_column,
                    )
                )
            else:
                parsed.records.append(record)
                parsed.rows.append(row)
        chunk_rows.clear()
        chunk_cells.clear()

    code_at: int | None = None  # the patient_id column, once the header is read
    missing: frozenset[str] = frozenset()
    row = -1  # the row being read when the csv module gives up
    checker: ChunkCheck | None = None
    try:
        header = next(reader, [])
        row = 0
        if not any(cell.strip() for cell in header):
            problems.add(Problem(f"the first row must be the header: {', '.join(columns)}", 0))
            return parsed
        separator = separator_problem(header)
        if separator is not None:
            problems.add(separator)
            return parsed
        names, header_problems = match_header(header, columns, required, what)
        problems.extend(header_problems)
        # A missing required column leaves every row invalid; the header's problem says
        # so once, and the rows are still checked for everything else they hold.
        missing = frozenset(name for name in required if name not in names)
        checker = make_checker(names)
        code_at = names.index("patient_id") if "patient_id" in names else None
        width = len(header)
        for row, cells in enumerate(reader, start=1):
            if not cells or (
                (not cells[0] or cells[0].isspace()) and all(not c or c.isspace() for c in cells)
            ):
                continue  # a blank row (a blank line, or a row of empty cells)
            parsed.rows_read += 1
            if len(cells) != width:
                found.append(_ragged(row, len(cells), header, names))
                continue
            chunk_rows.append(row)
            chunk_cells.append(cells)
            if len(chunk_rows) >= CHUNK_ROWS:
                check_chunk(checker)
    except csv.Error as error:
        found.append(
            Problem(
                f"the CSV is malformed here ({error}): check for a stray or unclosed double "
                "quote; rows after this one were not checked",
                row + 1,  # the row after the last one read whole
            )
        )
    if checker is not None:
        check_chunk(checker)
    found.sort(key=lambda problem: problem.row or 0)  # stable: columns keep their order
    problems.extend(found)
    return parsed


def _well_formed_code(
    cells: Sequence[str], at: int | None, problems: Sequence[Problem]
) -> str | None:
    """The patient code of a refused row, unless the code itself is what was wrong (or absent)."""
    if at is None or any(problem.column == "patient_id" for problem in problems):
        return None
    try:
        return parse_patient_code(unneutralise(cells[at]))
    except Invalid:
        return None


def _raw_rows(
    names: Sequence[str | None], text_columns: Sequence[str]
) -> Callable[[list[str]], dict[str, str]]:
    """Turns a row's cells into {column: text}, with the formula quote taken off text cells."""
    present = [(i, name) for i, name in enumerate(names) if name is not None]
    present_text = [name for _, name in present if name in text_columns]

    def raw(cells: list[str]) -> dict[str, str]:
        values = {name: cells[i] for i, name in present}
        for name in present_text:
            if values[name][:1] == "'":
                values[name] = unneutralise(values[name])
        return values

    return raw


def _row_by_row(
    names: list[str | None],
    text_columns: Sequence[str],
    check_row: Callable[[Mapping[str, str], int], tuple[Record | None, list[Problem]]],
) -> ChunkCheck:
    raw = _raw_rows(names, text_columns)

    def check(rows: list[int], cells: list[list[str]]) -> Iterable[RowResult]:
        for row, row_cells in zip(rows, cells, strict=True):
            record, problems = check_row(raw(row_cells), row)
            yield row, record, problems

    return check


def _ragged(row: int, count: int, header: Sequence[str], names: Sequence[str | None]) -> Problem:
    width = len(header)
    if count < width:
        column = names[count] or header[count].strip() or str(count + 1)
        reason = f"the row has {count} cells but the header has {width}: cells are missing"
    else:
        column = f"{width + 1} (beyond the header)"
        reason = (
            f"the row has {count} cells but the header has {width}: a text with a comma must be "
            "in double quotes"
        )
    return Problem(reason, row, column)


def parse_sessions_csv(
    data: bytes,
    *,
    today: date,
    tz: ZoneInfo,
    fast: bool = True,
    now: datetime | None = None,
) -> ParsedFile:
    """Validate a sessions CSV file whole (records.md); records in SESSION_RECORD_KEYS order.

    ``today`` is the clinic's date; later sessions are refused, and with ``now``
    (aware, or naive UTC) session times later than now too. ``fast`` checks
    plain cells column by column and sends every other row through
    :func:`redflags.validation.check_session` (the same results, several times
    faster); ``fast=False`` checks every row with it.
    """

    def make_checker(names: list[str | None]) -> ChunkCheck:
        if fast and all(name in names for name in REQUIRED_COLUMNS):
            return FastSessionCheck(names, today=today, tz=tz, now=now)
        return _row_by_row(
            names,
            SESSION_TEXT_COLUMNS,
            lambda raw, row: check_session(raw, today=today, tz=tz, row=row, now=now),
        )

    with paused_gc():
        return _parse(
            data,
            columns=SESSION_COLUMNS,
            required=REQUIRED_COLUMNS,
            make_checker=make_checker,
            key_column="session_date",
            what="sessions",
        )


def parse_decisions_csv(data: bytes, *, now: datetime, tz: ZoneInfo) -> ParsedFile:
    """Validate a decisions CSV file whole; records in DECISION_RECORD_KEYS order.

    ``now`` (aware, or naive UTC) is the current instant; later decisions are refused.
    """

    def make_checker(names: list[str | None]) -> ChunkCheck:
        return _row_by_row(
            names,
            (*DECISION_TEXT_COLUMNS, "patient_id"),
            lambda raw, row: check_decision(raw, now=now, tz=tz, row=row),
        )

    return _parse(
        data,
        columns=DECISION_COLUMNS,
        required=DECISION_REQUIRED_COLUMNS,
        make_checker=make_checker,
        key_column="decided_at",
        what="decisions",
    )


# ---------------------------------------------------------------- the fast session check

#: Marks a cell that the column-wise pass does not settle: its row goes to check_session.
_SLOW: Any = object()
_MISSING: Any = object()
_FAST_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2})?", re.ASCII)


def _integer_lookup(low: float, high: float) -> dict[str, Any]:
    """Every plain whole number in range as its text; blank is None. Others: check_session."""
    return {"": None, **{str(n): n for n in range(math.ceil(low), math.floor(high) + 1)}}


def _choice_lookup(choices: Iterable[str]) -> dict[str, Any]:
    return {"": None, **{word: word for word in choices}}


def _looked_up(column: Sequence[str], lookup: Mapping[str, Any]) -> list[Any]:
    get = lookup.get
    return [get(c, _SLOW) for c in column]


def _plain_decimal(text: str, low: float, high: float, exclusive: bool) -> Any:
    """A plain unsigned decimal in range (like 37.5), or the unsettled mark."""
    if len(text) <= 12 and text.isascii() and text.replace(".", "", 1).isdigit():
        value = float(text)
        if (low < value if exclusive else low <= value) and value <= high:
            return value
    return _SLOW


def _decimals(
    column: Sequence[str], memo: dict[str, Any], low: float, high: float, exclusive: bool
) -> list[Any]:
    """Plain decimals in range; blank is None; else check_session. ``memo`` caches texts."""
    get = memo.get
    values = [get(c, _MISSING) for c in column]
    if _MISSING in values:
        for at, value in enumerate(values):
            if value is _MISSING:
                text = column[at]
                values[at] = _plain_decimal(text, low, high, exclusive)
                if len(memo) < 100_000:
                    memo[text] = values[at]
    return values


def _texts(column: Sequence[str]) -> list[Any]:
    values = [unneutralise(c) if c[:1] == "'" else c for c in column]
    return [
        None
        if not c or c.isspace()
        else (c if len(c) <= MAX_TEXT_CHARS and "\x00" not in c else _SLOW)
        for c in values
    ]


def _converter(spec: Field) -> Callable[[Sequence[str]], list[Any]]:
    """The column-wise conversion of one stored session field."""
    low = spec.low if spec.low is not None else -math.inf
    high = spec.high if spec.high is not None else math.inf
    if spec.kind is Kind.INTEGER:
        return partial(_looked_up, lookup=_integer_lookup(low, high))
    if spec.kind is Kind.CHOICE:
        return partial(_looked_up, lookup=_choice_lookup(spec.choices))
    if spec.kind is Kind.NUMBER:
        return partial(_decimals, memo={"": None}, low=low, high=high, exclusive=spec.low_exclusive)
    return _texts


class FastSessionCheck:
    """Validates sessions column by column; any row it cannot settle goes to check_session.

    It accepts only what :func:`redflags.validation.check_session` accepts, with
    the same values: plain digits, exact lower-case words, ``YYYY-MM-DD`` and
    ``YYYY-MM-DDTHH:MM`` on days without a clock change. Everything else —
    every invalid cell among them — is checked row by row, so the messages are
    always those of check_session.
    """

    def __init__(
        self,
        names: list[str | None],
        *,
        today: date,
        tz: ZoneInfo,
        now: datetime | None = None,
    ) -> None:
        self.today = today
        self.now = now
        # With ``now``, today's sessions go through check_session, which compares their times.
        self.last_fast_day = today if now is None else today - timedelta(days=1)
        self.tz = tz
        self.utc_clinic = is_utc_zone(tz)
        self.position = {name: i for i, name in enumerate(names) if name is not None}
        self.raw = _raw_rows(names, SESSION_TEXT_COLUMNS)
        self.codes: dict[str, str] = {}
        self.day_offsets: dict[date, timedelta | None] = {}
        self.converters: list[tuple[int | None, Callable[[Sequence[str]], list[Any]]]] = [
            (self.position.get(spec.name), _converter(spec)) for spec in SESSION_FIELDS[2:]
        ]

    def _day_offset(self, day: date) -> timedelta | None:
        """The clinic's UTC offset all through ``day``; None if the clocks change that day."""
        if day not in self.day_offsets:
            start = datetime(day.year, day.month, day.day)
            end = start + timedelta(hours=23, minutes=59, seconds=59)
            offsets = {
                moment.replace(tzinfo=self.tz, fold=fold).utcoffset()
                for moment in (start, end)
                for fold in (0, 1)
            }
            only = offsets.pop() if len(offsets) == 1 else None
            self.day_offsets[day] = only
        return self.day_offsets[day]

    def _patients(self, column: Sequence[str]) -> list[Any]:
        codes = self.codes
        out: list[Any] = []
        for c in column:
            code = codes.get(c)
            if code is None:
                if PATIENT_ID_PATTERN.fullmatch(c):
                    code = codes[c] = sys.intern(c)
                else:
                    code = _SLOW
            out.append(code)
        return out

    def _times(self, column: Sequence[str]) -> tuple[list[Any], list[Any]]:
        utcs: list[Any] = []
        given: list[Any] = []
        last_day = self.last_fast_day
        for c in column:
            if not _FAST_TIME.fullmatch(c):
                utcs.append(_SLOW)
                given.append(_SLOW)
                continue
            try:
                moment = datetime.fromisoformat(c)
            except ValueError:
                utcs.append(_SLOW)
                given.append(_SLOW)
                continue
            if moment.date() > last_day or moment.year < EARLIEST_YEAR:
                utcs.append(_SLOW)
            elif self.utc_clinic:
                utcs.append(moment)
            else:
                offset = self._day_offset(moment.date())
                utcs.append(_SLOW if offset is None else moment - offset)
            given.append(len(c) > 10)
        return utcs, given

    def __call__(self, rows: list[int], cells: list[list[str]]) -> list[RowResult]:
        if not rows:
            return []
        columns = list(zip(*cells, strict=True))
        position = self.position
        codes = self._patients(
            [unneutralise(c) if c[:1] == "'" else c for c in columns[position["patient_id"]]]
        )
        utcs, given = self._times(columns[position["session_date"]])
        values: list[Sequence[Any]] = [codes, utcs, given]
        for at, convert in self.converters:
            values.append([None] * len(rows) if at is None else convert(columns[at]))
        records: list[Any] = list(zip(*values, strict=True))
        unsettled: set[int] = set()
        for converted in values:
            if isinstance(converted, list) and _SLOW in converted:
                unsettled.update(i for i, value in enumerate(converted) if value is _SLOW)
        unsettled.update(_unfit_rows(values))
        results: list[RowResult] = [
            (row, record, _NO_PROBLEMS) for row, record in zip(rows, records, strict=True)
        ]
        for index in sorted(unsettled):
            row = rows[index]
            checked, problems = check_session(
                self.raw(cells[index]), today=self.today, tz=self.tz, row=row, now=self.now
            )
            results[index] = (row, checked, problems)
        return results


_NO_PROBLEMS: tuple[Problem, ...] = ()
_AT = {name: i for i, name in enumerate(SESSION_RECORD_KEYS)}
_ROUTE, _DOSE, _PHQ9, _ITEM9 = _AT["route"], _AT["dose_mg"], _AT["phq9"], _AT["phq9_item9"]
_THEMES = tuple((_AT[t], _AT[f"{t}_course"]) for t in THEMES)
_BP = tuple((_AT[s], _AT[d]) for s, d in BP_READINGS.values())
_ESKETAMINE_DOSES = frozenset(float(d) for d in ESKETAMINE_DOSES_MG)


def _unfit_rows(values: Sequence[Sequence[Any]]) -> Iterable[int]:
    """Rows of plain cells that break a rule tying fields together, or lack a required value.

    Cells still marked as unsettled may appear here too; check_session judges them all.
    """
    routes, doses = values[_ROUTE], values[_DOSE]
    yield from (
        i
        for i, (route, dose) in enumerate(zip(routes, doses, strict=True))
        if route is None
        or dose is None
        or (route == "esketamine_nasal" and dose not in _ESKETAMINE_DOSES)
    )
    for intensity_at, course_at in _THEMES:
        courses, intensities = values[course_at], values[intensity_at]
        if isinstance(courses, list):
            yield from (
                i
                for i, (course, intensity) in enumerate(zip(courses, intensities, strict=True))
                if course is not None and not (type(intensity) is int and intensity > 0)
            )
    pairs = [*_BP, (_PHQ9, _ITEM9)]
    for high_at, low_at in pairs:
        highs, lows = values[high_at], values[low_at]
        if isinstance(highs, list) and isinstance(lows, list):
            strict = high_at != _PHQ9  # systolic > diastolic; item 9 <= total
            yield from (
                i
                for i, (high, low) in enumerate(zip(highs, lows, strict=True))
                if type(high) is int
                and type(low) is int
                and (high <= low if strict else high < low)
            )


# ---------------------------------------------------------------- export


def _texts_of(column: Sequence[object]) -> list[str]:
    return ["" if value is None else str(value) for value in column]


def _numbers_of(column: Sequence[Any]) -> list[str]:
    return [
        "" if value is None else str(value) if type(value) is int else format_number(value)
        for value in column
    ]


def _times_of(moments: Sequence[Any], timed: Sequence[Any], tz: ZoneInfo) -> list[str]:
    """Stored UTC times as clinic-local ISO text: the date alone when no time was recorded."""
    if is_utc_zone(tz):
        return [
            moment.isoformat(timespec=_timespec(moment)) if with_time else moment.date().isoformat()
            for moment, with_time in zip(moments, timed, strict=True)
        ]
    return [
        format_local_time(moment, tz, with_time=bool(with_time))
        for moment, with_time in zip(moments, timed, strict=True)
    ]


def _timespec(moment: datetime) -> str:
    """As :func:`redflags.csv_format.format_local_time`: seconds and fraction only if not 0."""
    if moment.microsecond:
        return "microseconds"
    return "seconds" if moment.second else "minutes"


def session_rows(records: Sequence[Sequence[object]], tz: ZoneInfo) -> Iterable[tuple[str, ...]]:
    """The CSV cells of stored sessions given in :data:`SESSION_RECORD_KEYS` order.

    Formatted column by column: the export of 500,000 sessions takes seconds.
    """
    if not records:
        return []
    columns = list(zip(*records, strict=True))
    kinds = {f.name: f.kind for f in SESSION_FIELDS}
    texts = [
        _numbers_of(column) if kinds[name] in (Kind.NUMBER, Kind.INTEGER) else _texts_of(column)
        for name, column in zip(SESSION_COLUMNS[2:], columns[3:], strict=True)
    ]
    return zip(_texts_of(columns[0]), _times_of(columns[1], columns[2], tz), *texts, strict=True)


def sessions_csv(records: Sequence[Sequence[object]], tz: ZoneInfo) -> bytes:
    """The sessions CSV (records.md) of stored sessions, in the order given."""
    with paused_gc():
        return write_csv(
            SESSION_COLUMNS, session_rows(records, tz), numeric_columns=SESSION_NUMBER_COLUMNS
        )


def decision_rows(records: Iterable[Sequence[object]], tz: ZoneInfo) -> Iterable[list[str]]:
    """The CSV cells of stored decisions given in :data:`DECISION_RECORD_KEYS` order."""
    numeric = {DECISION_RECORD_KEYS.index(c) for c in DECISION_NUMBER_COLUMNS}
    decided_index = DECISION_RECORD_KEYS.index("decided_at")
    for record in records:
        cells: list[str] = []
        for index, value in enumerate(record):
            if index == decided_index:
                if not isinstance(value, datetime):
                    raise TypeError("decided_at must be a datetime")
                cells.append(format_local_time(value, tz))
            elif index in numeric:
                cells.append(format_number(value) if isinstance(value, int | float) else "")
            else:
                cells.append("" if value is None else str(value))
        yield cells


def decisions_csv(records: Iterable[Sequence[object]], tz: ZoneInfo) -> bytes:
    """The decisions CSV (records.md) of stored decisions, in the order given."""
    return write_csv(
        DECISION_COLUMNS, decision_rows(records, tz), numeric_columns=DECISION_NUMBER_COLUMNS
    )


def review_csv(rows: Iterable[Sequence[str]]) -> bytes:
    """The review CSV (records.md) of rows already formatted as text by the rules engine."""
    return write_csv(REVIEW_COLUMNS, rows, numeric_columns=REVIEW_NUMBER_COLUMNS)
