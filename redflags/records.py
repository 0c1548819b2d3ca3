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
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
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
    DECISION_COLUMNS,
    REQUIRED_COLUMNS,
    REVIEW_COLUMNS,
    SESSION_COLUMNS,
    SESSION_FIELDS,
    Kind,
)
from redflags.validation import (
    DECISION_NUMBER_COLUMNS,
    DECISION_RECORD_KEYS,
    DECISION_REQUIRED_COLUMNS,
    DECISION_TEXT_COLUMNS,
    Problem,
    check_decision,
    check_session,
)

#: How many problems are listed one by one; beyond that they are counted per column.
MAX_LISTED_PROBLEMS = 10_000
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

    def lines(self) -> list[str]:
        """One line per listed problem, and one line that sums up the rest."""
        lines = [str(problem) for problem in self.listed]
        unlisted = self.total - len(self.listed)
        if unlisted:
            by_column = ", ".join(f"{c}: {n:,}" for c, n in self.unlisted_by_column.most_common())
            lines.append(f"… and {unlisted:,} more problems not listed ({by_column})")
        return lines


@dataclass
class ParsedFile:
    """A validated file: its records (only when there are no problems) and problems."""

    records: list[Record]
    #: The row number of each record, for messages about conflicts with stored rows.
    rows: list[int]
    rows_read: int
    problems: ProblemLog


RowCheck = Callable[[Mapping[str, str], int], tuple[Record | None, list[Problem]]]


def _parse(
    data: bytes,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    text_columns: Sequence[str],
    check_row: RowCheck,
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
    records = iter_records(text)
    row = -1  # the row being read when the csv module gives up
    try:
        header = next(records, [])
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
        if any(name not in names for name in required):
            return parsed  # every row would lack the column: the header problem says it all
        present = [(i, name) for i, name in enumerate(names) if name is not None]
        present_text = [name for _, name in present if name in text_columns]
        width = len(header)
        seen: dict[tuple[object, object], int] = {}
        for row, cells in enumerate(records, start=1):
            if not cells or (
                (not cells[0] or cells[0].isspace()) and all(not c or c.isspace() for c in cells)
            ):
                continue  # a blank row (a blank line, or a row of empty cells)
            parsed.rows_read += 1
            if len(cells) != width:
                problems.add(_ragged(row, len(cells), header, names))
                continue
            raw = {name: cells[i] for i, name in present}
            for name in present_text:
                if raw[name][:1] == "'":
                    raw[name] = unneutralise(raw[name])
            record, row_problems = check_row(raw, row)
            if record is None:
                problems.extend(row_problems)
                continue
            key = (record[0], record[1])
            first = seen.setdefault(key, row)
            if first != row:
                problems.add(
                    Problem(
                        f"row {first} has the same patient_id and {key_column}: each "
                        f"{what[:-1]} is recorded once — remove one of the rows or correct it",
                        row,
                        key_column,
                    )
                )
                continue
            if not problems:
                parsed.records.append(record)
                parsed.rows.append(row)
    except csv.Error as error:
        problems.add(
            Problem(
                f"the CSV is malformed here ({error}): check for a stray or unclosed double "
                "quote; rows after this one were not checked",
                row + 1,  # the row after the last one read whole
            )
        )
    if problems:
        parsed.records.clear()
        parsed.rows.clear()
    return parsed


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


def parse_sessions_csv(data: bytes, *, today: date, tz: ZoneInfo) -> ParsedFile:
    """Validate a sessions CSV file whole (records.md); records in SESSION_RECORD_KEYS order.

    ``today`` is the clinic's date; later sessions are refused.
    """

    def check_row(raw: Mapping[str, str], row: int) -> tuple[Record | None, list[Problem]]:
        return check_session(raw, today=today, tz=tz, row=row)

    return _parse(
        data,
        columns=SESSION_COLUMNS,
        required=REQUIRED_COLUMNS,
        text_columns=SESSION_TEXT_COLUMNS,
        check_row=check_row,
        key_column="session_date",
        what="sessions",
    )


def parse_decisions_csv(data: bytes, *, now: datetime, tz: ZoneInfo) -> ParsedFile:
    """Validate a decisions CSV file whole; records in DECISION_RECORD_KEYS order.

    ``now`` (aware, or naive UTC) is the current instant; later decisions are refused.
    """

    def check_row(raw: Mapping[str, str], row: int) -> tuple[Record | None, list[Problem]]:
        return check_decision(raw, now=now, tz=tz, row=row)

    return _parse(
        data,
        columns=DECISION_COLUMNS,
        required=DECISION_REQUIRED_COLUMNS,
        text_columns=(*DECISION_TEXT_COLUMNS, "patient_id"),
        check_row=check_row,
        key_column="decided_at",
        what="decisions",
    )


# ---------------------------------------------------------------- export


def _session_cell_formatters() -> list[Callable[[object], str]]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    def number(value: object) -> str:
        return format_number(value) if isinstance(value, int | float) else ""

    kinds = {f.name: f.kind for f in SESSION_FIELDS}
    return [
        number if kinds[name] in (Kind.NUMBER, Kind.INTEGER) else text
        for name in SESSION_COLUMNS[2:]
    ]


def session_rows(records: Iterable[Sequence[object]], tz: ZoneInfo) -> Iterable[list[str]]:
    """The CSV cells of stored sessions given in :data:`SESSION_RECORD_KEYS` order."""
    formatters = _session_cell_formatters()
    for record in records:
        code, session_at, time_recorded, *values = record
        if not isinstance(session_at, datetime):
            raise TypeError("session_at must be a datetime")
        yield [
            str(code),
            format_local_time(session_at, tz, with_time=bool(time_recorded)),
            *(fmt(value) for fmt, value in zip(formatters, values, strict=True)),
        ]


def sessions_csv(records: Iterable[Sequence[object]], tz: ZoneInfo) -> bytes:
    """The sessions CSV (records.md) of stored sessions, in the order given."""
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
