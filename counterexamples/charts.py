"""Small inline SVG charts of the metrics over a replayed trace's steps (for the HTML page).

One chart per series of `kubeprop.properties.metrics.series` (model time, work-queue depth,
watch lag, pods pending, nodes without heartbeats, cumulative 409 / 429 / 5xx responses): a step
line with one column per state, the step's value in each column's tooltip, and the violating step
marked. Plain SVG markup, no script and nothing fetched: the page stays self-contained. Each
column carries `data-r` / `data-i` like the timeline's buttons, so clicking it shows that state.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from kubeprop.counterexamples.replay import ReplayResult
from kubeprop.properties.metrics import series

__all__ = ["CHART_CSS", "STEP_WIDTH", "chart_section", "chart_y", "svg_chart"]

STEP_WIDTH = 12
"""Horizontal pixels per state."""
PLOT_HEIGHT = 48
TOP = 14
LEFT = 40
UNITS = {"clock": "s"}

CHART_CSS = """
.kp-charts{margin:1em 0}.kp-chart{display:block;margin:.3em 0;overflow:visible}
.kp-chart .kp-line{fill:none;stroke:#5b7fa6;stroke-width:1.5}.kp-chart .kp-axis{stroke:#999}
.kp-chart .kp-col{fill:transparent;cursor:pointer}.kp-chart .kp-col:hover{fill:#5b7fa633}
.kp-chart .kp-mark{stroke:#b00020;stroke-dasharray:3 2}.kp-chart text{font-size:10px;fill:#444}
.kp-flat{font-size:12px;color:#666;margin:.1em 0}
"""


def chart_y(value: int, peak: int) -> float:
    """The y coordinate of `value` on a chart whose top is `peak` (a flat chart sits on its axis)."""
    if peak <= 0:
        return float(TOP + PLOT_HEIGHT)
    return round(TOP + PLOT_HEIGHT * (1 - value / peak), 2)


def _x(index: int) -> int:
    return LEFT + index * STEP_WIDTH


def svg_chart(name: str, values: Sequence[int], r: int = 0, mark: int | None = None) -> str:
    """One series as an SVG step chart: `values[i]` is the value in state i; `mark` the
    violating step (a dashed vertical line)."""
    peak = max(values, default=0)
    unit = UNITS.get(name, "")
    width = _x(len(values)) + 4
    height = TOP + PLOT_HEIGHT + 6
    e = html.escape
    points: list[str] = []
    for i, v in enumerate(values):
        y = chart_y(v, peak)
        points += [f"{_x(i)},{y}", f"{_x(i + 1)},{y}"]
    parts = [f'<svg class="kp-chart" data-metric="{e(name)}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{e(name)} over {len(values)} states, peak {peak}{unit}">',
             f"<title>{e(name)}</title>",
             f'<text x="0" y="10">{e(name)}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{peak}{unit}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + PLOT_HEIGHT}" text-anchor="end">0</text>',
             f'<line class="kp-axis" x1="{LEFT}" y1="{TOP + PLOT_HEIGHT}" x2="{_x(len(values))}" '
             f'y2="{TOP + PLOT_HEIGHT}"/>',
             f'<polyline class="kp-line" points="{" ".join(points)}"/>']
    if mark is not None and 0 <= mark < len(values):
        mid = _x(mark) + STEP_WIDTH // 2
        parts.append(f'<line class="kp-mark" x1="{mid}" y1="{TOP}" x2="{mid}" y2="{TOP + PLOT_HEIGHT}"/>')
    for i, v in enumerate(values):
        parts.append(f'<rect class="kp-col" data-r="{r}" data-i="{i}" data-value="{v}" x="{_x(i)}" y="{TOP}" '
                     f'width="{STEP_WIDTH}" height="{PLOT_HEIGHT}"><title>state {i}: {v}{unit}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def chart_section(r: int, result: ReplayResult) -> str:
    """The metrics of a replay over its steps: a chart per series that moves, one line naming
    the series that stayed constant. Empty if the trace cannot be measured."""
    states = result.states
    if not states:  # not replayed (a changed path-mode scenario)
        return ""
    trace = result.counterexample.actions[:len(states) - 1]
    try:
        plotted = series(result.model, states[0], trace)
    except (AssertionError, KeyError, ValueError) as err:  # an action not enabled where the replay stopped
        return f'<p class="kp-flat">metrics not available: {html.escape(str(err) or type(err).__name__)}</p>'
    mark = min(result.counterexample.violation.step, len(states) - 1)
    charts, flat = [], []
    for name, values in plotted.items():
        if len(set(values)) <= 1:
            flat.append(f"{name} {values[0] if values else 0}{UNITS.get(name, '')}")
        else:
            charts.append(svg_chart(name, values, r, mark))
    constant = f'<p class="kp-flat">constant: {html.escape(", ".join(flat))}</p>' if flat else ""
    return (f'<div class="kp-charts" id="kp-charts-{r}"><h3>Metrics over the steps</h3>'
            + "".join(charts) + constant + "</div>")
