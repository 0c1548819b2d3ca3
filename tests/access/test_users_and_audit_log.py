"""User management (admins) and the audit log's filters and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from redflags.clinic_time import clinic_timezone, local_today
from redflags.codes import Role
from services import auth, users
from services.access import Actor
from services.audit_log import AuditQuery, AuditQueryError, audit_choices, audit_page, export_audit
from services.users import UserError
from tests.access.conftest import ADMIN, PASSWORD, audit_rows


def test_a_new_user_needs_a_long_enough_password_and_a_free_name(accounts: Engine) -> None:
    with pytest.raises(UserError, match="at least 12"):
        users.create_user(
            engine=accounts, actor=ADMIN, username="short", role=Role.VIEWER, password="elevenchars"
        )
    with pytest.raises(UserError, match="already exists"):
        users.create_user(
            engine=accounts, actor=ADMIN, username="CLEO", role=Role.VIEWER, password=PASSWORD
        )
    with pytest.raises(UserError, match="username"):
        users.create_user(
            engine=accounts, actor=ADMIN, username="two words", role=Role.VIEWER, password=PASSWORD
        )
    with pytest.raises(UserError, match="not be the username"):
        users.create_user(
            engine=accounts,
            actor=ADMIN,
            username="samesame12345",
            role=Role.VIEWER,
            password="samesame12345",
        )
    assert not audit_rows(accounts, "user_created")[3:]  # only the three accounts of the fixture


def test_the_list_shows_role_state_and_no_password_hash(accounts: Engine) -> None:
    listed = users.list_users(engine=accounts, actor=ADMIN)
    assert [(u.username, u.role, u.active) for u in listed] == [
        ("ada", Role.ADMIN, True),
        ("cleo", Role.CLINICIAN, True),
        ("vic", Role.VIEWER, True),
    ]
    assert not hasattr(listed[0], "password_hash")


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(accounts: Engine) -> None:
    with pytest.raises(UserError, match="last active administrator"):
        users.set_active(engine=accounts, actor=ADMIN, username="ada", active=False)
    with pytest.raises(UserError, match="last active administrator"):
        users.change_role(engine=accounts, actor=ADMIN, username="ada", role=Role.CLINICIAN)
    users.change_role(engine=accounts, actor=ADMIN, username="cleo", role=Role.ADMIN)
    users.change_role(engine=accounts, actor=ADMIN, username="ada", role=Role.CLINICIAN)
    with pytest.raises(UserError, match="last active administrator"):
        users.set_active(
            engine=accounts, actor=Actor("cleo", Role.ADMIN), username="cleo", active=False
        )


def test_a_disabled_account_cannot_log_in_and_loses_its_open_login(accounts: Engine) -> None:
    users.set_active(engine=accounts, actor=ADMIN, username="cleo", active=False)
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD).actor is None
    assert auth.current_account(engine=accounts, actor=Actor("cleo", Role.CLINICIAN)) is None
    users.set_active(engine=accounts, actor=ADMIN, username="cleo", active=True)
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD).actor


def test_a_role_change_applies_to_an_open_login(accounts: Engine) -> None:
    users.change_role(engine=accounts, actor=ADMIN, username="vic", role=Role.CLINICIAN)
    refreshed = auth.current_account(engine=accounts, actor=Actor("vic", Role.VIEWER))
    assert refreshed == Actor("vic", Role.CLINICIAN)


def test_a_reset_password_works_and_the_old_one_no_longer_does(accounts: Engine) -> None:
    users.reset_password(engine=accounts, actor=ADMIN, username="vic", password="fresh password 1")
    assert auth.login(engine=accounts, username="vic", password=PASSWORD).actor is None
    assert auth.login(engine=accounts, username="vic", password="fresh password 1").actor


def test_the_audit_log_filters_by_user_action_patient_and_day(clinic: Engine) -> None:
    from services.report import record_patient_view

    record_patient_view(engine=clinic, actor=Actor("cleo", Role.CLINICIAN), patient_code="P-001")
    record_patient_view(engine=clinic, actor=Actor("vic", Role.VIEWER), patient_code="P-001")
    views = audit_page(engine=clinic, actor=ADMIN, query=AuditQuery(action="patient_viewed")).rows
    assert list(views["username"]) == ["vic", "cleo"]  # newest first
    mine = audit_page(
        engine=clinic, actor=ADMIN, query=AuditQuery(username="cleo", patient_code="P-001")
    )
    assert mine.total == 1
    today = local_today(clinic_timezone())
    assert audit_page(
        engine=clinic, actor=ADMIN, query=AuditQuery(first_day=today, last_day=today)
    ).total == len(audit_rows(clinic))
    assert (
        audit_page(
            engine=clinic,
            actor=ADMIN,
            query=AuditQuery(first_day=date(2020, 1, 1), last_day=date(2020, 1, 2)),
        ).total
        == 0
    )
    with pytest.raises(AuditQueryError):
        audit_page(
            engine=clinic,
            actor=ADMIN,
            query=AuditQuery(first_day=date(2020, 1, 2), last_day=date(2020, 1, 1)),
        )
    choices = audit_choices(engine=clinic, actor=ADMIN)
    assert {"patient_viewed", "user_created", "sessions_import"} <= set(choices.actions)


def test_the_audit_csv_neutralises_formulas_and_keeps_every_matching_row(accounts: Engine) -> None:
    auth.login(engine=accounts, username='=HYPERLINK("x")', password="whatever it is")
    users.create_user(
        engine=accounts, actor=ADMIN, username="-minus", role=Role.VIEWER, password=PASSWORD
    )
    exported = export_audit(engine=accounts, actor=ADMIN, query=AuditQuery())
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8"))))
    assert len(rows) == exported.rows == len(audit_rows(accounts)) - 1  # all but the export's own
    created = [r for r in rows if r["action"] == "user_created" and "minus" in r["entity_id"]]
    assert created[0]["entity_id"] == "'-minus"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert rows[0]["at_utc"].endswith("Z")


def test_the_audit_page_shows_each_time_in_the_clinics_zone_and_format(clinic: Engine) -> None:
    from zoneinfo import ZoneInfo

    from services.report import record_patient_view

    record_patient_view(engine=clinic, actor=Actor("cleo", Role.CLINICIAN), patient_code="P-001")
    tokyo = ZoneInfo("Asia/Tokyo")
    row = audit_page(
        engine=clinic, actor=ADMIN, query=AuditQuery(action="patient_viewed"), tz=tokyo
    ).rows.iloc[0]
    utc = datetime.fromisoformat(str(row["at_utc"]).removesuffix("Z"))
    local = utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(tokyo)
    assert row["when"] == f"{local.day} {local:%b %Y}, {local:%H:%M:%S}"
