"""Logging in and out: argon2 passwords, lockout after repeated failures, audited.

Every attempt leaves an audit row; none holds the password. A wrong username,
a wrong password, a locked and a disabled account all get one answer
(:data:`LOGIN_REFUSED`) and cost one argon2 verification, so neither the words
nor the timing tell an attacker which usernames exist. For an unknown username
the audit row keeps only how long the typed name was: people type passwords
into the username field, and that text must not land in the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from models import audit_queries
from models.db import read_session, write_session
from models.queries import lock_audit_chain
from models.tables import utc_now
from redflags.codes import Role
from services import audit
from services.access import Actor, Permission, hash_password, require, verify_password
from services.settings import AccessSettings, access_settings
from services.users import MAX_PASSWORD_LENGTH, find_user

#: The one answer for a wrong username, a wrong password, a locked or disabled account.
LOGIN_REFUSED = "That username and password do not match an active account, or it is locked."
#: Longest username looked up; longer input is cut (the column holds 150 characters).
MAX_USERNAME_CHARS = 150
# Verifying against a real hash when the user does not exist keeps the timing the same.
_DUMMY_HASH = hash_password("not a password of anyone")


class LoginExpired(Exception):
    """The login behind a deferred action has run out or its account was disabled."""


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt: an actor, or the refusal message."""

    actor: Actor | None
    message: str = ""


def login(
    *,
    engine: Engine,
    username: str,
    password: str,
    now: datetime | None = None,
    settings: AccessSettings | None = None,
) -> LoginResult:
    """Check a username and password; lock the account after too many failures in a row.

    ``settings.max_failed_logins`` wrong passwords in a row lock the account for
    ``settings.lockout_minutes``; attempts while it is locked are refused (and
    audited) without counting. A successful login resets the count.
    """
    now = now or utc_now()
    settings = settings or access_settings()
    name = username.strip()[:MAX_USERNAME_CHARS]
    # No stored password is longer; cutting a megabyte of typing keeps each attempt's
    # argon2 cost (and its timing) that of an ordinary one.
    password = password[: MAX_PASSWORD_LENGTH + 1]
    with write_session(engine) as session:
        # The audit chain's lock first, as every other writer takes it: a login and an
        # admin's change to the same account must not wait on each other in turn.
        lock_audit_chain(session)
        # The row lock keeps concurrent wrong attempts from losing a count.
        user = audit_queries.user_for_update(session, name) if name else None
        if user is None:
            verify_password(_DUMMY_HASH, password)
            audit.record(
                session,
                actor=None,
                action="login_failed",
                entity="user",
                details={"reason": "unknown user", "typed_name_length": len(name)},
            )
            return LoginResult(None, LOGIN_REFUSED)
        if user.locked_until is not None and user.locked_until > now:
            verify_password(_DUMMY_HASH, password)
            audit.record(
                session,
                actor=None,
                action="login_failed",
                entity="user",
                entity_id=user.username,
                details={"reason": "locked", "locked_until": user.locked_until.isoformat()},
            )
            return LoginResult(None, LOGIN_REFUSED)
        if not verify_password(user.password_hash, password) or not user.active:
            user.failed_logins += 1
            reason = "wrong password" if user.active else "account disabled"
            audit.record(
                session,
                actor=None,
                action="login_failed",
                entity="user",
                entity_id=user.username,
                details={"reason": reason, "failed_in_a_row": user.failed_logins},
            )
            if user.failed_logins >= settings.max_failed_logins:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                audit.record(
                    session,
                    actor=None,
                    action="account_locked",
                    entity="user",
                    entity_id=user.username,
                    details={
                        "locked_until": user.locked_until.isoformat(),
                        "failed_in_a_row": user.failed_logins,
                        "lockout_minutes": settings.lockout_minutes,
                    },
                )
                user.failed_logins = 0
            session.add(user)
            return LoginResult(None, LOGIN_REFUSED)
        user.failed_logins = 0
        user.locked_until = None
        session.add(user)
        actor = Actor(username=user.username, role=Role(user.role))
        audit.record(session, actor=actor, action="login", entity="user", entity_id=user.username)
        return LoginResult(actor)


def logout(*, engine: Engine, actor: Actor, reason: str = "user") -> None:
    """Record a logout (by the user, idle timeout or session limit)."""
    audit.record_alone(
        engine,
        actor=actor,
        action="logout",
        entity="user",
        entity_id=actor.username,
        details={"reason": reason},
    )


def record_access_denied(
    *, engine: Engine, actor: Actor, permission: Permission, where: str
) -> None:
    """Record that ``actor`` tried something its role does not allow.

    ``where`` names the page or action (never patient data). The dashboard
    hides what a role may not do, so such an attempt is a typed address, a
    stale screen after a role was lowered, or probing: worth a trace.
    """
    audit.record_alone(
        engine,
        actor=actor,
        action="access_denied",
        entity="permission",
        entity_id=permission.value,
        details={"where": where},
    )


def current_account(*, engine: Engine, actor: Actor) -> Actor | None:
    """``actor`` as the database has it now: None once the account is disabled.

    A login lasts hours; an admin who disables an account or changes its role
    must not wait for it to expire. The returned actor carries the current role.
    An actor with no account row (accounts are never deleted; the command-line
    operator has none) is returned unchanged.
    """
    with read_session(engine) as session:
        user = find_user(session, actor.username)
        if user is None:
            return actor
        if not user.active:
            return None
        return Actor(username=user.username, role=Role(user.role))


def session_expiry_reason(
    *,
    logged_in_at: datetime,
    last_activity_at: datetime,
    now: datetime,
    settings: AccessSettings,
) -> str | None:
    """Why a login has expired ("idle" or "session limit"), or None while it is valid.

    Idle: no activity for ``settings.idle_minutes``. Session limit: the login
    is ``settings.session_hours`` old, however active.
    """
    if now - last_activity_at >= timedelta(minutes=settings.idle_minutes):
        return "idle"
    if now - logged_in_at >= timedelta(hours=settings.session_hours):
        return "session limit"
    return None


@dataclass(frozen=True)
class LoginSnapshot:
    """A browser session's login as a page drew it, for work that runs later."""

    actor: Actor
    logged_in_at: datetime
    last_activity_at: datetime


def actor_at_click(
    *,
    engine: Engine,
    login: LoginSnapshot,
    permission: Permission,
    now: datetime,
    settings: AccessSettings,
) -> Actor:
    """The actor that deferred work (a download clicked later) may run for, checked now.

    Streamlit builds a deferred download outside any script run, so the page's
    login check does not guard it: the time limits are applied at the click,
    and the account is read again (disabled, or its role changed since).
    Raises :class:`LoginExpired` or :class:`~services.access.PermissionDenied`.
    """
    reason = session_expiry_reason(
        logged_in_at=login.logged_in_at,
        last_activity_at=login.last_activity_at,
        now=now,
        settings=settings,
    )
    if reason is not None:
        raise LoginExpired(f"The login has ended ({reason}): log in again.")
    account = current_account(engine=engine, actor=login.actor)
    if account is None:
        raise LoginExpired("The account is disabled.")
    if not account.can(permission):
        record_access_denied(engine=engine, actor=account, permission=permission, where="download")
    require(account, permission)
    return account
