"""Words and formats on screen: every code has words, status is never colour alone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

import pandas as pd
import pytest

from redflags import labels
from redflags.codes import (
    ALL_FLAGS,
    Course,
    DecisionKind,
    Recommendation,
    Route,
    Status,
    TreatmentStatus,
)


@pytest.mark.parametrize(
    ("codes", "table"),
    [
        (ALL_FLAGS, labels.FLAG_WORDS),
        (tuple(Recommendation), labels.RECOMMENDATION_WORDS),
        (tuple(Route), labels.ROUTE_WORDS),
        (tuple(DecisionKind), labels.DECISION_WORDS),
        (tuple(Course), labels.COURSE_WORDS),
        (tuple(TreatmentStatus), labels.TREATMENT_WORDS),
        (tuple(Status), labels.STATUS_LOOK),
    ],
    ids=["flags", "recommendations", "routes", "decisions", "courses", "treatment", "status"],
)
def test_every_code_has_words_of_its_own(codes: tuple[str, ...], table: dict[str, Any]) -> None:
    assert set(codes) == set(table)
    words = [str(v) for v in table.values()]
    assert len(set(words)) == len(words)


def test_every_status_reads_as_an_icon_and_a_word_not_colour_alone() -> None:
    for status in Status:
        text = labels.status_text(status)
        emoji, word = text.split(" ", 1)
        assert word.lower() == status.value
        assert emoji and labels.STATUS_LOOK[status].icon.startswith(":material/")


def test_recommendations_are_worded_as_options_never_orders() -> None:
    for code, words in labels.RECOMMENDATION_WORDS.items():
        assert words.startswith("Consider"), code


def test_dates_read_day_month_year_everywhere() -> None:
    assert labels.format_date(date(2026, 11, 3)) == "3 Nov 2026"
    assert labels.format_moment(datetime(2026, 11, 3, 9, 5)) == "3 Nov 2026, 09:05"
    assert labels.format_moment(datetime(2026, 11, 3), with_time=False) == "3 Nov 2026"
    assert labels.format_date(None) == "" and labels.format_moment(cast(Any, pd.NaT)) == ""


def test_doses_and_routes_read_plainly() -> None:
    assert labels.format_dose(56.0) == "56 mg"
    assert labels.format_dose(37.5) == "37.5 mg"
    assert labels.route_and_dose("ketamine_iv", 35.0) == "IV ketamine, 35 mg"
    assert labels.route_and_dose(None, None) == "not recorded"


@pytest.mark.parametrize(
    "typed",
    [
        "[click me](javascript:alert(1))",
        "![x](http://evil.example/x.png)",
        ":red[alarm] :material/warning:",
        "<b>bold</b> **strong** _em_ `code` # heading",
        "$x^2$ | a | b |",
        "see www.evil.example or HTTPS://evil.example, write to x@evil.example",
        ":material/emergency: Dr :streamlit: mailto:x@y.z",
    ],
)
def test_typed_text_cannot_become_markdown(typed: str) -> None:
    escaped = labels.plain(typed)
    for special in "[]()!:<>*_`#$|":
        assert special not in escaped.replace("\\" + special, "")
    # What Markdown links even when escaped, and Streamlit's icons, are broken by an
    # invisible joiner: the text reads the same.
    unescaped = escaped.replace("\\", "").lower()
    for pattern in ("www.", "http:", "https:", "mailto:", "@e", "@y", ":material/", ":streamlit:"):
        assert pattern not in unescaped
    assert unescaped.replace(labels.JOINER, "") == typed.replace("\n", " ").lower()


@pytest.mark.parametrize("line_break", ["\n", "\r", "\r\n", "\u2028", "\x0b", "\x85"])
def test_typed_text_stays_on_one_line(line_break: str) -> None:
    shown = labels.plain(f"line one{line_break}{line_break}    indented as code")
    assert shown.split() == ["line", "one", "indented", "as", "code"]
    assert shown.isprintable(), "no line break of any kind is left"


def test_bidirectional_overrides_are_taken_out_but_right_to_left_marks_stay() -> None:
    assert labels.plain("x\u202egpj.csv") == "xgpj\\.csv"
    assert labels.plain("\u2067שלום\u2069") == "שלום"
    assert labels.plain("\u200fשלום") == "\u200fשלום"
