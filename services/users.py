"""User accounts: creating them and looking them up."""

from __future__ import annotations

import re

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models.db import read_session, write_session
from models.tables import User
from redflags.codes import Role
from services import audit
from services.access import Actor, Permission, hash_password, require

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@\-]{1,150}")
MIN_PASSWORD_LENGTH = 12


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username``, ignoring case."""
    statement = select(User).where(func.lower(User.username) == username.strip().lower())
    return session.exec(statement).first()


def count_users(*, engine: Engine) -> int:
    """How many accounts exist (the login page explains how to create the first)."""
    with read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(User)).one())


def create_user(
    *,
    engine: Engine,
    actor: Actor,
    username: str,
    role: Role,
    password: str,
    min_password_length: int = MIN_PASSWORD_LENGTH,
) -> User:
    """Add an account with an argon2 password hash; audited, never logs the password."""
    require(actor, Permission.MANAGE_USERS)
    username = username.strip()
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserError(
            "A username is 1–150 letters, digits or the characters _ . @ - (no spaces)."
        )
    if len(password) < min_password_length:
        raise UserError(f"The password must be at least {min_password_length} characters long.")
    with write_session(engine) as session:
        if find_user(session, username) is not None:
            raise UserError(f"A user called {username!r} already exists (names ignore case).")
        user = User(username=username, role=role.value, password_hash=hash_password(password))
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="user_created",
            entity="user",
            entity_id=username,
            details={"role": role.value},
        )
        session.expunge(user)
    return user


def user_exists(*, engine: Engine, username: str) -> bool:
    """Whether an account called ``username`` (ignoring case) exists."""
    with read_session(engine) as session:
        return find_user(session, username) is not None
