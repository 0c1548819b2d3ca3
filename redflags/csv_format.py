"""The CSV dialect of records.md: bytes to rows and back, and formula-injection quoting.

Choices, all fixed here:

- Written files are UTF-8 **without** a byte-order mark, comma-separated,
  lines ending ``\\r\\n`` (RFC 4180), cells quoted only when they must be
  (a comma, a double quote or a line break inside). Read files may have a
  UTF-8 byte-order mark; any other encoding is refused with a message saying
  to save as "CSV UTF-8".
- Numbers are written canonically: the shortest decimal that reads back to
  the same value, without exponent and without a trailing ``.0`` (56, 37.5).
  A blank value is an empty cell.
- Formula injection: a text cell whose text starts with ``=``, ``+``, ``-``,
  ``@``, a tab, a carriage return or a line feed is written with one ``'`` in
  front. So that the round trip is exact for every text, a text that starts
  with one or more ``'`` followed by one of those characters gets one more
  ``'`` too. On import, exactly one ``'`` is removed from a text cell that
  starts with one or more ``'`` followed by one of those characters; any other
  cell is read as written. Numeric columns holding a plain number are never
  altered (``-2`` stays ``-2``).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from redflags.validation import Problem, format_utc_offset

LINE_TERMINATOR = "\r\n"
#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n")
_FORMULA_OR_QUOTE = frozenset("=+-@\t\r\n'")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
SAVE_AS_UTF8 = 'save it as "CSV UTF-8 (Comma delimited)" and import that file'


# ---------------------------------------------------------------- formula injection


def neutralise(text: str) -> str:
    """The text as written to a cell: a leading ``'`` where a spreadsheet would see a formula."""
    if not text:
        return text
    first = text[0]
    if first in FORMULA_TRIGGERS or (first == "'" and text.lstrip("'")[:1] in FORMULA_TRIGGERS):
        return "'" + text
    return text


def unneutralise(cell: str) -> str:
    """The text of a cell written by :func:`neutralise` (exactly one added ``'`` removed)."""
    if cell[:1] == "'" and cell.lstrip("'")[:1] in FORMULA_TRIGGERS and cell.lstrip("'"):
        return cell[1:]
    return cell


# ---------------------------------------------------------------- values


def format_number(value: float | int | None) -> str:
    """A number as the canonical plain decimal (56, 37.5, 0.00001); None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number cell")
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def format_local_time(utc: datetime, tz: ZoneInfo, *, with_time: bool = True) -> str:
    """A stored naive-UTC time as clinic-local ISO 8601.

    ``YYYY-MM-DD`` when ``with_time`` is False, else ``YYYY-MM-DDTHH:MM`` with
    ``:SS`` only when the seconds are not zero and ``.ffffff`` only when the
    microseconds are not zero. A local time that happens twice (the clocks going
    back) carries its UTC offset, so that it reads back to the same instant.
    """
    aware = utc.replace(tzinfo=UTC).astimezone(tz)
    local = aware.replace(tzinfo=None)
    if not with_time:
        return local.date().isoformat()
    if local.microsecond:
        text = local.isoformat(timespec="microseconds")
    elif local.second:
        text = local.isoformat(timespec="seconds")
    else:
        text = local.isoformat(timespec="minutes")
    if local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset():
        # The clocks went back: this local time happened twice, so say which one.
        text += format_utc_offset(aware.utcoffset() or timedelta(0))
    return text


# ---------------------------------------------------------------- writing


def write_csv(
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric_columns: Iterable[str] = (),
) -> bytes:
    """The CSV bytes of ``rows`` (cells already text) under ``columns``, formula-safe."""
    numeric = frozenset(numeric_columns)
    is_numeric = [column in numeric for column in columns]
    guarded = _FORMULA_OR_QUOTE

    def safe(cell: str, numeric_cell: bool) -> str:
        if numeric_cell and _PLAIN_NUMBER.fullmatch(cell):
            return cell  # a number (e.g. -0.55) is never altered
        return neutralise(cell)

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=LINE_TERMINATOR)
    writer.writerow(columns)
    writer.writerows(
        [
            cell if not cell or cell[0] not in guarded else safe(cell, numeric_cell)
            for cell, numeric_cell in zip(row, is_numeric, strict=True)
        ]
        for row in rows
    )
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------- reading


class CsvRefused(ValueError):
    """The bytes are not a CSV file this program reads; the problem says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def decode_csv(data: bytes, columns: Sequence[str] = ()) -> str:
    """The text of a UTF-8 CSV file (a leading byte-order mark removed).

    Raises :class:`CsvRefused` for an empty file, UTF-16, other encodings and
    binary files. ``columns`` name the header's columns, to say where a bad
    byte is.
    """
    if not data.strip(b" \t\r\n") or data.strip(b" \t\r\n") == codecs.BOM_UTF8:
        raise CsvRefused(
            Problem("the file is empty: the first row must be the header (the column names)", 0)
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvRefused(
            Problem(f"the file is UTF-16 text (Excel's 'Unicode Text'), not UTF-8: {SAVE_AS_UTF8}")
        )
    kind = _binary_kind(data)
    if kind:
        raise CsvRefused(Problem(f"this is {kind}, not a CSV file: {SAVE_AS_UTF8}"))
    if b"\x00" in data:
        raise CsvRefused(
            Problem(
                "the file contains NUL bytes: it is binary or UTF-16 text, not UTF-8 CSV; "
                + SAVE_AS_UTF8
            )
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvRefused(_locate_bad_byte(data, error, columns)) from None


def _binary_kind(data: bytes) -> str:
    signatures = {
        b"PK\x03\x04": "an Excel workbook or another zip archive (.xlsx)",
        b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
        b"%PDF": "a PDF document",
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
    }
    for signature, kind in signatures.items():
        if data.startswith(signature):
            return kind
    return ""


def _locate_bad_byte(data: bytes, error: UnicodeDecodeError, columns: Sequence[str]) -> Problem:
    """Where the first byte that is not UTF-8 sits, as a row and column of the file."""
    bad = data[error.start : error.start + 1].hex().upper()
    message = (
        f"byte 0x{bad} is not UTF-8: the file was saved in another encoding "
        f"(often Windows-1252, Excel's plain 'CSV'); {SAVE_AS_UTF8}"
    )
    prefix = data[: error.start].decode("utf-8-sig", errors="replace") + "x"
    try:
        records = list(csv.reader(io.StringIO(prefix, newline="")))
    except csv.Error:
        return Problem(message)
    if not records:
        return Problem(message, 0)
    row = len(records) - 1
    index = len(records[-1]) - 1
    header = list(columns) or (records[0] if row else [])
    column = header[index] if 0 <= index < len(header) and row else None
    return Problem(message, row, column)


def iter_records(text: str) -> Iterator[list[str]]:
    """The records of CSV text (a quoted cell may span lines); raises ``csv.Error``."""
    return csv.reader(io.StringIO(text, newline=""), strict=True)


def separator_problem(header: Sequence[str]) -> Problem | None:
    """A header that shows the file is separated by semicolons or tabs, not commas."""
    joined = ",".join(header)
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if separator in joined and (len(header) == 1 or joined.count(separator) >= len(header)):
            return Problem(
                f"the file is separated by {name}, not commas: save it as "
                '"CSV UTF-8 (Comma delimited)" (or set the list separator to a comma) and import '
                "that file",
                0,
            )
    return None


def match_header(
    header: Sequence[str],
    columns: Sequence[str],
    required: Sequence[str],
    what: str,
) -> tuple[list[str | None], list[Problem]]:
    """Each header cell's column name (trimmed, any case), and the header's problems.

    Unknown, duplicate and unnamed columns and missing required columns are problems.
    """
    known = {name.lower(): name for name in columns}
    names: list[str | None] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    present = {cell.strip().lower() for cell in header}
    for position, cell in enumerate(header, start=1):
        key = cell.strip().lower()
        name = known.get(key)
        if not key:
            problems.append(
                Problem(
                    f"column {position} has no name: name it or delete the column", 0, str(position)
                )
            )
        elif name is None:
            # A near name that the header does not already have: the typo's likely meaning.
            absent = [k for k in known if k not in present]
            close = difflib.get_close_matches(key, absent, n=1, cutoff=0.75)
            hint = f" (did you mean {known[close[0]]}?)" if close else ""
            problems.append(
                Problem(
                    f"unknown column{hint} — the {what} columns are {', '.join(columns)}",
                    0,
                    cell.strip()[:64],
                )
            )
        elif name in seen:
            problems.append(
                Problem(
                    f"the column appears twice (columns {seen[name]} and {position}): keep one",
                    0,
                    name,
                )
            )
            name = None
        else:
            seen[name] = position
        names.append(name)
    problems.extend(
        Problem("required column missing: add it to the header", 0, column)
        for column in required
        if column not in seen
    )
    return names, problems
