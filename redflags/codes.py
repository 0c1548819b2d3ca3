"""Every code of rules.md and the vocabularies of rules.md §1, in one place."""

from __future__ import annotations

from enum import StrEnum


class Route(StrEnum):
    """How the medicine was given (rules.md §1)."""

    ESKETAMINE_NASAL = "esketamine_nasal"
    KETAMINE_IV = "ketamine_iv"
    KETAMINE_IM = "ketamine_im"
    KETAMINE_ORAL = "ketamine_oral"


class Course(StrEnum):
    """How a theme ended by the end of the session (rules.md §1)."""

    REFLECTED = "reflected"
    CONTAINED = "contained"
    PERSISTED = "persisted"
    ESCALATED = "escalated"


class Status(StrEnum):
    """One status per patient, most urgent first (rules.md §8)."""

    URGENT = "urgent"
    RED = "red"
    AMBER = "amber"
    GREEN = "green"


class SafetyFlag(StrEnum):
    """Safety flags, in the order of rules.md §5."""

    SUICIDALITY = "suicidality"
    BP_PRE_DOSE = "bp_pre_dose"
    BP_RISE = "bp_rise"
    BP_POST_DOSE = "bp_post_dose"
    SHORT_OBSERVATION = "short_observation"


class RedFlag(StrEnum):
    """Red flags, in the order of rules.md §4."""

    REPEATED_PANIC = "repeated_panic"
    UNRELENTING_DESPAIR = "unrelenting_despair"
    EXTRAORDINARY_VULNERABILITY = "extraordinary_vulnerability"


class Watch(StrEnum):
    """Watch (amber) signals, in the order of rules.md §4 then §7."""

    WATCH_PANIC = "watch_panic"
    WATCH_DESPAIR = "watch_despair"
    WATCH_VULNERABILITY = "watch_vulnerability"
    NONRESPONSE = "nonresponse"


class GreenLight(StrEnum):
    """Green lights, in the order of rules.md §6 then §7."""

    FEAR_TO_REFLECTION = "fear_to_reflection"
    GRIEF_CONTAINED = "grief_contained"
    SHAME_REFRAMED = "shame_reframed"
    MOOD_RESPONSE = "mood_response"
    REMISSION = "remission"


class Recommendation(StrEnum):
    """Recommendations, in the order of rules.md §9."""

    REVIEW_SAFETY = "review_safety"
    PAUSE = "pause"
    ADJUST_DOSE = "adjust_dose"
    SWITCH_ROUTE = "switch_route"
    CONTINUE = "continue"


class DecisionKind(StrEnum):
    """What a care-team decision can be."""

    CONTINUE = "continue"
    PAUSE = "pause"
    ADJUST_DOSE = "adjust_dose"
    SWITCH_ROUTE = "switch_route"
    STOP = "stop"


class TreatmentStatus(StrEnum):
    """Where a patient is in their treatment."""

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


class Role(StrEnum):
    """What a user may do: admin (users, settings), clinician (clinical work), viewer."""

    ADMIN = "admin"
    CLINICIAN = "clinician"
    VIEWER = "viewer"


#: Red-flag themes and the red flag / watch signal each one raises (rules.md §3–4).
RED_FLAG_THEMES: dict[str, tuple[RedFlag, Watch]] = {
    "panic": (RedFlag.REPEATED_PANIC, Watch.WATCH_PANIC),
    "despair": (RedFlag.UNRELENTING_DESPAIR, Watch.WATCH_DESPAIR),
    "vulnerability": (RedFlag.EXTRAORDINARY_VULNERABILITY, Watch.WATCH_VULNERABILITY),
}

#: Flags that a care-team decision can address (rules.md §8): safety, red and watch.
ADDRESSABLE_FLAGS: tuple[str, ...] = (
    *(f.value for f in SafetyFlag),
    *(f.value for f in RedFlag),
    *(f.value for f in Watch),
)

#: Every flag code, in the order of the review columns.
ALL_FLAGS: tuple[str, ...] = (*ADDRESSABLE_FLAGS, *(g.value for g in GreenLight))
