"""The report's figures: thresholds from the rules configuration, decisions on the time axis."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from redflags.config import RulesConfig, load_rules
from redflags.fields import SESSION_COLUMNS
from services.report_view import session_markers
from ui import charts


def rules(**sections: dict[str, object]) -> RulesConfig:
    config = load_rules()
    data = config.model_dump()
    for section, values in sections.items():
        data[section] = {**data[section], **values}
    return RulesConfig.model_validate(data)


def sessions() -> pd.DataFrame:
    rows = []
    for day, panic, course, phq9, bp in (
        (2, 8, "persisted", 20, (150, 95, 190, 100)),
        (6, 9, "escalated", 15, (120, 80, 130, 85)),
        (9, 5, "reflected", 9, (None, None, None, None)),
    ):
        row: dict[str, object] = {c: None for c in SESSION_COLUMNS if c != "session_date"}
        row.update(
            session_at=datetime(2026, 11, day, 10),
            route="ketamine_iv" if day < 9 else "esketamine_nasal",
            dose_mg=35.0 if day < 9 else 56.0,
            panic=panic,
            panic_course=course,
            phq9=phq9,
            bp_pre_sys=bp[0],
            bp_pre_dia=bp[1],
            bp_40_sys=bp[2],
            bp_40_dia=bp[3],
        )
        rows.append(row)
    return pd.DataFrame(rows)


DECISIONS = pd.DataFrame({"decided_at": [datetime(2026, 11, 7, 16)], "decision": ["switch_route"]})
NO_DECISIONS = pd.DataFrame({"decided_at": [], "decision": []})


def lines(figure, name: str) -> list[float]:
    return sorted(s.y0 for s in figure.layout.shapes if s.name == name)


def test_the_response_line_is_the_baseline_times_one_plus_the_configured_response() -> None:
    config = rules(outcome={"response": -0.4, "nonresponse": -0.2, "remission": 6})
    figure = charts.phq9_figure(sessions(), 20.0, NO_DECISIONS, config)
    assert lines(figure, charts.THRESHOLD_SHAPE) == [6, pytest.approx(12.0)]
    assert charts.phq9_response_line(20.0, config) == pytest.approx(12.0)
    assert list(figure.data[0].y) == [20, 15, 9]


def test_without_a_baseline_there_is_only_the_remission_line() -> None:
    figure = charts.phq9_figure(sessions(), None, NO_DECISIONS, load_rules())
    assert lines(figure, charts.THRESHOLD_SHAPE) == [4]
    assert charts.phq9_response_line(0.0, load_rules()) is None


def test_blood_pressure_is_drawn_against_the_configured_thresholds() -> None:
    config = rules(safety={"pre_sys": 150, "post_dia": 105})
    figure = charts.bp_figure(sessions(), NO_DECISIONS, config)
    assert lines(figure, charts.THRESHOLD_SHAPE) == [90, 105, 150, 180]
    names = [t.name for t in figure.data]
    assert names[:2] == ["systolic before dosing", "diastolic before dosing"]
    assert len(names) == 6
    assert list(figure.data[0].y) == [150, 120, None], "a missing reading is a gap, not 0"


def test_hard_and_green_light_sessions_are_marked_on_the_theme_chart() -> None:
    frame = sessions()
    config = load_rules()
    figure = charts.theme_figure(frame, session_markers(frame, config), NO_DECISIONS, config)
    by_name = {t.name: t for t in figure.data}
    hard = next(t for n, t in by_name.items() if n.startswith("hard session"))
    green = next(t for n, t in by_name.items() if n.startswith("green-light moment"))
    assert list(hard.y) == [8, 9]
    assert list(green.y) == [5]
    assert lines(figure, charts.THRESHOLD_SHAPE) == [7]


def test_decisions_are_vertical_lines_with_their_names_on_every_chart() -> None:
    frame, config = sessions(), load_rules()
    figures = [
        charts.theme_figure(frame, session_markers(frame, config), DECISIONS, config),
        charts.phq9_figure(frame, 20.0, DECISIONS, config),
        charts.bp_figure(frame, DECISIONS, config),
        charts.dose_figure(frame, DECISIONS),
    ]
    for figure in figures:
        (mark,) = [s for s in figure.layout.shapes if s.name == charts.DECISION_SHAPE]
        assert pd.Timestamp(mark.x0) == pd.Timestamp("2026-11-07 16:00")
        assert any(a.text == "Switch route (7 Nov 2026)" for a in figure.layout.annotations)


def test_a_decision_label_runs_away_from_the_nearer_edge_of_the_time_axis() -> None:
    frame = sessions()
    first, last = frame["session_at"].min(), frame["session_at"].max()
    early_and_late = pd.DataFrame(
        {"decided_at": [first, last], "decision": ["pause", "adjust_dose"]}
    )
    figure = charts.dose_figure(frame, early_and_late)
    labels = {a.text.split(" (")[0]: a for a in figure.layout.annotations}
    assert (labels["Pause"].xanchor, labels["Pause"].xshift) == ("left", 3)
    assert (labels["Adjust dose"].xanchor, labels["Adjust dose"].xshift) == ("right", -3)


def test_the_dose_chart_has_one_series_per_route() -> None:
    figure = charts.dose_figure(sessions(), NO_DECISIONS)
    assert [t.name for t in figure.data] == ["Esketamine nasal (Spravato)", "IV ketamine"]
    looks = {(t.line.color, t.marker.symbol) for t in figure.data}
    assert len(looks) == 2 and len({colour for colour, _ in looks}) == 2, "routes look different"


def test_a_single_route_is_still_named_on_the_dose_chart() -> None:
    one_route = sessions().iloc[:2]
    figure = charts.dose_figure(one_route, NO_DECISIONS)
    assert [t.name for t in figure.data] == ["IV ketamine"]
    assert figure.layout.showlegend is True, "plotly hides a lone series' legend by default"


def test_every_chart_of_a_report_shows_the_same_stretch_of_time() -> None:
    frame, config = sessions(), load_rules()
    span = charts.time_span(frame, DECISIONS)
    assert span is not None
    assert span.start < pd.Timestamp(frame["session_at"].min())
    assert span.end > max(pd.Timestamp(frame["session_at"].max()), pd.Timestamp("2026-11-07 16:00"))
    figures = [
        charts.theme_figure(frame, session_markers(frame, config), DECISIONS, config, span),
        charts.phq9_figure(frame, 20.0, DECISIONS, config, span),
        charts.bp_figure(frame, DECISIONS, config, span),
        charts.dose_figure(frame, DECISIONS, span),
    ]
    ranges = {tuple(pd.Timestamp(v) for v in f.layout.xaxis.range) for f in figures}
    assert ranges == {(pd.Timestamp(span.start), pd.Timestamp(span.end))}
    assert charts.time_span(frame.iloc[0:0], NO_DECISIONS) is None


def test_without_any_phq9_score_the_time_axis_is_still_dates_with_the_decisions() -> None:
    frame = sessions().assign(phq9=None)
    span = charts.time_span(frame, DECISIONS)
    assert span is not None
    figure = charts.phq9_figure(frame, None, DECISIONS, load_rules(), span)
    assert figure.layout.xaxis.type == "date", "an empty trace would make plotly count -1, 0, 1 …"
    assert tuple(pd.Timestamp(v) for v in figure.layout.xaxis.range) == (
        pd.Timestamp(span.start),
        pd.Timestamp(span.end),
    )
    (mark,) = [s for s in figure.layout.shapes if s.name == charts.DECISION_SHAPE]
    assert pd.Timestamp(mark.x0) == pd.Timestamp("2026-11-07 16:00")
    (note,) = [a for a in figure.layout.annotations if a.name == charts.EMPTY_NOTE]
    assert note.text == "No PHQ-9 score recorded in these sessions."


def test_a_chart_left_without_a_span_takes_its_own_from_the_sessions_and_decisions() -> None:
    frame = sessions().assign(phq9=None)
    figure = charts.phq9_figure(frame, None, DECISIONS, load_rules())
    assert figure.layout.xaxis.type == "date"
    expected = charts.time_span(frame, DECISIONS)
    assert expected is not None
    assert tuple(pd.Timestamp(v) for v in figure.layout.xaxis.range) == (
        pd.Timestamp(expected.start),
        pd.Timestamp(expected.end),
    )


def test_every_chart_with_nothing_to_draw_says_so_instead_of_an_empty_axis() -> None:
    frame, config = sessions().iloc[0:0], load_rules()
    figures = [
        charts.theme_figure(frame, session_markers(frame, config), NO_DECISIONS, config),
        charts.phq9_figure(frame, None, NO_DECISIONS, config),
        charts.bp_figure(frame, NO_DECISIONS, config),
        charts.dose_figure(frame, NO_DECISIONS),
    ]
    for figure in figures:
        assert [a.name for a in figure.layout.annotations].count(charts.EMPTY_NOTE) == 1
        assert figure.layout.xaxis.visible is False, "no dates to show: no made-up time axis"
    scored = charts.phq9_figure(sessions(), 20.0, NO_DECISIONS, config)
    assert charts.EMPTY_NOTE not in [a.name for a in scored.layout.annotations]
    assert scored.layout.xaxis.visible is not False


def test_the_legend_sits_at_the_figures_bottom_edge_not_at_a_fraction_below_the_plot() -> None:
    """A legend placed at y = -0.15 of a plot that a narrow column squeezes lands on the
    date labels; anchored to the container, the margin grows to hold it instead."""
    frame, config = sessions(), load_rules()
    themes = charts.theme_figure(frame, session_markers(frame, config), DECISIONS, config)
    for figure in (themes, charts.dose_figure(frame, DECISIONS)):
        legend = figure.layout.legend
        assert (legend.yref, legend.y, legend.yanchor) == ("container", 0, "bottom")
        assert figure.layout.margin.autoexpand is True
    names = [trace.name for trace in themes.data]
    assert max(len(name) for name in names) <= 32, "short legend entries fit several to a row"
    assert themes.layout.height > charts.CHART_HEIGHT, "room for its eight legend entries"
