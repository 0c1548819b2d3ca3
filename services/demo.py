"""Loading the synthetic demo clinic through the normal importers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from models import queries
from models.db import write_session
from redflags import demo_clinic
from redflags.clinic_time import clinic_timezone, local_today
from redflags.codes import Role
from redflags.fields import DECISION_COLUMNS, SESSION_COLUMNS
from services import audit, records, users
from services.access import Actor, Permission, require

#: Installation setting present only in a demo database: the day it was loaded for.
DEMO_SETTING = "demo_clinic_loaded_for"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # noqa: S105 - the published login of the synthetic demo only


class DemoRefused(Exception):
    """The database holds records that are not the demo's; the demo will not mix with them."""


@dataclass(frozen=True)
class DemoLoadResult:
    """What ``load_demo`` did."""

    loaded_for: date
    refreshed: bool
    sessions_imported: int
    sessions_unchanged: int
    decisions_imported: int
    decisions_unchanged: int
    patients: int


def is_demo(*, engine: Engine) -> bool:
    """Whether this database holds the synthetic demo clinic."""
    with engine.connect() as connection:
        return queries.get_setting(connection, DEMO_SETTING) is not None


def load_demo(*, engine: Engine, actor: Actor, today: date | None = None) -> DemoLoadResult:
    """Load the demo clinic with its dates shifted so that ``today`` is its anchor day.

    Idempotent: loading again on the same day changes nothing; on a later day the
    demo's sessions and decisions are replaced by freshly shifted ones. Refuses a
    database that holds anything but the demo. Adds the demo login (demo/demo).
    Needs MANAGE_USERS (it creates an admin account).
    """
    require(actor, Permission.MANAGE_USERS)
    today = today or local_today(clinic_timezone())
    with engine.connect() as connection:
        loaded_for = queries.get_setting(connection, DEMO_SETTING)
        if loaded_for is None and queries.has_records(connection):
            raise DemoRefused(
                "This database already holds patients or users that are not the demo clinic; "
                "the demo loads only into an empty database. Point DATABASE_URL at a new one."
            )
    shift = (today - demo_clinic.ANCHOR).days
    patients = demo_clinic.read_csv(demo_clinic.PATIENTS_CSV)
    codes = [row["patient_id"] for row in patients]
    refreshed = loaded_for is not None and loaded_for != today.isoformat()
    with write_session(engine) as session:
        if refreshed:
            deleted = queries.delete_clinical_records(session, codes)
            audit.record(
                session, actor=actor, action="demo_refreshed", details={"rows_deleted": deleted}
            )
        queries.set_setting(session, DEMO_SETTING, today.isoformat())

    sessions_csv = demo_clinic.to_csv(
        demo_clinic.shift_rows(
            demo_clinic.read_csv(demo_clinic.SESSIONS_CSV), "session_date", shift
        ),
        SESSION_COLUMNS,
    )
    sessions = records.import_sessions(
        engine=engine,
        actor=actor,
        data=sessions_csv,
        filename="demo_sessions.csv",
        today=today,
        bring_back_removed=True,  # a demo session removed in the dashboard comes back
    )
    if not sessions.ok:
        raise DemoRefused("The demo sessions did not import: " + "; ".join(sessions.messages()))

    with write_session(engine) as session:
        for row in patients:
            queries.upsert_patient(
                session,
                code=row["patient_id"],
                display_name=row["display_name"],
                primary_clinician=row["primary_clinician"],
                treatment_status=row["treatment_status"],
            )
        # Every write leaves its audit row in its own transaction (records_version).
        audit.record(
            session,
            actor=actor,
            action="demo_patients_loaded",
            entity="patient",
            details={"patients": len(patients)},
        )

    decisions_csv = demo_clinic.to_csv(
        demo_clinic.shift_rows(
            demo_clinic.read_csv(demo_clinic.DECISIONS_CSV), "decided_at", shift
        ),
        DECISION_COLUMNS,
    )
    decisions = records.import_decisions(
        engine=engine,
        actor=actor,
        data=decisions_csv,
        filename="demo_decisions.csv",
        today=today,
        bring_back_removed=True,  # a demo decision withdrawn in the dashboard comes back
    )
    if not decisions.ok:
        raise DemoRefused("The demo decisions did not import: " + "; ".join(decisions.messages()))

    if not users.user_exists(engine=engine, username=DEMO_USERNAME):
        users.create_user(
            engine=engine,
            actor=actor,
            username=DEMO_USERNAME,
            role=Role.ADMIN,
            password=DEMO_PASSWORD,
            min_password_length=1,
        )
    return DemoLoadResult(
        loaded_for=today,
        refreshed=refreshed,
        sessions_imported=sessions.imported,
        sessions_unchanged=sessions.unchanged,
        decisions_imported=decisions.imported,
        decisions_unchanged=decisions.unchanged,
        patients=len(patients),
    )
