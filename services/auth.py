"""Logging in and out: argon2 passwords, lockout after repeated failures, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from models.db import write_session
from models.tables import utc_now
from redflags.codes import Role
from services import audit
from services.access import Actor, hash_password, verify_password
from services.settings import AccessSettings, access_settings
from services.users import find_user

#: The one answer for a wrong username, a wrong password, a locked or disabled account.
LOGIN_REFUSED = "That username and password do not match an active account, or it is locked."
# Verifying against a real hash when the user does not exist keeps the timing the same.
_DUMMY_HASH = hash_password("not a password of anyone")


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
    """Check a username and password; lock the account after too many failures.

    Every attempt is audited (never the password). A wrong username, a wrong
    password and a locked account all get the same answer.
    """
    now = now or utc_now()
    settings = settings or access_settings()
    name = username.strip()[:150]
    with write_session(engine) as session:
        user = find_user(session, name) if name else None
        if user is None:
            verify_password(_DUMMY_HASH, password)
            audit.record(
                session,
                actor=None,
                action="login_failed",
                entity="user",
                entity_id=name,
                details={"reason": "unknown user"},
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
                user.failed_logins = 0
                audit.record(
                    session,
                    actor=None,
                    action="account_locked",
                    entity="user",
                    entity_id=user.username,
                    details={"locked_until": user.locked_until.isoformat()},
                )
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
    with write_session(engine) as session:
        audit.record(
            session,
            actor=actor,
            action="logout",
            entity="user",
            entity_id=actor.username,
            details={"reason": reason},
        )


def session_expiry_reason(
    *,
    logged_in_at: datetime,
    last_activity_at: datetime,
    now: datetime,
    settings: AccessSettings,
) -> str | None:
    """Why a login has expired ("idle" or "session limit"), or None while it is valid."""
    if now - last_activity_at >= timedelta(minutes=settings.idle_minutes):
        return "idle"
    if now - logged_in_at >= timedelta(hours=settings.session_hours):
        return "session limit"
    return None
