"""Logging in: one answer for every refusal, lockout after five failures and its expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from services import auth, users
from services.access import verify_password
from services.settings import AccessSettings
from tests.access.conftest import ADMIN, CLINICIAN, PASSWORD, audit_rows, details

T0 = datetime(2026, 11, 20, 9, 0)
SETTINGS = AccessSettings(lockout_minutes=15)


def _fail(engine: Engine, times: int, *, at: datetime = T0, name: str = "cleo") -> None:
    for _ in range(times):
        result = auth.login(
            engine=engine, username=name, password="wrong password", now=at, settings=SETTINGS
        )
        assert result.actor is None


def test_the_right_password_logs_in_with_the_accounts_role(accounts: Engine) -> None:
    result = auth.login(engine=accounts, username="CLEO", password=PASSWORD, now=T0)
    assert result.actor == CLINICIAN


def test_wrong_user_wrong_password_locked_and_disabled_get_the_same_answer(
    accounts: Engine,
) -> None:
    unknown = auth.login(engine=accounts, username="nobody", password=PASSWORD, now=T0)
    wrong = auth.login(engine=accounts, username="cleo", password="not it at all", now=T0)
    _fail(accounts, 5, name="vic")
    locked = auth.login(engine=accounts, username="vic", password=PASSWORD, now=T0)
    users.set_active(engine=accounts, actor=ADMIN, username="cleo", active=False)
    disabled = auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0)
    answers = {r.message for r in (unknown, wrong, locked, disabled)}
    assert answers == {auth.LOGIN_REFUSED}
    assert all(r.actor is None for r in (unknown, wrong, locked, disabled))


def test_five_failures_in_a_row_lock_the_account_even_against_the_right_password(
    accounts: Engine,
) -> None:
    _fail(accounts, 4)
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0).actor
    _fail(accounts, 4)  # the success reset the count: four more do not lock
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0).actor
    _fail(accounts, 5)
    refused = auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0)
    assert refused.actor is None
    assert len(audit_rows(accounts, "account_locked")) == 1


def test_the_lock_expires_after_the_configured_minutes(accounts: Engine) -> None:
    _fail(accounts, 5)
    just_before = T0 + timedelta(minutes=15) - timedelta(seconds=1)
    assert (
        auth.login(
            engine=accounts, username="cleo", password=PASSWORD, now=just_before, settings=SETTINGS
        ).actor
        is None
    )
    at_expiry = T0 + timedelta(minutes=15)
    assert (
        auth.login(
            engine=accounts, username="cleo", password=PASSWORD, now=at_expiry, settings=SETTINGS
        ).actor
        == CLINICIAN
    )


def test_the_lockout_minutes_come_from_the_settings(accounts: Engine) -> None:
    short = AccessSettings(lockout_minutes=2)
    for _ in range(5):
        auth.login(engine=accounts, username="cleo", password="nope nope", now=T0, settings=short)
    later = T0 + timedelta(minutes=2)
    assert auth.login(
        engine=accounts, username="cleo", password=PASSWORD, now=later, settings=short
    ).actor


def test_attempts_while_locked_do_not_extend_the_lock(accounts: Engine) -> None:
    _fail(accounts, 5)
    _fail(accounts, 3, at=T0 + timedelta(minutes=10))
    assert auth.login(
        engine=accounts,
        username="cleo",
        password=PASSWORD,
        now=T0 + timedelta(minutes=15),
        settings=SETTINGS,
    ).actor


def test_an_admin_unlock_lifts_the_lock_at_once(accounts: Engine) -> None:
    _fail(accounts, 5)
    users.unlock_user(engine=accounts, actor=ADMIN, username="cleo", now=T0)
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0).actor


def test_an_unlock_forgets_the_failures_counted_so_far(accounts: Engine) -> None:
    _fail(accounts, 3)
    summary = users.unlock_user(engine=accounts, actor=ADMIN, username="cleo", now=T0)
    assert summary.failed_logins == 0
    _fail(accounts, 4)  # 3 + 4 would have locked it; 4 alone does not
    assert auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0).actor
    [unlocked] = audit_rows(accounts, "user_unlocked")
    assert details(unlocked)["before"] == {"locked_until": None, "failed_logins": 3}


def test_every_attempt_is_audited_and_no_row_holds_the_password(accounts: Engine) -> None:
    secret = "Sup3r secret typed by mistake"
    auth.login(engine=accounts, username="cleo", password=secret, now=T0)
    auth.login(engine=accounts, username=secret, password=secret, now=T0)  # into the name field
    auth.login(engine=accounts, username="cleo", password=PASSWORD, now=T0)
    failed = audit_rows(accounts, "login_failed")
    assert [details(e)["reason"] for e in failed] == ["wrong password", "unknown user"]
    assert failed[0].entity_id == "cleo"
    assert failed[1].entity_id == "" and details(failed[1])["typed_name_length"] == len(secret)
    assert [e.username for e in audit_rows(accounts, "login")] == ["cleo"]
    for event in audit_rows(accounts):
        row_text = " ".join(str(v) for v in event.model_dump().values())
        assert secret not in row_text and PASSWORD not in row_text


def test_passwords_are_stored_as_argon2id_hashes(accounts: Engine) -> None:
    from sqlmodel import Session

    with Session(accounts) as session:
        user = users.find_user(session, "cleo")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert verify_password(user.password_hash, PASSWORD)


def test_a_huge_typed_password_is_cut_before_argon2_sees_it(
    accounts: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = verify_password

    def measured(password_hash: str, password: str) -> bool:
        seen.append(len(password))
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", measured)
    refused = auth.login(engine=accounts, username="cleo", password="x" * 5_000_000, now=T0)
    assert refused.actor is None and refused.message == auth.LOGIN_REFUSED
    assert seen == [users.MAX_PASSWORD_LENGTH + 1]
