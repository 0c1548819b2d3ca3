"""Each role against each service function that takes an actor: allowed, or PermissionDenied.

The matrix is enforced in the services, not by hiding buttons: a viewer calling
``log_session`` directly is refused. A last test makes sure the matrix covers
every public service function with an ``actor`` parameter, so a new one cannot
slip in without a row here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

import services
from models.db import create_db_engine, upgrade
from redflags.codes import Role
from redflags.config import load_rules
from services import (
    audit,
    audit_log,
    auth,
    caseload,
    decisions,
    demo,
    exports,
    installation,
    patients,
    records,
    report,
    review,
    sessions,
    users,
)
from services.access import ROLE_PERMISSIONS, Actor, Permission, PermissionDenied
from services.users import UserError
from tests.access.conftest import ACTORS, AS_OF, PASSWORD, PATIENT, SESSIONS_CSV

V, C, A = "viewer", "clinician", "admin"
EVERYONE = frozenset({V, C, A})
CLINICAL = frozenset({C, A})
ADMIN_ONLY = frozenset({A})
CONFIG = load_rules()


@dataclass(frozen=True)
class Case:
    """One service function, who may call it, and a call that gets past the check."""

    function: Callable[..., Any]
    allowed: frozenset[str]
    call: Callable[[Engine, Actor], Any]
    #: Domain errors that mean "allowed, but this input is refused" (not a denial).
    tolerated: tuple[type[Exception], ...] = ()


SESSION_FORM = {
    "patient_id": PATIENT,
    "session_date": "2026-11-16",
    "route": "ketamine_iv",
    "dose_mg": "35",
}


def _unique(actor: Actor) -> str:
    return f"new-{actor.role.value}-{datetime.now().strftime('%H%M%S%f')}"


def _unlock(engine: Engine, actor: Actor) -> Any:
    auth.login(engine=engine, username="lockme", password="wrong password here")
    return users.unlock_user(engine=engine, actor=actor, username="lockme")


CASES: list[Case] = [
    # -- reading the clinic (every role) --------------------------------------------------
    Case(
        review.weekly_review,
        EVERYONE,
        lambda e, a: review.weekly_review(engine=e, actor=a, as_of=AS_OF, config=CONFIG),
    ),
    Case(
        caseload.caseload,
        EVERYONE,
        lambda e, a: caseload.caseload(engine=e, actor=a, as_of=AS_OF, config=CONFIG),
    ),
    Case(
        caseload.record_caseload_view,
        EVERYONE,
        lambda e, a: caseload.record_caseload_view(
            engine=e,
            actor=a,
            shown=caseload.caseload(engine=e, actor=a, as_of=AS_OF, config=CONFIG),
        ),
    ),
    Case(
        caseload.patient_status,
        EVERYONE,
        lambda e, a: caseload.patient_status(
            engine=e, actor=a, patient_code=PATIENT, as_of=AS_OF, config=CONFIG
        ),
    ),
    Case(
        report.patient_report,
        EVERYONE,
        lambda e, a: report.patient_report(
            engine=e, actor=a, patient_code=PATIENT, as_of=AS_OF, config=CONFIG
        ),
    ),
    Case(
        report.record_patient_view,
        EVERYONE,
        lambda e, a: report.record_patient_view(engine=e, actor=a, patient_code=PATIENT),
    ),
    Case(
        patients.patient_choices, EVERYONE, lambda e, a: patients.patient_choices(engine=e, actor=a)
    ),
    Case(
        patients.session_choices,
        EVERYONE,
        lambda e, a: patients.session_choices(engine=e, actor=a, patient_code=PATIENT),
    ),
    Case(
        patients.next_treatment,
        EVERYONE,
        lambda e, a: patients.next_treatment(engine=e, actor=a, patient_code=PATIENT),
    ),
    Case(
        sessions.session_form_values,
        EVERYONE,
        lambda e, a: sessions.session_form_values(engine=e, actor=a, session_id=1),
    ),
    # -- clinical work (clinician, admin) -------------------------------------------------
    Case(
        sessions.log_session,
        CLINICAL,
        lambda e, a: sessions.log_session(engine=e, actor=a, values=SESSION_FORM, today=AS_OF),
    ),
    Case(
        sessions.edit_session,
        CLINICAL,
        lambda e, a: sessions.edit_session(
            engine=e,
            actor=a,
            session_id=1,
            values={**SESSION_FORM, "session_date": "2026-11-02", "panic": "3"},
            reason="panic corrected",
            today=AS_OF,
        ),
    ),
    Case(
        sessions.remove_session,
        CLINICAL,
        lambda e, a: sessions.remove_session(
            engine=e, actor=a, session_id=1, reason="entered for the wrong patient"
        ),
    ),
    Case(
        decisions.record_decision,
        CLINICAL,
        lambda e, a: decisions.record_decision(
            engine=e,
            actor=a,
            values={
                "patient_id": PATIENT,
                "decided_at": "2026-11-16T10:00",
                "decision": "continue",
            },
            now=datetime(2026, 11, 20, 12),
        ),
    ),
    Case(
        decisions.patient_decisions,
        EVERYONE,
        lambda e, a: decisions.patient_decisions(engine=e, actor=a, patient_code=PATIENT),
    ),
    Case(
        decisions.withdraw_decision,
        CLINICAL,
        lambda e, a: decisions.withdraw_decision(
            engine=e, actor=a, decision_id=1, reason="recorded twice"
        ),
    ),
    Case(
        patients.add_patient,
        CLINICAL,
        lambda e, a: patients.add_patient(engine=e, actor=a, code=f"N-{a.role.value}"),
    ),
    Case(
        records.import_sessions,
        CLINICAL,
        lambda e, a: records.import_sessions(
            engine=e, actor=a, data=SESSIONS_CSV, filename="s.csv", today=AS_OF
        ),
    ),
    Case(
        records.import_decisions,
        CLINICAL,
        lambda e, a: records.import_decisions(
            engine=e,
            actor=a,
            data=b"patient_id,decided_at,decision\n"
            + PATIENT.encode()
            + b",2026-11-10T09:00,continue\n",
            filename="d.csv",
            today=AS_OF,
        ),
    ),
    Case(
        records.export_sessions,
        CLINICAL,
        lambda e, a: records.export_sessions(engine=e, actor=a, destination="test"),
    ),
    Case(
        records.export_decisions,
        CLINICAL,
        lambda e, a: records.export_decisions(engine=e, actor=a, destination="test"),
    ),
    Case(
        records.export_review,
        CLINICAL,
        lambda e, a: records.export_review(
            engine=e, actor=a, as_of=AS_OF, config=CONFIG, destination="test"
        ),
    ),
    Case(
        exports.build_export,
        CLINICAL,
        lambda e, a: exports.build_export(
            engine=e,
            actor=a,
            request=exports.ExportRequest(exports.ExportKind.SESSIONS),
            config=CONFIG,
        ),
    ),
    # -- administration (admin) -----------------------------------------------------------
    Case(
        demo.load_demo,
        ADMIN_ONLY,
        lambda e, a: demo.load_demo(engine=e, actor=a, today=AS_OF),
        tolerated=(demo.DemoRefused,),
    ),
    Case(users.list_users, ADMIN_ONLY, lambda e, a: users.list_users(engine=e, actor=a)),
    Case(
        installation.settings_in_force,
        ADMIN_ONLY,
        lambda e, a: installation.settings_in_force(engine=e, actor=a),
    ),
    Case(
        users.create_user,
        ADMIN_ONLY,
        lambda e, a: users.create_user(
            engine=e, actor=a, username=_unique(a), role=Role.VIEWER, password=PASSWORD
        ),
    ),
    Case(
        users.change_role,
        ADMIN_ONLY,
        lambda e, a: users.change_role(engine=e, actor=a, username="target", role=Role.CLINICIAN),
        tolerated=(UserError,),
    ),
    Case(
        users.set_active,
        ADMIN_ONLY,
        lambda e, a: users.set_active(engine=e, actor=a, username="target", active=False),
        tolerated=(UserError,),
    ),
    Case(
        users.reset_password,
        ADMIN_ONLY,
        lambda e, a: users.reset_password(
            engine=e, actor=a, username="target", password="another long password"
        ),
    ),
    Case(users.unlock_user, ADMIN_ONLY, _unlock),
    Case(audit.verify_audit, ADMIN_ONLY, lambda e, a: audit.verify_audit(engine=e, actor=a)),
    Case(
        audit_log.audit_choices, ADMIN_ONLY, lambda e, a: audit_log.audit_choices(engine=e, actor=a)
    ),
    Case(
        audit_log.audit_page,
        ADMIN_ONLY,
        lambda e, a: audit_log.audit_page(engine=e, actor=a, query=audit_log.AuditQuery()),
    ),
    Case(
        audit_log.export_audit,
        ADMIN_ONLY,
        lambda e, a: audit_log.export_audit(engine=e, actor=a, query=audit_log.AuditQuery()),
    ),
]

#: Public functions that take an actor and need no permission, and why.
NO_PERMISSION_BY_DESIGN: dict[str, str] = {
    "services.access.require": "it is the check itself",
    "services.audit.record": "an in-transaction helper; every caller has checked already",
    "services.audit.record_alone": "record in its own transaction; every caller has checked",
    "services.audit.load_rules_recorded": "the process loading its own configuration",
    "services.auth.logout": "anyone may end their own login",
    "services.auth.current_account": "reads the caller's own account",
    "services.auth.record_access_denied": "records the caller's own refused attempt",
}


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__name__}"


@pytest.fixture(scope="module")
def matrix_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite clinic for the whole matrix (roles do not depend on the backend)."""
    path: Path = tmp_path_factory.mktemp("matrix") / "matrix.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    from services.access import command_line_actor

    for actor in [*ACTORS.values(), Actor("target", Role.VIEWER), Actor("lockme", Role.VIEWER)]:
        users.create_user(
            engine=engine,
            actor=command_line_actor(),
            username=actor.username,
            role=actor.role,
            password=PASSWORD,
        )
    imported = records.import_sessions(
        engine=engine, actor=ACTORS[A], data=SESSIONS_CSV, filename="s.csv", today=AS_OF
    )
    assert imported.ok
    yield engine
    engine.dispose()


@pytest.mark.parametrize("role", [V, C, A])
@pytest.mark.parametrize(
    "case", CASES, ids=lambda case: _name(case.function).removeprefix("services.")
)
def test_each_role_is_allowed_or_refused_by_the_service_itself(
    case: Case, role: str, matrix_engine: Engine
) -> None:
    actor = ACTORS[role]
    if role in case.allowed:
        try:
            case.call(matrix_engine, actor)
        except PermissionDenied as denied:  # pragma: no cover - the failure being tested
            pytest.fail(f"{role} was refused {_name(case.function)}: {denied}")
        except case.tolerated:
            pass
    else:
        with pytest.raises(PermissionDenied):
            case.call(matrix_engine, actor)


def _public_functions_taking_an_actor() -> set[str]:
    found: set[str] = set()
    for module_info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"services.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if "actor" in inspect.signature(function).parameters:
                found.add(_name(function))
    return found


def test_every_service_function_taking_an_actor_is_in_the_matrix() -> None:
    in_matrix = {_name(case.function) for case in CASES}
    missing = _public_functions_taking_an_actor() - in_matrix - set(NO_PERMISSION_BY_DESIGN)
    assert not missing, f"add these to the role matrix: {sorted(missing)}"


def test_the_matrix_follows_the_role_permissions() -> None:
    viewer, clinician = ROLE_PERMISSIONS[Role.VIEWER], ROLE_PERMISSIONS[Role.CLINICIAN]
    assert viewer == {Permission.VIEW_PATIENTS}
    assert Permission.MANAGE_USERS not in clinician and Permission.VIEW_AUDIT not in clinician
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)


#: Public functions that take an engine but no actor, and why that is safe.
NO_ACTOR_BY_DESIGN: dict[str, str] = {
    "services.auth.login": "before login there is no actor; it checks the password itself",
    "services.users.count_users": "a number only (the login page's first-run hint)",
    "services.users.user_exists": "yes/no for the demo loader and manage.py",
    "services.demo.is_demo": "whether the database is the synthetic demo",
    "services.audit.records_version": "a number only (the newest change's audit row id)",
    "services.auth.actor_at_click": "its actor is the login it is given; it checks the limits, "
    "re-reads the account and requires the permission",
}


def test_service_functions_without_an_actor_are_only_the_known_safe_ones() -> None:
    found: set[str] = set()
    for module_info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"services.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            parameters = inspect.signature(function).parameters
            if "engine" in parameters and "actor" not in parameters:
                found.add(_name(function))
    unexpected = sorted(found - set(NO_ACTOR_BY_DESIGN))
    assert not unexpected, f"these read or write the database without an actor: {unexpected}"
