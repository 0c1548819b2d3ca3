"""The menu per role: viewers read, clinicians also write, admins see administration too."""

from __future__ import annotations

from pathlib import Path

from redflags.codes import Role
from services.access import Actor, Permission
from ui import navigation

ROOT = Path(__file__).resolve().parents[2]


def titles(role: Role) -> dict[str, list[str]]:
    pages = navigation.visible_pages(Actor("someone", role))
    return {section: [p.title for p in specs] for section, specs in pages.items()}


def test_a_viewer_sees_the_review_the_report_and_the_rules_only() -> None:
    assert titles(Role.VIEWER) == {
        navigation.REVIEW: ["Weekly review", "Patient report"],
        navigation.RECORDS: ["Rules in force"],
    }


def test_a_clinician_also_logs_sessions_records_decisions_and_moves_records() -> None:
    assert titles(Role.CLINICIAN) == {
        navigation.REVIEW: ["Weekly review", "Patient report"],
        navigation.CLINICAL: ["Log a session", "Care-team decision"],
        navigation.RECORDS: ["Records", "Rules in force"],
    }


def test_the_administration_section_is_only_ever_shown_to_admins() -> None:
    extra = navigation.PageSpec(
        "pages/users.py",
        "Users",
        ":material/group:",
        navigation.ADMINISTRATION,
        Permission.MANAGE_USERS,
    )
    original = navigation.ADMIN_PAGES
    try:
        navigation.ADMIN_PAGES = (extra,)
        assert titles(Role.ADMIN)[navigation.ADMINISTRATION] == ["Users"]
        assert navigation.ADMINISTRATION not in titles(Role.CLINICIAN)
        assert navigation.ADMINISTRATION not in titles(Role.VIEWER)
    finally:
        navigation.ADMIN_PAGES = original


def test_every_page_file_exists_and_exactly_one_is_the_default() -> None:
    for spec in (*navigation.PAGES, *navigation.ADMIN_PAGES):
        assert (ROOT / spec.path).is_file(), spec.path
    assert [p.title for p in navigation.PAGES if p.default] == ["Weekly review"]


def test_every_page_checks_the_login_itself() -> None:
    for spec in navigation.PAGES:
        source = (ROOT / spec.path).read_text(encoding="utf-8")
        assert "state.require_login(" in source, spec.path
