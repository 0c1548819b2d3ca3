"""Plotly figures of the patient report: plain functions over DataFrames, thresholds from config.

Every time axis carries the care team's decisions as dashed vertical lines
with the decision's name, so a change in the curves can be read against
what was decided. The time axis is a date axis even when a chart has no value
to draw (a patient without any PHQ-9 score), and such a chart says so in its
middle. No threshold is written here: each comes from the rules
configuration in force.

Each figure is built in one go from plain trace and shape dictionaries:
plotly's ``add_hline``/``add_shape`` revalidate the whole layout on every call,
which made a report page take most of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from redflags.config import RulesConfig
from redflags.fields import BP_READINGS, FIELDS_BY_NAME, THEMES
from redflags.labels import decision_words, format_date, route_words

#: Colour-blind-safe palette (Okabe–Ito), one colour per theme.
THEME_COLOURS: dict[str, str] = {
    "panic": "#D55E00",
    "despair": "#0072B2",
    "vulnerability": "#CC79A7",
    "death_imagery": "#000000",
    "shame": "#E69F00",
    "grief": "#009E73",
}
READING_COLOURS: dict[str, str] = {"pre": "#0072B2", "40": "#D55E00", "end": "#009E73"}
READING_WORDS: dict[str, str] = {"pre": "before dosing", "40": "at 40 min", "end": "at discharge"}
HARD_COLOUR, GREEN_COLOUR, DECISION_COLOUR = "#B2182B", "#1B7837", "#6A3D9A"
THRESHOLD_COLOUR = "#B2182B"
#: One colour and one marker per route (Okabe–Ito colours; the marker tells them apart
#: without colour too).
ROUTE_LOOK: dict[str, tuple[str, str]] = {
    "esketamine_nasal": ("#009E73", "diamond"),
    "ketamine_iv": ("#0072B2", "circle"),
    "ketamine_im": ("#E69F00", "square"),
    "ketamine_oral": ("#CC79A7", "triangle-up"),
}
CHART_HEIGHT = 360
#: Plotly's own menu keeps zoom and pan but not "download as PNG": a chart of a
#: patient leaves the dashboard only through the audited exports.
PLOTLY_CONFIG: dict[str, Any] = {"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]}
#: The ``name`` given to the shapes a figure draws, so tests and readers can tell them apart.
DECISION_SHAPE, THRESHOLD_SHAPE = "decision", "threshold"
#: The ``name`` of the note a chart shows in place of its curves when it has no value to draw.
EMPTY_NOTE = "empty"

Plain = dict[str, Any]


@dataclass(frozen=True)
class TimeSpan:
    """The stretch of time every chart of one report shows, so their axes line up."""

    start: datetime
    end: datetime


def time_span(sessions: pd.DataFrame, decisions: pd.DataFrame) -> TimeSpan | None:
    """From the first session to the last session or decision, with a margin each side."""
    moments = [pd.Timestamp(v) for v in sessions["session_at"]]
    if not decisions.empty:
        moments += [pd.Timestamp(v) for v in decisions["decided_at"]]
    if not moments:
        return None
    first, last = min(moments), max(moments)
    margin = max((last - first) * 0.03, pd.Timedelta(days=2))
    return TimeSpan((first - margin).to_pydatetime(), (last + margin).to_pydatetime())


def _values(series: pd.Series) -> list[Any]:
    """A column as a JSON-friendly list (None for blank)."""
    numbers = pd.to_numeric(series, errors="coerce")
    return [None if pd.isna(v) else float(v) for v in numbers]


def _times(series: pd.Series) -> list[Any]:
    return [pd.Timestamp(v).to_pydatetime() for v in series]


@dataclass
class _Chart:
    """The parts of one figure, gathered before plotly validates them once."""

    title: str
    y_title: str
    traces: list[Plain] = field(default_factory=list)
    shapes: list[Plain] = field(default_factory=list)
    annotations: list[Plain] = field(default_factory=list)
    y_range: list[float] | None = None
    x_range: TimeSpan | None = None
    #: Taller for a long legend, so that a narrow column still leaves the plot its room.
    height: int = CHART_HEIGHT
    empty_text: str = "Nothing recorded to draw yet."

    def threshold(self, y: float, text: str, dash: str = "dot") -> None:
        """A horizontal threshold line across the plot, labelled at its right end on a
        light background (the newest readings are there, and must stay readable)."""
        self.shapes.append(
            {
                "type": "line",
                "name": THRESHOLD_SHAPE,
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": y,
                "y1": y,
                "line": {"color": THRESHOLD_COLOUR, "dash": dash, "width": 1},
            }
        )
        self.annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "yref": "y",
                "y": y,
                "text": text,
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "bottom",
                "bgcolor": "rgba(255, 255, 255, 0.75)",
                "font": {"color": THRESHOLD_COLOUR, "size": 10},
            }
        )

    def decisions(self, decisions: pd.DataFrame) -> None:
        """A dashed vertical line and a label at each decision's time."""
        if decisions.empty:
            return
        for row in decisions.sort_values("decided_at").to_dict("records"):
            at = pd.Timestamp(row["decided_at"]).to_pydatetime()
            self.shapes.append(
                {
                    "type": "line",
                    "name": DECISION_SHAPE,
                    "xref": "x",
                    "x0": at,
                    "x1": at,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": DECISION_COLOUR, "dash": "dash", "width": 1.5},
                }
            )
            # The label runs away from the nearer edge, so that a decision near either
            # end of the time axis (the latest is usually near the right) is not cut
            # off in a narrow column.
            towards_left = self._in_right_half(at)
            self.annotations.append(
                {
                    "xref": "x",
                    "x": at,
                    "yref": "paper",
                    "y": 1,
                    "text": f"{decision_words(str(row['decision']))} ({format_date(at)})",
                    "showarrow": False,
                    "xanchor": "right" if towards_left else "left",
                    "xshift": -3 if towards_left else 3,
                    "yanchor": "bottom",
                    "font": {"color": DECISION_COLOUR, "size": 11},
                }
            )

    def _in_right_half(self, at: datetime) -> bool:
        """Whether ``at`` lies in the right half of the chart's time axis."""
        if self.x_range is None:
            return False
        middle = self.x_range.start + (self.x_range.end - self.x_range.start) / 2
        return at > middle

    def _has_values(self) -> bool:
        return any(y is not None for trace in self.traces for y in trace.get("y", []))

    def _xaxis(self) -> Plain:
        # Always a date axis: plotly guesses the type from the data, and a chart with no
        # value (a patient without any PHQ-9) would get a numeric axis (-1, 0, 1 …) on
        # which the decisions' dates land nowhere.
        xaxis: Plain = {"type": "date", "tickformat": "%-d %b %Y"}
        if self.x_range is not None:
            xaxis.update(range=[self.x_range.start, self.x_range.end], autorange=False)
        elif not self._has_values():
            xaxis["visible"] = False  # no session and no decision: no dates to show
        return xaxis

    def _empty_note(self) -> list[Plain]:
        if self._has_values():
            return []
        return [
            {
                "name": EMPTY_NOTE,
                "xref": "paper",
                "x": 0.5,
                "yref": "paper",
                "y": 0.5,
                "text": self.empty_text,
                "showarrow": False,
                "bgcolor": "rgba(255, 255, 255, 0.85)",
                "font": {"size": 14, "color": "#555555"},
            }
        ]

    def figure(self) -> go.Figure:
        yaxis: Plain = {"title": {"text": self.y_title}}
        if self.y_range is not None:
            yaxis["range"] = self.y_range
        else:
            yaxis["rangemode"] = "tozero"
        return go.Figure(
            data=self.traces,
            layout={
                "title": {"text": self.title, "x": 0},
                "height": self.height,
                "margin": {"l": 60, "r": 10, "t": 70, "b": 10, "autoexpand": True},
                # Below the plot, so every chart's plot is as wide as the others and
                # the four time axes line up. Shown even for one series: on the dose
                # chart of a patient who never changed route, the legend is what names it.
                "showlegend": True,
                # Anchored to the figure's bottom edge, not to the plot: a legend placed
                # at a fraction below a plot that a narrow column squeezes lands on the
                # date labels. The margin grows to hold it.
                "legend": {
                    "orientation": "h",
                    "x": 0,
                    "xref": "container",
                    "y": 0,
                    "yref": "container",
                    "yanchor": "bottom",
                },
                "hovermode": "closest",
                "xaxis": self._xaxis(),
                "yaxis": yaxis,
                "shapes": self.shapes,
                "annotations": [*self.annotations, *self._empty_note()],
            },
        )


def _line(x: list[Any], y: list[Any], name: str, **style: Any) -> Plain:
    return {"type": "scatter", "mode": "lines+markers", "x": x, "y": y, "name": name, **style}


def theme_figure(
    sessions: pd.DataFrame,
    markers: pd.DataFrame,
    decisions: pd.DataFrame,
    config: RulesConfig,
    x_range: TimeSpan | None = None,
) -> go.Figure:
    """Theme intensities per session; hard sessions (✕) and green-light sessions (★) marked.

    ``markers`` is :func:`services.report_view.session_markers` of the same sessions.
    """
    t = config.theme
    chart = _Chart(
        "Themes per session (0–10)",
        "intensity",
        y_range=[-0.5, 10.5],
        height=CHART_HEIGHT + 60,
        x_range=x_range or time_span(sessions, decisions),
        empty_text="No theme intensity recorded in these sessions.",
    )
    x = _times(sessions["session_at"])
    for theme in THEMES:
        chart.traces.append(
            _line(
                x,
                _values(sessions[theme]),
                FIELDS_BY_NAME[theme].label,
                line={"color": THEME_COLOURS[theme]},
                connectgaps=False,
            )
        )
    for kind, symbol, colour, name in (
        ("hard", "x", HARD_COLOUR, f"hard session (≥ {t.hard}, unresolved)"),
        ("green", "star", GREEN_COLOUR, f"green-light moment (≥ {t.green})"),
    ):
        mine = markers.loc[markers["kind"] == kind] if not markers.empty else markers
        chart.traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": _times(mine["session_at"]) if not mine.empty else [],
                "y": _values(mine["intensity"]) if not mine.empty else [],
                "hovertext": mine["theme"].tolist() if not mine.empty else [],
                "marker": {"symbol": symbol, "size": 15, "color": colour, "line": {"width": 1}},
            }
        )
    chart.threshold(t.hard, f"hard ≥ {t.hard}")
    chart.decisions(decisions)
    return chart.figure()


def phq9_response_line(baseline: float | None, config: RulesConfig) -> float | None:
    """The PHQ-9 at or below which the change from baseline is a response (rules.md §7)."""
    if baseline is None or baseline <= 0:
        return None
    return baseline * (1 + config.outcome.response)


def phq9_figure(
    sessions: pd.DataFrame,
    baseline: float | None,
    decisions: pd.DataFrame,
    config: RulesConfig,
    x_range: TimeSpan | None = None,
) -> go.Figure:
    """PHQ-9 per session with the response line (from the baseline) and the remission line.

    Without ``x_range`` (the span shared by the report's charts), the chart spans
    ``sessions`` and ``decisions`` itself, as every chart here does.
    """
    scored = sessions.loc[sessions["phq9"].notna()]
    chart = _Chart(
        "PHQ-9 (0–27)",
        "PHQ-9 total",
        y_range=[0, 27.5],
        x_range=x_range or time_span(sessions, decisions),
        empty_text="No PHQ-9 score recorded in these sessions.",
    )
    chart.traces.append(
        _line(
            _times(scored["session_at"]),
            _values(scored["phq9"]),
            "PHQ-9",
            line={"color": "#0072B2"},
        )
    )
    o = config.outcome
    response = phq9_response_line(baseline, config)
    if response is not None and baseline is not None:
        chart.threshold(
            response,
            f"response ≤ {response:g} (baseline {baseline:g}, change {o.response:+.2f})",
            dash="dash",
        )
    chart.threshold(o.remission, f"remission ≤ {o.remission}")
    chart.decisions(decisions)
    return chart.figure()


def bp_figure(
    sessions: pd.DataFrame,
    decisions: pd.DataFrame,
    config: RulesConfig,
    x_range: TimeSpan | None = None,
) -> go.Figure:
    """Blood pressure before dosing, at 40 minutes and at discharge, against the thresholds."""
    s = config.safety
    chart = _Chart(
        "Blood pressure (mmHg)<br><sup>a rise of "
        f"≥ {s.rise_sys}/{s.rise_dia} after dosing is flagged</sup>",
        "mmHg",
        x_range=x_range or time_span(sessions, decisions),
        empty_text="No blood pressure recorded in these sessions.",
    )
    x = _times(sessions["session_at"])
    for when, (sys_col, dia_col) in BP_READINGS.items():
        for column, part, dash in ((sys_col, "systolic", "solid"), (dia_col, "diastolic", "dot")):
            chart.traces.append(
                _line(
                    x,
                    _values(sessions[column]),
                    f"{part} {READING_WORDS[when]}",
                    line={"color": READING_COLOURS[when], "dash": dash},
                    connectgaps=False,
                )
            )
    chart.threshold(s.pre_sys, f"before dosing: systolic > {s.pre_sys}")
    chart.threshold(s.pre_dia, f"before dosing: diastolic > {s.pre_dia}")
    chart.threshold(s.post_sys, f"after dosing: systolic ≥ {s.post_sys}", dash="dash")
    chart.threshold(s.post_dia, f"after dosing: diastolic ≥ {s.post_dia}", dash="dash")
    chart.decisions(decisions)
    return chart.figure()


def dose_figure(
    sessions: pd.DataFrame, decisions: pd.DataFrame, x_range: TimeSpan | None = None
) -> go.Figure:
    """The dose given at each session, one series per route."""
    chart = _Chart(
        "Dose and route",
        "dose (mg)",
        x_range=x_range or time_span(sessions, decisions),
        empty_text="No dose recorded in these sessions.",
    )
    for route, given in sessions.groupby("route", sort=True):
        chart.traces.append(
            _line(
                _times(given["session_at"]),
                _values(given["dose_mg"]),
                route_words(str(route)),
                line={"shape": "hv", "color": ROUTE_LOOK[str(route)][0]},
                marker={"symbol": ROUTE_LOOK[str(route)][1], "size": 9},
            )
        )
    chart.decisions(decisions)
    return chart.figure()
