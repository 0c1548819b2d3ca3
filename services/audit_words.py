"""The audit trail in words, for the audit page: each action named, each row's details summed up.

The trail itself keeps its codes and its JSON details exactly as written (they
are hashed, exported and checked as they are); this module only reads them.
A summary never invents: a detail it does not know is shown as ``name: value``,
and details that are not a JSON object are shown as they were written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from redflags.fields import FIELDS_BY_NAME
from redflags.labels import decision_words, flag_words, format_dose, route_words, treatment_words

#: Every action the dashboard and the command line write, in words.
ACTION_WORDS: dict[str, str] = {
    "access_denied": "Access refused",
    "account_locked": "Account locked",
    "audit_export": "Audit log exported",
    "caseload_viewed": "Caseload viewed",
    "decision_recorded": "Decision recorded",
    "decisions_import": "Decisions CSV imported",
    "demo_patients_loaded": "Demo patients loaded",
    "demo_refreshed": "Demo records cleared for a reload",
    "login": "Logged in",
    "login_failed": "Login refused",
    "logout": "Logged off",
    "patient_created": "Patient added",
    "patient_viewed": "Patient's records opened",
    "records_export": "Records exported",
    "rules_loaded": "Rules file loaded",
    "session_created": "Session logged",
    "session_edited": "Session edited",
    "session_removed": "Session removed",
    "sessions_import": "Sessions CSV imported",
    "user_created": "User created",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled",
    "user_password_reset": "Password reset",
    "user_role_changed": "Role changed",
    "user_unlocked": "User unlocked",
}

_LOGOUT_WORDS = {
    "user": "by the user",
    "idle": "after the idle time",
    "session limit": "at the session's time limit",
    "account disabled": "the account was disabled",
}

#: Details shown in no summary: internal, or already in the row's own columns.
_QUIET_KEYS = frozenset({"pid", "sha256", "bytes"})


def action_words(code: str) -> str:
    """An action in words; an action this version does not know, as written."""
    return ACTION_WORDS.get(code, code)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items())
    return str(value)


def _utc(value: Any) -> str:
    """An ISO time as recorded, without its fractions of a second: "2026-11-16 10:00:00 UTC"."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return _value(value)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _field(name: str) -> str:
    field = FIELDS_BY_NAME.get(name)
    if field is not None:
        return field.label
    return "session time" if name == "session_at_utc" else name.replace("_", " ")


def _field_value(name: str, value: Any) -> str:
    if name == "route" and value:
        return route_words(value)
    return _utc(value) if name == "session_at_utc" and value else _value(value)


def _count(n: Any, one: str, many: str | None = None) -> str:
    plural = many if many is not None else one + "s"
    return f"{n:,} {one if n == 1 else plural}" if isinstance(n, int) else f"{n} {plural}"


def _rest(details: Mapping[str, Any], shown: set[str]) -> list[str]:
    """``name: value`` for every detail a summary did not use (nothing is hidden)."""
    return [
        f"{key.replace('_', ' ')}: {_value(value)}"
        for key, value in details.items()
        if key not in shown and key not in _QUIET_KEYS
    ]


def _login_failed(d: Mapping[str, Any]) -> list[str]:
    reason = d.get("reason")
    parts = [str(reason)] if reason else []
    if "failed_in_a_row" in d:
        parts.append(f"{_count(d['failed_in_a_row'], 'failed attempt')} in a row")
    if "locked_until" in d:
        parts.append(f"locked until {_utc(d['locked_until'])}")
    if "typed_name_length" in d:
        parts.append(f"name typed: {_count(d['typed_name_length'], 'character')}")
    return parts + _rest(d, {"reason", "failed_in_a_row", "locked_until", "typed_name_length"})


def _account_locked(d: Mapping[str, Any]) -> list[str]:
    parts = []
    if "failed_in_a_row" in d:
        parts.append(f"after {_count(d['failed_in_a_row'], 'failed attempt')} in a row")
    if "lockout_minutes" in d:
        parts.append(f"for {_count(d['lockout_minutes'], 'minute')}")
    if "locked_until" in d:
        parts.append(f"until {_utc(d['locked_until'])}")
    return parts + _rest(d, {"failed_in_a_row", "lockout_minutes", "locked_until"})


def _logout(d: Mapping[str, Any]) -> list[str]:
    reason = d.get("reason")
    parts = [_LOGOUT_WORDS.get(str(reason), str(reason))] if reason else []
    return parts + _rest(d, {"reason"})


def _access_denied(d: Mapping[str, Any]) -> list[str]:
    parts = [f"at {d['where']}"] if d.get("where") else []
    return parts + _rest(d, {"where"})


def _caseload_viewed(d: Mapping[str, Any]) -> list[str]:
    parts = []
    if "patients" in d:
        parts.append(_count(d["patients"], "patient"))
    if d.get("as_of"):
        parts.append(f"as of {d['as_of']}")
    return parts + _rest(d, {"patients", "as_of"})


def _decision(d: Mapping[str, Any]) -> list[str]:
    parts = [decision_words(d["decision"])] if d.get("decision") else []
    route_from, route_to = d.get("route_from"), d.get("route_to")
    dose_from, dose_to = d.get("dose_from_mg"), d.get("dose_to_mg")
    if route_from or route_to:
        parts.append(
            f"route {_field_value('route', route_from)} → {_field_value('route', route_to)}"
        )
    if dose_from is not None or dose_to is not None:
        parts.append(f"dose {_dose(dose_from)} → {_dose(dose_to)}")
    flags = d.get("flags_considered")
    if flags:
        listed = flags if isinstance(flags, list) else str(flags).split(";")
        words = [flag_words(str(f).strip()) for f in listed if str(f).strip()]
        parts.append("flags considered: " + ", ".join(words))
    status = d.get("treatment_status")
    if isinstance(status, dict) and status.get("before") != status.get("after"):
        parts.append(
            f"treatment {treatment_words(status.get('before'))} → "
            f"{treatment_words(status.get('after'))}"
        )
    if d.get("decided_at_utc"):
        parts.append(f"decided {_utc(d['decided_at_utc'])}")
    used = {
        "decision",
        "route_from",
        "route_to",
        "dose_from_mg",
        "dose_to_mg",
        "flags_considered",
        "treatment_status",
        "decided_at_utc",
    }
    return parts + _rest(d, used)


def _dose(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_dose(float(value))
    return _value(value)


def _import(d: Mapping[str, Any]) -> list[str]:
    parts = [str(d["file"])] if d.get("file") else []
    if d.get("outcome"):
        parts.append(str(d["outcome"]) + (" (dry run)" if d.get("dry_run") else ""))
    counts = (
        ("rows_read", "row read", "rows read"),
        ("imported", "imported", "imported"),
        ("unchanged", "unchanged", "unchanged"),
        ("patients_created", "patient added", "patients added"),
        ("problems", "problem", "problems"),
    )
    parts += [_count(d[key], one, many) for key, one, many in counts if key in d]
    used = {"outcome", "dry_run", "file", *(key for key, _one, _many in counts)}
    return parts + _rest(d, used)


def _export(d: Mapping[str, Any]) -> list[str]:
    parts = [f"{d['what']} CSV"] if d.get("what") else []
    if "rows" in d:
        parts.append(_count(d["rows"], "row"))
    if d.get("patient"):
        parts.append(f"patient {d['patient']}")
    if d.get("as_of"):
        parts.append(f"as of {d['as_of']}")
    filters = d.get("filters")
    if isinstance(filters, dict):
        chosen = {k: v for k, v in filters.items() if v not in (None, "")}
        parts.append("filters: " + (_value(chosen) if chosen else "none"))
    if d.get("destination"):
        parts.append(f"to {d['destination']}")
    return parts + _rest(d, {"what", "rows", "patient", "as_of", "filters", "destination"})


def _session_values(values: Any) -> str:
    if not isinstance(values, dict):
        return _value(values)
    order = {name: place for place, name in enumerate(("session_at_utc", *FIELDS_BY_NAME))}
    names = sorted(values, key=lambda name: order.get(name, len(order)))
    return "; ".join(
        f"{_field(name)} {_field_value(name, values[name])}"
        for name in names
        if values[name] not in (None, "")
    )


def _session_created(d: Mapping[str, Any]) -> list[str]:
    parts = [_session_values(d["after"])] if "after" in d else []
    return parts + _rest(d, {"after"})


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _session_edited(d: Mapping[str, Any]) -> list[str]:
    before = _mapping(d.get("before"))
    after = _mapping(d.get("after"))
    listed = d.get("changed")
    changed = listed if isinstance(listed, list) else list(after)
    parts = [
        f"{_field(str(name))} {_field_value(str(name), before.get(name))} → "
        f"{_field_value(str(name), after.get(name))}"
        for name in changed
    ]
    if d.get("reason"):
        parts.append(f"reason: {d['reason']}")
    return parts + _rest(d, {"changed", "before", "after", "reason"})


def _session_removed(d: Mapping[str, Any]) -> list[str]:
    parts = [f"reason: {d['reason']}"] if d.get("reason") else []
    if "before" in d:
        parts.append(f"was: {_session_values(d['before'])}")
    return parts + _rest(d, {"reason", "before"})


def _role_or_active(d: Mapping[str, Any]) -> list[str]:
    before = d.get("before") if isinstance(d.get("before"), dict) else None
    after = d.get("after") if isinstance(d.get("after"), dict) else None
    if before is None or after is None:
        return _rest(d, set())
    parts = [
        f"{key.replace('_', ' ')} {_value(before.get(key))} → {_value(after.get(key))}"
        for key in after
    ]
    return parts + _rest(d, {"before", "after"})


def _user_created(d: Mapping[str, Any]) -> list[str]:
    parts = [f"role {d['role']}"] if d.get("role") else []
    if d.get("active") is False:
        parts.append("disabled")
    return parts + _rest(d, {"role", "active"})


def _demo_patients(d: Mapping[str, Any]) -> list[str]:
    parts = [_count(d["patients"], "patient")] if "patients" in d else []
    return parts + _rest(d, {"patients"})


def _demo_refreshed(d: Mapping[str, Any]) -> list[str]:
    parts = [f"{_count(d['rows_deleted'], 'row')} deleted"] if "rows_deleted" in d else []
    return parts + _rest(d, {"rows_deleted"})


def _password_reset(d: Mapping[str, Any]) -> list[str]:
    parts = ["new password set (never recorded)"]
    if d.get("lock_lifted"):
        parts.append("lockout lifted")
    return parts + _rest(d, {"password", "lock_lifted"})


def _rules_loaded(d: Mapping[str, Any]) -> list[str]:
    parts = [str(d["path"])] if d.get("path") else []
    if d.get("sha256"):
        parts.append(f"SHA-256 {str(d['sha256'])[:12]}…")
    if d.get("program"):
        parts.append(f"by {d['program']}")
    return parts + _rest(d, {"path", "program"})


_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "login_failed": _login_failed,
    "account_locked": _account_locked,
    "logout": _logout,
    "access_denied": _access_denied,
    "caseload_viewed": _caseload_viewed,
    "decision_recorded": _decision,
    "sessions_import": _import,
    "decisions_import": _import,
    "records_export": _export,
    "audit_export": _export,
    "session_created": _session_created,
    "session_edited": _session_edited,
    "session_removed": _session_removed,
    "user_created": _user_created,
    "user_role_changed": _role_or_active,
    "user_disabled": _role_or_active,
    "user_enabled": _role_or_active,
    "user_password_reset": _password_reset,
    "rules_loaded": _rules_loaded,
    "demo_patients_loaded": _demo_patients,
    "demo_refreshed": _demo_refreshed,
}


def audit_summary(action: str, details: str) -> str:
    """One line saying what a row's details hold, in words; the text itself if it is not JSON."""
    if not details.strip():
        return ""
    try:
        parsed = json.loads(details)
    except ValueError:
        return details
    if not isinstance(parsed, dict):
        return details
    summarise = _SUMMARIES.get(action)
    parts = summarise(parsed) if summarise is not None else _rest(parsed, set())
    return "; ".join(part for part in parts if part)
