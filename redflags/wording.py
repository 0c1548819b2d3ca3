"""The words of the dashboard: thresholds, evidence and option sentences.

Every sentence presents an option ("Consider …", "Note …"), never an order,
and carries the rule's threshold and the dates of its evidence (rules.md
preamble). Text is built for whole arrays at once; numbers come from the
rules configuration, never from here.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from redflags.codes import GreenLight, RedFlag, SafetyFlag, Watch
from redflags.config import RulesConfig

ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]

#: How a blank value is shown in evidence (rules.md §5: a missing value is "not recorded").
NOT_RECORDED = "not recorded"
#: How a PHQ-9 change is shown when it cannot be computed (a baseline of 0, rules.md §7).
NOT_COMPUTED = "not computed"

_DAYS = np.array([str(day) for day in range(1, 32)], dtype=object)
_SMALL_WHOLE = np.array([str(n) for n in range(2001)], dtype=object)
_MONTHS = np.array(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    dtype=object,
)

#: The opening of a finding's sentence: an option, never an order.
SAFETY_OPENING = "Consider a same-day review before the next dose: "
RED_OPENING = "Consider pausing to see with the patient whether the treatment is right: "
WATCH_OPENING = "Note for the next session: "
NONRESPONSE_OPENING = "Consider reviewing the treatment plan with the patient: "
GREEN_OPENING = "Note, a green light: "


def short_dates(at: npt.NDArray[np.datetime64], as_of: date) -> ObjectArray:
    """Dates as "3 Nov" (with the year when it is not the as-of year); "" for none."""
    known = ~np.isnat(at)
    out = np.full(len(at), "", dtype=object)
    days = at[known].astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day = (days - months).astype(np.int64)  # 0 = the 1st
    month = months.astype(np.int64)  # months since Jan 1970
    year = month // 12 + 1970
    text = _DAYS[day] + " " + _MONTHS[month % 12]
    other_year = year != as_of.year
    text[other_year] = text[other_year] + " " + year[other_year].astype(str).astype(object)
    out[known] = text
    return out


def long_date(day: date) -> str:
    """One date as "17 Nov 2025"."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def number_texts(values: FloatArray) -> ObjectArray:
    """Numbers as text ("8", "37.5"), "not recorded" for blank."""
    out = np.full(len(values), NOT_RECORDED, dtype=object)
    known = ~np.isnan(values)
    whole = known & (values == np.round(values))
    small = whole & (values >= 0) & (values < len(_SMALL_WHOLE))
    out[small] = _SMALL_WHOLE[values[small].astype(np.int64)]
    large = whole & ~small
    out[large] = values[large].astype(np.int64).astype(str).astype(object)
    out[known & ~whole] = values[known & ~whole].astype(str).astype(object)
    return out


def evidence_values(values: FloatArray) -> ObjectArray:
    """Numbers for an evidence item: int when whole, float otherwise, "not recorded" for blank."""
    out = values.astype(object)
    known = ~np.isnan(values)
    whole = known & (values == np.round(values))
    out[whole] = values[whole].astype(np.int64).astype(object)
    out[~known] = NOT_RECORDED
    return np.asarray(out, dtype=object)


def change_texts(change: FloatArray) -> ObjectArray:
    """A PHQ-9 change as a signed fraction with two decimals ("-0.55")."""
    rounded = np.round(change, 2) + 0.0  # + 0.0 turns -0.00 into 0.00
    return np.asarray(np.char.mod("%.2f", rounded).astype(object), dtype=object)


def bp_texts(systolic: FloatArray, diastolic: FloatArray) -> ObjectArray:
    """A reading as "150/85", "150/not recorded", or "not recorded" when both are blank."""
    both_blank = np.isnan(systolic) & np.isnan(diastolic)
    pair = number_texts(systolic) + "/" + number_texts(diastolic)
    return np.asarray(np.where(both_blank, NOT_RECORDED, pair), dtype=object)


def join_groups(
    group: npt.NDArray[np.int64], text: ObjectArray, count: int, sep: str
) -> ObjectArray:
    """Join ``text`` per group number (0 … count-1), keeping the rows' order within a group.

    Vectorised over groups: one pass per rank within a group (a handful).
    """
    out = np.full(count, "", dtype=object)
    if len(group) == 0:
        return out
    if np.any(group[1:] < group[:-1]):
        order = np.argsort(group, kind="stable")
        group, text = group[order], text[order]
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    starts = np.flatnonzero(first)
    rank = np.arange(len(group)) - np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    out[group[first]] = text[first]
    for r in range(1, int(rank.max()) + 1):
        at = rank == r
        out[group[at]] = out[group[at]] + sep + text[at]
    return out


def label(code: str) -> str:
    """A code in words: "repeated_panic" → "repeated panic"."""
    return code.replace("_", " ")


def theme_rule(theme: str, config: RulesConfig) -> str:
    """The hard-session condition of a theme (rules.md §3)."""
    return f"{label(theme)} ≥ {config.theme.hard} that was neither reflected nor contained"


def phrases(config: RulesConfig) -> dict[str, str]:
    """The rule behind each flag, in words with its thresholds (the start of its sentence)."""
    s, t, o = config.safety, config.theme, config.outcome
    return {
        SafetyFlag.SUICIDALITY: f"PHQ-9 item 9 (thoughts of self-harm) ≥ {s.phq9_item9}",
        SafetyFlag.BP_PRE_DOSE: (
            f"blood pressure before dosing above {s.pre_sys} systolic or {s.pre_dia} diastolic"
        ),
        SafetyFlag.BP_RISE: (
            f"a blood-pressure rise after dosing of ≥ {s.rise_sys} systolic "
            f"or ≥ {s.rise_dia} diastolic"
        ),
        SafetyFlag.BP_POST_DOSE: (
            f"blood pressure after dosing of ≥ {s.post_sys} systolic or ≥ {s.post_dia} diastolic"
        ),
        SafetyFlag.SHORT_OBSERVATION: (
            f"observation under {s.observation_min} minutes after esketamine nasal spray"
        ),
        RedFlag.REPEATED_PANIC: theme_rule("panic", config),
        RedFlag.UNRELENTING_DESPAIR: theme_rule("despair", config),
        RedFlag.EXTRAORDINARY_VULNERABILITY: theme_rule("vulnerability", config),
        Watch.WATCH_PANIC: theme_rule("panic", config),
        Watch.WATCH_DESPAIR: theme_rule("despair", config),
        Watch.WATCH_VULNERABILITY: theme_rule("vulnerability", config),
        Watch.NONRESPONSE: (
            f"a PHQ-9 change from baseline above {o.nonresponse:.2f} "
            f"after at least {o.review_after} sessions"
        ),
        GreenLight.FEAR_TO_REFLECTION: (
            f"panic or death imagery ≥ {t.green} that gave way to reflection"
        ),
        GreenLight.GRIEF_CONTAINED: f"grief ≥ {t.green} that was contained or reflected",
        GreenLight.SHAME_REFRAMED: f"shame ≥ {t.green} that gave way to reflection",
        GreenLight.MOOD_RESPONSE: f"a PHQ-9 change from baseline of {o.response:.2f} or less",
        GreenLight.REMISSION: f"a latest PHQ-9 of {o.remission} or less",
    }


def thresholds(config: RulesConfig) -> dict[str, str]:
    """Each flag's rule as a threshold line, for the evidence panel (findings.threshold)."""
    w, t, s, o = config.window, config.theme, config.safety, config.outcome
    recent = f"the last {w.sessions} sessions"
    single = "exactly 1" if w.repeat == 2 else f"1 to {w.repeat - 1}"
    single = "never (window.repeat is 1)" if w.repeat == 1 else single

    def hard(theme: str) -> str:
        return f"{label(theme)} ≥ {t.hard}, not reflected or contained"

    latest = "at the latest session"
    return {
        SafetyFlag.SUICIDALITY: f"PHQ-9 item 9 ≥ {s.phq9_item9} {latest}",
        SafetyFlag.BP_PRE_DOSE: (
            f"before dosing: systolic > {s.pre_sys} or diastolic > {s.pre_dia} mmHg {latest}"
        ),
        SafetyFlag.BP_RISE: (
            f"rise from before dosing to 40 min or discharge: systolic ≥ {s.rise_sys} "
            f"or diastolic ≥ {s.rise_dia} mmHg {latest}"
        ),
        SafetyFlag.BP_POST_DOSE: (
            f"at 40 min or discharge: systolic ≥ {s.post_sys} or diastolic ≥ {s.post_dia} mmHg "
            f"{latest}"
        ),
        SafetyFlag.SHORT_OBSERVATION: (
            f"esketamine nasal and observation < {s.observation_min} min {latest}"
        ),
        RedFlag.REPEATED_PANIC: f"{hard('panic')}, in ≥ {w.repeat} of {recent}",
        RedFlag.UNRELENTING_DESPAIR: f"{hard('despair')}, in ≥ {w.repeat} of {recent}",
        RedFlag.EXTRAORDINARY_VULNERABILITY: (
            f"{hard('vulnerability')}, in ≥ {w.repeat} of {recent}"
        ),
        Watch.WATCH_PANIC: f"{hard('panic')}, in {single} of {recent}",
        Watch.WATCH_DESPAIR: f"{hard('despair')}, in {single} of {recent}",
        Watch.WATCH_VULNERABILITY: f"{hard('vulnerability')}, in {single} of {recent}",
        Watch.NONRESPONSE: (
            f"≥ {o.review_after} sessions in all and PHQ-9 change from baseline "
            f"> {o.nonresponse:.2f} (at least two PHQ-9 scores)"
        ),
        GreenLight.FEAR_TO_REFLECTION: (
            f"panic or death imagery ≥ {t.green}, reflected, in any of {recent}"
        ),
        GreenLight.GRIEF_CONTAINED: (
            f"grief ≥ {t.green}, contained or reflected, in any of {recent}"
        ),
        GreenLight.SHAME_REFRAMED: f"shame ≥ {t.green}, reflected, in any of {recent}",
        GreenLight.MOOD_RESPONSE: (
            f"PHQ-9 change from baseline ≤ {o.response:.2f} (at least two PHQ-9 scores)"
        ),
        GreenLight.REMISSION: f"latest PHQ-9 ≤ {o.remission} (at least two PHQ-9 scores)",
    }


def openings() -> dict[str, str]:
    """The option that opens each flag's sentence."""
    out: dict[str, str] = {}
    out.update({code: SAFETY_OPENING for code in SafetyFlag})
    out.update({code: RED_OPENING for code in RedFlag})
    out.update({code: WATCH_OPENING for code in Watch})
    out[Watch.NONRESPONSE] = NONRESPONSE_OPENING
    out.update({code: GREEN_OPENING for code in GreenLight})
    return out
