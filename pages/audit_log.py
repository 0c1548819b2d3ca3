"""Audit log (administrators): who did what, when, to which patient; filtered; CSV export."""

from datetime import timedelta

import streamlit as st

from redflags.labels import plain
from services.access import Permission
from services.audit import is_audit_hash, verify_audit
from services.audit_log import (
    AuditQuery,
    AuditQueryError,
    audit_choices,
    audit_page,
    export_audit,
)
from services.audit_words import action_words
from services.settings import date_input_format
from ui import state, widgets, wording

actor = state.require_login(Permission.VIEW_AUDIT)
engine = state.engine()

st.title("Audit log")
st.caption(
    "Every login, logoff, failed login, lockout, patient viewed, session logged or edited, "
    "decision, import, export, user change and rules file loaded, one row each, in the order "
    "they happened. Rows cannot be changed or deleted; each is chained to the one before."
)

choices = audit_choices(engine=engine, actor=actor)
today = state.local_today_date()
with st.container(border=True):
    left, right = st.columns(2)
    days = left.date_input(
        "Days (clinic time)",
        value=(today - timedelta(days=7), today),
        max_value=today,
        format=date_input_format(),
        key="audit_log.days",
    )
    patient = right.text_input("Patient code", key="audit_log.patient").strip()
    username = left.selectbox(
        "User",
        choices.usernames,
        index=None,
        placeholder="Anyone",
        format_func=lambda name: name or "(no user: failed login of an unknown name)",
        key="audit_log.user",
    )
    action = right.selectbox(
        "Action",
        choices.actions,
        index=None,
        placeholder="Any action",
        format_func=action_words,
        key="audit_log.action",
    )

chosen = tuple(days) if isinstance(days, tuple) else (days,)
first_day = chosen[0] if chosen else None
query = AuditQuery(
    first_day=first_day,
    last_day=chosen[1] if len(chosen) > 1 else first_day,
    username=username,
    action=action,
    patient_code=patient or None,
)
try:
    page = audit_page(engine=engine, actor=actor, query=query)
except AuditQueryError as error:
    st.error(plain(str(error)))
    st.stop()

if page.truncated:
    st.info(
        f"{page.total:,} rows match; the newest {len(page.rows):,} are shown. "
        "The CSV holds them all, or narrow the filters."
    )
else:
    st.caption(wording.matching_rows(page.total))
st.dataframe(
    page.rows,
    hide_index=True,
    # What happened first, in words; the codes, the UTC time and the JSON as recorded after.
    column_order=(
        "id",
        "when",
        "username",
        "what",
        "patient_id",
        "summary",
        "role",
        "action",
        "entity",
        "entity_id",
        "at_utc",
        "details",
    ),
    column_config={
        "id": st.column_config.TextColumn("Row", width="small"),
        "when": st.column_config.TextColumn("When (clinic time)"),
        "at_utc": st.column_config.TextColumn("UTC"),
        "username": st.column_config.TextColumn("User", width=130),
        "role": "Role",
        "what": st.column_config.TextColumn("What", width=170),
        "action": "Action code",
        "entity": "Entity",
        "entity_id": "Entity id",
        "patient_id": st.column_config.TextColumn("Patient", width=100),
        "summary": st.column_config.TextColumn("Summary", width="large"),
        "details": st.column_config.TextColumn("Details as recorded (JSON)"),
        "hash": None,
    },
)

widgets.csv_download(
    "Download CSV (audited)",
    lambda who: export_audit(engine=engine, actor=who, query=query).data,
    permission=Permission.VIEW_AUDIT,
    file_name=f"audit-{(query.last_day or today).isoformat()}.csv",
    key="audit_log.download",
    disabled=page.total == 0,
)

st.subheader("Check the chain", anchor=False)
st.caption(
    "Recomputes every row's SHA-256 and its link to the row before, as "
    "`python manage.py verify-audit` does. A chain cannot show rows cut from its end: "
    "keep the newest hash somewhere else and give it here next time."
)
noted = (
    st.text_input(
        "Newest hash noted earlier (optional)",
        key="audit_log.noted_hash",
        max_chars=80,
        placeholder="64 hexadecimal digits",
    )
    .strip()
    .lower()
)
if st.button("Verify the audit trail", icon=":material/verified:", key="audit_log.verify"):
    if noted and not is_audit_hash(noted):
        st.error(
            "That is not an audit hash: paste the 64 hexadecimal digits shown as the newest "
            "hash by an earlier check, or leave the field empty."
        )
        st.stop()
    report = verify_audit(engine=engine, actor=actor, noted_hash=noted or None)
    if report.intact:
        st.success(
            f"The audit trail is intact: {report.rows:,} rows"
            + (", and the noted hash is in it" if noted else "")
            + f". Newest hash: `{report.head_hash}`"
        )
    else:
        places = len(report.problems) + (report.missing_hash is not None)
        st.error(f"The audit trail is broken in {places} place(s).")
        if report.missing_hash is not None:
            st.markdown(
                "- the noted hash is not in the trail: rows were removed from its end "
                "or the trail was rewritten since it was noted"
            )
        for problem in report.problems[:50]:
            st.markdown(f"- row {problem.event_id}: {plain(problem.problem)}")
