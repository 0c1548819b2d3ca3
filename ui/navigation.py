"""Which pages each role sees, as plain data (dashboard.py turns it into st.navigation).

A page a role may not use is left out of the navigation, so it cannot be
reached by URL either; each page also checks the permission itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.access import Actor, Permission


@dataclass(frozen=True)
class PageSpec:
    """One page of the dashboard and the permission it needs."""

    path: str
    title: str
    icon: str
    section: str
    permission: Permission
    default: bool = False


REVIEW, CLINICAL, RECORDS, ADMINISTRATION = (
    "Review",
    "Clinical work",
    "Records and rules",
    "Administration",
)

WEEKLY_REVIEW = PageSpec(
    "pages/weekly_review.py",
    "Weekly review",
    ":material/patient_list:",
    REVIEW,
    Permission.VIEW_PATIENTS,
    default=True,
)
PATIENT_REPORT = PageSpec(
    "pages/patient_report.py",
    "Patient report",
    ":material/clinical_notes:",
    REVIEW,
    Permission.VIEW_PATIENTS,
)
LOG_SESSION = PageSpec(
    "pages/log_session.py",
    "Log a session",
    ":material/edit_note:",
    CLINICAL,
    Permission.WRITE_CLINICAL,
)
DECISION = PageSpec(
    "pages/decision.py",
    "Care-team decision",
    ":material/groups:",
    CLINICAL,
    Permission.WRITE_CLINICAL,
)
RECORDS_PAGE = PageSpec(
    "pages/records.py",
    "Records",
    ":material/import_export:",
    RECORDS,
    Permission.EXPORT_RECORDS,
)
RULES = PageSpec(
    "pages/rules.py",
    "Rules in force",
    ":material/rule:",
    RECORDS,
    Permission.VIEW_PATIENTS,
)

PAGES: tuple[PageSpec, ...] = (
    WEEKLY_REVIEW,
    PATIENT_REPORT,
    LOG_SESSION,
    DECISION,
    RECORDS_PAGE,
    RULES,
)

#: Admin-only pages, shown in the "Administration" section to roles that hold their
#: permission (admins); each page checks the permission itself too.
ADMIN_PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "pages/audit_log.py",
        "Audit log",
        ":material/policy:",
        ADMINISTRATION,
        Permission.VIEW_AUDIT,
    ),
    PageSpec(
        "pages/users.py",
        "Users",
        ":material/manage_accounts:",
        ADMINISTRATION,
        Permission.MANAGE_USERS,
    ),
)


def url_paths_behind_login() -> list[str]:
    """The URL of every page but the home page (whose URL is the site's own).

    While nobody is logged in, these URLs show the login page, so that a link
    to a patient's report leads there after logging in instead of to
    "page not found".
    """
    return [Path(page.path).stem for page in (*PAGES, *ADMIN_PAGES) if not page.default]


def visible_pages(actor: Actor) -> dict[str, list[PageSpec]]:
    """The pages ``actor`` may open, by section, in menu order; empty sections left out."""
    sections: dict[str, list[PageSpec]] = {}
    for page in (*PAGES, *ADMIN_PAGES):
        if actor.can(page.permission):
            sections.setdefault(page.section, []).append(page)
    return sections


def refused_pages(actor: Actor) -> list[PageSpec]:
    """The pages ``actor`` may not open: their URLs say so instead of "page not found".

    A link to such a page (a viewer sent a Log a session link, or a role changed
    while the page was open) would otherwise land silently on the home page.
    """
    return [page for page in (*PAGES, *ADMIN_PAGES) if not actor.can(page.permission)]
