"""Small Streamlit pieces the pages share: status badges, patient pickers, field problems."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from redflags.engine import PatientReview, RecommendationItem
from redflags.labels import (
    STATUS_LOOK,
    decision_words,
    flag_words,
    format_moment,
    plain,
    recommendation_words,
)
from services.access import Actor, Permission
from services.caseload import reason_to_discuss
from services.patients import PatientChoice
from ui import state

#: The query parameter (and widget key) that names the patient a page is about.
PATIENT_PARAM = "patient"
#: The patient last chosen on any page, so that moving between pages keeps them.
CURRENT_PATIENT = "current_patient"
#: The problems of an import that a page lists one by one (the command line lists every
#: one): a browser cannot lay out a million lines.
PROBLEMS_LISTED = 10_000


def recommendation_markdown(item: RecommendationItem, treatment_status: str = "") -> str:
    """A recommendation as markdown: the option it presents in bold, then its evidence.

    Every reason reads "option: evidence" (rules.md §9 in words), so the option
    is not repeated after a heading; the short heading is the fallback. With the
    patient's treatment status, "continue" says what a pause or stop left to discuss.
    """
    reason = reason_to_discuss(item, treatment_status)
    option, colon, evidence = reason.partition(": ")
    if not colon:
        return f"**{recommendation_words(item.code)}.** {plain(reason)}"
    return f"**{plain(option)}:** {plain(evidence)}"


def status_badge(status: str) -> None:
    """The status as a coloured badge with an icon and a word (never colour alone)."""
    look = STATUS_LOOK[status]
    st.badge(look.word, icon=look.icon, color=look.colour)


def _sync_patient_param() -> None:
    chosen = st.session_state.get(PATIENT_PARAM)
    st.session_state[CURRENT_PATIENT] = chosen
    if chosen is None:
        st.query_params.pop(PATIENT_PARAM, None)
    else:
        st.query_params[PATIENT_PARAM] = str(chosen)


def choose_patient(code: str) -> None:
    """Make ``code`` the chosen patient (call before the picker is drawn, e.g. in a callback)."""
    st.session_state[PATIENT_PARAM] = code
    st.session_state[CURRENT_PATIENT] = code
    st.query_params[PATIENT_PARAM] = code


def patient_picker(
    choices: Sequence[PatientChoice], *, label: str = "Patient", help: str | None = None
) -> str | None:
    """A patient selectbox kept in step with ``?patient=CODE`` (links and reloads keep it).

    Without the parameter (the menu was used), the patient last chosen on any
    page is chosen again.

    Synced by hand rather than with ``bind="query-params"``: a bound selectbox
    writes its *label* to the URL, and the label holds the patient's name.
    """
    labels = {c.code: c.label for c in choices}
    wanted = st.query_params.get(PATIENT_PARAM) or st.session_state.get(CURRENT_PATIENT)
    if wanted in labels:
        # Set even when equal: the value may belong to the picker of the page just left,
        # which a new page's picker would not inherit.
        st.session_state[PATIENT_PARAM] = wanted
    chosen = st.selectbox(
        label,
        list(labels),
        index=None,
        format_func=lambda code: labels.get(code, code),
        placeholder="Choose a patient (type to search)",
        key=PATIENT_PARAM,
        on_change=_sync_patient_param,
        help=help,
    )
    if chosen is not None:
        st.session_state[CURRENT_PATIENT] = chosen
        if st.query_params.get(PATIENT_PARAM) != chosen:
            st.query_params[PATIENT_PARAM] = str(chosen)
    return None if chosen is None else str(chosen)


def unknown_patient_in_link(choices: Sequence[PatientChoice]) -> str | None:
    """The ``?patient=CODE`` of the address when it names none of ``choices`` (a mistyped
    or outdated link), so the page can say so; None otherwise."""
    wanted = st.query_params.get(PATIENT_PARAM)
    if not wanted or any(c.code == wanted for c in choices):
        return None
    return str(wanted)


def fact(label: str, value: str, *, help: str | None = None) -> None:
    """One fact at the top of a page: a small label over its value, which wraps (a metric
    would cut "Esketamine nasal (Spravato)" short)."""
    st.caption(label, help=help)
    st.markdown(f"**{plain(value)}**")


def field_problems(grouped: dict[str | None, list[str]], field: str | None) -> None:
    """The validators' messages for one field, right under it (taken out of ``grouped``)."""
    for message in grouped.pop(field, []):
        st.error(plain(message), icon=":material/error:")


def remaining_problems(grouped: dict[str | None, list[str]]) -> None:
    """Every message not yet shown under its field: the form's own, and those of a
    field that is not on screen (say a hidden route), so that none is lost."""
    for field in list(grouped):
        field_problems(grouped, field)


def typed_for_another_patient(
    code: str | None, *, typed: bool, prefix: str, clear: Callable[[], None]
) -> None:
    """Say so when a form's values were typed while another patient was chosen.

    A form keeps what was typed when the patient is changed (a wrong first choice
    costs nothing); said plainly, with "keep" and "clear", so that one patient's
    readings or words are not saved to another's record unnoticed. ``prefix`` is
    the form's key prefix (``"log."``); an empty form belongs to whoever is chosen.
    """
    typed_for = f"{prefix}typed_for"
    if not typed or st.session_state.get(typed_for) is None:
        st.session_state[typed_for] = code
        return
    if code is None or st.session_state[typed_for] == code:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.warning(
            f"**Typed for another patient:** the values below were entered while "
            f"{plain(str(st.session_state[typed_for]))} was chosen. Check that each one "
            f"belongs to {plain(code)} before saving, or clear the form.",
            icon=":material/person_alert:",
        )
        st.button(
            "Keep them for this patient",
            key=f"{prefix}typed_keep",
            on_click=st.session_state.__setitem__,
            args=(typed_for, code),
        )
        st.button("Clear the form", key=f"{prefix}typed_clear", on_click=clear)


def csv_download(
    label: str,
    build: Callable[[Actor], bytes],
    *,
    permission: Permission,
    file_name: str,
    key: str,
    disabled: bool = False,
) -> None:
    """A download button that builds (and audits) its CSV only when clicked.

    ``build`` gets the actor still logged in at the click (see :func:`ui.state.at_click`).
    """
    st.download_button(
        label,
        data=state.at_click(permission, build),
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        on_click="ignore",
        disabled=disabled,
    )


def status_summary(review: PatientReview, *, title: str, treatment_status: str = "") -> None:
    """A patient's status in a box: badge, open and addressed flags, what to discuss."""
    with st.container(border=True):
        st.markdown(f"**{plain(title)}**")
        status_badge(review.status.value)
        open_flags = review.open_flags
        if open_flags:
            st.markdown("Open flags: " + "; ".join(plain(flag_words(f.code)) for f in open_flags))
        else:
            st.markdown("No open flag.")
        for finding in review.addressed:
            st.markdown(
                f":material/task_alt: {plain(flag_words(finding.code))}: addressed by "
                f"{decision_words(finding.addressed_by_decision)} of "
                f"{format_moment(finding.addressed_by_decided_at)}"
            )
        if review.recommendations:
            # Every recommendation, in rules.md §9 order: a safety review does not make a
            # pause for unrelenting despair any less worth discussing.
            st.markdown(
                "To discuss:\n"
                + "\n".join(
                    f"- {recommendation_markdown(item, treatment_status)}"
                    for item in review.recommendations
                )
            )
