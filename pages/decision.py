"""Care-team decision: what to discuss, then what was decided with the patient (rules.md §8).

The flags considered become addressed: the status shown after saving counts
only the flags still open.
"""

import streamlit as st

from redflags.codes import DecisionKind
from redflags.fields import ROUTES
from redflags.labels import (
    DECISION_WORDS,
    decision_words,
    flag_words,
    format_moment,
    plain,
    route_and_dose,
    route_words,
)
from services.access import Permission
from services.caseload import HELD_OPTIONS, patient_status
from services.decisions import (
    StoredDecision,
    patient_decisions,
    record_decision,
    withdraw_decision,
)
from services.patients import patient_choices
from services.report import UnknownPatient, patient_report
from services.report_view import open_flag_codes, untimed_sessions
from services.sessions import SaveResult
from services.settings import date_input_format
from ui import forms, navigation, state, widgets

actor = state.require_login(Permission.WRITE_CLINICAL)
engine, config = state.engine(), state.rules()
RESULT, SAVED = "decision.result", "decision.saved"
CONSIDERED = "decision.considered"


def key(name: str) -> str:
    return f"decision.{name}"


#: What the user types or chooses for the patient (the rest follows the patient chosen).
TYPED_TEXT = ("participants", "patient_view", "rationale")
TYPED_CHOICES = ("kind", "route_to", "dose_to")


def clear_typed() -> None:
    for name in TYPED_TEXT:
        st.session_state[key(name)] = ""
    for name in TYPED_CHOICES:
        # Set, not popped: a popped widget value leaves the browser showing the old
        # choice beside a button that says none is made.
        st.session_state[key(name)] = None


st.title("Care-team decision")
st.caption(
    "Record what the care team decided together with the patient. The flags you mark as "
    "considered count as addressed until a new session is evidence for them again."
)

choices = patient_choices(engine=engine, actor=actor)
if not choices:
    st.info(
        "No patients yet. Import records on the Records page or add a patient on Log a session.",
        icon=":material/person_add:",
    )
    st.stop()

code = widgets.patient_picker(choices)
widgets.typed_for_another_patient(
    code,
    typed=any(st.session_state.get(key(name)) for name in (*TYPED_TEXT, *TYPED_CHOICES)),
    prefix=key(""),
    clear=clear_typed,
)
treatments = {choice.code: choice.treatment_status for choice in choices}
treatment = treatments.get(code or "", "")
if code is None:
    st.info("Choose the patient the decision is about.", icon=":material/search:")
    st.stop()

today = state.local_today_date()
try:
    report = patient_report(
        engine=engine,
        actor=actor,
        patient_code=code,
        as_of=today,
        config=config,
        audit_view=state.first_view("decision", code),
    )
except UnknownPatient:
    st.error(f"No patient has the code {plain(code)}. Choose another patient.")
    st.stop()
review = report.review
open_findings = review.open_flags

# ---------------------------------------------------------------- to discuss
st.subheader("To discuss", anchor=False)
with st.container(horizontal=True, vertical_alignment="center"):
    widgets.status_badge(review.status.value)
    latest = route_and_dose(review.route, review.dose_mg)
    st.caption(
        f"Latest: {latest} · treatment {treatment}"
        if treatment in HELD_OPTIONS
        else f"Now: {latest}"
    )
if open_findings:
    for finding in open_findings:
        st.markdown(f"- **{flag_words(finding.code)}** — {plain(finding.sentence)}")
else:
    st.success(
        f"No open flag. Treatment is {treatment}: a decision to resume (continue) or "
        "to change the plan can be recorded here."
        if treatment in HELD_OPTIONS
        else "No open flag: nothing needs a decision. You can still record one (e.g. continue).",
        icon=":material/check:",
    )
for item in review.recommendations:
    st.info(
        widgets.recommendation_markdown(item, treatment),
        icon=":material/lightbulb:",
    )
if review.addressed:
    st.caption(
        "Already addressed: "
        + "; ".join(
            f"{flag_words(f.code)} ({decision_words(f.addressed_by_decision)}, "
            f"{format_moment(f.addressed_by_decided_at)})"
            for f in review.addressed
        )
    )

# ---------------------------------------------------------------- the decision
flag_options = open_flag_codes((*open_findings, *review.addressed))
now = state.local_now()
st.session_state.setdefault(key("day"), now.date())
st.session_state.setdefault(key("time"), now.time().replace(second=0, microsecond=0))
if st.session_state.get(key("flags_for")) != code:
    # A new patient: consider their open red flags and watch signals, unless the user
    # changes that. Safety flags are never ticked for the user: each calls for its own
    # same-day review, and ticking one by accident would clear an urgent status.
    st.session_state[key("flags")] = open_flag_codes((*review.red_flags, *review.watch))
    st.session_state[key("flags_for")] = code
    st.session_state[key("route_from")] = review.route
    st.session_state[key("dose_from")] = review.dose_mg
# A flag chosen that is no longer this patient's (a colleague edited or removed its
# sessions since the form opened): the browser keeps it as its words, which name no flag.
gone_flags = [f for f in st.session_state.get(key("flags"), []) if f not in flag_options]
if gone_flags:
    st.session_state[key("flags")] = [
        f for f in st.session_state[key("flags")] if f in flag_options
    ]


def save() -> None:
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    if who is None:
        return
    state_ = st.session_state
    values = forms.decision_values(
        patient_code=state_.get(widgets.PATIENT_PARAM),
        day=state_.get(key("day")),
        at=state_.get(key("time")),
        decision=state_.get(key("kind")),
        route_from=state_.get(key("route_from")),
        route_to=state_.get(key("route_to")),
        dose_from=state_.get(key("dose_from")),
        dose_to=state_.get(key("dose_to")),
        participants=state_.get(key("participants"), ""),
        patient_view=state_.get(key("patient_view"), ""),
        rationale=state_.get(key("rationale"), ""),
        flags_considered=state_.get(key("flags"), []),
    )
    extra = forms.decision_form_problems(values)
    result = (
        SaveResult(None, extra)
        if extra
        else record_decision(engine=engine, actor=who, values=values)
    )
    state_[RESULT] = result
    state_[SAVED] = state_.get(widgets.PATIENT_PARAM) if result.ok else None
    state_[CONSIDERED] = list(state_.get(key("flags"), [])) if result.ok else []
    if result.ok:
        clear_typed()  # the next decision starts blank
        state_.pop(key("flags_for"), None)  # the flags now addressed leave the default
        later = state.local_now()
        state_[key("day")] = later.date()
        state_[key("time")] = later.time().replace(second=0, microsecond=0)


result: SaveResult | None = st.session_state.get(RESULT)
problems = forms.problems_by_field(result.problems if result else [])
widgets.field_problems(problems, "patient_id")

st.subheader("The decision", anchor=False)
row = st.columns([1, 1, 3])
with row[0]:
    st.date_input("Decided on", value=None, format=date_input_format(), key=key("day"))
with row[1]:
    st.time_input("At", value=None, step=60, key=key("time"))
with row[2]:
    widgets.field_problems(problems, "decided_at")
kind = st.segmented_control(
    "Decision",
    list(DECISION_WORDS),
    format_func=decision_words,
    key=key("kind"),
)
widgets.field_problems(problems, "decision")

if kind == DecisionKind.ADJUST_DOSE:
    before, after = st.columns(2)
    with before:
        st.number_input(
            "Dose from (mg)",
            step=1.0,
            value=None,
            format="%g",
            key=key("dose_from"),
        )
        widgets.field_problems(problems, "dose_from_mg")
    with after:
        st.number_input(
            "Dose to (mg)",
            step=1.0,
            value=None,
            format="%g",
            key=key("dose_to"),
        )
        widgets.field_problems(problems, "dose_to_mg")
elif kind == DecisionKind.SWITCH_ROUTE:
    before, after = st.columns(2)
    with before:
        st.selectbox(
            "Route from", ROUTES, index=None, format_func=route_words, key=key("route_from")
        )
        widgets.field_problems(problems, "route_from")
    with after:
        st.selectbox("Route to", ROUTES, index=None, format_func=route_words, key=key("route_to"))
        widgets.field_problems(problems, "route_to")
        st.number_input(
            "Starting dose on the new route (mg, optional)",
            step=1.0,
            value=None,
            format="%g",
            placeholder="not decided yet",
            key=key("dose_to"),
            help="Esketamine nasal: 28, 56 or 84 mg. The next session's form offers it.",
        )
        widgets.field_problems(problems, "dose_to_mg")

st.text_input(
    "Who took part",
    key=key("participants"),
    placeholder="e.g. the patient; Dr Okafor; nurse Lee (separate names with ;)",
)
widgets.field_problems(problems, "participants")
st.text_area("The patient's view, in their own words", key=key("patient_view"))
widgets.field_problems(problems, "patient_view")
st.text_area("Rationale", key=key("rationale"))
widgets.field_problems(problems, "rationale")
st.multiselect(
    "Flags considered (these become addressed)",
    flag_options,
    format_func=flag_words,
    key=key("flags"),
    placeholder="No flag" if not flag_options else "Choose flags",
    help="Open red flags and watch signals are chosen to begin with; safety flags only when "
    "you choose them.",
)
widgets.field_problems(problems, "flags_considered")
if gone_flags:
    st.info(
        "Taken out of the flags considered, as this patient no longer has it (the sessions "
        f"changed since this form opened): {'; '.join(flag_words(str(f)) for f in gone_flags)}.",
        icon=":material/info:",
    )
if review.safety_flags:
    st.caption(
        ":material/emergency: Safety flags ("
        + "; ".join(flag_words(f.code) for f in review.safety_flags)
        + ") are not chosen for you: choose one only when this decision is the same-day "
        "safety review it calls for."
    )

timed_early = forms.flags_before_their_evidence(
    st.session_state.get(key("flags"), []),
    review,
    st.session_state.get(key("day")),
    st.session_state.get(key("time")),
)
if timed_early:
    st.warning(timed_early, icon=":material/schedule:")
untimed_that_day = forms.untimed_session_that_day(
    untimed_sessions(report.sessions), st.session_state.get(key("day"))
)
if untimed_that_day:
    st.info(untimed_that_day, icon=":material/schedule:")

st.button(
    "Record the decision",
    type="primary",
    icon=":material/save:",
    on_click=save,
    disabled=kind is None,
    key=key("save"),
)
if kind is None:
    st.caption("Choose a decision to record it.")

if result is not None and not result.ok:
    st.error(
        f"Not recorded: {forms.problems_summary(result.problems)}; see the messages above.",
        icon=":material/error:",
    )
    widgets.remaining_problems(problems)

saved = st.session_state.get(SAVED)
if saved:
    st.success(f"Decision recorded for {plain(saved)}.", icon=":material/check:")
    now_status = patient_status(
        engine=engine, actor=actor, patient_code=saved, as_of=today, config=config
    )
    left_open = forms.flags_left_open(st.session_state.get(CONSIDERED, []), now_status)
    if left_open:
        st.warning(left_open, icon=":material/schedule:")
    widgets.status_summary(
        now_status, title=f"{saved}: status now", treatment_status=treatments.get(saved, "")
    )
    st.page_link(
        navigation.PATIENT_REPORT.path,
        label="Open the patient's report",
        icon=":material/clinical_notes:",
        query_params={"patient": saved},
    )

# ---------------------------------------------------------------- withdraw one entered in error
WITHDRAWN, WITHDRAW_RESULT = "decision.withdrawn", "decision.withdraw_result"
if st.session_state.get(key("withdraw_for")) != code:
    st.session_state[key("withdraw_which")] = None
    st.session_state[key("withdraw_reason")] = ""
    st.session_state[key("withdraw_for")] = code
    st.session_state.pop(WITHDRAW_RESULT, None)


def withdraw() -> None:
    who = state.callback_actor(Permission.WRITE_CLINICAL)
    chosen: StoredDecision | None = st.session_state.get(key("withdraw_which"))
    if who is None or chosen is None:
        return
    # The choice holds the decision as it was listed (its id and when it was stored): a
    # choice kept while the user was on another page names it, not whatever has its id now.
    outcome = withdraw_decision(
        engine=engine,
        actor=who,
        decision_id=chosen.id,
        reason=st.session_state.get(key("withdraw_reason"), ""),
        patient_code=st.session_state.get(widgets.PATIENT_PARAM),
        version=chosen.version,
    )
    st.session_state[WITHDRAW_RESULT] = outcome
    if outcome.ok:
        st.session_state[WITHDRAWN] = st.session_state.get(widgets.PATIENT_PARAM)
        st.session_state[key("withdraw_which")] = None
        st.session_state[key("withdraw_reason")] = ""
        st.session_state.pop(SAVED, None)
        st.session_state.pop(key("flags_for"), None)  # the flags it addressed are open again


withdrawn_for = st.session_state.pop(WITHDRAWN, None)
if withdrawn_for:
    st.success(
        f"Decision withdrawn for {plain(withdrawn_for)}: any flags it addressed are open again "
        "(the audit log keeps it and the reason).",
        icon=":material/undo:",
    )
withdraw_result: SaveResult | None = st.session_state.get(WITHDRAW_RESULT)
if withdraw_result is not None and not withdraw_result.ok:
    # Outside the expander: a rerun may draw it closed.
    for problem in withdraw_result.problems:
        st.error(f"Not withdrawn: {plain(problem.message)}.", icon=":material/error:")
stored = patient_decisions(engine=engine, actor=actor, patient_code=code)
chosen_before = st.session_state.get(key("withdraw_which"))
if chosen_before is not None and chosen_before not in stored:
    st.session_state[key("withdraw_which")] = None
    st.info(
        "The decision chosen to withdraw is not recorded as it was when you chose it (withdrawn "
        "or replaced since): choose it again if it is still there.",
        icon=":material/info:",
    )
with st.expander("Withdraw a decision entered in error"):
    st.caption(
        f"{len(stored)} recorded for this patient. For a decision recorded for the wrong "
        "patient or recorded twice: it leaves the record, the flags it addressed are open "
        "again, and a treatment status it set here goes back to what the remaining decisions "
        "imply (an imported decision set none); the audit log keeps every value and the "
        "reason. A decision that was taken stays: record the new one instead."
    )
    st.selectbox(
        "Decision",
        stored,
        index=None,
        format_func=lambda item: (
            f"{format_moment(item.decided_at)} · {decision_words(item.decision)} · "
            f"recorded by {item.recorded_by or 'import'}"
        ),
        placeholder="Choose the decision entered in error" if stored else "No decision recorded",
        disabled=not stored,
        key=key("withdraw_which"),
    )
    st.text_area(
        "Why it was entered in error",
        placeholder="e.g. recorded for the wrong patient; recorded twice",
        key=key("withdraw_reason"),
    )
    st.button(
        "Withdraw the decision",
        icon=":material/undo:",
        on_click=withdraw,
        disabled=st.session_state.get(key("withdraw_which")) is None,
        key=key("withdraw"),
    )
