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
    "decision_withdrawn": "Decision withdrawn",
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


def _treatment_change(status: Any) -> list[str]:
    """ "treatment Paused → Active" for a status change; nothing when it stayed."""
    said = _mapping(status)
    if not said or said.get("before") == said.get("after"):
        return []
    return [
        f"treatment {treatment_words(said.get('before'))} → {treatment_words(said.get('after'))}"
    ]


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
    flags = [code for code in str(d.get("flags_considered") or "").split(";") if code]
    if flags:
        parts.append("flags considered: " + ", ".join(flag_words(code) for code in flags))
    parts += _treatment_change(d.get("treatment_status"))
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


def _decision_withdrawn(d: Mapping[str, Any]) -> list[str]:
    parts = [f"reason: {d['reason']}"] if d.get("reason") else []
    parts += _treatment_change(d.get("treatment_status"))
    if "before" in d:
        was = dict(_mapping(d["before"]))
        stored = was.pop("created_at", None)
        said = _decision(was) + ([f"stored {_utc(stored)}"] if stored else [])
        parts.append("was: " + "; ".join(said))
    return parts + _rest(d, {"reason", "treatment_status", "before"})


def _dose(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_dose(float(value))
    return _value(value)


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


def _role_or_active(d: Mapping[str, Any]) -> list[str]:
    before, after = _mapping(d.get("before")), _mapping(d.get("after"))
    if not after:
        return _rest(d, set())
    parts = [
        f"{key.replace('_', ' ')} {_value(before.get(key))} → {_value(after.get(key))}"
        for key in after
    ]
    return parts + _rest(d, {"before", "after"})


def _password_reset(d: Mapping[str, Any]) -> list[str]:
    parts = ["new password set (never recorded)"]
    if d.get("lock_lifted"):
        parts.append("lockout lifted")
    return parts + _rest(d, {"password", "lock_lifted"})


def _filters(chosen: Any) -> str:
    if not isinstance(chosen, dict):
        return f"filters: {_value(chosen)}"
    named = {k: v for k, v in chosen.items() if v not in (None, "")}
    return "filters: " + (_value(named) if named else "none")


#: What a detail says, by its name: its words, or None/"" to say nothing.
Said = tuple[tuple[str, Callable[[Any], str | None]], ...]

_IMPORTED: Said = (
    ("file", str),
    ("outcome", str),
    ("dry_run", lambda dry: "dry run" if dry else None),
    ("rows_read", lambda n: _count(n, "row read", "rows read")),
    ("imported", lambda n: _count(n, "imported", "imported")),
    ("unchanged", lambda n: _count(n, "unchanged", "unchanged")),
    ("patients_created", lambda n: _count(n, "patient added", "patients added")),
    ("problems", lambda n: _count(n, "problem")),
)
_EXPORTED: Said = (
    ("what", lambda what: f"{what} CSV"),
    ("rows", lambda n: _count(n, "row")),
    ("patient", lambda code: f"patient {code}" if code else None),
    ("as_of", lambda day: f"as of {day}" if day else None),
    ("filters", _filters),
    ("destination", lambda where: f"to {where}" if where else None),
)
_PATIENTS: Said = (("patients", lambda n: _count(n, "patient")),)

#: The actions whose details are each said on their own, in this order.
_SAID: dict[str, Said] = {
    "login_failed": (
        ("reason", str),
        ("failed_in_a_row", lambda n: f"{_count(n, 'failed attempt')} in a row"),
        ("locked_until", lambda at: f"locked until {_utc(at)}"),
        ("typed_name_length", lambda n: f"name typed: {_count(n, 'character')}"),
    ),
    "account_locked": (
        ("failed_in_a_row", lambda n: f"after {_count(n, 'failed attempt')} in a row"),
        ("lockout_minutes", lambda n: f"for {_count(n, 'minute')}"),
        ("locked_until", lambda at: f"until {_utc(at)}"),
    ),
    "logout": (("reason", lambda why: _LOGOUT_WORDS.get(str(why), str(why))),),
    "access_denied": (("where", lambda where: f"at {where}"),),
    "caseload_viewed": (*_PATIENTS, ("as_of", lambda day: f"as of {day}")),
    "sessions_import": _IMPORTED,
    "decisions_import": _IMPORTED,
    "records_export": _EXPORTED,
    "audit_export": _EXPORTED,
    "user_created": (
        ("role", lambda role: f"role {role}"),
        ("active", lambda active: None if active else "disabled"),
    ),
    "rules_loaded": (
        ("path", str),
        ("sha256", lambda digest: f"SHA-256 {str(digest)[:12]}…"),
        ("program", lambda name: f"by {name}"),
    ),
    "demo_patients_loaded": _PATIENTS,
    "demo_refreshed": (("rows_deleted", lambda n: f"{_count(n, 'row')} deleted"),),
    "session_created": (("after", _session_values),),
    "session_removed": (
        ("reason", lambda why: f"reason: {why}" if why else None),
        ("before", lambda values: f"was: {_session_values(values)}"),
    ),
}

#: The actions whose details are read together.
_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "decision_recorded": _decision,
    "decision_withdrawn": _decision_withdrawn,
    "session_edited": _session_edited,
    "user_role_changed": _role_or_active,
    "user_disabled": _role_or_active,
    "user_enabled": _role_or_active,
    "user_password_reset": _password_reset,
}


def _said(details: Mapping[str, Any], said: Said) -> list[str]:
    """Each detail ``said`` names, in its words and order, then every other one."""
    parts = [words(details[key]) for key, words in said if key in details]
    return [part for part in parts if part] + _rest(details, {key for key, _words in said})


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
    read_together = _SUMMARIES.get(action)
    parts = read_together(parsed) if read_together else _said(parsed, _SAID.get(action, ()))
    return "; ".join(part for part in parts if part)
