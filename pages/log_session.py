"""Log a session: every field of rules.md §1, checked by the importer's own validators.

Not an ``st.form``: a theme's course is asked only once its intensity is above
0, which needs the page to rerun when an intensity changes. Saving runs in the
button's callback, before the page is drawn, so each problem appears under
its own field. Callbacks run before the entry script's login check, so each
one checks the login itself (``state.callback_actor``).
"""

from time import monotonic

import streamlit as st

from redflags.codes import Route
from redflags.fields import COURSES, FIELDS_BY_NAME, ROUTES, THEMES, Field, Kind
from redflags.labels import (
    COURSE_HELP,
    course_words,
    format_dose,
    format_moment,
    plain,
    route_words,
    treatment_words,
)
from redflags.validation import Problem, parse_patient_code
from services.access import Permission
from services.caseload import patient_status
from services.patients import (
    MAX_NAME_CHARS,
    TREATMENT_STATUSES,
    add_patient,
    next_treatment,
    patient_choices,
    session_choices,
)
from services.sessions import (
    CHANGED_SINCE,
    CHANGED_SINCE_FIELD,
    MAX_EDIT_REASON_CHARS,
    SaveResult,
    edit_session,
    log_session,
    remove_session,
    session_form_values,
)
from services.settings import date_input_format
from ui import forms, navigation, state, widgets

actor = state.require_login(Permission.WRITE_CLINICAL)
engine = state.engine()

NEW, EDIT = "new", "edit"
RESULT, SAVED, ADDED, REMOVED = "log.result", "log.saved", "log.added", "log.removed"
#: Which button gave RESULT: "save" or "remove".
ACTION = "log.action"


def key(name: str) -> str:
    return f"log.{name}"


DAY, TIME = key("session_day"), key("session_time")
LAST = key("last_saved")
#: The version of the session loaded for editing: a colleague's save since then is not undone.
VERSION = key("edit_version")
#: (patient code, session id) of the session loaded for editing. The chooser's own value
#: is its description as the browser knows it: once a colleague changes the session's
#: date, route or dose, or removes it, that description names no session any more.
LOADED = key("loaded")


def chosen_session() -> int | None:
    """The id of the session chosen for editing, also when a colleague's save has
    changed its description in the chooser since it was loaded."""
    value = st.session_state.get(key("edit_id"))
    if isinstance(value, int):
        return value
    loaded = st.session_state.get(LOADED)
    return loaded[1] if isinstance(value, str) and loaded else None


st.session_state.setdefault(DAY, state.local_today_date())


def clear_form() -> None:
    for field in forms.FORM_FIELDS:
        st.session_state[key(field.name)] = None
    st.session_state[TIME] = None


def add_new_patient() -> None:
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    if who is None:
        return
    result = add_patient(
        engine=engine,
        actor=who,
        code=st.session_state[key("new_code")],
        display_name=st.session_state[key("new_name")],
        primary_clinician=st.session_state[key("new_clinician")],
        treatment_status=st.session_state[key("new_treatment")],
    )
    st.session_state[ADDED] = result
    if result.ok:
        # As stored: a code typed in full-width or decomposed letters is kept normalised.
        stored = parse_patient_code(st.session_state[key("new_code")])
        st.session_state[key("added_code")] = stored
        widgets.choose_patient(stored)
        for name in ("new_code", "new_name", "new_clinician"):
            st.session_state[key(name)] = ""


def load_session() -> None:
    session_id = st.session_state.get(key("edit_id"))
    if isinstance(session_id, str):
        # Not a choice: the chooser lost the loaded session's description (a colleague
        # changed or removed it). What the user has typed stays; saving says what happened.
        return
    st.session_state.pop(RESULT, None)
    st.session_state.pop(SAVED, None)
    st.session_state[key("edit_reason")] = ""
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    if session_id is None or who is None:
        return
    stored = session_form_values(engine=engine, actor=who, session_id=int(session_id))
    st.session_state[VERSION] = stored.version
    st.session_state[LOADED] = (stored.values.get("patient_id"), int(session_id))
    loaded = forms.session_widgets(stored.values)
    st.session_state[DAY], st.session_state[TIME] = loaded.day, loaded.at
    for name, value in loaded.values.items():
        st.session_state[key(name)] = value


def carry_over() -> None:
    """Fill route and dose as last given or since decided (asked for, never a default)."""
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    code = st.session_state.get(widgets.PATIENT_PARAM)
    if who is None or not code:
        return
    planned = next_treatment(engine=engine, actor=who, patient_code=code)
    if planned is not None:
        st.session_state[key("route")] = planned.route
        st.session_state[key("dose_mg")] = planned.dose_mg


def remove() -> None:
    """Remove the session chosen for editing, entered in error (the reason field says why)."""
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    session_id = chosen_session()
    if who is None or session_id is None:
        return
    result = remove_session(
        engine=engine,
        actor=who,
        session_id=int(session_id),
        reason=st.session_state.get(key("remove_reason")) or "",
        version=st.session_state.get(VERSION),
    )
    st.session_state[ACTION] = "remove"
    st.session_state[RESULT] = result
    st.session_state[SAVED] = None
    st.session_state[REMOVED] = st.session_state.get(widgets.PATIENT_PARAM) if result.ok else None
    if result.ok:
        clear_form()
        st.session_state[key("edit_id")] = None
        st.session_state[LOADED] = None
        st.session_state[key("edit_reason")] = ""
        st.session_state[key("remove_reason")] = ""
        st.session_state[key("remove_confirm")] = False


def save() -> None:
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    if who is None:
        return
    code = st.session_state.get(widgets.PATIENT_PARAM)
    values = forms.session_values(
        patient_code=code,
        day=st.session_state.get(DAY),
        at=st.session_state.get(TIME),
        values={f.name: st.session_state.get(key(f.name)) for f in forms.FORM_FIELDS},
    )
    editing = st.session_state.get(key("mode")) == EDIT
    session_id = chosen_session()
    if not editing and forms.is_repeat_click(values, st.session_state.get(LAST), monotonic()):
        return  # a second click on Save: the first one's result stays on the page
    result: SaveResult
    if editing and session_id is None:
        result = SaveResult(
            None, [Problem("choose the session to edit", None, CHANGED_SINCE_FIELD)]
        )
    elif editing and session_id is not None:
        result = edit_session(
            engine=engine,
            actor=who,
            session_id=session_id,
            values=values,
            reason=st.session_state.get(key("edit_reason")) or "",
            version=st.session_state.get(VERSION),
        )
    else:
        result = log_session(engine=engine, actor=who, values=values)
    st.session_state[ACTION] = "save"
    st.session_state[RESULT] = result
    st.session_state[SAVED] = (code, editing) if result.ok else None
    st.session_state[REMOVED] = None
    if result.ok and not editing:
        st.session_state[LAST] = forms.SavedForm(values, monotonic())
        clear_form()
    if result.ok and editing:
        st.session_state[key("edit_reason")] = ""
        st.session_state[VERSION] = result.version


st.title("Log a session")
st.caption(
    "Every field of a dosing session. Blank means not recorded (a blank theme is not 0). "
    "The same checks as the CSV import apply when you save."
)

choices = patient_choices(engine=engine, actor=actor)
with st.expander("Add a new patient", icon=":material/person_add:", expanded=not choices):
    added = st.session_state.pop(ADDED, None)
    added_problems = forms.problems_by_field(added.problems if added else [])
    st.text_input(
        "Patient code",
        key=key("new_code"),
        max_chars=64,
        help="The clinic's own code: 1–64 letters, digits, '-', '_' or '.' (case-sensitive).",
    )
    widgets.field_problems(added_problems, "patient_id")
    st.text_input("Display name", key=key("new_name"), max_chars=MAX_NAME_CHARS)
    widgets.field_problems(added_problems, "display_name")
    st.text_input("Primary clinician", key=key("new_clinician"), max_chars=MAX_NAME_CHARS)
    widgets.field_problems(added_problems, "primary_clinician")
    st.selectbox(
        "Treatment status",
        TREATMENT_STATUSES,
        format_func=treatment_words,
        key=key("new_treatment"),
    )
    widgets.field_problems(added_problems, "treatment_status")
    st.button("Add patient", on_click=add_new_patient, icon=":material/person_add:", key=key("add"))
    widgets.remaining_problems(added_problems)
    if added is not None and added.ok:
        st.success(
            f"Patient {plain(st.session_state.get(key('added_code'), ''))} added and chosen below.",
            icon=":material/check:",
        )

if not choices:
    st.info(
        "No patients yet: add one above, or import a sessions CSV on the Records page.",
        icon=":material/person_add:",
    )
    st.stop()

# Set through the state, not default=: a value given back after an outage
# (state.keep_typed_forms) would otherwise contend with the default.
st.session_state.setdefault(key("mode"), NEW)
mode = st.segmented_control(
    "What to do",
    [NEW, EDIT],
    format_func=lambda mode: {NEW: "Log a new session", EDIT: "Edit a stored session"}[mode],
    required=True,
    key=key("mode"),
)
result: SaveResult | None = st.session_state.get(RESULT)
problems = forms.problems_by_field(result.problems if result else [])

code = widgets.patient_picker(choices)
widgets.field_problems(problems, "patient_id")
widgets.typed_for_another_patient(
    code,
    typed=forms.anything_typed(
        {f.name: st.session_state.get(key(f.name)) for f in forms.FORM_FIELDS}
    ),
    prefix=key(""),
    clear=clear_form,
)

if mode == EDIT:
    stored = session_choices(engine=engine, actor=actor, patient_code=code) if code else []
    described = {
        s.session_id: f"{format_moment(s.session_at, with_time=s.time_recorded)} · "
        f"{route_words(s.route)} {format_dose(s.dose_mg)}"
        for s in stored
    }
    loaded = st.session_state.get(LOADED)
    if st.session_state.get(key("edit_id")) not in (None, *described):
        # The chooser holds a session that is not among this patient's now: the old
        # description of the loaded one (a browser) or its id (AppTest). Point it at
        # that session again (under its new description), or at nothing when it is gone.
        still_there = loaded is not None and loaded[1] in described
        st.session_state[key("edit_id")] = loaded[1] if loaded and still_there else None
    if (
        loaded is not None
        and loaded[0] == code
        and loaded[1] not in described
        and st.session_state.get(key("edit_id")) is None
    ):
        st.warning(
            "The session you had open is no longer stored: someone removed it as entered in "
            "error (the audit log says who and why). Nothing of yours was saved; choose "
            "another session, or log it again as a new one.",
            icon=":material/warning:",
        )
    st.selectbox(
        "Session to edit (newest first)",
        list(described),
        index=None,
        format_func=lambda session_id: described.get(session_id, str(session_id)),
        placeholder="Choose a session" if stored else "This patient has no session yet",
        key=key("edit_id"),
        on_change=load_session,
    )
    if problems.get(CHANGED_SINCE_FIELD):
        widgets.field_problems(problems, CHANGED_SINCE_FIELD)
    if (
        result is not None
        and st.session_state.get(key("edit_id")) in described
        and any(p.message.startswith(CHANGED_SINCE) for p in result.problems)
    ):
        st.button(
            "Load the stored session again",
            icon=":material/refresh:",
            on_click=load_session,
            key=key("reload"),
        )
    st.text_input(
        "Reason for the change",
        key=key("edit_reason"),
        max_chars=MAX_EDIT_REASON_CHARS,
        placeholder="e.g. a typo in the dose; the 40-minute reading added later",
    )
    widgets.field_problems(problems, "edit_reason")
    st.caption("Saving changes keeps the old values and this reason in the audit trail.")
elif code:
    planned = next_treatment(engine=engine, actor=actor, patient_code=code)
    if planned is not None:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.caption(forms.next_treatment_words(planned))
            st.button(
                "Route and dose as decided" if planned.decided_at else "Same route and dose",
                icon=":material/content_copy:",
                on_click=carry_over,
                key=key("carry_over"),
                help="Fills route and dose from the line beside; check them against today's.",
            )


def number_widget(field: Field, label: str | None = None) -> None:
    # No min_value/max_value: the browser would keep an out-of-range number from
    # reaching the app at all, and the field would save as "not recorded" (a PHQ-9
    # item 9 of 4 would then fire no flag). The range is checked with the rest, by
    # check_session, and reported beside the field like any other problem.
    integer = field.kind is Kind.INTEGER
    st.number_input(
        label or field.label.capitalize(),
        step=1 if integer else 1.0,
        value=None,
        format="%d" if integer else "%g",
        placeholder="not recorded",
        key=key(field.name),
    )
    widgets.field_problems(problems, field.name)


st.subheader("Session", anchor=False)
row = st.columns([1.3, 1, 1.5, 1.1, 1.1])  # the date and the route need the room to be read
with row[0]:
    st.date_input("Session date", value=None, format=date_input_format(), key=DAY)
with row[1]:
    st.time_input(
        "Time (optional)",
        value=None,
        step=300,
        key=TIME,
        help="Asked for when the patient has a care-team decision that day: the review needs "
        "to know whether the decision came before or after the session.",
    )
with row[2]:
    st.selectbox(
        "Route",
        ROUTES,
        index=None,
        format_func=route_words,
        placeholder="Choose the route",
        key=key("route"),
    )
    widgets.field_problems(problems, "route")
with row[3]:
    number_widget(FIELDS_BY_NAME["dose_mg"], "Dose (mg)")
    if st.session_state.get(key("route")) in (None, Route.ESKETAMINE_NASAL):
        st.caption("Esketamine nasal: 28, 56 or 84 mg.")
with row[4]:
    number_widget(FIELDS_BY_NAME["weight_kg"], "Weight (kg, optional)")
widgets.field_problems(problems, "session_date")  # the row's width: these can be long

st.subheader("Themes during the session", anchor=False)
st.caption(
    "Intensity 0–10; leave blank when not assessed. The course is asked once the "
    "intensity is above 0."
)
for theme in THEMES:
    left, right = st.columns([1, 3])
    with left:
        number_widget(FIELDS_BY_NAME[theme])
    with right:
        intensity = st.session_state.get(key(theme))
        if isinstance(intensity, int) and intensity > 0:
            st.segmented_control(
                f"How did {FIELDS_BY_NAME[theme].label} end?",
                COURSES,
                format_func=course_words,
                key=key(f"{theme}_course"),
                help=COURSE_HELP,
            )
        widgets.field_problems(problems, f"{theme}_course")

st.subheader("Measures", anchor=False)
measures = st.columns(4)
with measures[0]:
    number_widget(FIELDS_BY_NAME["dissociation_cadss"], "CADSS total")
with measures[1]:
    number_widget(FIELDS_BY_NAME["observation_min"], "Observation (minutes)")
with measures[2]:
    number_widget(FIELDS_BY_NAME["phq9"], "PHQ-9 total")
with measures[3]:
    number_widget(FIELDS_BY_NAME["phq9_item9"], "PHQ-9 item 9")
st.markdown("**Blood pressure (mmHg)**")
for when in ("pre", "40", "end"):
    systolic, diastolic = st.columns(2)
    with systolic:
        number_widget(FIELDS_BY_NAME[f"bp_{when}_sys"])
    with diastolic:
        number_widget(FIELDS_BY_NAME[f"bp_{when}_dia"])

st.subheader("After the session", anchor=False)
st.text_input(
    "The patient's small commitment",
    key=key("commitment"),
    placeholder="The one small action the patient chose (journaling, a conversation …)",
)
widgets.field_problems(problems, "commitment")
st.text_area("Clinician note", key=key("note"))
widgets.field_problems(problems, "note")

editing = mode == EDIT
with st.container(horizontal=True):
    st.button(
        "Save changes" if editing else "Save session",
        type="primary",
        icon=":material/save:",
        on_click=save,
        disabled=editing and st.session_state.get(key("edit_id")) is None,
        key=key("save"),
    )
    st.button("Clear the form", on_click=clear_form, key=key("clear"))

if editing and st.session_state.get(key("edit_id")) is not None:
    with st.expander("Remove this session: it was entered in error", icon=":material/delete:"):
        st.caption(
            "For a session logged for the wrong patient, or logged twice; to correct a value, "
            "save changes instead. The session leaves the review, the report and the exports; "
            "the audit log keeps every value it had and this reason. An import of a file that "
            "still holds it is refused at that row; if it did take place after all, log it "
            "again here."
        )
        st.text_input(
            "Why it was entered in error",
            key=key("remove_reason"),
            max_chars=MAX_EDIT_REASON_CHARS,
            placeholder="e.g. logged for the wrong patient; the same session logged twice",
        )
        widgets.field_problems(problems, "remove_reason")
        confirmed = st.checkbox("This session was entered in error", key=key("remove_confirm"))
        st.button(
            "Remove the session",
            icon=":material/delete:",
            on_click=remove,
            disabled=not confirmed,
            key=key("remove"),
        )

if result is not None and not result.ok:
    st.error(
        f"{'Not removed' if st.session_state.get(ACTION) == 'remove' else 'Not saved'}: "
        f"{forms.problems_summary(result.problems)}; each is shown under its field.",
        icon=":material/error:",
    )
    widgets.remaining_problems(problems)

removed = st.session_state.get(REMOVED)
if removed:
    st.success(
        f"Session removed for {plain(removed)}; the audit log keeps its values.",
        icon=":material/delete:",
    )
    st.page_link(
        navigation.PATIENT_REPORT.path,
        label="Open the patient's report",
        icon=":material/clinical_notes:",
        query_params={"patient": removed},
    )

saved = st.session_state.get(SAVED)
if saved:
    saved_code, was_edit = saved
    st.success(
        f"{'Changes saved' if was_edit else 'Session saved'} for {plain(saved_code)}.",
        icon=":material/check:",
    )
    now_review = patient_status(
        engine=engine,
        actor=actor,
        patient_code=saved_code,
        as_of=state.local_today_date(),
        config=state.rules(),
    )
    widgets.status_summary(
        now_review,
        title=f"{saved_code}: status now",
        treatment_status=next((c.treatment_status for c in choices if c.code == saved_code), ""),
    )
    st.page_link(
        navigation.PATIENT_REPORT.path,
        label="Open the patient's report",
        icon=":material/clinical_notes:",
        query_params={"patient": saved_code},
    )
