"""Markdown built for the pages: a recommendation's option and its evidence."""

from __future__ import annotations

from redflags.engine import RecommendationItem
from ui.widgets import recommendation_markdown


def item(code: str, reason: str) -> RecommendationItem:
    return RecommendationItem(code=code, order=1, reason=reason, based_on=())


def shown(item: RecommendationItem) -> str:
    """The markdown without its escapes (labels.plain escapes '.', '(' and the like)."""
    return recommendation_markdown(item).replace("\\", "")


def test_the_option_is_bold_and_said_once_then_the_evidence() -> None:
    text = shown(
        item("pause", "Consider a moment to pause: panic ≥ 7 in 2 of the last 3 sessions.")
    )
    assert text == "**Consider a moment to pause:** panic ≥ 7 in 2 of the last 3 sessions."


def test_only_the_first_colon_ends_the_option() -> None:
    text = shown(
        item("continue", "Consider continuing; note for the next session: watch: despair 5.")
    )
    assert text.startswith("**Consider continuing; note for the next session:** watch")


def test_a_reason_without_a_colon_gets_the_recommendations_heading() -> None:
    text = shown(item("pause", "Consider pausing."))
    assert text == "**Consider a pause, decided with the patient.** Consider pausing."


def test_markdown_in_the_evidence_is_shown_as_text() -> None:
    text = recommendation_markdown(item("pause", "Consider a pause: *not bold* [x](y)"))
    assert "*not bold*" not in text and "](" not in text


def _status_box() -> None:
    # AppTest.from_function runs this function's source alone: it imports what it uses.
    from redflags.codes import Status
    from redflags.engine import PatientReview, RecommendationItem
    from ui.widgets import status_summary

    recommendations = (
        RecommendationItem("review_safety", 1, "Consider a same-day safety review: item 9.", ()),
        RecommendationItem("pause", 2, "Consider a moment to pause: despair ≥ 7.", ()),
    )
    review = PatientReview(
        patient_id="P-1",
        status=Status.URGENT,
        stale=False,
        latest_session=None,
        route=None,
        dose_mg=None,
        phq9_baseline=None,
        phq9_latest=None,
        phq9_change=None,
        safety_flags=(),
        red_flags=(),
        watch=(),
        green_lights=(),
        addressed=(),
        recommendations=recommendations,
    )
    status_summary(review, title="P-1: status now")


def test_the_status_box_lists_every_recommendation_in_order() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_status_box).run()
    assert not at.exception
    (said,) = [m.value for m in at.markdown if m.value.startswith("To discuss")]
    said = said.replace("\\", "")
    assert said.index("same-day safety review") < said.index("moment to pause")
