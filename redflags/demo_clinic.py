"""The synthetic demo clinic: a deterministic generator of patients, sessions and decisions.

Every person here is invented. The clinic is built so that, on its anchor date,
the weekly review shows every code of rules.md: each safety flag, red flag,
watch signal, green light and recommendation, addressed flags and stale
patients. ``python -m redflags.demo_clinic`` rewrites the CSV files in data/;
``manage.py demo`` loads them through the normal importers, shifting every
date by (today − ANCHOR) so that the demo always looks current.

Schedules follow common practice: esketamine twice weekly in weeks 1–4,
weekly in weeks 5–8, then weekly or every two weeks; IV and IM ketamine
courses of six to eight sessions; oral ketamine weekly, recorded by date only.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from redflags.fields import DECISION_COLUMNS, SESSION_COLUMNS, THEMES

#: The date the committed CSV files treat as "today".
ANCHOR = date(2026, 6, 30)
SEED = 20_260_630
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SESSIONS_CSV = DATA_DIR / "demo_sessions.csv"
DECISIONS_CSV = DATA_DIR / "demo_decisions.csv"
PATIENTS_CSV = DATA_DIR / "demo_patients.csv"
PATIENT_COLUMNS = ("patient_id", "display_name", "primary_clinician", "treatment_status")

CLINICIANS = ("Dr. Imani Okafor", "Dr. Tomás Reyes", "Dr. Hana Sato", "NP Sam Whitfield")
FIRST_NAMES = (
    "Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn", "Rowan", "Emerson", "Sage", "Kendall",
    "Parker", "Reese", "Skyler", "Dakota", "Hayden", "Jamie", "Elliot", "Finley", "Harper", "Lane",
    "Marlowe", "Noel", "Oakley", "Peyton", "Remy", "Shiloh", "Tatum", "Wren", "Arden", "Blair",
    "Cam", "Devon", "Ellis", "Frankie", "Gray", "Indigo", "Jules", "Kai", "Linden", "Micah",
    "Nico", "Onyx", "Pat", "Robin", "Sasha", "Teagan",
)  # fmt: skip
LAST_NAMES = (
    "Abernathy", "Brightwater", "Castellano", "Demir", "Eklund", "Fairbanks", "Gallo", "Haddad",
    "Ivers", "Jablonski", "Kowalczyk", "Lindqvist", "Mbeki", "Nakamura", "Oyelaran", "Petrov",
    "Quintero", "Rasmussen", "Sandoval", "Takahashi", "Umber", "Varga", "Whitlock", "Xu",
    "Yilmaz", "Zeller",
)  # fmt: skip
COMMITMENTS = (
    "journaling for ten minutes",
    "a conversation with my sister",
    "practising self-kindness when the critic shows up",
    "a walk without my phone",
    "calling an old friend",
    "writing a letter I will not send",
    "naming one thing I am grateful for each evening",
    "",
)
NOTES = (
    "Settled well; integration discussed.",
    "Tolerated dose; mild dissociation resolved by discharge.",
    "Discussed imagery with curiosity rather than conclusions.",
    "Brought insight to therapy session.",
    "",
    "",
)

Row = dict[str, str]


@dataclass
class Plan:
    """One demo patient: who they are and how their sessions unfold."""

    code: str
    route: str
    dose: float
    start: date
    scenario: Callable[[PatientBuilder], None]
    weight: float = 70.0
    treatment_status: str = "active"
    phq9_start: int = 19
    phq9_end: int = 9


@dataclass
class PatientBuilder:
    """Builds one patient's sessions: a benign history, then the scenario's tail."""

    plan: Plan
    rng: random.Random
    sessions: list[Row] = field(default_factory=list)
    decisions: list[Row] = field(default_factory=list)

    # -- schedule --------------------------------------------------------------
    def schedule(self, end: date, stop_after: int | None = None) -> list[date]:
        """Session dates from the plan's start up to ``end`` for the plan's route."""
        start, days = self.plan.start, []
        if self.plan.route == "esketamine_nasal":
            for week in range(60):
                week_start = start + timedelta(weeks=week)
                if week < 4:
                    days += [week_start, week_start + timedelta(days=3)]
                elif week < 8 or self.rng.random() < 0.6 or week % 2 == 0:
                    days.append(week_start)
        elif self.plan.route in ("ketamine_iv", "ketamine_im"):
            count = self.rng.randint(6, 8)
            days = [start + timedelta(days=(i // 2) * 7 + (i % 2) * 3) for i in range(count)]
            booster = days[-1] + timedelta(weeks=4)
            while booster <= end:
                days.append(booster)
                booster += timedelta(weeks=4)
        else:
            days = [start + timedelta(weeks=w) for w in range(30)]
        days = [d for d in days if d <= end]
        return days[:stop_after] if stop_after else days

    # -- values ----------------------------------------------------------------
    def _time(self) -> time:
        return self.rng.choice((time(9, 0), time(10, 30), time(13, 0), time(14, 30)))

    def _themes(self) -> Row:
        row: Row = {}
        for theme in THEMES:
            if self.rng.random() < 0.35:
                continue  # not assessed: blank, never 0
            level = min(6, int(self.rng.expovariate(0.45)))
            row[theme] = str(level)
            if level > 0 and self.rng.random() < 0.8:
                row[f"{theme}_course"] = self.rng.choice(
                    ("reflected", "contained", "contained", "persisted")
                )
        return row

    def _blood_pressure(self) -> Row:
        pre_sys, pre_dia = self.rng.randint(108, 134), self.rng.randint(66, 84)
        peak_sys, peak_dia = pre_sys + self.rng.randint(4, 18), pre_dia + self.rng.randint(2, 10)
        end_sys, end_dia = pre_sys + self.rng.randint(0, 6), pre_dia + self.rng.randint(0, 4)
        return {
            "bp_pre_sys": str(pre_sys),
            "bp_pre_dia": str(pre_dia),
            "bp_40_sys": str(peak_sys),
            "bp_40_dia": str(peak_dia),
            "bp_end_sys": str(end_sys),
            "bp_end_dia": str(end_dia),
        }

    def add(self, day: date, *, fraction: float, record_phq9: bool, **values: object) -> Row:
        """One benign session on ``day``; ``values`` override (None blanks a field)."""
        plan = self.plan
        oral = plan.route == "ketamine_oral"
        when = day.isoformat()
        if not oral:
            at = self._time()  # drawn on every route but oral, so the stream stays the same
            # A session on the anchor day carries no time: the demo loads at any hour of
            # that day, and a session must never lie later than the moment it is shown.
            if day < ANCHOR:
                when = datetime.combine(day, at).isoformat()[:16]
        row: Row = {
            "patient_id": plan.code,
            "session_date": when,
            "route": plan.route,
            "dose_mg": _number(plan.dose),
        }
        if plan.route != "esketamine_nasal":
            row["weight_kg"] = _number(plan.weight)
        row |= self._themes()
        if plan.route == "esketamine_nasal":
            row["dissociation_cadss"] = str(self.rng.randint(4, 30))
            row["observation_min"] = str(self.rng.choice((120, 120, 125, 130, 140, 150)))
        elif not oral:
            row["observation_min"] = str(self.rng.choice((60, 75, 90)))
        if not oral:
            row |= self._blood_pressure()
        if record_phq9:
            drift = plan.phq9_start + (plan.phq9_end - plan.phq9_start) * fraction
            row["phq9"] = str(max(0, min(27, round(drift + self.rng.choice((-1, 0, 0, 1))))))
            row["phq9_item9"] = "0"
        commitment = self.rng.choice(COMMITMENTS)
        if commitment:
            row["commitment"] = commitment
        note = self.rng.choice(NOTES)
        if note:
            row["note"] = note
        for key, value in values.items():
            if value is None:
                row.pop(key, None)
            else:
                row[key] = _number(value) if isinstance(value, float | int) else str(value)
        self.sessions.append(row)
        return row

    def history(self, days: list[date], tail: int) -> None:
        """Benign sessions for all but the last ``tail`` dates (PHQ-9 about weekly)."""
        last_phq9: date | None = None
        for index, day in enumerate(days[: len(days) - tail]):
            weekly = last_phq9 is None or (day - last_phq9).days >= 7
            if weekly:
                last_phq9 = day
            self.add(day, fraction=index / max(1, len(days) - 1), record_phq9=weekly)

    def tail(self, days: list[date], overrides: list[dict[str, object]]) -> None:
        """The last len(overrides) sessions, each benign except for its overrides."""
        tail_days = days[len(days) - len(overrides) :]
        for offset, (day, values) in enumerate(zip(tail_days, overrides, strict=True)):
            index = len(days) - len(overrides) + offset
            clear = {t: None for t in THEMES} | {f"{t}_course": None for t in THEMES}
            # The tail shows exactly the themes the scenario names.
            self.add(
                day, fraction=index / max(1, len(days) - 1), record_phq9=True, **(clear | values)
            )

    def decide(self, when: datetime, decision: str, **values: str) -> None:
        row: Row = {
            "patient_id": self.plan.code,
            "decided_at": when.isoformat()[:16],
            "decision": decision,
            "recorded_by": "demo",
        }
        row.update(values)
        self.decisions.append(row)


def _number(value: object) -> str:
    number = float(str(value))
    return str(int(number)) if number.is_integer() else f"{number:g}"


# -- scenarios -----------------------------------------------------------------
# Each takes the builder and writes the sessions (and decisions) of one patient.
# ``end`` is the latest session date: a few days before the anchor unless stale.


def _recent_end(builder: PatientBuilder) -> date:
    return ANCHOR - timedelta(days=builder.rng.randint(0, 6))


def filler(builder: PatientBuilder) -> None:
    """An ordinary course: mostly green lights, now and then one hard session (watch)."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=0)


def worked_example_a(builder: PatientBuilder) -> None:
    """rules.md §11 A: IV, panic 8 persisted, 9 escalated, 3 reflected → repeated_panic."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"panic": 8, "panic_course": "persisted"},
            {"panic": 9, "panic_course": "escalated"},
            {"panic": 3, "panic_course": "reflected"},
        ],
    )


def worked_example_b(builder: PatientBuilder) -> None:
    """§11 B: esketamine 56 → 84 → 84, despair 2, 7 persisted, 8 persisted."""
    days = builder.schedule(_recent_end(builder))
    builder.plan.dose = 56
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"despair": 2, "despair_course": "contained", "dose_mg": 56},
            {"despair": 7, "despair_course": "persisted", "dose_mg": 84},
            {"despair": 8, "despair_course": "persisted", "dose_mg": 84},
        ],
    )


def worked_example_c(builder: PatientBuilder) -> None:
    """§11 C: esketamine 84, panic 8 reflected, grief 6 and 5 contained → green."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"panic": 8, "panic_course": "reflected"},
            {"grief": 6, "grief_course": "contained"},
            {"grief": 5, "grief_course": "contained"},
        ],
    )


def worked_example_d(builder: PatientBuilder) -> None:
    """§11 D: IV 40 mg, despair 9 persisted twice, latest PHQ-9 item 9 = 2 → urgent."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"despair": 9, "despair_course": "persisted"},
            {"despair": 4, "despair_course": "contained"},
            {"despair": 9, "despair_course": "persisted", "phq9": 21, "phq9_item9": 2},
        ],
    )


def vulnerability_on_im(builder: PatientBuilder) -> None:
    """IM ketamine with extraordinary vulnerability twice → pause; consider esketamine."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"vulnerability": 8, "vulnerability_course": "escalated"},
            {"vulnerability": 5, "vulnerability_course": "contained"},
            {"vulnerability": 7, "vulnerability_course": None},
        ],
    )


def despair_on_low_esketamine(builder: PatientBuilder) -> None:
    """Esketamine 56 mg with unrelenting despair → pause; consider IM ketamine."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"despair": 7, "despair_course": "persisted"},
            {"despair": 8, "despair_course": "escalated"},
            {"despair": 6, "despair_course": "contained"},
        ],
    )


def panic_on_esketamine_56(builder: PatientBuilder) -> None:
    """Esketamine 56 mg, repeated panic → pause and switch route (to IM)."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"panic": 9, "panic_course": "escalated"},
            {"panic": 7, "panic_course": None},
            {"panic": 2, "panic_course": "reflected"},
        ],
    )


def bp_pre_dose(builder: PatientBuilder) -> None:
    """Latest session started with blood pressure above 140/90 → review safety."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(days, [{"bp_pre_sys": 152, "bp_pre_dia": 88, "bp_40_sys": 160, "bp_40_dia": 92}])


def bp_rise(builder: PatientBuilder) -> None:
    """Systolic rose by 45 mmHg at 40 minutes → review safety."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(
        days,
        [{"bp_pre_sys": 118, "bp_pre_dia": 76, "bp_40_sys": 163, "bp_40_dia": 94,
          "bp_end_sys": 128, "bp_end_dia": 80}],
    )  # fmt: skip


def bp_post_dose(builder: PatientBuilder) -> None:
    """Blood pressure at discharge in the hypertensive-urgency range → review safety."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(
        days,
        [{"bp_pre_sys": 138, "bp_pre_dia": 88, "bp_40_sys": 172, "bp_40_dia": 104,
          "bp_end_sys": 182, "bp_end_dia": 112}],
    )  # fmt: skip


def short_observation(builder: PatientBuilder) -> None:
    """Esketamine patient discharged after 90 minutes (REMS asks for 120)."""
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(days, [{"observation_min": 90, "grief": 5, "grief_course": "reflected"}])


def watch(theme: str) -> Callable[[PatientBuilder], None]:
    """Exactly one hard session for ``theme`` in the window → watch signal."""

    def scenario(builder: PatientBuilder) -> None:
        days = builder.schedule(_recent_end(builder))
        builder.history(days, tail=3)
        builder.tail(
            days,
            [
                {"shame": 4, "shame_course": "reflected"},
                {theme: 8, f"{theme}_course": "persisted"},
                {"grief": 3, "grief_course": "contained"},
            ],
        )

    scenario.__doc__ = f"One hard {theme} session among the last three → watch_{theme}."
    return scenario


def nonresponse(builder: PatientBuilder) -> None:
    """Ten esketamine sessions at 56 mg, PHQ-9 barely moved → nonresponse; consider more."""
    builder.plan.phq9_start, builder.plan.phq9_end = 19, 17
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(days, [{"phq9": 17, "grief": 3, "grief_course": "contained"}])


def responder(builder: PatientBuilder) -> None:
    """PHQ-9 more than halved → mood_response; shame reframed in the last session."""
    builder.plan.phq9_start, builder.plan.phq9_end = 22, 9
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(days, [{"phq9": 9, "shame": 6, "shame_course": "reflected"}])


def remitter(builder: PatientBuilder) -> None:
    """PHQ-9 down to 3 → remission and mood_response."""
    builder.plan.phq9_start, builder.plan.phq9_end = 17, 4
    days = builder.schedule(_recent_end(builder))
    builder.history(days, tail=1)
    builder.tail(days, [{"phq9": 3, "death_imagery": 6, "death_imagery_course": "reflected"}])


def stale_after_course(builder: PatientBuilder) -> None:
    """An IV course that ended six weeks ago: stale, overdue for review."""
    days = builder.schedule(ANCHOR - timedelta(days=40), stop_after=7)
    builder.history(days, tail=0)


def panic_addressed(builder: PatientBuilder) -> None:
    """Repeated panic that the care team discussed with the patient: shown as addressed."""
    days = builder.schedule(ANCHOR - timedelta(days=4))
    builder.history(days, tail=3)
    builder.tail(
        days,
        [
            {"panic": 8, "panic_course": "escalated"},
            {"panic": 7, "panic_course": "persisted"},
            {"panic": 4, "panic_course": "reflected"},
        ],
    )
    builder.decide(
        datetime.combine(days[-1] + timedelta(days=1), time(16, 0)),
        "continue",
        route_from=builder.plan.route,
        route_to=builder.plan.route,
        dose_from_mg=_number(builder.plan.dose),
        dose_to_mg=_number(builder.plan.dose),
        participants="Dr. Hana Sato;patient;therapist",
        patient_view="The panic eased once I could name it; I want to keep going at this dose.",
        rationale="Last session ended in reflection; continue with a grounding plan.",
        flags_considered="repeated_panic",
    )


def switched_from_iv(builder: PatientBuilder) -> None:
    """Panic on IV months ago, switched to esketamine after a shared decision; doing well now."""
    plan = builder.plan
    iv_days = [plan.start + timedelta(days=(i // 2) * 7 + (i % 2) * 3) for i in range(5)]
    builder.plan.route, builder.plan.dose = "ketamine_iv", 40
    builder.history(iv_days, tail=2)
    builder.tail(
        iv_days,
        [{"panic": 9, "panic_course": "escalated"}, {"panic": 8, "panic_course": "persisted"}],
    )
    decided = datetime.combine(iv_days[-1] + timedelta(days=2), time(11, 0))
    builder.decide(
        decided,
        "switch_route",
        route_from="ketamine_iv",
        route_to="esketamine_nasal",
        dose_from_mg="40",
        dose_to_mg="56",
        participants="Dr. Imani Okafor;patient;partner",
        patient_view="The fast onset scares me. I'd like something gentler.",
        rationale="Repeated panic on IV; nasal spray has a slower onset.",
        flags_considered="repeated_panic",
    )
    builder.plan.route, builder.plan.dose = "esketamine_nasal", 56
    builder.plan.start = iv_days[-1] + timedelta(days=7)
    builder.history(builder.schedule(_recent_end(builder)), tail=0)


def paused(builder: PatientBuilder) -> None:
    """Despair that did not lift; the team and patient chose a pause three weeks ago."""
    days = builder.schedule(ANCHOR - timedelta(days=24))
    builder.history(days, tail=2)
    builder.tail(
        days,
        [
            {"despair": 8, "despair_course": "persisted"},
            {"despair": 9, "despair_course": "escalated"},
        ],
    )
    builder.decide(
        datetime.combine(days[-1] + timedelta(days=1), time(15, 30)),
        "pause",
        route_from=builder.plan.route,
        dose_from_mg=_number(builder.plan.dose),
        participants="Dr. Tomás Reyes;patient",
        patient_view="I need a break to steady myself with my therapist.",
        rationale="Two sessions of unrelenting despair; pause and reassess in four weeks.",
        flags_considered="unrelenting_despair;watch_despair",
    )


# (scenario, route, dose, weeks before the anchor that treatment began, status, weight)
SCENARIOS: tuple[tuple[Callable[[PatientBuilder], None], str, float, int, str], ...] = (
    (worked_example_a, "ketamine_iv", 35, 3, "active"),
    (worked_example_b, "esketamine_nasal", 84, 12, "active"),
    (worked_example_c, "esketamine_nasal", 84, 16, "active"),
    (worked_example_d, "ketamine_iv", 40, 3, "active"),
    (vulnerability_on_im, "ketamine_im", 60, 3, "active"),
    (despair_on_low_esketamine, "esketamine_nasal", 56, 9, "active"),
    (panic_on_esketamine_56, "esketamine_nasal", 56, 6, "active"),
    (bp_pre_dose, "esketamine_nasal", 84, 14, "active"),
    (bp_rise, "esketamine_nasal", 56, 5, "active"),
    (bp_post_dose, "ketamine_im", 70, 3, "active"),
    (short_observation, "esketamine_nasal", 84, 20, "active"),
    (watch("panic"), "ketamine_oral", 150, 10, "active"),
    (watch("despair"), "esketamine_nasal", 84, 11, "active"),
    (watch("vulnerability"), "ketamine_im", 55, 3, "active"),
    (nonresponse, "esketamine_nasal", 56, 8, "active"),
    (responder, "esketamine_nasal", 84, 13, "active"),
    (remitter, "esketamine_nasal", 84, 22, "active"),
    (stale_after_course, "ketamine_iv", 35, 10, "completed"),
    (panic_addressed, "ketamine_im", 65, 3, "active"),
    (switched_from_iv, "esketamine_nasal", 56, 26, "active"),
    (paused, "esketamine_nasal", 84, 12, "paused"),
)
FILLERS = 24
#: A new referral with no session yet: listed green, stale, "continue".
NEW_REFERRAL = "DEMO-046"


@dataclass(frozen=True)
class DemoClinic:
    """The generated clinic as rows of strings in the CSV formats of records.md."""

    patients: list[Row]
    sessions: list[Row]
    decisions: list[Row]


def _filler_plan(rng: random.Random, code: str) -> tuple[str, float, int]:
    route = rng.choice(
        ("esketamine_nasal", "esketamine_nasal", "ketamine_iv", "ketamine_im", "ketamine_oral")
    )
    weight = float(rng.randint(52, 110))
    dose = {
        "esketamine_nasal": float(rng.choice((56, 84, 84))),
        "ketamine_iv": round(weight * 0.5 * 2) / 2,
        "ketamine_im": float(round(weight * 0.8)),
        "ketamine_oral": float(rng.choice((100, 150, 200, 250))),
    }[route]
    weeks = rng.randint(2, 25) if route == "esketamine_nasal" else rng.randint(2, 12)
    return route, dose, weeks


def generate() -> DemoClinic:
    """The whole demo clinic; the same every time (seeded)."""
    rng = random.Random(SEED)
    patients: list[Row] = []
    sessions: list[Row] = []
    decisions: list[Row] = []
    names = _names(rng)
    plans: list[tuple[Plan, str]] = []
    for number, (scenario, route, dose, weeks, status) in enumerate(SCENARIOS, start=1):
        code = f"DEMO-{number:03d}"
        start = ANCHOR - timedelta(weeks=weeks, days=rng.randint(0, 3))
        plan = Plan(code, route, dose, start, scenario, weight=float(rng.randint(55, 105)))
        plan.treatment_status = status
        plans.append((plan, rng.choice(CLINICIANS)))
    for number in range(len(SCENARIOS) + 1, len(SCENARIOS) + 1 + FILLERS):
        code = f"DEMO-{number:03d}"
        route, dose, weeks = _filler_plan(rng, code)
        start = ANCHOR - timedelta(weeks=weeks, days=rng.randint(0, 3))
        plan = Plan(code, route, dose, start, filler, weight=float(rng.randint(52, 110)))
        plan.phq9_start = rng.randint(14, 24)
        plan.phq9_end = max(2, int(plan.phq9_start * rng.uniform(0.25, 0.7)))
        if route in ("ketamine_iv", "ketamine_im") and weeks > 8:
            plan.treatment_status = "completed"
        plans.append((plan, rng.choice(CLINICIANS)))
    for (plan, clinician), name in zip(plans, names, strict=False):
        builder = PatientBuilder(plan, random.Random(f"{SEED}-{plan.code}"))
        plan.scenario(builder)
        sessions += builder.sessions
        decisions += builder.decisions
        patients.append(_patient_row(plan.code, name, clinician, plan.treatment_status))
    patients.append(_patient_row(NEW_REFERRAL, names[len(plans)], CLINICIANS[0], "active"))
    sessions.sort(key=lambda r: (r["patient_id"], r["session_date"]))
    decisions.sort(key=lambda r: (r["patient_id"], r["decided_at"]))
    return DemoClinic(patients, sessions, decisions)


def _names(rng: random.Random) -> list[str]:
    pairs = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    return rng.sample(pairs, len(SCENARIOS) + FILLERS + 1)


def _patient_row(code: str, name: str, clinician: str, status: str) -> Row:
    return {
        "patient_id": code,
        "display_name": name,
        "primary_clinician": clinician,
        "treatment_status": status,
    }


def to_csv(rows: list[Row], columns: tuple[str, ...]) -> bytes:
    """Rows as a UTF-8 CSV with the given header (LF line ends)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def shift_rows(rows: list[Row], column: str, days: int) -> list[Row]:
    """``rows`` with the ISO date/time in ``column`` moved by ``days`` days."""
    return [row | {column: _shift(row[column], days)} for row in rows]


def _shift(value: str, days: int) -> str:
    if "T" in value:
        return (datetime.fromisoformat(value) + timedelta(days=days)).isoformat()[:16]
    return (date.fromisoformat(value) + timedelta(days=days)).isoformat()


def read_csv(path: Path) -> list[Row]:
    """The committed demo rows of ``path``."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def files() -> Iterator[tuple[Path, bytes]]:
    """The three demo CSV files as (path, bytes)."""
    clinic = generate()
    yield PATIENTS_CSV, to_csv(clinic.patients, PATIENT_COLUMNS)
    yield SESSIONS_CSV, to_csv(clinic.sessions, SESSION_COLUMNS)
    yield DECISIONS_CSV, to_csv(clinic.decisions, DECISION_COLUMNS)


def main() -> None:
    """Rewrite the committed demo CSV files."""
    for path, content in files():
        path.write_bytes(content)
        rows = content.count(b"\n") - 1
        print(f"wrote {path.name}: {rows} rows")  # noqa: T201


if __name__ == "__main__":
    main()
