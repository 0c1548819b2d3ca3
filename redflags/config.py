"""The rules configuration (rules.md §10): one TOML file, validated at start-up.

Every threshold of rules.md lives in ``redflags/rules.toml``; the code holds no
default of its own, so a clinic's file must give every key. A clinic points the
environment variable ``REDFLAGS_RULES_FILE`` at its own file; unset (or empty)
means the shipped file. An unknown key, a wrong type, an out-of-range value or
an inconsistent pair raises :class:`RulesConfigError` naming the dotted key and
what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from redflags.fields import ESKETAMINE_DOSES_MG, ROUTES

#: The environment variable that points at a clinic's own rules file.
RULES_FILE_ENV = "REDFLAGS_RULES_FILE"
#: The rules file shipped with the project, holding the defaults of rules.md.
SHIPPED_RULES_FILE = Path(__file__).with_name("rules.toml")


class RulesConfigError(ValueError):
    """The rules file is missing, is not TOML, or breaks the rules of its keys."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WindowRules(_Section):
    """rules.md §2: which sessions are recent, what "repeatedly" means, when a patient is stale."""

    sessions: int = Field(ge=1, le=20)
    repeat: int = Field(ge=1, le=20)
    stale_days: int = Field(ge=1, le=365)


class ThemeRules(_Section):
    """rules.md §3 and §6: the intensities of a hard session and of a green light."""

    hard: int = Field(ge=1, le=10)
    green: int = Field(ge=1, le=10)


class SafetyRules(_Section):
    """rules.md §5: the safety thresholds, checked on the latest session."""

    phq9_item9: int = Field(ge=1, le=3)
    pre_sys: int = Field(ge=50, le=300)
    pre_dia: int = Field(ge=20, le=200)
    rise_sys: int = Field(ge=1, le=250)
    rise_dia: int = Field(ge=1, le=180)
    post_sys: int = Field(ge=50, le=300)
    post_dia: int = Field(ge=20, le=200)
    observation_min: int = Field(ge=0, le=1440)


class OutcomeRules(_Section):
    """rules.md §7: PHQ-9 response, remission and nonresponse."""

    response: float = Field(ge=-1.0, lt=0.0)
    remission: int = Field(ge=0, le=27)
    review_after: int = Field(ge=1, le=200)
    nonresponse: float = Field(ge=-1.0, le=0.0)


DoseMg = Annotated[float, Field(gt=0, le=1000)]


class DoseRules(_Section):
    """rules.md §9: the doses behind adjust_dose and switch_route."""

    esketamine_lowest_mg: int
    max_mg: dict[str, DoseMg]


class RulesConfig(_Section):
    """The validated rules configuration: every threshold of rules.md."""

    window: WindowRules
    theme: ThemeRules
    safety: SafetyRules
    outcome: OutcomeRules
    dose: DoseRules

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        if self.window.repeat > self.window.sessions:
            problems.append(
                f"window.repeat = {self.window.repeat} is not allowed: it must be at most "
                f"window.sessions = {self.window.sessions}"
            )
        if self.outcome.response > self.outcome.nonresponse:
            problems.append(
                f"outcome.response = {self.outcome.response} is not allowed: it must be at most "
                f"outcome.nonresponse = {self.outcome.nonresponse} "
                "(a responder is never a nonresponder)"
            )
        if self.dose.esketamine_lowest_mg not in ESKETAMINE_DOSES_MG:
            problems.append(
                f"dose.esketamine_lowest_mg = {self.dose.esketamine_lowest_mg} is not allowed "
                f"(allowed: one of the esketamine nasal doses {_listing(ESKETAMINE_DOSES_MG)})"
            )
        for route in self.dose.max_mg:
            if route not in ROUTES:
                problems.append(
                    f"dose.max_mg.{route} is not a known route "
                    f"(allowed keys in dose.max_mg: {_listing(ROUTES)})"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def max_dose_mg(self, route: str) -> float | None:
        """The configured maximum dose of a route, or None when it has none (flexible dosing)."""
        return self.dose.max_mg.get(route)


def _listing(values: tuple[object, ...] | list[str]) -> str:
    return ", ".join(str(v) for v in values)


def _describe(info: FieldInfo) -> str:
    """What a field allows, in words, from its type and bounds."""
    bounds = {type(b).__name__: b for b in info.metadata if isinstance(b, Ge | Gt | Le | Lt)}
    kind = "a whole number" if info.annotation is int else "a number"
    ge, gt, le, lt = (bounds.get(name) for name in ("Ge", "Gt", "Le", "Lt"))
    if isinstance(ge, Ge) and isinstance(le, Le):
        return f"{kind} from {ge.ge} to {le.le}"
    parts = []
    if isinstance(ge, Ge):
        parts.append(f"at least {ge.ge}")
    if isinstance(gt, Gt):
        parts.append(f"above {gt.gt}")
    if isinstance(le, Le):
        parts.append(f"at most {le.le}")
    if isinstance(lt, Lt):
        parts.append(f"below {lt.lt}")
    return " ".join([kind, " and ".join(parts)]).strip()


def _allowed(loc: tuple[int | str, ...]) -> str:
    """What the key at ``loc`` allows, for an error message."""
    model: type[BaseModel] = RulesConfig
    for depth, part in enumerate(loc):
        fields = model.model_fields
        if str(part) not in fields:
            if model is DoseRules and depth > 0 and loc[depth - 1] == "max_mg":
                return f"a dose in mg above 0 and at most 1000, for a route ({_listing(ROUTES)})"
            return f"the keys {_listing(list(fields))}"
        info = fields[str(part)]
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if depth == len(loc) - 1:
                return f"a table with the keys {_listing(list(annotation.model_fields))}"
            model = annotation
            continue
        if str(part) == "max_mg":
            if depth == len(loc) - 1:
                return f"a table of route = dose in mg ({_listing(ROUTES)})"
            return "a dose in mg above 0 and at most 1000"
        if str(part) == "esketamine_lowest_mg":
            return f"one of the esketamine nasal doses {_listing(ESKETAMINE_DOSES_MG)}"
        return _describe(info)
    return "a table with the keys window, theme, safety, outcome, dose"


_REASONS = {
    "int_type": "has the wrong type",
    "float_type": "has the wrong type",
    "dict_type": "has the wrong type",
    "model_type": "has the wrong type",
    "greater_than": "is out of range",
    "greater_than_equal": "is out of range",
    "less_than": "is out of range",
    "less_than_equal": "is out of range",
}


def _message(error: Mapping[str, Any]) -> str:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    key = ".".join(str(part) for part in loc)
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "missing":
        return f"{key} is missing (allowed: {_allowed(loc)})"
    if kind == "extra_forbidden":
        parent = loc[:-1]
        where = "in " + ".".join(str(p) for p in parent) if parent else "at the top level"
        return f"{key} is not a known key (allowed {where}: {_allowed(loc)})"
    reason = _REASONS.get(kind, "is not allowed")
    return f"{key} = {error.get('input')!r} {reason} (allowed: {_allowed(loc)})"


def rules_from_mapping(data: Mapping[str, Any], source: str = "rules") -> RulesConfig:
    """Validate an already-parsed rules mapping (as read from TOML)."""
    try:
        return RulesConfig.model_validate(dict(data))
    except ValidationError as error:
        problems = [_message(e) for e in error.errors(include_url=False)]
        raise RulesConfigError(f"{source}: " + "; ".join(problems)) from None


def rules_file_in_force() -> Path:
    """The rules file in force: ``REDFLAGS_RULES_FILE`` if set, else the shipped file."""
    configured = os.environ.get(RULES_FILE_ENV, "").strip()
    return Path(configured) if configured else SHIPPED_RULES_FILE


def load_rules(path: Path | None = None) -> RulesConfig:
    """Read and validate a rules file; ``None`` means the file in force (rules.md §10)."""
    file = path if path is not None else rules_file_in_force()
    from_env = path is None and file != SHIPPED_RULES_FILE
    where = f"{file} (from {RULES_FILE_ENV})" if from_env else str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesConfigError(f"rules file {where} does not exist") from None
    except OSError as error:
        raise RulesConfigError(f"rules file {where} cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise RulesConfigError(f"rules file {where} is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesConfigError(f"rules file {where} is not valid TOML: {error}") from None
    return rules_from_mapping(data, source=f"rules file {where}")


def rules_in_force() -> tuple[Path, RulesConfig]:
    """The rules file in force and its validated values, for the "Rules in force" page."""
    return rules_file_in_force().resolve(), load_rules()


def rules_rows(config: RulesConfig) -> list[tuple[str, float | int]]:
    """The configuration as (dotted key, value) rows, in the order of the rules file."""
    rows: list[tuple[str, float | int]] = []

    def walk(prefix: str, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            key = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Mapping):
                walk(key, value)
            else:
                rows.append((key, value))

    walk("", config.model_dump())
    return rows
