"""The SQLModel tables. All times are naive datetimes in UTC.

Each range and vocabulary of rules.md §1 is also a CHECK constraint, built
from :mod:`redflags.fields`, so the database refuses what the importer would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    MetaData,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from redflags.codes import DecisionKind, Role, TreatmentStatus
from redflags.fields import (
    BP_READINGS,
    ESKETAMINE_DOSES_MG,
    ROUTES,
    SESSION_FIELDS,
    THEMES,
    Kind,
)

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utc_now() -> datetime:
    """The current time as a naive UTC datetime, the form every table stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _session_checks() -> list[CheckConstraint]:
    checks: list[CheckConstraint] = []
    for field in SESSION_FIELDS:
        if field.name in ("patient_id", "session_date"):
            continue
        if field.kind is Kind.CHOICE and field.name.endswith("_course"):
            theme = field.name.removesuffix("_course")
            valid_word = _in(field.name, field.choices)
            rule = f"{field.name} IS NULL OR ({valid_word} AND {theme} IS NOT NULL AND {theme} > 0)"
        elif field.kind is Kind.CHOICE:
            rule = _in(field.name, field.choices)
        elif field.low is not None and field.high is not None:
            low_op = ">" if field.low_exclusive else ">="
            rule = f"{field.name} {low_op} {field.low:g} AND {field.name} <= {field.high:g}"
        else:
            continue
        checks.append(CheckConstraint(rule, name=field.name))
    doses = ", ".join(str(d) for d in ESKETAMINE_DOSES_MG)
    checks.append(
        CheckConstraint(
            f"route <> 'esketamine_nasal' OR dose_mg IN ({doses})", name="esketamine_dose"
        )
    )
    for when, (sys_col, dia_col) in BP_READINGS.items():
        checks.append(CheckConstraint(f"{sys_col} > {dia_col}", name=f"bp_{when}_sys_above_dia"))
    checks.append(CheckConstraint("phq9_item9 <= phq9", name="phq9_item9_within_total"))
    return checks


class Patient(SQLModel, table=True):
    """A patient of the clinic, known by the clinic's own patient code."""

    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(
            _in("treatment_status", tuple(s.value for s in TreatmentStatus)),
            name="treatment_status",
        ),
        CheckConstraint("length(code) BETWEEN 1 AND 64", name="code_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=200)
    primary_clinician: str = Field(default="", max_length=200)
    treatment_status: str = Field(default=TreatmentStatus.ACTIVE.value, max_length=16)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime)


class DosingSession(SQLModel, table=True):
    """One dosing session: every field of rules.md §1."""

    __tablename__ = "dosing_session"
    __table_args__ = (
        UniqueConstraint("patient_id", "session_at", name="uq_dosing_session_patient_time"),
        # Partial index: the first and latest PHQ-9 of a patient in one seek each.
        Index(
            "ix_dosing_session_phq9",
            "patient_id",
            "session_at",
            "phq9",
            sqlite_where=text("phq9 IS NOT NULL"),
            postgresql_where=text("phq9 IS NOT NULL"),
        ),
        *_session_checks(),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="RESTRICT")
    #: When the session took place (UTC). A date-only session is local midnight.
    session_at: datetime = Field(sa_type=DateTime)
    #: False when only the date was recorded (the export then writes the date alone).
    time_recorded: bool = False
    route: str = Field(max_length=32)
    dose_mg: float
    weight_kg: float | None = None
    panic: int | None = None
    despair: int | None = None
    vulnerability: int | None = None
    death_imagery: int | None = None
    shame: int | None = None
    grief: int | None = None
    panic_course: str | None = Field(default=None, max_length=16)
    despair_course: str | None = Field(default=None, max_length=16)
    vulnerability_course: str | None = Field(default=None, max_length=16)
    death_imagery_course: str | None = Field(default=None, max_length=16)
    shame_course: str | None = Field(default=None, max_length=16)
    grief_course: str | None = Field(default=None, max_length=16)
    dissociation_cadss: int | None = None
    bp_pre_sys: int | None = None
    bp_pre_dia: int | None = None
    bp_40_sys: int | None = None
    bp_40_dia: int | None = None
    bp_end_sys: int | None = None
    bp_end_dia: int | None = None
    observation_min: int | None = None
    phq9: int | None = None
    phq9_item9: int | None = None
    commitment: str | None = None
    note: str | None = None
    recorded_by: str = Field(default="", max_length=150)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime)


if not set(THEMES) <= set(DosingSession.model_fields):
    raise RuntimeError("a theme of rules.md §1 has no column in dosing_session")


class Decision(SQLModel, table=True):
    """A care-team decision, taken together with the patient."""

    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("patient_id", "decided_at", name="uq_decision_patient_time"),
        CheckConstraint(_in("decision", tuple(d.value for d in DecisionKind)), name="decision"),
        CheckConstraint(_in("route_from", ROUTES), name="route_from"),
        CheckConstraint(_in("route_to", ROUTES), name="route_to"),
        CheckConstraint("dose_from_mg > 0 AND dose_from_mg <= 1000", name="dose_from_mg"),
        CheckConstraint("dose_to_mg > 0 AND dose_to_mg <= 1000", name="dose_to_mg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="RESTRICT", index=True)
    decided_at: datetime = Field(sa_type=DateTime)
    decision: str = Field(max_length=16)
    route_from: str | None = Field(default=None, max_length=32)
    route_to: str | None = Field(default=None, max_length=32)
    dose_from_mg: float | None = None
    dose_to_mg: float | None = None
    #: Who took part, separated by ";" (the patient among them).
    participants: str = ""
    #: The patient's own view, in their words.
    patient_view: str = ""
    rationale: str = ""
    #: Flag codes the team considered, separated by ";"; these become addressed.
    flags_considered: str = ""
    recorded_by: str = Field(default="", max_length=150)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime)


class User(SQLModel, table=True):
    """Someone who may log in. The username is unique ignoring case."""

    __tablename__ = "app_user"
    __table_args__ = (
        Index("uq_app_user_username_lower", func.lower(text("username")), unique=True),
        CheckConstraint(_in("role", tuple(r.value for r in Role)), name="role"),
        CheckConstraint("failed_logins >= 0", name="failed_logins"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=150)
    role: str = Field(max_length=16)
    password_hash: str
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime)
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime)


class AppSetting(SQLModel, table=True):
    """A setting of this installation, e.g. that it holds the synthetic demo clinic."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = ""


class AuditEvent(SQLModel, table=True):
    """One append-only audit row, chained to the one before by SHA-256."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, sa_type=DateTime, index=True)
    username: str = Field(default="", max_length=150)
    role: str = Field(default="", max_length=16)
    action: str = Field(max_length=64, index=True)
    entity: str = Field(default="", max_length=64)
    entity_id: str = Field(default="", max_length=200)
    patient_code: str = Field(default="", max_length=64, index=True)
    #: JSON object with what happened (counts, hashes, before/after); never a password.
    details: str = "{}"
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel class (for bulk statements)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


patient_table = table_of(Patient)
session_table = table_of(DosingSession)
decision_table = table_of(Decision)
user_table = table_of(User)
audit_table = table_of(AuditEvent)
