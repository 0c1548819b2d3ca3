"""initial schema

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "username", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False
        ),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'clinician', 'viewer')", name=op.f("ck_app_user_role")
        ),
        sa.CheckConstraint(
            "failed_logins >= 0", name=op.f("ck_app_user_failed_logins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
    )
    op.create_table(
        "app_setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_setting")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column(
            "username", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False
        ),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            "entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column(
            "entity_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column(
            "patient_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("details", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_action"), ["action"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_patient_code"), ["patient_code"], unique=False
        )

    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column(
            "primary_clinician",
            sqlmodel.sql.sqltypes.AutoString(length=200),
            nullable=False,
        ),
        sa.Column(
            "treatment_status",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "treatment_status IN ('active', 'paused', 'stopped', 'completed')",
            name=op.f("ck_patient_treatment_status"),
        ),
        sa.CheckConstraint(
            "length(code) BETWEEN 1 AND 64", name=op.f("ck_patient_code_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("code", name=op.f("uq_patient_code")),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column(
            "decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column(
            "route_from", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column(
            "route_to", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column("dose_from_mg", sa.Float(), nullable=True),
        sa.Column("dose_to_mg", sa.Float(), nullable=True),
        sa.Column("participants", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("patient_view", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rationale", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "flags_considered", sqlmodel.sql.sqltypes.AutoString(), nullable=False
        ),
        sa.Column(
            "recorded_by", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('continue', 'pause', 'adjust_dose', 'switch_route', 'stop')",
            name=op.f("ck_decision_decision"),
        ),
        sa.CheckConstraint(
            "route_from IN ('esketamine_nasal', 'ketamine_iv', 'ketamine_im', 'ketamine_oral')",
            name=op.f("ck_decision_route_from"),
        ),
        sa.CheckConstraint(
            "route_to IN ('esketamine_nasal', 'ketamine_iv', 'ketamine_im', 'ketamine_oral')",
            name=op.f("ck_decision_route_to"),
        ),
        sa.CheckConstraint(
            "dose_from_mg > 0 AND dose_from_mg <= 1000",
            name=op.f("ck_decision_dose_from_mg"),
        ),
        sa.CheckConstraint(
            "dose_to_mg > 0 AND dose_to_mg <= 1000", name=op.f("ck_decision_dose_to_mg")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_decision_patient_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
        sa.UniqueConstraint(
            "patient_id", "decided_at", name="uq_decision_patient_time"
        ),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decision_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "dosing_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_at", sa.DateTime(), nullable=False),
        sa.Column("time_recorded", sa.Boolean(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("dose_mg", sa.Float(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("panic", sa.Integer(), nullable=True),
        sa.Column("despair", sa.Integer(), nullable=True),
        sa.Column("vulnerability", sa.Integer(), nullable=True),
        sa.Column("death_imagery", sa.Integer(), nullable=True),
        sa.Column("shame", sa.Integer(), nullable=True),
        sa.Column("grief", sa.Integer(), nullable=True),
        sa.Column(
            "panic_course", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
        ),
        sa.Column(
            "despair_course", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
        ),
        sa.Column(
            "vulnerability_course",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=True,
        ),
        sa.Column(
            "death_imagery_course",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=True,
        ),
        sa.Column(
            "shame_course", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
        ),
        sa.Column(
            "grief_course", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
        ),
        sa.Column("dissociation_cadss", sa.Integer(), nullable=True),
        sa.Column("bp_pre_sys", sa.Integer(), nullable=True),
        sa.Column("bp_pre_dia", sa.Integer(), nullable=True),
        sa.Column("bp_40_sys", sa.Integer(), nullable=True),
        sa.Column("bp_40_dia", sa.Integer(), nullable=True),
        sa.Column("bp_end_sys", sa.Integer(), nullable=True),
        sa.Column("bp_end_dia", sa.Integer(), nullable=True),
        sa.Column("observation_min", sa.Integer(), nullable=True),
        sa.Column("phq9", sa.Integer(), nullable=True),
        sa.Column("phq9_item9", sa.Integer(), nullable=True),
        sa.Column("commitment", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "recorded_by", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "death_imagery_course IS NULL OR (death_imagery_course IN ('reflected', 'contained', 'persisted', 'escalated') AND death_imagery IS NOT NULL AND death_imagery > 0)",
            name=op.f("ck_dosing_session_death_imagery_course"),
        ),
        sa.CheckConstraint(
            "despair_course IS NULL OR (despair_course IN ('reflected', 'contained', 'persisted', 'escalated') AND despair IS NOT NULL AND despair > 0)",
            name=op.f("ck_dosing_session_despair_course"),
        ),
        sa.CheckConstraint(
            "grief_course IS NULL OR (grief_course IN ('reflected', 'contained', 'persisted', 'escalated') AND grief IS NOT NULL AND grief > 0)",
            name=op.f("ck_dosing_session_grief_course"),
        ),
        sa.CheckConstraint(
            "panic_course IS NULL OR (panic_course IN ('reflected', 'contained', 'persisted', 'escalated') AND panic IS NOT NULL AND panic > 0)",
            name=op.f("ck_dosing_session_panic_course"),
        ),
        sa.CheckConstraint(
            "route <> 'esketamine_nasal' OR dose_mg IN (28, 56, 84)",
            name=op.f("ck_dosing_session_esketamine_dose"),
        ),
        sa.CheckConstraint(
            "route IN ('esketamine_nasal', 'ketamine_iv', 'ketamine_im', 'ketamine_oral')",
            name=op.f("ck_dosing_session_route"),
        ),
        sa.CheckConstraint(
            "shame_course IS NULL OR (shame_course IN ('reflected', 'contained', 'persisted', 'escalated') AND shame IS NOT NULL AND shame > 0)",
            name=op.f("ck_dosing_session_shame_course"),
        ),
        sa.CheckConstraint(
            "vulnerability_course IS NULL OR (vulnerability_course IN ('reflected', 'contained', 'persisted', 'escalated') AND vulnerability IS NOT NULL AND vulnerability > 0)",
            name=op.f("ck_dosing_session_vulnerability_course"),
        ),
        sa.CheckConstraint(
            "bp_40_dia >= 20 AND bp_40_dia <= 200",
            name=op.f("ck_dosing_session_bp_40_dia"),
        ),
        sa.CheckConstraint(
            "bp_40_sys > bp_40_dia", name=op.f("ck_dosing_session_bp_40_sys_above_dia")
        ),
        sa.CheckConstraint(
            "bp_40_sys >= 50 AND bp_40_sys <= 300",
            name=op.f("ck_dosing_session_bp_40_sys"),
        ),
        sa.CheckConstraint(
            "bp_end_dia >= 20 AND bp_end_dia <= 200",
            name=op.f("ck_dosing_session_bp_end_dia"),
        ),
        sa.CheckConstraint(
            "bp_end_sys > bp_end_dia",
            name=op.f("ck_dosing_session_bp_end_sys_above_dia"),
        ),
        sa.CheckConstraint(
            "bp_end_sys >= 50 AND bp_end_sys <= 300",
            name=op.f("ck_dosing_session_bp_end_sys"),
        ),
        sa.CheckConstraint(
            "bp_pre_dia >= 20 AND bp_pre_dia <= 200",
            name=op.f("ck_dosing_session_bp_pre_dia"),
        ),
        sa.CheckConstraint(
            "bp_pre_sys > bp_pre_dia",
            name=op.f("ck_dosing_session_bp_pre_sys_above_dia"),
        ),
        sa.CheckConstraint(
            "bp_pre_sys >= 50 AND bp_pre_sys <= 300",
            name=op.f("ck_dosing_session_bp_pre_sys"),
        ),
        sa.CheckConstraint(
            "death_imagery >= 0 AND death_imagery <= 10",
            name=op.f("ck_dosing_session_death_imagery"),
        ),
        sa.CheckConstraint(
            "despair >= 0 AND despair <= 10", name=op.f("ck_dosing_session_despair")
        ),
        sa.CheckConstraint(
            "dissociation_cadss >= 0 AND dissociation_cadss <= 92",
            name=op.f("ck_dosing_session_dissociation_cadss"),
        ),
        sa.CheckConstraint(
            "dose_mg > 0 AND dose_mg <= 1000", name=op.f("ck_dosing_session_dose_mg")
        ),
        sa.CheckConstraint(
            "grief >= 0 AND grief <= 10", name=op.f("ck_dosing_session_grief")
        ),
        sa.CheckConstraint(
            "observation_min >= 0 AND observation_min <= 1440",
            name=op.f("ck_dosing_session_observation_min"),
        ),
        sa.CheckConstraint(
            "panic >= 0 AND panic <= 10", name=op.f("ck_dosing_session_panic")
        ),
        sa.CheckConstraint(
            "phq9 >= 0 AND phq9 <= 27", name=op.f("ck_dosing_session_phq9")
        ),
        sa.CheckConstraint(
            "phq9_item9 <= phq9", name=op.f("ck_dosing_session_phq9_item9_within_total")
        ),
        sa.CheckConstraint(
            "phq9_item9 >= 0 AND phq9_item9 <= 3",
            name=op.f("ck_dosing_session_phq9_item9"),
        ),
        sa.CheckConstraint(
            "shame >= 0 AND shame <= 10", name=op.f("ck_dosing_session_shame")
        ),
        sa.CheckConstraint(
            "vulnerability >= 0 AND vulnerability <= 10",
            name=op.f("ck_dosing_session_vulnerability"),
        ),
        sa.CheckConstraint(
            "weight_kg >= 20 AND weight_kg <= 400",
            name=op.f("ck_dosing_session_weight_kg"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_dosing_session_patient_id_patient"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dosing_session")),
        sa.UniqueConstraint(
            "patient_id", "session_at", name="uq_dosing_session_patient_time"
        ),
    )
    with op.batch_alter_table("dosing_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dosing_session_phq9",
            ["patient_id", "session_at", "phq9"],
            unique=False,
            sqlite_where=sa.text("phq9 IS NOT NULL"),
            postgresql_where=sa.text("phq9 IS NOT NULL"),
        )

    op.create_index(
        "uq_app_user_username_lower",
        "app_user",
        [sa.text("lower(username)")],
        unique=True,
    )
    _make_audit_append_only()


def _make_audit_append_only() -> None:
    """The audit trail refuses UPDATE and DELETE in the database itself."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_update")
        op.execute("DROP TRIGGER audit_event_no_delete")
    else:
        op.execute("DROP TRIGGER audit_event_no_update_delete ON audit_event")
        op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION audit_event_append_only()")
    op.drop_index("uq_app_user_username_lower", table_name="app_user")
    with op.batch_alter_table("dosing_session", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_dosing_session_phq9",
            sqlite_where=sa.text("phq9 IS NOT NULL"),
            postgresql_where=sa.text("phq9 IS NOT NULL"),
        )

    op.drop_table("dosing_session")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_patient_id"))

    op.drop_table("decision")
    op.drop_table("patient")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_patient_code"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    op.drop_table("app_setting")
    op.drop_table("app_user")
