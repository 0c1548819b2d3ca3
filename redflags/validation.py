"""Validation of one session or one decision, given as text (rules.md §1, records.md).

The CSV importer and the dashboard's forms call the same functions with a
mapping of field name to the text typed or read, and show the same messages.
Validated values are typed (``int``, ``float``, ``str``, ``datetime``, ``None``)
so that they can be written straight to :class:`models.tables.DosingSession`
or :class:`models.tables.Decision`.

Accepted text, precisely:

- Surrounding spaces are trimmed from ids, dates, numbers and vocabulary
  words; free text (``commitment``, ``note``, and the decision's
  ``participants``, ``patient_view``, ``rationale``, ``recorded_by``) is kept
  verbatim. A cell that is empty or only spaces is "not recorded".
- Vocabulary words (route, course, decision) are matched ignoring case and
  stored in lower case.
- Dates are ISO 8601 only: ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM``,
  ``YYYY-MM-DDTHH:MM:SS`` or with a fraction of a second (up to 6 digits). A
  space may replace the ``T`` (spreadsheets write it so). A UTC offset (``Z``,
  ``+01:00``) may follow a time; without one the time is the clinic's local
  time (``CLINIC_TIMEZONE``). A local time that the clocks skip is refused; one
  that happens twice (clocks going back) needs the offset.
- A session dated after today (the clinic's date) is refused. Given the
  current instant (``now``), a session whose time is later than now is refused
  too: a decision recorded now would otherwise leave its flags open (rules.md
  §8). A session dated today without a time is accepted.
  A decision needs a time (so it can be ordered against that day's sessions)
  and is refused if it is later than now.
- Numbers are plain decimals with a point: no units, no ``%``, no thousands
  separator, no exponent. An integer field accepts a whole number, also
  written with a zero fraction (``5.0`` is 5); ``5.5`` is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from redflags.clinic_time import local_to_utc, utc_to_local
from redflags.codes import ADDRESSABLE_FLAGS, DecisionKind
from redflags.fields import (
    BP_READINGS,
    DECISION_COLUMNS,
    ESKETAMINE_DOSES_MG,
    PATIENT_ID_MAX,
    PATIENT_ID_PATTERN,
    ROUTES,
    SESSION_FIELDS,
    THEMES,
    VALUE_COLUMNS,
    Field,
    Kind,
)

#: The longest free text accepted in one cell (the csv module's own limit is 131,072).
MAX_TEXT_CHARS = 100_000
#: The longest ``recorded_by`` (the database column's width).
MAX_RECORDED_BY_CHARS = 150
#: The keys of a validated session, in this order (the record tuples of the importer too).
SESSION_RECORD_KEYS: tuple[str, ...] = (
    "patient_code",
    "session_at",
    "time_recorded",
    *VALUE_COLUMNS,
)
#: The keys of a validated decision, in this order.
DECISION_RECORD_KEYS: tuple[str, ...] = ("patient_code", *DECISION_COLUMNS[1:])
#: The decision columns a file must have; the others may be absent.
DECISION_REQUIRED_COLUMNS: tuple[str, ...] = ("patient_id", "decided_at", "decision")
DECISION_KINDS: tuple[str, ...] = tuple(d.value for d in DecisionKind)
DECISION_TEXT_COLUMNS: tuple[str, ...] = (
    "participants",
    "patient_view",
    "rationale",
    "recorded_by",
)
DECISION_NUMBER_COLUMNS: tuple[str, ...] = ("dose_from_mg", "dose_to_mg")
_BLANK_IS_EMPTY_TEXT = frozenset((*DECISION_TEXT_COLUMNS, "flags_considered"))

SessionRecord = tuple[object, ...]
#: The years a recorded date may have: a typo such as 0206 or 1026 for 2026 is caught,
#: and every date stays within what pandas and the time-zone arithmetic can hold.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, where it is and what to do about it."""

    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row is not None else []
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where) or 'file'}: {self.message}"


class Invalid(ValueError):
    """A cell's text is not a valid value; the message says what to write instead."""


def _shown(text: str, limit: int = 40) -> str:
    """A cell's text for a message, shortened (never used for free text)."""
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


def is_blank(text: str | None) -> bool:
    """Whether a cell means "not recorded": absent, empty or only spaces."""
    return text is None or not text or text.isspace()


# ---------------------------------------------------------------- numbers

_INTEGER = re.compile(r"[+-]?\d{1,12}(?:\.0*)?", re.ASCII)
#: Up to 400 decimals: the plain (no exponent) form of any double the export writes.
_DECIMAL = re.compile(r"[+-]?(?:\d{1,12}(?:\.\d{0,400})?|\.\d{1,400})", re.ASCII)
_FRACTION = re.compile(r"[+-]?\d{1,12}\.\d+", re.ASCII)


def _number_hint(text: str) -> str:
    stripped = text.strip()
    if re.fullmatch(r"[+-]?\d{1,3}(?:,\d{3}){2,}", stripped):
        return f"{_shown(text)} has thousands separators: write {stripped.replace(',', '')}"
    if re.fullmatch(r"[+-]?\d{1,3},\d{3}", stripped):
        # 1,000 is a thousand in one country and one in another: give both, guess neither.
        return (
            f"{_shown(text)} has a comma, which separates thousands in some countries and "
            f"decimals in others: write {stripped.replace(',', '')} or "
            f"{stripped.replace(',', '.', 1)}, whichever it means"
        )
    if re.fullmatch(r"[+-]?\d+,\d+", stripped):
        return f"{_shown(text)} has a decimal comma: write a point, e.g. 37.5"
    if re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+", stripped):
        return f"{_shown(text)} has an exponent: write the number out in full, e.g. 1000"
    if re.search(r"\d", stripped) and re.search(r"[A-Za-z%]", stripped):
        return f"{_shown(text)} is not a plain number: write the number alone, no units or %"
    return f"{_shown(text)} is not a number: write a plain decimal number, e.g. 56 or 37.5"


def parse_integer(text: str, low: float, high: float) -> int:
    """A whole number within [low, high]."""
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped):
        value = int(float(stripped)) if "." in stripped else int(stripped)
    elif _FRACTION.fullmatch(stripped):
        raise Invalid(f"{_shown(text)} must be a whole number")
    else:
        raise Invalid(_number_hint(text))
    if not low <= value <= high:
        raise Invalid(f"{value} is out of range: it must be from {low:g} to {high:g}")
    return value


def parse_decimal(text: str, low: float, high: float, *, low_exclusive: bool = False) -> float:
    """A plain decimal number within the range (above ``low`` when exclusive)."""
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise Invalid(_number_hint(text))
    value = float(stripped)
    if (value <= low if low_exclusive else value < low) or value > high:
        allowed = (
            f"above {low:g} and at most {high:g}" if low_exclusive else f"from {low:g} to {high:g}"
        )
        # As typed (a plain decimal, so nothing to quote), like an integer's message.
        shown = stripped if len(stripped) <= 40 else stripped[:40] + "…"
        raise Invalid(f"{shown} is out of range: it must be {allowed}")
    return value + 0.0  # -0.0 becomes 0.0


# ---------------------------------------------------------------- dates

_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?",
    re.ASCII,
)
_LOCAL_DATE = re.compile(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}(?:[ T].*)?", re.ASCII)
#: A year-first ISO date, then a time that is not HH:MM[:SS] (2026-11-02T09, …T9.30).
_ISO_DATE_THEN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\S*", re.ASCII)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)
#: A year-first date written another way (2026/11/2, 2026.11.02, 2026-11-2): unambiguous.
_YEAR_FIRST = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[ T](\S+))?", re.ASCII)


def _year_first_as_iso(text: str) -> str | None:
    """``text`` rewritten as ISO 8601 when it is a real year-first date written another
    way (``2026/11/2 09:30`` → ``2026-11-02T09:30``); None otherwise."""
    match = _YEAR_FIRST.fullmatch(text)
    if match is None:
        return None
    year, month, day, rest = match.groups()
    try:
        written = date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None
    if not rest:
        return written
    clock = _CLOCK.fullmatch(rest)
    if clock is None:
        return None
    hours, minutes, seconds = clock.groups()
    return f"{written}T{int(hours):02d}:{minutes}" + (f":{seconds}" if seconds else "")


_NOT_A_REAL_DATE = "{shown} is not a real date: check the day and the month (YYYY-MM-DD)"


def _is_real_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ParsedTime:
    """An ISO 8601 date or date-time from a cell, as stored (naive UTC)."""

    utc: datetime
    time_given: bool
    local_date: date


def is_utc_zone(tz: ZoneInfo) -> bool:
    """Whether ``tz`` is UTC itself (no conversion, no clock changes)."""
    return tz.key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT")


def parse_iso_time(text: str, tz: ZoneInfo) -> ParsedTime:
    """An ISO 8601 date or date-time in clinic-local time (or with an offset) as naive UTC.

    A date alone means local midnight.
    """
    stripped = text.strip()
    match = _ISO.fullmatch(stripped)
    if match is None:
        if any(c.isdigit() and not c.isascii() for c in stripped):
            raise Invalid(
                f"{_shown(text)} has digits other than 0–9 (full-width ones, say): type the "
                "date with the digits 0–9 as YYYY-MM-DD (e.g. 2026-11-02)"
            )
        suggestion = _year_first_as_iso(stripped)
        if suggestion is not None:
            raise Invalid(f"{_shown(text)} is not an ISO 8601 date: write it as {suggestion}")
        if _ISO_DATE_THEN_TIME.fullmatch(stripped):
            if not _is_real_date(stripped[:10]):
                raise Invalid(_NOT_A_REAL_DATE.format(shown=_shown(text)))
            raise Invalid(
                f"{_shown(text)} has a time that is not HH:MM or HH:MM:SS (then perhaps a UTC "
                f"offset, Z or +01:00): write the hours and the minutes (e.g. "
                f"{stripped[:10]}T09:30), or the date alone"
            )
        if _LOCAL_DATE.fullmatch(stripped):
            raise Invalid(
                f"{_shown(text)} is not an ISO 8601 date: write YYYY-MM-DD (e.g. 2026-11-02), "
                "because 03/04/2026 means a different day in different countries"
            )
        raise Invalid(
            f"{_shown(text)} is not an ISO 8601 date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM "
            "(e.g. 2026-11-02 or 2026-11-02T09:30)"
        )
    parts = match.groupdict()
    try:
        day = date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
    except ValueError:
        raise Invalid(_NOT_A_REAL_DATE.format(shown=_shown(text))) from None
    check_year(day, text)
    if parts["H"] is None:
        midnight = datetime(day.year, day.month, day.day)
        utc = midnight if is_utc_zone(tz) else local_to_utc(midnight, tz)
        return ParsedTime(utc=utc, time_given=False, local_date=day)
    fraction = (parts["f"] or "").ljust(6, "0")
    try:
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(parts["H"]),
            int(parts["M"]),
            int(parts["S"] or 0),
            int(fraction or 0),
        )
    except ValueError:
        raise Invalid(
            f"{_shown(text)} is not a real time: hours 00–23, minutes 00–59, seconds 00–59"
        ) from None
    offset_text = parts["tz"]
    if offset_text is not None:
        if offset_text == "Z":
            offset = timedelta(0)
        else:
            sign = -1 if offset_text[0] == "-" else 1
            offset = sign * timedelta(hours=int(offset_text[1:3]), minutes=int(offset_text[4:6]))
            if abs(offset) > timedelta(hours=14):
                raise Invalid(f"{_shown(text)} has a UTC offset beyond ±14:00")
        utc = (moment - offset).replace(tzinfo=None)
        local_date = utc_to_local(utc, tz).date()
        if not EARLIEST_YEAR <= local_date.year <= LATEST_YEAR:
            # The export writes clinic time: a year it could not import again is refused here.
            raise Invalid(
                f"{_shown(text)} falls in the year {local_date.year} at the clinic: dates run "
                f"from {EARLIEST_YEAR} to {LATEST_YEAR}; check the date and its offset"
            )
        return ParsedTime(utc=utc, time_given=True, local_date=local_date)
    if is_utc_zone(tz):
        return ParsedTime(utc=moment, time_given=True, local_date=day)
    earlier = local_to_utc(moment.replace(fold=0), tz)
    later = local_to_utc(moment.replace(fold=1), tz)
    if utc_to_local(earlier, tz) != moment and utc_to_local(later, tz) != moment:
        raise Invalid(
            f"{_shown(text)} does not exist in {tz.key}: the clocks went forward then; "
            "check the time"
        )
    if earlier != later:
        raise Invalid(
            f"{_shown(text)} happened twice in {tz.key} (the clocks went back): add the UTC "
            f"offset, e.g. {stripped}{_offset_text(earlier, tz)}"
        )
    return ParsedTime(utc=earlier, time_given=True, local_date=day)


def check_year(day: date, text: str) -> None:
    """Refuse a year outside :data:`EARLIEST_YEAR`–:data:`LATEST_YEAR` (a mistyped year)."""
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise Invalid(
            f"{_shown(text)} has the year {day.year}: dates run from {EARLIEST_YEAR} to "
            f"{LATEST_YEAR}; check the year"
        )


def _offset_text(utc: datetime, tz: ZoneInfo) -> str:
    offset = utc.replace(tzinfo=UTC).astimezone(tz).utcoffset() or timedelta(0)
    return format_utc_offset(offset)


def format_utc_offset(offset: timedelta) -> str:
    """An offset as ISO 8601 ``+HH:MM``."""
    minutes = int(offset.total_seconds()) // 60
    hours, minutes = divmod(abs(minutes), 60)
    return f"{'-' if offset < timedelta(0) else '+'}{hours:02d}:{minutes:02d}"


# ---------------------------------------------------------------- text


def parse_patient_code(text: str) -> str:
    """The clinic's patient code: 1–64 letters, digits, ``-``, ``_`` or ``.``; kept as text.

    Letters and digits of any script count (``Ünal-07``), as rules.md §1 says
    "letters". The code is normalised to Unicode NFKC first, as identifiers
    are, so that one code typed or exported two ways (``é`` as one character
    or as ``e`` and an accent; a full-width ``Ａ`` from an East Asian input
    method) is one patient, not two. ASCII codes are left exactly as given.
    """
    stripped = text.strip()
    if stripped.isascii() and PATIENT_ID_PATTERN.fullmatch(stripped):
        return stripped
    stripped = unicodedata.normalize("NFKC", stripped)
    if not _is_patient_code(stripped):
        if len(stripped) > PATIENT_ID_MAX:
            raise Invalid(f"a patient code is at most {PATIENT_ID_MAX} characters long")
        raise Invalid(
            "a patient code is 1–64 letters, digits, '-', '_' or '.' (no spaces or other signs)"
        )
    _refuse_mixed_scripts(stripped)
    return stripped


# Scripts that may share one code, as in Unicode's "highly restrictive"
# identifier profile (UTS #39 §5.2): Japanese, Chinese and Korean writing mix
# Han with their own scripts, and each may stand beside Latin.
_SCRIPTS_THAT_MIX: tuple[frozenset[str], ...] = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)


def _script(character: str) -> str:
    """The script of a letter or the numbering system of a digit, from its Unicode name.

    ``LATIN SMALL LETTER O`` is ``LATIN``, ``CYRILLIC CAPITAL LETTER O`` is
    ``CYRILLIC``, ``CJK UNIFIED IDEOGRAPH-4E2D`` is ``CJK``; a digit's is the
    words before ``DIGIT`` (``DIGIT ONE`` is ``""``, ``ARABIC-INDIC DIGIT ONE``
    is ``ARABIC-INDIC``).
    """
    name = unicodedata.name(character, "")
    if character.isdecimal():
        return name.partition("DIGIT")[0].strip()
    return name.split(" ", 1)[0]


def _refuse_mixed_scripts(code: str) -> None:
    """Refuse a code whose letters come from scripts that do not mix, or whose digits
    from two numbering systems.

    Look-alike letters (Latin ``O``, Cyrillic ``О``, Greek ``Ο``) typed after a
    keyboard switch would otherwise make a second patient that no one can tell
    from the first by eye, and split that patient's sessions between the two.
    """
    letters = {_script(c) for c in code if c.isalpha()}
    if len(letters) > 1 and not any(letters <= allowed for allowed in _SCRIPTS_THAT_MIX):
        scripts = " and ".join(sorted(s.capitalize() for s in letters))
        raise Invalid(
            f"the patient code mixes letters of different scripts ({scripts}): look-alike "
            "letters such as Latin 'O' and Cyrillic 'О' would make it a different patient; "
            "type it again with one keyboard layout"
        )
    digits = {_script(c) for c in code if c.isdecimal()}
    if len(digits) > 1:
        raise Invalid(
            "the patient code mixes digits of different numbering systems: "
            "write all its digits one way"
        )


def _is_patient_code(text: str) -> bool:
    """Whether ``text`` is 1–64 letters or digits of any script, ``-``, ``_`` or ``.``."""
    return 0 < len(text) <= PATIENT_ID_MAX and all(
        c.isalpha() or c.isdecimal() or c in "-_." for c in text
    )


def parse_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Free text, kept verbatim."""
    if "\x00" in text:
        raise Invalid("the text contains a NUL character: remove it")
    if len(text) > max_chars:
        raise Invalid(f"the text is {len(text):,} characters long; at most {max_chars:,} fit")
    return text


def parse_choice(text: str, choices: tuple[str, ...], what: str) -> str:
    """One word of a vocabulary, ignoring case."""
    word = text.strip().lower()
    if word in choices:
        return word
    if any(sep in word for sep in (";", ",", "/", " ")) and any(c in word for c in choices):
        raise Invalid(f"write only one {what}: one of {', '.join(choices)}")
    return _raise_choice(text, choices, what)


def _raise_choice(text: str, choices: tuple[str, ...], what: str) -> str:
    raise Invalid(f"{_shown(text)} is not a {what}: use one of {', '.join(choices)}")


# ---------------------------------------------------------------- sessions

Parser = Callable[[str], object]


def _field_parser(field: Field) -> Parser:
    low = field.low if field.low is not None else float("-inf")
    high = field.high if field.high is not None else float("inf")
    if field.kind is Kind.INTEGER:
        return lambda text: parse_integer(text, low, high)
    if field.kind is Kind.NUMBER:
        exclusive = field.low_exclusive
        return lambda text: parse_decimal(text, low, high, low_exclusive=exclusive)
    if field.kind is Kind.CHOICE:
        what = "course" if field.name.endswith("_course") else field.name
        choices = field.choices
        return lambda text: parse_choice(text, choices, what)
    return parse_text


#: (record index, column name, parser, required) for every stored value column.
_SESSION_VALUE_PARSERS: tuple[tuple[int, str, Parser, bool], ...] = tuple(
    (SESSION_RECORD_KEYS.index(f.name), f.name, _field_parser(f), f.required)
    for f in SESSION_FIELDS
    if f.name in VALUE_COLUMNS
)
_KNOWN_SESSION_KEYS = frozenset(f.name for f in SESSION_FIELDS)
_INDEX = {name: i for i, name in enumerate(SESSION_RECORD_KEYS)}
_THEME_PAIRS = tuple((_INDEX[t], _INDEX[f"{t}_course"], t) for t in THEMES)
_BP_PAIRS = tuple((_INDEX[s], _INDEX[d], s, d) for s, d in BP_READINGS.values())
_ROUTE, _DOSE = _INDEX["route"], _INDEX["dose_mg"]
_PHQ9, _ITEM9 = _INDEX["phq9"], _INDEX["phq9_item9"]


def _required(column: str, row: int | None) -> Problem:
    return Problem(f"{column} is required and is blank", row, column)


def check_session(
    raw: Mapping[str, str],
    *,
    today: date,
    tz: ZoneInfo,
    row: int | None = None,
    now: datetime | None = None,
) -> tuple[SessionRecord | None, list[Problem]]:
    """The validated session as a tuple in :data:`SESSION_RECORD_KEYS` order, or its problems.

    Keys missing from ``raw`` count as blank; the caller reports unknown keys.
    ``now`` (aware, or naive UTC), when given, refuses a session time later than it.
    """
    problems: list[Problem] = []
    values: list[object] = [None] * len(SESSION_RECORD_KEYS)
    text = raw.get("patient_id")
    if is_blank(text):
        problems.append(_required("patient_id", row))
    else:
        try:
            values[0] = parse_patient_code(str(text))
        except Invalid as error:
            problems.append(Problem(str(error), row, "patient_id"))
    text = raw.get("session_date")
    if is_blank(text):
        problems.append(_required("session_date", row))
    else:
        try:
            when = parse_iso_time(str(text), tz)
        except Invalid as error:
            problems.append(Problem(str(error), row, "session_date"))
        else:
            if when.local_date > today:
                problems.append(
                    Problem(
                        f"{when.local_date.isoformat()} is in the future (today is "
                        f"{today.isoformat()} at the clinic): a session is recorded once it has "
                        "taken place",
                        row,
                        "session_date",
                    )
                )
            elif now is not None and when.time_given and when.utc > _naive_utc(now):
                local_now = utc_to_local(_naive_utc(now), tz)
                problems.append(
                    Problem(
                        f"{str(text).strip()} is later than now ({local_now:%H:%M} on "
                        f"{local_now.date().isoformat()} at the clinic): a session is recorded "
                        "once it has taken place",
                        row,
                        "session_date",
                    )
                )
            values[1] = when.utc
            values[2] = when.time_given
    for index, column, parse, required in _SESSION_VALUE_PARSERS:
        text = raw.get(column)
        if text is None or not text or text.isspace():
            if required:
                problems.append(_required(column, row))
            continue
        try:
            values[index] = parse(text)
        except Invalid as error:
            problems.append(Problem(str(error), row, column))
    _check_session_together(values, problems, row)
    if problems:
        return None, problems
    return tuple(values), problems


def _check_session_together(values: list[object], problems: list[Problem], row: int | None) -> None:
    """The rules that tie two fields together (rules.md §1)."""
    route, dose = values[_ROUTE], values[_DOSE]
    if route == "esketamine_nasal" and isinstance(dose, float) and dose not in ESKETAMINE_DOSES_MG:
        problems.append(
            Problem(
                f"esketamine nasal spray comes in 28 mg devices: the dose must be "
                f"{', '.join(map(str, ESKETAMINE_DOSES_MG[:-1]))} or {ESKETAMINE_DOSES_MG[-1]}",
                row,
                "dose_mg",
            )
        )
    flawed = {problem.column for problem in problems}  # judged already: no second message
    for intensity_at, course_at, theme in _THEME_PAIRS:
        course = values[course_at]
        if course is None or theme in flawed:
            continue
        intensity = values[intensity_at]
        if not isinstance(intensity, int) or intensity <= 0:
            state = "blank" if intensity is None else str(intensity)
            problems.append(
                Problem(
                    f"a course ({course}) needs {theme} above 0, and {theme} is {state}: "
                    f"give the intensity or clear the course",
                    row,
                    f"{theme}_course",
                )
            )
    for sys_at, dia_at, sys_col, dia_col in _BP_PAIRS:
        systolic, diastolic = values[sys_at], values[dia_at]
        if isinstance(systolic, int) and isinstance(diastolic, int) and systolic <= diastolic:
            problems.append(
                Problem(
                    f"systolic {systolic} must be above diastolic {diastolic} ({dia_col}): "
                    "check the two readings are not swapped",
                    row,
                    sys_col,
                )
            )
    phq9, item9 = values[_PHQ9], values[_ITEM9]
    if isinstance(phq9, int) and isinstance(item9, int) and item9 > phq9:
        problems.append(
            Problem(
                f"item 9 ({item9}) cannot be more than the PHQ-9 total ({phq9})", row, "phq9_item9"
            )
        )


def validate_session_row(
    raw: Mapping[str, str],
    *,
    today: date,
    tz: ZoneInfo,
    row: int | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, object] | None, list[Problem]]:
    """Validate one session given as text (a CSV row or the session form).

    Returns the typed values keyed by :data:`SESSION_RECORD_KEYS` — ``patient_code``
    (the clinic's code, text), ``session_at`` (naive UTC), ``time_recorded`` and
    every column of :data:`redflags.fields.VALUE_COLUMNS` — or ``None`` and every
    problem found. An unknown key is a problem.
    """
    record, problems = check_session(raw, today=today, tz=tz, row=row, now=now)
    unknown = sorted(key for key in raw if key not in _KNOWN_SESSION_KEYS)
    problems.extend(Problem("unknown field", row, key) for key in unknown)
    if record is None or problems:
        return None, problems
    return dict(zip(SESSION_RECORD_KEYS, record, strict=True)), problems


# ---------------------------------------------------------------- decisions


def _naive_utc(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def parse_flag_list(text: str) -> str:
    """A ``;``-separated list of addressable flag codes, in the order of rules.md's tables."""
    codes = [code.strip().lower() for code in text.split(";") if code.strip()]
    unknown = [code for code in codes if code not in ADDRESSABLE_FLAGS]
    if unknown:
        shown = ", ".join(repr(code[:40]) for code in unknown[:5])
        raise Invalid(
            f"not a flag that a decision can address: {shown}; use codes from "
            f"{', '.join(ADDRESSABLE_FLAGS)}, separated by ';'"
        )
    return ";".join(code for code in ADDRESSABLE_FLAGS if code in codes)


def check_decision(
    raw: Mapping[str, str], *, now: datetime, tz: ZoneInfo, row: int | None = None
) -> tuple[tuple[object, ...] | None, list[Problem]]:
    """The validated decision as a tuple in :data:`DECISION_RECORD_KEYS` order, or its problems.

    ``now`` is an aware instant or a naive UTC one.
    """
    problems: list[Problem] = []
    out: dict[str, object] = {}

    def cell(column: str, parse: Callable[[str], object], required: bool = False) -> None:
        text = raw.get(column)
        if is_blank(text):
            if required:
                problems.append(_required(column, row))
            out[column] = "" if column in _BLANK_IS_EMPTY_TEXT else None
            return
        try:
            out[column] = parse(str(text))
        except Invalid as error:
            problems.append(Problem(str(error), row, column))
            out[column] = None

    cell("patient_id", parse_patient_code, required=True)
    cell("decided_at", lambda text: parse_iso_time(text, tz), required=True)
    cell("decision", lambda text: parse_choice(text, DECISION_KINDS, "decision"), required=True)
    for column in ("route_from", "route_to"):
        cell(column, lambda text: parse_choice(text, ROUTES, "route"))
    for column in DECISION_NUMBER_COLUMNS:
        cell(column, lambda text: parse_decimal(text, 0, 1000, low_exclusive=True))
    for column in DECISION_TEXT_COLUMNS:
        limit = MAX_RECORDED_BY_CHARS if column == "recorded_by" else MAX_TEXT_CHARS
        cell(column, partial(parse_text, max_chars=limit))
    cell("flags_considered", parse_flag_list)

    decided = out["decided_at"]
    if isinstance(decided, ParsedTime):
        if not decided.time_given:
            problems.append(
                Problem(
                    "a decision needs its time as well as its date (YYYY-MM-DDTHH:MM), so that "
                    "it can be ordered against that day's sessions",
                    row,
                    "decided_at",
                )
            )
        elif decided.utc > _naive_utc(now):
            problems.append(
                Problem(
                    f"{str(raw.get('decided_at', '')).strip()} is in the future: "
                    "a decision is recorded once it has been taken",
                    row,
                    "decided_at",
                )
            )
        out["decided_at"] = decided.utc
    for route_column, dose_column in (("route_from", "dose_from_mg"), ("route_to", "dose_to_mg")):
        dose = out[dose_column]
        if (
            out[route_column] == "esketamine_nasal"
            and isinstance(dose, float)
            and dose not in ESKETAMINE_DOSES_MG
        ):
            problems.append(
                Problem(
                    "esketamine nasal spray comes in 28 mg devices: the dose must be 28, 56 or 84",
                    row,
                    dose_column,
                )
            )
    if problems:
        return None, problems
    out["patient_code"] = out.pop("patient_id")
    return tuple(out[key] for key in DECISION_RECORD_KEYS), problems


def validate_decision_row(
    raw: Mapping[str, str], *, now: datetime, tz: ZoneInfo, row: int | None = None
) -> tuple[dict[str, object] | None, list[Problem]]:
    """Validate one decision given as text (a CSV row or the decision form).

    Returns the typed values keyed by :data:`DECISION_RECORD_KEYS` (``patient_code``,
    ``decided_at`` as naive UTC, …) or ``None`` and every problem. Whether the
    patient exists is for the caller to check.
    """
    record, problems = check_decision(raw, now=now, tz=tz, row=row)
    known = set(DECISION_COLUMNS)
    problems.extend(Problem("unknown field", row, key) for key in sorted(raw) if key not in known)
    if record is None or problems:
        return None, problems
    return dict(zip(DECISION_RECORD_KEYS, record, strict=True)), problems
