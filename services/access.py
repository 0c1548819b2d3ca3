"""Who may do what: actors, roles, permissions and password hashing."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from redflags.codes import Role


class Permission(StrEnum):
    """One thing a service function may require of its actor."""

    VIEW_PATIENTS = "view_patients"
    WRITE_CLINICAL = "write_clinical"
    IMPORT_RECORDS = "import_records"
    EXPORT_RECORDS = "export_records"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


#: viewer reads; clinician does all clinical work; admin also runs users and the audit.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW_PATIENTS}),
    Role.CLINICIAN: frozenset(
        {
            Permission.VIEW_PATIENTS,
            Permission.WRITE_CLINICAL,
            Permission.IMPORT_RECORDS,
            Permission.EXPORT_RECORDS,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


class PermissionDenied(Exception):
    """The actor's role does not allow this operation."""


@dataclass(frozen=True)
class Actor:
    """The person (or command-line operator) on whose behalf a service runs."""

    username: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def require(actor: Actor, permission: Permission) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` holds ``permission``."""
    if not actor.can(permission):
        raise PermissionDenied(
            f"Your role ({actor.role.value}) does not allow this ({permission.value})."
        )


def command_line_actor() -> Actor:
    """The operator of manage.py: whoever can run it on the server is an admin."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(username=f"cli:{who}", role=Role.ADMIN)


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (never raises on a mismatch)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
