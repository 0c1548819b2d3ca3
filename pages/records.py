"""Records: import a CSV (checked first, then confirmed) and export CSVs, as manage.py does."""

import streamlit as st

from redflags.labels import format_date, plain
from services.access import Permission
from services.exports import EXPORT_WORDS, ExportKind, ExportRequest, build_export, file_name
from services.patients import patient_choices
from services.records import ImportResult, import_decisions, import_sessions
from services.settings import date_input_format
from ui import state, widgets, wording

actor = state.require_login(Permission.EXPORT_RECORDS)
engine, config = state.engine(), state.rules()
CHECKED, DONE = "records.checked", "records.done"
IMPORTERS = {"sessions": import_sessions, "decisions": import_decisions}

st.title("Records")
st.caption(
    "CSV in and out, in the formats of the command line (`python manage.py import-sessions`, "
    "`import-decisions`, `export`). Every import and export is recorded in the audit log."
)

# ---------------------------------------------------------------- import
if actor.can(Permission.IMPORT_RECORDS):
    st.subheader("Import", anchor=False)
    what = str(
        st.segmented_control(
            "What the file holds",
            list(IMPORTERS),
            format_func=lambda kind: {
                "sessions": "Sessions (unknown patient codes create patients)",
                "decisions": "Care-team decisions (the patients must exist)",
            }[kind],
            default="sessions",
            required=True,
            key="records.import_what",
        )
    )
    upload = st.file_uploader(
        "CSV file (UTF-8, one header row)", type=["csv"], key="records.upload"
    )
    if upload is None:
        st.caption("Choose a file: it is checked first, and nothing is written until you confirm.")
        st.session_state.pop(CHECKED, None)
    else:
        identity = upload.file_id
        checked: tuple[str, str, ImportResult] | None = st.session_state.get(CHECKED)
        if checked is None or checked[:2] != (what, identity):
            st.session_state.pop(DONE, None)
            if st.button("Check the file", type="primary", icon=":material/fact_check:"):
                result = IMPORTERS[what](
                    engine=engine,
                    actor=actor,
                    data=upload.getvalue(),
                    filename=upload.name,
                    dry_run=True,
                ).trimmed(widgets.PROBLEMS_LISTED)
                st.session_state[CHECKED] = (what, identity, result)
                st.rerun()
        else:
            result = checked[2]
            done: ImportResult | None = st.session_state.get(DONE)
            if done is not None:
                if done.ok:
                    st.success(plain(done.summary()), icon=":material/check:")
                else:
                    st.error(plain(done.summary()), icon=":material/error:")
                    st.code("\n".join(done.messages()), language=None, wrap_lines=True)
            elif result.ok:
                st.info(plain(wording.import_check_summary(result)), icon=":material/fact_check:")
                if st.button(
                    wording.import_button_label(what, result.imported),
                    type="primary",
                    icon=":material/upload:",
                    key="records.confirm",
                ):
                    st.session_state[DONE] = IMPORTERS[what](
                        engine=engine, actor=actor, data=upload.getvalue(), filename=upload.name
                    ).trimmed(widgets.PROBLEMS_LISTED)
                    st.rerun()
            else:
                st.error(plain(result.summary()), icon=":material/error:")
                st.markdown("**Every problem found** (`row N, column C: reason`):")
                st.code("\n".join(result.messages()), language=None, wrap_lines=True)

# ---------------------------------------------------------------- export
st.subheader("Export", anchor=False)
choices = patient_choices(engine=engine, actor=actor)
if not choices:
    st.info("Nothing to export yet: no patients.", icon=":material/inbox:")
    st.stop()
labels = {c.code: c.label for c in choices}
row = st.columns(3)
kind = (
    row[0].selectbox(
        "What",
        list(ExportKind),
        format_func=lambda what: EXPORT_WORDS[what],
        key="records.export_what",
    )
    or ExportKind.SESSIONS
)
patient = row[1].selectbox(
    "Whose",
    [c.code for c in choices],
    index=None,
    format_func=lambda code: labels.get(code, code),
    placeholder="The whole caseload",
    key="records.export_patient",
)
today = state.local_today_date()
as_of = row[2].date_input(
    "As of" if kind is ExportKind.REVIEW else "Up to and including",
    value=today,
    format=date_input_format(),
    key="records.export_as_of",
    help=(
        "The review is evaluated as of this day."
        if kind is ExportKind.REVIEW
        else "Records after this day are left out."
    ),
)
request = ExportRequest(what=kind, patient=patient, as_of=as_of)
st.caption(
    f"{EXPORT_WORDS[kind]} for "
    f"{plain(labels[patient]) if patient else 'the whole caseload'}, "
    f"{'as of' if kind is ExportKind.REVIEW else 'up to'} {format_date(as_of)}."
)
widgets.csv_download(
    "Download CSV",
    lambda who: build_export(engine=engine, actor=who, request=request, config=config).data,
    permission=Permission.EXPORT_RECORDS,
    file_name=file_name(request, today),
    key="records.download",
)
