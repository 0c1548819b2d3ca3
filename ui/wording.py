"""What the pages say about counts, checks and links, as plain typed functions.

Counts get the right singular or plural; where the command line words a
result its own way (``Dry run: …``), the page says it in the dashboard's words;
a value that came from a link is named when the page could not use it. No
Streamlit here. The text returned may hold what a person typed or a URL
carried: the pages pass it through ``redflags.labels.plain`` before showing it.
"""

from __future__ import annotations

from datetime import date, datetime

from redflags.labels import format_date
from services.records import ImportResult, Outcome

#: The longest piece of a link repeated on a page (the rest is cut, with "…").
LINK_TEXT_LIMIT = 40
#: The date formats a date bound to the address accepts (Streamlit's own two).
LINK_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """A count and its noun: "1 session", "2 sessions", "0 sessions"."""
    noun = singular if count == 1 else plural or f"{singular}s"
    return f"{count:,} {noun}"


def from_link(text: str) -> str:
    """A value taken from a link, cut to :data:`LINK_TEXT_LIMIT` characters."""
    one_line = " ".join(text.split())
    if len(one_line) <= LINK_TEXT_LIMIT:
        return one_line
    return one_line[: LINK_TEXT_LIMIT - 1] + "…"


# ---------------------------------------------------------------- records page


def import_button_label(what: str, count: int) -> str:
    """The confirm button of a checked file: "Import 1 session now", "Import 2 decisions now".

    ``what`` is the importer's plural name (``sessions`` or ``decisions``).
    """
    return f"Import {counted(count, what.removesuffix('s'), what)} now"


def import_check_summary(result: ImportResult) -> str:
    """A checked file's summary as the page says it.

    ``ImportResult.summary`` words a valid check as the command line's "Dry run:
    … nothing was written"; on the page nothing is written until the user
    confirms, so the words say that instead. Every other outcome keeps the
    service's own summary.
    """
    if result.outcome is not Outcome.VALID:
        return result.summary()
    return (
        "Checked: the file is valid; nothing has been imported yet. "
        f"Rows read: {result.rows_read}, to import: {result.imported}, "
        f"unchanged: {result.unchanged}, new patients: {result.patients_created}."
    )


# ---------------------------------------------------------------- audit log page


def matching_rows(total: int) -> str:
    """The line over the audit table: "No matching rows.", "1 matching row.", "2 matching rows,
    newest first."."""
    if total == 0:
        return "No matching rows."
    if total == 1:
        return "1 matching row."
    return f"{total:,} matching rows, newest first."


# ---------------------------------------------------------------- weekly review


def no_session_warning(as_of: date, today: date) -> str:
    """What the review says when no patient has a session on or before ``as_of``.

    A later date is suggested only when there is one to choose (``as_of`` before today).
    """
    said = (
        f"No patient has a session on or before {format_date(as_of)}: everyone is listed as "
        "green with nothing to review, which says nothing about how they are. "
    )
    if as_of < today:
        return said + "Choose a later date."
    return said + "Sessions count here once they are logged or imported."


# ---------------------------------------------------------------- links


def unknown_patient_message(code: str) -> str:
    """What the report says when a link names a patient code that no patient has."""
    return (
        f"No patient has the code {from_link(code)}. "
        "Choose a patient above, or open one from the weekly review."
    )


def link_date(text: str) -> date | None:
    """A date from a link (``2026-11-03`` or ``2026/11/03``); None when it is not one."""
    for pattern in LINK_DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def replaced_link_date(given: str | None, shown: date, today: date) -> str | None:
    """The note to show when the date a link gave (``?as_of=``) was not used; None if it was.

    ``shown`` is the date the page uses instead (the date input's default, today).
    """
    if given is None or not given.strip():
        return None
    asked = link_date(given)
    if asked == shown:
        return None
    if asked is None:
        reason = "is not a date"
    elif asked > today:
        reason = "is in the future"
    else:
        reason = "is earlier than this page offers"
    return (
        f"The as-of date in the link ({from_link(given)}) {reason}: "
        f"showing {format_date(shown)}{' (today)' if shown == today else ''} instead."
    )
