"""User accounts: creating, listing and changing them (admins only), each change audited.

No change may leave the installation without an active administrator: the
last active admin can be neither disabled nor given another role, by anyone,
themselves included. Changes to accounts are serialised (the audit chain's
lock, taken first), so two admins demoting each other at once cannot both win.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models import audit_queries, queries
from models.db import read_session, write_session
from models.tables import User, utc_now
from redflags.codes import Role
from services import audit
from services.access import Actor, Permission, hash_password, require

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@\-]{1,150}")
MIN_PASSWORD_LENGTH = 12
#: Longer than any pass phrase; stops a megabyte "password" from tying up argon2.
MAX_PASSWORD_LENGTH = 1024


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


@dataclass(frozen=True)
class UserSummary:
    """One account as the user-management page shows it (never the password hash)."""

    username: str
    role: Role
    active: bool
    locked_until: datetime | None
    failed_logins: int
    created_at: datetime

    def locked(self, now: datetime) -> bool:
        """Whether the account is locked out at ``now`` (naive UTC)."""
        return self.locked_until is not None and self.locked_until > now


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username``, ignoring case."""
    statement = select(User).where(func.lower(User.username) == username.strip().lower())
    return session.exec(statement).first()


def count_users(*, engine: Engine) -> int:
    """How many accounts exist (the login page explains how to create the first)."""
    with read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(User)).one())


def user_exists(*, engine: Engine, username: str) -> bool:
    """Whether an account called ``username`` (ignoring case) exists."""
    with read_session(engine) as session:
        return find_user(session, username) is not None


def check_password(password: str, *, username: str, min_length: int = MIN_PASSWORD_LENGTH) -> None:
    """Raise :class:`UserError` unless ``password`` is acceptable for ``username``."""
    if any("\ud800" <= character <= "\udfff" for character in password):
        raise UserError("The password must be text (UTF-8): it holds bytes that are not.")
    if len(password) < min_length:
        raise UserError(f"The password must be at least {min_length} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")
    # Only the demo's published demo/demo login lowers the minimum; it is exempt here too.
    if min_length >= MIN_PASSWORD_LENGTH and password.strip().lower() == username.strip().lower():
        raise UserError("The password must not be the username.")


def _summary(user: User) -> UserSummary:
    return UserSummary(
        username=user.username,
        role=Role(user.role),
        active=user.active,
        locked_until=user.locked_until,
        failed_logins=user.failed_logins,
        created_at=user.created_at,
    )


def list_users(*, engine: Engine, actor: Actor) -> list[UserSummary]:
    """Every account, by username. Needs MANAGE_USERS."""
    require(actor, Permission.MANAGE_USERS)
    with read_session(engine) as session:
        return [_summary(user) for user in audit_queries.all_users(session)]


def create_user(
    *,
    engine: Engine,
    actor: Actor,
    username: str,
    role: Role,
    password: str,
    min_password_length: int = MIN_PASSWORD_LENGTH,
) -> User:
    """Add an account with an argon2 password hash; audited, never logs the password.

    Needs MANAGE_USERS. ``min_password_length`` is lowered only by the demo loader
    (its published demo/demo login).
    """
    require(actor, Permission.MANAGE_USERS)
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserError(
            "A username is 1–150 letters, digits or the characters _ . @ - (no spaces)."
        )
    role = Role(role)
    check_password(password, username=username, min_length=min_password_length)
    password_hash = hash_password(password)
    with write_session(engine) as session:
        queries.lock_audit_chain(session)
        if find_user(session, username) is not None:
            raise UserError(f"A user called {username!r} already exists (names ignore case).")
        user = User(username=username, role=role.value, password_hash=password_hash)
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="user_created",
            entity="user",
            entity_id=username,
            details={"role": role.value, "active": True},
        )
        session.expunge(user)
    return user


def _change(
    *,
    engine: Engine,
    actor: Actor,
    username: str,
    action: str,
    apply: Callable[[Session, User], dict[str, Any]],
) -> UserSummary:
    """Lock the account, let ``apply(session, user)`` change it and say what changed; audit."""
    require(actor, Permission.MANAGE_USERS)
    with write_session(engine) as session:
        queries.lock_audit_chain(session)
        user = audit_queries.user_for_update(session, username)
        if user is None:
            raise UserError(f"No user is called {username.strip()!r}.")
        details: dict[str, Any] = apply(session, user)
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action=action,
            entity="user",
            entity_id=user.username,
            details=details,
        )
        return _summary(user)


def _refuse_losing_last_admin(session: Session, user: User, what: str) -> None:
    if (
        user.role == Role.ADMIN.value
        and user.active
        and audit_queries.active_admin_count(session) <= 1
    ):
        raise UserError(
            f"{user.username} is the last active administrator: {what} would leave nobody "
            "who can manage users. Make another account an active admin first."
        )


def change_role(*, engine: Engine, actor: Actor, username: str, role: Role) -> UserSummary:
    """Give ``username`` another role; audited with the role before and after."""
    new_role = Role(role)

    def apply(session: Session, user: User) -> dict[str, Any]:
        if user.role == new_role.value:
            raise UserError(f"{user.username} already has the role {new_role.value}.")
        if new_role is not Role.ADMIN:
            _refuse_losing_last_admin(session, user, f"making them {new_role.value}")
        before = user.role
        user.role = new_role.value
        return {"before": {"role": before}, "after": {"role": new_role.value}}

    return _change(
        engine=engine, actor=actor, username=username, action="user_role_changed", apply=apply
    )


def set_active(*, engine: Engine, actor: Actor, username: str, active: bool) -> UserSummary:
    """Disable (``active=False``) or enable an account; a disabled account cannot log in."""

    def apply(session: Session, user: User) -> dict[str, Any]:
        if user.active == active:
            state = "active" if active else "disabled"
            raise UserError(f"{user.username} is already {state}.")
        if not active:
            _refuse_losing_last_admin(session, user, "disabling them")
        user.active = active
        return {"before": {"active": not active}, "after": {"active": active}}

    action = "user_enabled" if active else "user_disabled"
    return _change(engine=engine, actor=actor, username=username, action=action, apply=apply)


def reset_password(*, engine: Engine, actor: Actor, username: str, password: str) -> UserSummary:
    """Set a new password (argon2); also lifts a lockout. The password is never audited."""
    require(actor, Permission.MANAGE_USERS)
    check_password(password, username=username)
    password_hash = hash_password(password)

    def apply(_session: Session, user: User) -> dict[str, Any]:
        user.password_hash = password_hash
        was_locked = user.locked_until is not None
        user.failed_logins = 0
        user.locked_until = None
        return {"password": "reset", "lock_lifted": was_locked}

    return _change(
        engine=engine, actor=actor, username=username, action="user_password_reset", apply=apply
    )


def unlock_user(
    *, engine: Engine, actor: Actor, username: str, now: datetime | None = None
) -> UserSummary:
    """Lift a lockout and forget the failed logins counted so far."""
    moment = now or utc_now()

    def apply(_session: Session, user: User) -> dict[str, Any]:
        locked = user.locked_until is not None and user.locked_until > moment
        if not locked and user.failed_logins == 0:
            raise UserError(f"{user.username} is not locked.")
        before = {
            "locked_until": user.locked_until.isoformat() if user.locked_until else None,
            "failed_logins": user.failed_logins,
        }
        user.locked_until = None
        user.failed_logins = 0
        return {"before": before, "after": {"locked_until": None, "failed_logins": 0}}

    return _change(
        engine=engine, actor=actor, username=username, action="user_unlocked", apply=apply
    )
