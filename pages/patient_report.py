"""Patient report: status, every flag with its evidence, recommendations, charts and history."""

from collections.abc import Callable
from datetime import date

import streamlit as st

from redflags.engine import Finding, PatientReview
from redflags.labels import (
    STALE_MARK,
    days_text,
    decision_words,
    flag_words,
    format_date,
    format_dose,
    format_moment,
    plain,
    route_words,
    treatment_words,
)
from services.access import Actor, Permission
from services.exports import ExportKind, ExportRequest, build_export, file_name
from services.patients import next_treatment, patient_choices
from services.report import UnknownPatient, patient_report
from services.report_view import (
    decision_table,
    evidence_frame,
    latest_commitment,
    session_markers,
    session_table,
    untimed_sessions,
)
from services.settings import date_input_format
from ui import charts, forms, navigation, state, widgets, wording

actor = state.require_login()
st.title("Patient report")

engine, config = state.engine(), state.rules()
choices = patient_choices(engine=engine, actor=actor)
if not choices:
    st.info(
        "No patients yet. Import a sessions CSV on the Records page, or add a patient on "
        "Log a session.",
        icon=":material/person_add:",
    )
    st.stop()

today = state.local_today_date()
unknown_code = widgets.unknown_patient_in_link(choices)
date_in_link = st.query_params.get("as_of")  # read first: an unusable one leaves the address
top = st.columns([3, 1])
with top[0]:
    code = widgets.patient_picker(choices)
with top[1]:
    as_of: date = st.date_input(
        "As of",
        value=today,
        max_value=today,
        format=date_input_format(),
        key="as_of",
        bind="query-params",
    )
# Streamlit drops a date from the address that it cannot use, and shows today instead.
dropped = date_in_link if "as_of" not in st.query_params else None
date_note = wording.replaced_link_date(dropped, as_of, today)
if date_note:
    st.caption(plain(date_note))
if code is None:
    if unknown_code is not None:
        st.warning(plain(wording.unknown_patient_message(unknown_code)), icon=":material/search:")
    else:
        st.info(
            "Choose a patient above, or open one from the weekly review.",
            icon=":material/search:",
        )
    st.stop()

try:
    report = patient_report(
        engine=engine,
        actor=actor,
        patient_code=code,
        as_of=as_of,
        config=config,
        audit_view=state.first_view("report", code),
    )
except UnknownPatient:
    st.error(f"No patient has the code {plain(code)}. Choose another patient.")
    st.stop()

review: PatientReview = report.review
patient = report.patient

# ---------------------------------------------------------------- at the top
st.header(  # a patient imported from sessions alone has no name yet
    " · ".join(plain(part) for part in (patient.code, patient.display_name) if part),
    anchor=False,
)
with st.container(horizontal=True, vertical_alignment="center"):
    widgets.status_badge(review.status.value)
    if review.stale:
        st.badge(f"{STALE_MARK} Stale: overdue for review", color="gray")
    st.caption(
        f"{plain(patient.primary_clinician) or 'No primary clinician'} · "
        f"treatment {treatment_words(patient.treatment_status).lower()} · "
        f"as of {format_date(as_of)}"
    )
facts = st.columns([3, 2, 3, 3, 4])
with facts[0]:
    widgets.fact("Current route", route_words(review.route) or "none")
with facts[1]:
    widgets.fact("Current dose", format_dose(review.dose_mg) or "none")
latest = review.latest_session
with facts[2]:
    widgets.fact(
        "Latest session",
        format_date(latest) if latest else "none",
        help=(
            f"{days_text((as_of - latest.date()).days)} before the as-of date" if latest else None
        ),
    )
if review.phq9_baseline is not None and review.phq9_latest is not None:
    facts[3].metric(
        "PHQ-9 baseline → latest",
        f"{review.phq9_baseline} → {review.phq9_latest}",
        delta=None if review.phq9_change is None else f"{review.phq9_change:+.0%}",
        delta_color="inverse",
    )
else:
    with facts[3]:  # a metric would cut "not recorded" short
        widgets.fact("PHQ-9 baseline → latest", "not recorded")
commitment = latest_commitment(report.sessions)
with facts[4]:
    st.caption("Chosen small commitment")
    if commitment:
        st.markdown(f"“{plain(commitment.text)}”")
        st.caption(f"after the session of {commitment.session}")
    else:
        st.markdown("none recorded")
decided_since = forms.decided_since_words(
    next_treatment(engine=engine, actor=actor, patient_code=code), latest=latest, as_of=as_of
)
if decided_since:
    st.caption(f":material/event_repeat: {plain(decided_since)}")

if report.sessions.empty:
    st.info(
        f"No session is recorded for this patient on or before {format_date(as_of)}. "
        "Log their first session on Log a session, or import a sessions CSV on Records.",
        icon=":material/event_busy:",
    )
    if actor.can(Permission.WRITE_CLINICAL):
        st.page_link(
            navigation.LOG_SESSION.path,
            label="Log a session for this patient",
            icon=":material/edit_note:",
            query_params={"patient": code},
        )
    st.stop()

# ---------------------------------------------------------------- recommendations
st.subheader("What to discuss", anchor=False)
st.caption("Options for the care team to weigh with the patient, each with its reason.")
boxes = {"review_safety": st.error, "continue": st.success}
for item in review.recommendations:
    box = boxes.get(item.code, st.warning)
    box(
        widgets.recommendation_markdown(item, patient.treatment_status),
        icon=":material/lightbulb:",
    )

if actor.can(Permission.WRITE_CLINICAL):
    with st.container(horizontal=True):
        st.page_link(
            navigation.DECISION.path,
            label="Record a care-team decision",
            icon=":material/groups:",
            query_params={"patient": code},
        )
        st.page_link(
            navigation.LOG_SESSION.path,
            label="Log a session",
            icon=":material/edit_note:",
            query_params={"patient": code},
        )


# ---------------------------------------------------------------- findings
untimed = untimed_sessions(report.sessions)


def show_finding(finding: Finding) -> None:
    with st.container(border=True):
        st.markdown(f"**{flag_words(finding.code)}** — {plain(finding.sentence)}")
        if finding.addressed and finding.addressed_by_decided_at is not None:
            st.markdown(
                f":material/task_alt: Addressed by the decision "
                f"**{decision_words(finding.addressed_by_decision)}** of "
                f"{format_moment(finding.addressed_by_decided_at)}."
            )
        st.caption(f"Threshold: {plain(finding.threshold)}")
        evidence = evidence_frame(finding, untimed)
        if not evidence.empty:
            st.dataframe(evidence, hide_index=True, width="content")


groups = (
    ("Safety flags", review.safety_flags, "Urgent: same-day review before the next dose."),
    ("Red flags", review.red_flags, "Therapeutic red flags in the recent sessions."),
    ("Watch signals", review.watch, "Amber: note for the next session."),
    ("Green lights", review.green_lights, "What is going well."),
    ("Addressed flags", review.addressed, "Flags a care-team decision has addressed."),
)
st.subheader("Flags and green lights, with their evidence", anchor=False)
if not any(found for _, found, _ in groups):
    st.success("No flag and no green light in the recent sessions.", icon=":material/check:")
for title, found, meaning in groups:
    if not found:
        continue
    st.markdown(f"#### {title} ({len(found)})")
    st.caption(meaning)
    for finding in found:
        show_finding(finding)

# ---------------------------------------------------------------- charts
st.subheader("Over time", anchor=False)
st.caption(
    "Dashed purple lines mark care-team decisions. On the themes, ✕ marks a hard session "
    "(at or above the threshold, not reflected or contained) and ★ a green-light moment; "
    "the flags count only the recent sessions."
)
sessions, decisions = report.sessions, report.decisions
markers = session_markers(sessions, config)
span = charts.time_span(sessions, decisions)  # one time axis for all four charts
baseline = None if review.phq9_baseline is None else float(review.phq9_baseline)
figures = {
    "report.themes": charts.theme_figure(sessions, markers, decisions, config, span),
    "report.phq9": charts.phq9_figure(sessions, baseline, decisions, config, span),
    "report.bp": charts.bp_figure(sessions, decisions, config, span),
    "report.dose": charts.dose_figure(sessions, decisions, span),
}
for chart_key, figure in figures.items():
    st.plotly_chart(figure, key=chart_key, config=charts.PLOTLY_CONFIG)

# ---------------------------------------------------------------- history
st.subheader(f"Sessions ({len(sessions)})", anchor=False)
st.dataframe(
    session_table(sessions),
    hide_index=True,
    column_config={
        "session": st.column_config.TextColumn("Session", pinned=True),
        "route": "Route",
        "dose": "Dose",
        "panic": "Panic",
        "despair": "Despair",
        "vulnerability": "Vulnerability",
        "death_imagery": "Death imagery",
        "shame": "Shame",
        "grief": "Grief",
        "cadss": "CADSS",
        "bp_pre": "BP before",
        "bp_40": "BP 40 min",
        "bp_end": "BP discharge",
        "observation_min": "Observed (min)",
        "phq9": "PHQ-9",
        "phq9_item9": "Item 9",
        "commitment": st.column_config.TextColumn("Small commitment", width="medium"),
        "note": st.column_config.TextColumn("Clinician note", width="large"),
    },
)

st.subheader(f"Care-team decisions ({len(decisions)})", anchor=False)
if decisions.empty:
    st.caption("No decision recorded yet.")
else:
    st.dataframe(
        decision_table(decisions),
        hide_index=True,
        column_config={
            "decided": "Decided",
            "decision": "Decision",
            "route": "Route",
            "dose": "Dose",
            "participants": "Who took part",
            "patient_view": st.column_config.TextColumn("Patient's view", width="large"),
            "rationale": st.column_config.TextColumn("Rationale", width="large"),
            "flags_considered": "Flags considered",
            "recorded_by": "Recorded by",
        },
    )


# ---------------------------------------------------------------- downloads
def builder(request: ExportRequest) -> Callable[[Actor], bytes]:
    return lambda who: build_export(engine=engine, actor=who, request=request, config=config).data


if actor.can(Permission.EXPORT_RECORDS):
    with st.container(horizontal=True):
        for what, label in (
            (ExportKind.SESSIONS, "Download this patient's sessions (CSV)"),
            (ExportKind.DECISIONS, "Download this patient's decisions (CSV)"),
        ):
            request = ExportRequest(what=what, patient=code, as_of=as_of)
            widgets.csv_download(
                label,
                builder(request),
                permission=Permission.EXPORT_RECORDS,
                file_name=file_name(request, today),
                key=f"report.download.{what.value}",
            )
