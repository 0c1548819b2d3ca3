"""Weekly review: the caseload as of a date, urgent first, then red, amber and green."""

import streamlit as st

from redflags.fields import ROUTES
from redflags.labels import (
    STALE_MARK,
    TABLE_DATE_FORMAT,
    format_date,
    route_words,
    status_text,
    treatment_words,
)
from services.access import Permission
from services.caseload import DEFAULT_TREATMENT_STATUSES, STATUSES, CaseloadFilters
from services.patients import TREATMENT_STATUSES
from services.settings import date_input_format
from ui import navigation, state, wording

TABLE_ROW_HEIGHT = 35  # Streamlit's default row height, px

AS_OF = "review.as_of"

actor = state.require_login()
st.title("Weekly review")

today = state.local_today_date()


def back_to_today() -> None:
    st.session_state[AS_OF] = state.local_today_date()


# The default through the session state, not ``value=``: "Back to today" sets the
# state, and a widget given both logs a warning with a stack trace on every click.
st.session_state.setdefault(AS_OF, today)
as_of = st.date_input(
    "As of",
    max_value=today,
    format=date_input_format(),
    key=AS_OF,
    persist_state="session",
    width=200,
    help="Only sessions and decisions on or before this day count. The date stays while you "
    "move between pages.",
)
if as_of != today:
    with st.container(horizontal=True, vertical_alignment="center"):
        st.warning(
            f"**Not today's review:** the caseload as it was on {format_date(as_of)}. Sessions "
            "and decisions after that day are left out.",
            icon=":material/history:",
        )
        st.button("Back to today", icon=":material/today:", on_click=back_to_today)
everyone = state.caseload_as_of(actor, as_of)

if everyone.rows.empty:
    st.info(
        "**No patients yet.** Import a sessions CSV on the Records page (or run "
        "`python manage.py import-sessions FILE` on the server), or add a patient and log "
        "their first session on Log a session.",
        icon=":material/person_add:",
    )
    if actor.can(Permission.EXPORT_RECORDS):
        st.page_link(navigation.RECORDS_PAGE.path, label="Import records", icon=":material/upload:")
    if actor.can(Permission.WRITE_CLINICAL):
        st.page_link(
            navigation.LOG_SESSION.path, label="Log a session", icon=":material/edit_note:"
        )
    st.stop()

filters = st.columns(4)
statuses = filters[0].multiselect(
    "Status",
    STATUSES,
    format_func=status_text,
    placeholder="All statuses",
    key="review.statuses",
    persist_state="session",
)
routes = filters[1].multiselect(
    "Route (latest session)",
    ROUTES,
    format_func=route_words,
    placeholder="All routes",
    key="review.routes",
    persist_state="session",
)
clinicians = filters[2].multiselect(
    "Clinician",
    everyone.clinicians,
    placeholder="All clinicians",
    key="review.clinicians",
    persist_state="session",
)
treatment = filters[3].multiselect(
    "Treatment",
    TREATMENT_STATUSES,
    default=sorted(DEFAULT_TREATMENT_STATUSES),
    format_func=treatment_words,
    placeholder="Any treatment status",
    key="review.treatment",
    persist_state="session",
)
stale_only = st.toggle(
    f"{STALE_MARK} Only patients overdue for review",
    key="review.stale_only",
    persist_state="session",
    help="Latest session more than the rules' stale days before the as-of date. Staleness "
    "does not change a status, so these patients may sit among the green ones.",
)
view = everyone.view(
    CaseloadFilters(
        statuses=frozenset(statuses) or None,
        routes=frozenset(routes) or None,
        clinicians=frozenset(clinicians) or None,
        treatment_statuses=frozenset(treatment) or None,
        stale_only=stale_only,
    )
)

counts = st.columns(5)
for column, status in zip(counts, STATUSES, strict=False):
    column.metric(status_text(status), view.counts[status], border=True)
counts[4].metric(f"{STALE_MARK} Stale", view.stale, border=True)
st.caption(
    f"As of {format_date(as_of)}: {len(view.table)} of {len(everyone.rows)} patients shown. "
    "The counts cover the route, clinician and treatment filters; the status and overdue "
    "filters only narrow the table. Choose a row to open the patient's report."
)

if everyone.rows["latest_session"].isna().all():
    st.warning(wording.no_session_warning(as_of, today), icon=":material/event_busy:")

if view.table.empty:
    st.info(
        "No patient matches these filters. Clear a filter (or choose other treatment "
        "statuses) to see more.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

selection = st.dataframe(
    view.table,
    hide_index=True,
    key="review.table",
    on_select="rerun",
    selection_mode="single-row",
    height=TABLE_ROW_HEIGHT * (min(len(view.table), 20) + 1) + 3,
    placeholder="",  # no PHQ-9 yet, no session yet: an empty cell, not a grey "None"
    column_order=[
        "status_text",
        "patient_id",
        "display_name",
        "flags",
        "recommendation",
        "now_text",
        "latest_session",
        "addressed",
        "stale_text",
        "phq9_trend",
        "green_lights",
        "phq9_latest",
        "clinician",
        "treatment",
    ],
    column_config={
        # Who and why stay in view while the rest scrolls sideways; the reasons get
        # the room to be read in a column of a laptop's width.
        "status_text": st.column_config.TextColumn("Status", width=95, pinned=True),
        "patient_id": st.column_config.TextColumn("Patient", width=95, pinned=True),
        "display_name": st.column_config.TextColumn("Name", width=130),
        "flags": st.column_config.TextColumn("Open flags", width=330),
        "recommendation": st.column_config.TextColumn("First recommendation", width=270),
        "addressed": st.column_config.TextColumn("Addressed (decision)", width="medium"),
        "latest_session": st.column_config.DatetimeColumn(
            "Latest session", format=TABLE_DATE_FORMAT
        ),
        "now_text": st.column_config.TextColumn("Route and dose", width="medium"),
        "phq9_trend": st.column_config.LineChartColumn(
            "PHQ-9 (last 8)", y_min=0, y_max=27, help="The last 8 PHQ-9 scores, oldest first"
        ),
        "phq9_latest": st.column_config.NumberColumn("Latest PHQ-9"),
        "stale_text": st.column_config.TextColumn("Stale", width="medium"),
        "green_lights": st.column_config.TextColumn("Green lights", width="medium"),
        "clinician": st.column_config.TextColumn("Clinician"),
        "treatment": st.column_config.TextColumn("Treatment", width=100),
    },
)


def open_report(code: str) -> None:
    st.switch_page(
        navigation.PATIENT_REPORT.path,
        query_params={"patient": code, "as_of": as_of.isoformat()},
    )


chosen_rows = selection.selection.rows
if chosen_rows:
    open_report(str(view.table.iloc[chosen_rows[0]]["patient_id"]))

labels = dict(zip(view.table["patient_id"], view.table["display_name"], strict=True))
with st.container(horizontal=True, vertical_alignment="bottom"):
    picked = st.selectbox(
        "Open a patient's report",
        view.table["patient_id"].tolist(),
        index=None,
        format_func=lambda code: f"{code} · {labels[code]}" if labels.get(code) else code,
        placeholder="Choose a patient (type to search)",
        key="review.open",
        width=400,
    )
    if st.button("Open report", icon=":material/clinical_notes:", disabled=picked is None):
        open_report(str(picked))
