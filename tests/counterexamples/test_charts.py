"""The HTML page's metric charts (`kubeprop.counterexamples.charts`): the SVG of a hand-made
series with known values, and the charts of a replayed counterexample."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from kubeprop.counterexamples.charts import chart_section, chart_y, svg_chart
from kubeprop.counterexamples.render_html import render_html
from kubeprop.counterexamples.replay import replay
from kubeprop.properties.metrics import series

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def test_svg_of_known_values() -> None:
    svg = _parse(svg_chart("watch-lag-events", [0, 2, 4, 1], r=3, mark=2))
    assert svg.get("data-metric") == "watch-lag-events" and svg.get("width") == "92"
    # x: 40 + 12 per state; y: 14 + 48 x (1 - value / peak 4)
    line = svg.find(f"{SVG}polyline")
    assert line is not None
    assert line.get("points") == "40,62.0 52,62.0 52,38.0 64,38.0 64,14.0 76,14.0 76,50.0 88,50.0"
    cols = svg.findall(f"{SVG}rect")
    assert [c.get("data-value") for c in cols] == ["0", "2", "4", "1"]
    assert [c.get("data-i") for c in cols] == ["0", "1", "2", "3"] and {c.get("data-r") for c in cols} == {"3"}
    assert [c.findtext(f"{SVG}title") for c in cols][2] == "state 2: 4"
    mark = [e for e in svg.findall(f"{SVG}line") if e.get("class") == "kp-mark"]
    assert len(mark) == 1 and mark[0].get("x1") == "70"  # the middle of state 2's column
    assert [t.text for t in svg.findall(f"{SVG}text")] == ["watch-lag-events", "4", "0"]


def test_a_flat_series_sits_on_its_axis_and_units_are_shown() -> None:
    assert chart_y(0, 0) == 62.0 and chart_y(5, 10) == 38.0
    svg = _parse(svg_chart("clock", [0, 0, 10]))
    assert svg.get("aria-label") == "clock over 3 states, peak 10s"
    assert not [e for e in svg.findall(f"{SVG}line") if e.get("class") == "kp-mark"]


def test_names_are_escaped() -> None:
    markup = svg_chart("<b>&x", [1, 2])
    assert "<b>" not in markup and "&lt;b&gt;&amp;x" in markup
    _parse(markup)  # well-formed


def test_charts_of_a_replay_follow_the_metrics_series(rs_file: Path) -> None:
    result = replay(rs_file)
    plotted = series(result.model, result.states[0], result.counterexample.actions)
    section = chart_section(0, result)
    assert section.count("<svg") == sum(1 for v in plotted.values() if len(set(v)) > 1)
    moving = next(name for name, v in plotted.items() if len(set(v)) > 1)
    start = section.index(f'data-metric="{moving}"')
    chart = _parse(section[section.rindex("<svg", 0, start):section.index("</svg>", start) + 6])
    assert tuple(int(c.get("data-value", "")) for c in chart.findall(f"{SVG}rect")) == plotted[moving]
    assert "constant: " in section and "nodes-heartbeat-lost 0" in section
    page = render_html([result])
    assert section in page and "http" not in section.replace("http://www.w3.org/2000/svg", "")
