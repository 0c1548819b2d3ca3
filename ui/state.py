"""The login state of one browser session, the engine and the rules in force."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

import streamlit as st
from sqlalchemy import Engine

from models.db import DATABASE_DOWN as DATABASE_DOWN  # what pages catch
from models.db import get_engine
from models.tables import utc_now
from redflags.clinic_time import ClinicTimezoneError, clinic_timezone, utc_to_local
from redflags.config import RULES_FILE_ENV, RulesConfig, RulesConfigError
from services import audit, auth
from services.access import Actor, Permission, require
from services.caseload import Caseload, caseload, record_caseload_view
from services.records import RecordsError, max_import_bytes
from services.settings import SettingsError, access_settings, date_input_format

ACTOR_KEY = "actor"
#: This session's last weekly-review caseload (:func:`caseload_as_of`).
CASELOAD_KEY = "review.caseload"
LOGGED_IN_AT_KEY = "logged_in_at"
LAST_ACTIVITY_KEY = "last_activity_at"
PAGE_KEY = "page"
#: Shown by a page reached without a login (the link leads to the login page).
LOGIN_FIRST = "Please [log in](./) to see this page."
#: How often an open page checks, between clicks, whether its login has lapsed.
LOGIN_WATCH_SECONDS = 30
DATABASE_UNAVAILABLE = (
    "**The database is not answering.** It may be restarting, the network to it may be "
    "down, or a large import may be holding it. Nothing on this page was changed. Try again "
    "in a moment; if it keeps happening, tell your administrator."
)
#: The forms whose typed values outlive a run the database stopped, and a visit to
#: another page (:func:`keep_typed_forms`), by the URL path of their page.
FORM_OF_PAGE = {"log_session": "log.", "decision": "decision."}
KEPT_FORM_PREFIXES = tuple(FORM_OF_PAGE.values())
KEPT_FORMS_KEY = "kept.forms"
RESTORE_FORMS_KEY = "kept.restore"
#: The clock; tests replace it to exercise idle logoff without waiting.
clock: Callable[[], datetime] = utc_now


@st.cache_resource
def engine() -> Engine:
    """The process-wide database engine (a resource: never holds patient data)."""
    return get_engine()


@st.cache_resource
def rules() -> RulesConfig:
    """The validated rules configuration, loaded once per server process (audited)."""
    return audit.load_rules_recorded(engine=engine(), program="dashboard").config


@dataclass(frozen=True)
class KeptCaseload:
    """A caseload and what it was computed from: (records version, as-of date, rules)."""

    key: tuple[int, date, RulesConfig]
    caseload: Caseload


@dataclass(frozen=True)
class SetupProblem:
    """Why this installation cannot show any page, and how to put it right."""

    what: str
    problem: str
    remedy: str


def setup_problem() -> SetupProblem | None:
    """What in the installation stops the dashboard, or None when all is usable.

    Checked before anything else on every run: the dashboard does not start on
    an invalid rules file (rules.md §10), nor on an environment setting it cannot
    use (CLINIC_TIMEZONE, the REDFLAGS_* limits and date format), which would
    otherwise fail later as an error without words. An invalid rules file is
    not cached, so a corrected file is taken up at the next reload.
    """
    try:
        rules()
    except RulesConfigError as error:
        return SetupProblem(
            "The rules file in force is not valid, so no review can be computed",
            str(error),
            f"Correct the file (or point {RULES_FILE_ENV} at a valid one), then reload this "
            "page. The shipped file `redflags/rules.toml` lists every key with its default.",
        )
    try:
        clinic_timezone()
        access_settings()
        date_input_format()
        max_import_bytes()
    except (ClinicTimezoneError, SettingsError, RecordsError) as error:
        return SetupProblem(
            "A setting of this installation is not valid",
            str(error),
            "Correct that environment variable where the dashboard is started (or remove it "
            "to use the default), then restart the dashboard. The README lists every setting.",
        )
    return None


def log_in(actor: Actor) -> None:
    """Start a login for ``actor`` in this browser session."""
    st.session_state.clear()
    now = clock()
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LOGGED_IN_AT_KEY] = now
    st.session_state[LAST_ACTIVITY_KEY] = now


def log_out(reason: str = "user") -> None:
    """End the login and clear everything this browser session held (patient data too)."""
    actor = st.session_state.get(ACTOR_KEY)
    st.session_state.clear()
    if isinstance(actor, Actor):
        auth.logout(engine=engine(), actor=actor, reason=reason)
        if reason != "user":
            st.session_state["logout_notice"] = (
                f"You were logged off after {access_settings().idle_minutes} minutes "
                "without activity."
                if reason == "idle"
                else "You were logged off: your account was disabled."
                if reason == "account disabled"
                else "You were logged off: the longest a login lasts has passed."
            )


def _login() -> auth.LoginSnapshot | None:
    """This browser session's login as it stands, or None when nobody is logged in."""
    actor = st.session_state.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        return None
    return auth.LoginSnapshot(
        actor=actor,
        logged_in_at=st.session_state[LOGGED_IN_AT_KEY],
        last_activity_at=st.session_state[LAST_ACTIVITY_KEY],
    )


def _expiry_reason(login: auth.LoginSnapshot, now: datetime) -> str | None:
    return auth.session_expiry_reason(
        logged_in_at=login.logged_in_at,
        last_activity_at=login.last_activity_at,
        now=now,
        settings=access_settings(),
    )


def current_actor() -> Actor | None:
    """The logged-in actor, after the idle and absolute time limits are applied."""
    login = _login()
    if login is None:
        return None
    now = clock()
    reason = _expiry_reason(login, now)
    if reason is not None:
        log_out(reason)
        return None
    # A disabled account or a changed role takes effect at the next click, not at logoff.
    account = auth.current_account(engine=engine(), actor=login.actor)
    if account is None:
        log_out("account disabled")
        return None
    st.session_state[ACTOR_KEY] = account
    st.session_state[LAST_ACTIVITY_KEY] = now
    return account


def callback_actor(permission: Permission) -> Actor | None:
    """The actor a widget callback may act for; None when it must do nothing.

    Streamlit runs ``on_click``/``on_change`` callbacks before the entry script,
    so no page has checked the login yet: the callback applies the time limits
    and re-reads the account (disabled, role changed) itself. When this returns
    None the run that follows shows the login page or the page's refusal.
    """
    try:
        actor = current_actor()
    except DATABASE_DOWN:
        return None  # the database is not answering: the run that follows says so
    if actor is None:
        return None
    if not actor.can(permission):
        _denied(actor, permission, "button")
        return None
    return actor


def at_click(permission: Permission, build: Callable[[Actor], bytes]) -> Callable[[], bytes]:
    """``build`` for a deferred download, run for whoever is still logged in at the click.

    The login as this run sees it is kept; the click, however much later,
    applies the time limits and re-reads the account before anything is built
    (or audited). A refusal raises, so Streamlit serves no file.
    """
    login = _login()
    if login is None:
        raise auth.LoginExpired("Nobody is logged in.")
    db, settings = engine(), access_settings()

    def run() -> bytes:
        actor = auth.actor_at_click(
            engine=db, login=login, permission=permission, now=clock(), settings=settings
        )
        return build(actor)

    return run


def login_has_lapsed() -> bool:
    """Whether the login has passed a time limit or its account changed (nothing renewed).

    Polled by the entry script between clicks, so that a screen left open logs
    off on its own instead of at the next click.
    """
    login = _login()
    if login is None:
        return False
    if _expiry_reason(login, clock()) is not None:
        return True
    return auth.current_account(engine=engine(), actor=login.actor) != login.actor


def run_through_the_entry_script() -> None:
    """Rerun through dashboard.py when Streamlit ran this page on its own.

    Until some visitor's run of the entry script has called ``st.navigation``,
    Streamlit routes by the ``pages/`` folder (its first multipage scheme): the
    first visit after a server start, by a link to a page, runs that page's
    script alone — no page frame, no login form. Switching that routing off and
    rerunning runs the entry script, which shows the login page under the same
    URL (the same path and ``?patient=``), so the link still leads to its page
    after logging in. Called by a page when nobody is logged in (the visitor has
    not used any of its widgets yet, so the rerun loses nothing).
    """
    try:  # an internal of Streamlit (pinned); without it the page refuses as before
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - only after a Streamlit upgrade
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


def require_login(permission: Permission = Permission.VIEW_PATIENTS) -> Actor:
    """The logged-in actor holding ``permission``; otherwise stop the page here."""
    actor = current_actor()
    if actor is None:
        run_through_the_entry_script()
        st.warning(LOGIN_FIRST)
        st.stop()
    if not actor.can(permission):
        _denied(actor, permission, f"page {st.session_state.get(PAGE_KEY) or 'opened by its path'}")
        st.error(f"Your role ({actor.role.value}) does not give access to this page.")
        st.stop()
    return actor


def refuse_page(actor: Actor, permission: Permission, title: str, url_path: str) -> None:
    """Shown under the URL of a page the role may not open: audited, and said plainly."""
    _denied(actor, permission, f"page {url_path}")
    st.title(title, anchor=False)
    st.error(
        f"Your role ({actor.role.value}) does not give access to {title}. "
        "If you need it, ask an administrator to change your role.",
        icon=":material/block:",
    )


def _denied(actor: Actor, permission: Permission, where: str) -> None:
    auth.record_access_denied(engine=engine(), actor=actor, permission=permission, where=where)


def first_view(page: str, patient_code: str) -> bool:
    """Whether ``patient_code`` is newly opened on ``page`` (then its view is audited once).

    Reruns of the same page for the same patient (a changed date, a widget)
    are not new views; opening another patient, or coming back to the page
    from another one (see :func:`note_page`), is.
    """
    key = f"{page}.viewed_patient"
    if st.session_state.get(key) == patient_code:
        return False
    st.session_state[key] = patient_code
    return True


def note_page(url_path: str) -> None:
    """Called by the entry script each run: arriving on another page forgets earlier views,
    and arriving on a form's page gives back what was typed there before leaving it."""
    prefix = FORM_OF_PAGE.get(url_path)
    if st.session_state.get(PAGE_KEY) != url_path:
        forget_views()
        st.session_state[PAGE_KEY] = url_path
        if prefix is not None:
            _give_back_kept(prefix)
    if prefix is not None:
        # On its own page a form's copy is what it holds now: a value a callback took
        # out (a save's cleared choice) must not come back on the next visit.
        kept = st.session_state.get(KEPT_FORMS_KEY)
        others = {
            name: value
            for name, value in (kept if isinstance(kept, dict) else {}).items()
            if not name.startswith(prefix)
        }
        st.session_state[KEPT_FORMS_KEY] = others | _form_values(prefix)


def _give_back_kept(prefix: str | tuple[str, ...]) -> None:
    """Put back the kept values (of the forms under ``prefix``) that Streamlit forgot."""
    kept = st.session_state.get(KEPT_FORMS_KEY)
    if not isinstance(kept, dict):
        return
    for name, value in kept.items():
        if name.startswith(prefix) and name not in st.session_state:
            st.session_state[name] = value


def forget_views() -> None:
    """Make the next opening of any patient a new, audited view."""
    for key in [k for k in st.session_state if str(k).endswith(".viewed_patient")]:
        del st.session_state[key]


def caseload_as_of(actor: Actor, as_of: date) -> Caseload:
    """The whole caseload as of ``as_of``, computed again only when the records changed.

    Kept in this browser session's own state, never shared with another user,
    and cleared with everything else at logoff. It is keyed on the records'
    version (read first, see :func:`services.audit.records_version`), the date
    and the rules, so a filter or a click reuses it while anyone's save, import
    or decision shows on the next run. The first showing on the page is audited.
    """
    require(actor, Permission.VIEW_PATIENTS)
    db, config = engine(), rules()
    key = (audit.records_version(engine=db), as_of, config)
    kept = st.session_state.get(CASELOAD_KEY)
    if isinstance(kept, KeptCaseload) and kept.key == key:
        shown = kept.caseload
    else:
        shown = caseload(engine=db, actor=actor, as_of=as_of, config=config, audit_view=False)
        st.session_state[CASELOAD_KEY] = KeptCaseload(key, shown)
    if first_view("review", f"caseload as of {as_of.isoformat()}"):
        record_caseload_view(engine=db, actor=actor, shown=shown)
    return shown


def local_now() -> datetime:
    """The clinic's wall-clock time now (naive), from the injectable clock."""
    return utc_to_local(clock(), clinic_timezone())


def local_today_date() -> date:
    """Today's date at the clinic, from the injectable clock."""
    return local_now().date()


def _keepable(value: object) -> bool:
    """A value a form's widget can be given back: text, a number, a date or time, or a
    list of them. Not a button's or a checkbox's True (Streamlit refuses to set those)."""
    if isinstance(value, list):
        return all(isinstance(item, str | int) and not isinstance(item, bool) for item in value)
    return isinstance(value, str | int | float | date | time) and not isinstance(value, bool)


def keep_typed_forms() -> None:
    """At the start of every run: keep what the forms hold, or give it back after an outage.

    Streamlit forgets the values of the widgets a run did not draw: a session's
    note typed before a PostgreSQL restart (a run that drew no form), or before a
    look at the patient's report (another page), would be gone on return. So each
    run keeps a copy of the forms' values (this browser session's own state,
    cleared at logoff like the rest); the run after one that said the database
    was not answering puts back what Streamlit forgot, and so does arriving back
    on a form's page (:func:`note_page`). A value forgotten is kept until its form
    is drawn again; saving a form clears its values, and so its copy.
    """
    if st.session_state.get(RESTORE_FORMS_KEY):
        _give_back_kept(KEPT_FORM_PREFIXES)
    st.session_state[RESTORE_FORMS_KEY] = False
    kept = st.session_state.get(KEPT_FORMS_KEY)
    st.session_state[KEPT_FORMS_KEY] = {
        **(kept if isinstance(kept, dict) else {}),
        **_form_values(KEPT_FORM_PREFIXES),
    }


def _form_values(prefix: str | tuple[str, ...]) -> dict[str, object]:
    """The values the forms under ``prefix`` hold now that a widget can be given back."""
    return {
        name: value
        for name, value in st.session_state.items()
        if isinstance(name, str) and name.startswith(prefix) and _keepable(value)
    }


def database_unavailable() -> None:
    """Say that the database is not answering, with a way to try again.

    Nothing is logged here (the error's message may quote the statement's values);
    the database server's own log has the cause. The forms' typed values are given
    back at the next run (:func:`keep_typed_forms`).
    """
    st.session_state[RESTORE_FORMS_KEY] = True
    st.error(DATABASE_UNAVAILABLE, icon=":material/cloud_off:")
    st.button("Try again", icon=":material/refresh:", key="database_unavailable.retry")
