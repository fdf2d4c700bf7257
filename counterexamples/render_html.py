"""A replayed counterexample as one self-contained HTML page (no network: CSS and JS inline).

The trace is drawn as a timeline with one lane per component — the API server (watch delivery),
each scheduler, each controller, each kubelet, and faults / the user / time — and one column per
step; the violating step is highlighted. Below it, the metrics over the steps as small inline SVG
charts (`charts.py`), then every step with its changes. Clicking a step or a chart column
shows the whole state after it (the states are embedded as JSON and shown with `textContent`).

Every string from the trace is escaped: `html.escape` in the markup, and the embedded JSON has
`<`, `>` and `&` written as `\\u003c` … so it can never close its `<script>` element.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from kubeprop.counterexamples.charts import CHART_CSS, chart_section
from kubeprop.counterexamples.diff import state_summary
from kubeprop.counterexamples.output import HTML_OWNER
from kubeprop.counterexamples.printable import shown
from kubeprop.counterexamples.render import change_lines, property_words, provenance_words, scenario_words
from kubeprop.counterexamples.replay import ReplayResult, Verdict
from kubeprop.counterexamples.replayed_under import replayed_under, under_words
from kubeprop.counterexamples.reproduce import reproduce_command, unsuggested_lines
from kubeprop.counterexamples.steps import StepView, build_steps, lanes

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}
.kp-meta td{padding:0 1em 0 0;vertical-align:top}
.kp-verdict-REPRODUCES{color:#b00020;font-weight:bold}.kp-verdict-PASSES{color:#1b7a1b;font-weight:bold}
.kp-verdict-STALE{color:#a66300;font-weight:bold}
.kp-timeline{display:grid;overflow-x:auto;border:1px solid #ccc;padding:4px;margin:1em 0;gap:2px 1px}
.kp-lane{white-space:nowrap;font-weight:600;padding-right:.5em;position:sticky;left:0;background:#fff}
.kp-step{width:1.9em;height:1.6em;font-size:10px;border:1px solid #5b7fa6;background:#dce8f5;cursor:pointer;padding:0}
.kp-step.kp-violation{background:#f6c2c9;border-color:#b00020;font-weight:bold}
.kp-step.kp-drift{outline:2px dashed #a66300}
.kp-selected{box-shadow:0 0 0 2px #222}
.kp-steps{list-style:none;padding-left:0}
.kp-steps li{margin:.3em 0;cursor:pointer}.kp-steps li.kp-violation{background:#fde7ea}
.kp-steps pre,.kp-panel pre{margin:.2em 0 .2em 1.5em;font-size:12px;white-space:pre-wrap}
.kp-panel{border:1px solid #999;padding:.5em;background:#fafafa}
code{background:#eee;padding:0 .2em}
.kp-chart .kp-col.kp-selected{fill:#22222233}
""" + CHART_CSS

JS = """
(function () {
  var data = JSON.parse(document.getElementById('kp-data').textContent);
  function show(r, i) {
    var panel = document.getElementById('kp-panel-' + r);
    var d = data[r];
    i = Math.max(0, Math.min(i, d.states.length - 1));
    panel.replaceChildren();
    var h = document.createElement('h3');
    h.textContent = (i === 0 ? 'Initial state' : 'State after step ' + i + ': ' + d.actions[i]) +
      (i === d.violation ? '  (violating step)' : '');
    var pre = document.createElement('pre');
    pre.textContent = d.states[i].join('\\n');
    panel.appendChild(h);
    panel.appendChild(pre);
    document.querySelectorAll('[data-r="' + r + '"].kp-selected').forEach(function (e) {
      e.classList.remove('kp-selected');
    });
    document.querySelectorAll('[data-r="' + r + '"][data-i="' + i + '"]').forEach(function (e) {
      e.classList.add('kp-selected');
    });
  }
  document.addEventListener('click', function (e) {
    var t = e.target.closest('[data-i]');
    if (t) { show(+t.getAttribute('data-r'), +t.getAttribute('data-i')); }
  });
  data.forEach(function (d, r) { if (d.states.length) { show(r, d.violation); } });
  document.body.setAttribute('data-kp-ready', '1');
})();
"""


def script_json(value: Any) -> str:
    """JSON safe inside a `<script>` element: `<`, `>`, `&` and line separators escaped."""
    text = json.dumps(value, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _timeline(r: int, result: ReplayResult, steps: list[StepView]) -> str:
    used = lanes(steps)
    target = result.counterexample.violation.step
    cells = [f'<div class="kp-timeline" style="grid-template-columns: max-content repeat({len(steps)}, 2em)">']
    for lane in used:
        cells.append(f'<div class="kp-lane">{_e(lane)}</div>')
        for view in steps:
            if view.action is not None and view.lane == lane:
                classes = ["kp-step"]
                if view.index == target:
                    classes.append("kp-violation")
                if view.recorded is not None and view.recorded != view.fingerprint:
                    classes.append("kp-drift")
                cells.append(f'<button class="{" ".join(classes)}" data-r="{r}" data-i="{view.index}" '
                             f'title="{_e(view.action)}">{view.index}</button>')
            else:
                cells.append("<span></span>")
    cells.append("</div>")
    return "\n".join(cells)


def _step_list(r: int, result: ReplayResult, steps: list[StepView]) -> str:
    target = result.counterexample.violation.step
    items = []
    for view in steps:
        title = "initial state" if view.action is None else f"[{view.lane}] {view.action}"
        body = [line for change in view.changes for line in change_lines(change)]
        if view.lag is not None and view.action is not None:
            body.append(f"caches behind: {view.lag}")
        cls = ' class="kp-violation"' if view.index == target else ""
        pre = f"<pre>{_e(chr(10).join(body))}</pre>" if body else ""
        start = result.counterexample.cycle_start
        if start is not None and view.index in (start + 1, len(result.counterexample.actions)):
            title += " ⟲ cycle starts" if view.index == start + 1 else " ⟲ cycle closes"
        items.append(f'<li id="kp-s-{r}-{view.index}"{cls} data-r="{r}" data-i="{view.index}">'
                     f"<b>step {view.index}</b> {_e(title)}{pre}</li>")
    return '<ol class="kp-steps" start="0">' + "\n".join(items) + "</ol>"


def _section(r: int, result: ReplayResult) -> tuple[str, dict[str, Any]]:
    ce = result.counterexample
    steps = build_steps(result)
    found = result.violation.message if result.violation is not None else "(holds now)"
    meta = [("file", result.file), ("property", property_words(result)), ("scenario", scenario_words(result)),
            ("variant", ce.variant), ("replayed under", under_words(replayed_under(result))),
            ("found by", provenance_words(result)),
            ("violation", f"step {ce.violation.step}: {found}")]
    if result.violation is None or found != ce.violation.message:  # (the same message once is enough)
        meta.append(("the file records", ce.violation.message))
    if ce.cycle_start is not None:
        from kubeprop.counterexamples.lasso import closure_lines

        meta += [("lasso", line) for line in closure_lines(ce, result.closure)]
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(shown(v))}</td></tr>" for k, v in meta)
    verdict = Verdict(result.verdict)
    again = reproduce_command(result.file, result.counterexample, result.scenario)
    left_out = "".join(f'<p class="kp-left-out">{_e(line)}</p>'
                       for line in unsuggested_lines(ce, result.file, result.scenario is None))
    part = (f'<section id="kp-result-{r}"><h2>{_e(ce.property.name)}: '
            f'<span class="kp-verdict-{verdict.value}">{verdict.value}</span></h2>'
            f"<p>{_e(result.reason)}</p><table class=\"kp-meta\">{rows}</table>"
            f"{_timeline(r, result, steps)}"
            f"{chart_section(r, result)}"
            f'<div class="kp-panel" id="kp-panel-{r}"></div>'
            f"{_step_list(r, result, steps)}"
            f"<p>reproduce with: <code>{_e(again)}</code></p>{left_out}</section>")
    payload = {"violation": min(ce.violation.step, len(result.states) - 1),
               "actions": ["initial state"] + [str(a) for a in ce.actions[:len(result.states) - 1]],
               "states": [state_summary(s) for s in result.states]}
    return part, payload


def render_html(results: Sequence[ReplayResult]) -> str:
    """One page for one or more replays."""
    parts, payload = [], []
    for r, result in enumerate(results):
        part, data = _section(r, result)
        parts.append(part)
        payload.append(data)
    title = "kubeprop counterexample" + ("s" if len(results) != 1 else "")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{HTML_OWNER}"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>"
            f"<h1>{_e(title)}</h1>\n" + "\n".join(parts) +
            f'\n<script type="application/json" id="kp-data">{script_json(payload)}</script>\n'
            f"<script>{JS}</script>\n</body></html>\n")
