"""What `kubeprop check` reports of a run on the cluster model: `CheckRun` (every engine's report
for one scenario) as the common result table (`table.Table`) — a cell per property and engine,
the findings (upstream behaviour apart), warnings and header notes — the table printed on Ctrl-C,
and the exit code. Computing is `check.run_engines`'s; this module only reads its result.

The table's columns are engines (their names: `check_args.ENGINES`, where the parser finds them):
`CHECKS_CONVERGENCE` says which of them judge convergence properties (the lasso engines judge only
cycle properties).
"""

from __future__ import annotations

import io
import json
from typing import Any

import attrs

from kubeprop.counterexamples.api import INTERRUPTED, CheckReport, Discovery
from kubeprop.counterexamples.check_bounds import CheckBounds
from kubeprop.counterexamples.format_records import length_words
from kubeprop.counterexamples.reliance import reliance_line, trace_reliance
from kubeprop.counterexamples.scenario_diff import in_force
from kubeprop.model.scenario.helm_hooks import install_hooks_note, skipped_note
from kubeprop.model.scenario.load import stored_only_note
from kubeprop.model.scenario.nodes import ephemeral_storage_note, no_nodes_note
from kubeprop.model.scenario.usage_note import undeclared_usage_note
from kubeprop.model.scheduler.served import unserved_templates_note
from kubeprop.properties.cli.check_args import DEFAULT_DEPTH, ENGINES
from kubeprop.properties.cli.engine_lines import column
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.property_calls import NEVER_JUDGED, never_judged, slow_property
from kubeprop.properties.cli.table import Finding, Table, render
from kubeprop.properties.explore.discoveries import SETTLES
from kubeprop.properties.explore.portfolio import LATE
from kubeprop.properties.metrics import WorstFold
from kubeprop.properties.registry import Property
from kubeprop.properties.upstream_behaviour import HEADING, explanation
from kubeprop.properties.vacuity import vacuous_properties, variant_vacuity

CHECKS_CONVERGENCE = {name: True for name in ENGINES}

ONE_SCHEDULE = frozenset({"lasso"})
"""Engines whose `exhausted` is not a complete search: the fair lasso runs every seed it reaches but
only one schedule after each `Quiesce` (`kubeprop.properties.explore.lasso`, strategy `fair`), so
its "held" is `held (bounded)`; `lasso-exhaustive` explores every post-`Quiesce` interleaving and
may say `held (exhaustive)` (docs/properties.md, "What a verdict says")."""


@attrs.frozen
class CheckRun:
    """All engines' reports for one scenario."""

    scenario: str
    reports: tuple[CheckReport, ...]
    properties: tuple[Any, ...]
    """The properties checked: `Property` values, or `CycleProperty` values for the lasso engines."""
    explored: WorstFold | None = None
    """With `--metrics`: the worst metrics over every run the engines finished (`on_run`)."""
    variant: str | None = None
    parameters: tuple[tuple[str, Any], ...] = ()
    """The `--variant` and `--param` overrides the model was built with (the header shows them)."""
    stored_only: tuple[str, ...] = ()
    """The stored-only objects of the scenario's manifests and workload steps: the header names them once."""
    unserved: tuple[tuple[str, str], ...] = ()
    """The Pods and workloads of the manifests and workload steps whose pods name a scheduler the
    scenario does not run, with its name (`served.unserved_templates`): the header names them once."""
    max_depth: int = DEFAULT_DEPTH
    """The engines' `max_depth` (`--max-depth`): the engine lines say how long random runs were."""
    bounds: CheckBounds | None = None
    """The bounds the engines ran with and where each came from (a flag, the scenario, the default):
    the header says so when the scenario sets any."""


def interrupted_text(run: CheckRun, engine: str) -> str:
    """For Ctrl-C: the table of the engines that finished and of the interrupted one's violations
    found so far (each with its counterexample file, if it could be written at once), and what
    the table shows."""
    text = io.StringIO()
    finished = [r for r in run.reports if r.exit_reason != INTERRUPTED]
    found = sum(len(r.found) for r in run.reports if r.exit_reason == INTERRUPTED)
    if finished or found:
        render(table(run), text)
    so_far = f"; {found} violation{'s' if found != 1 else ''} it found before the interrupt, listed above" \
        if found else ""
    text.write(f"\n{engine}: interrupted before it finished; "
               f"{'no engine finished' if not finished else 'the table shows the engines that did'}{so_far}\n")
    return text.getvalue()


def discovery_length(found: Discovery) -> str:
    """A discovery's trace length: `5 steps`, or `3 steps, then a fair continuation of 66` for a
    convergence violation (the engine's find, then the fair continuation its file records), as
    `kubeprop replay` and `kubeprop gate` print it (`format_records.length_words`)."""
    start = found.counterexample.continuation_start if found.counterexample is not None else None
    return length_words(len(found.trace), start)


def _cell(report: CheckReport, prop: Property, vacuous: bool) -> str:
    found = next((d for d in report.found if d.violation.property == prop.name and d.upstream is None),
                 report.discovery(prop.name))  # the user's violation, found past known upstream behaviour
    if found is not None:
        ce = found.counterexample
        if ce is not None and ce.cycle_start is not None:
            return f"VIOLATED (lasso {ce.cycle_start}+{len(ce.actions) - ce.cycle_start})"
        return f"{'VIOLATED' if found.upstream is None else 'UPSTREAM'} ({discovery_length(found)})"
    if vacuous:  # it could not have failed here, judged or not (the note under the table says why)
        return "vacuous"
    if prop.kind == "convergence" and _no_settle(report):
        return "not judged (no settle)"
    if report.exit_reason == INTERRUPTED:
        return "interrupted"
    if not stepped(report):
        return "not checked (no step)"
    if prop.kind == "convergence" and not CHECKS_CONVERGENCE.get(report.engine, False):
        return "not checked"
    if never_judged(report, prop):  # no run ended where it is judged: nothing is claimed
        return NEVER_JUDGED
    return "held (exhaustive)" if report.complete and report.engine not in ONE_SCHEDULE else "held (bounded)"


def _no_settle(report: CheckReport) -> bool:
    """Whether a `settles` violation ended the judging of the convergence properties: the user's
    livelock, or a known upstream one the search did not go on past (`CheckReport.searched_on`)."""
    livelocks = [d for d in report.found if d.violation.property == SETTLES]
    searched = next((s for s in report.searched_on if s.property == SETTLES), None)
    return bool(livelocks) and (any(d.upstream is None for d in livelocks) or searched is None or not searched.steps)


def table(run: CheckRun) -> Table:
    """The cluster run as the common result table."""
    model = run.reports[0].model
    vacuous = vacuous_properties(model, run.properties)
    cells = tuple(tuple(_cell(r, p, p.name in vacuous) for r in run.reports) for p in run.properties)
    findings = tuple(Finding(r.engine, str(d.violation), d.path, d.note, _inline(d), explanation=_unshrunk(d),
                             relies=relies_line(r, d))
                     for r in run.reports for d in r.found if d.upstream is None)
    upstream = tuple(Finding(r.engine, str(d.violation), d.path, d.note, _inline(d),
                             explanation=explanation(d.upstream, variant=r.model.variant) + _unshrunk(d)
                             + searched_on_lines(r, d), relies=relies_line(r, d))
                     for r in run.reports for d in r.found if d.upstream is not None)
    warnings = tuple(w for w in (variant_vacuity(model), None if took_a_step(run) else NO_STEP,
                                 *map(figures_missing, run.reports), *map(slow_property, run.reports),
                                 *(reduced_depth(r, run.max_depth) for r in run.reports)) if w)
    notes = (no_nodes_note(model.scenario.spec),
             ephemeral_storage_note(model.scenario.spec, (m.obj for m in model.scenario.objects)),
             undeclared_usage_note(model.scenario.spec, (m.obj for m in model.scenario.objects)),
             stored_only_note(run.stored_only),
             skipped_note(model.scenario.skipped), install_hooks_note(model.scenario.objects),
             unserved_templates_note(run.unserved))
    bounds = run.bounds.line() if run.bounds is not None and run.bounds.from_scenario else None
    return Table(title(run), tuple(p.name for p in run.properties),
                 tuple(column(r, run.max_depth) for r in run.reports), cells,
                 vacuous=tuple((n, v) for n, v in vacuous.items() if not any(r.discovery(n) for r in run.reports)),
                 warnings=warnings, findings=findings, upstream=upstream,
                 upstream_heading=HEADING, header=tuple(line for line in (bounds, *notes) if line))


def title(run: CheckRun) -> str:
    """The header line: the scenario, its variant (`--variant`, else the scenario's own when not
    `correct`) and the parameters in force that are not at their defaults (v1.33: a scenario for
    another release is told by them; `scenario_diff.in_force`, the variant's own left out), the
    `--param` overrides always."""
    model = run.reports[0].model if run.reports else None
    chosen = run.variant or (model.variant if model is not None and model.variant != "correct" else None)
    variant = f", variant {chosen}" if chosen else ""
    shown = dict(in_force(model.parameters, model.variant)) if model is not None else {}
    shown.update(run.parameters)
    parameters = ", ".join(f"{name}={json.dumps(value)}" for name, value in sorted(shown.items()))
    return f"kubeprop check: scenario {run.scenario}{variant}{f', parameters {parameters}' if parameters else ''}"


def searched_on_lines(report: CheckReport, found: Discovery) -> tuple[str, ...]:
    """Under the first known upstream violation of a property: what the search on past it found
    (`CheckReport.searched_on`) — the user's violation (listed with the others), or how far it went."""
    first = next(d for d in report.found if d.violation.property == found.violation.property)
    searched = next((s for s in report.searched_on if s.property == found.violation.property), None)
    return (searched.line(),) if searched is not None and first is found else ()


def _inline(found: Discovery) -> tuple[str, ...]:
    """The trace's actions, printed under a violation recorded but not written (its file could
    not be: a link planted at its name), so that the finding is kept; none when it has a file."""
    if found.path is not None or found.counterexample is None:
        return ()
    return tuple(str(action) for action in found.trace)


def relies_line(report: CheckReport, found: Discovery) -> str:
    """What the discovery's run relies on besides the control plane (`reliance_line`), computed
    from its trace (the fair continuation of a convergence counterexample included)."""
    return reliance_line(trace_reliance(report.model, found.trace))


def _unshrunk(found: Discovery) -> tuple[str, ...]:
    """The line saying a discovery's trace is as found, when Ctrl-C came before shrinking it, or
    that its shrinking stopped before its end: cut by the budget's time bound (so the length may
    differ on another machine), or at its step bound (`--shrink-steps`: the same on any machine).
    The counterexample file's note says the same (`Discovery.shrink_note`)."""
    if found.unshrunk:
        return (f"not shrunk: interrupted before shrinking ({len(found.trace)} steps as found)",)
    return (found.shrink_note,) if found.shrink_note else ()


def reduced_depth(report: CheckReport, max_depth: int, held: str = "held (bounded)") -> str | None:
    """The warning for a BFS cut by its depth bound after its partial-order reduction narrowed some
    states to an ample set (`EngineStats.narrowed`): its "held" covers the reduced search within
    the depth, which may reach a state within the depth of the start only deeper. `held`: the
    verdict as the command words it (`kubeprop check`'s table; the gate's `held, bounded
    (depth-bound)`); both take `--no-reduction`."""
    narrowed = getattr(report.stats, "narrowed", 0)
    if report.engine != "bfs" or not narrowed or report.exit_reason != "depth-bound":
        return None
    return (f"bfs: '{held}' means held within depth {max_depth} of the reduced search: partial-order "
            f"reduction (ample sets) took only some of the enabled actions at {narrowed:,} state"
            f"{'s' if narrowed != 1 else ''}, so a state within {max_depth} step{'s' if max_depth != 1 else ''} of the "
            "start may lie deeper in it and go unchecked; --no-reduction checks every state within the depth")


def figures_missing(report: CheckReport) -> str | None:
    """The warning for a portfolio whose worker lanes did not all report in time (`LATE`): their
    members' steps are missing from the figures. The verdicts stand: a lane sends a violation the
    moment it finds one, so only what it checked without finding anything goes uncounted."""
    late = [p.engine for p in getattr(report.stats, "parts", ()) if p.stats.note == LATE]
    if not late:
        return None
    return (f"{report.engine}: no figures from {', '.join(late)} (a lane that did not report in time: a busy or "
            "stopped process): the totals are incomplete, and 'held' covers only what was checked (a lane "
            "reports a violation the moment it finds one)")


NO_STEP = "no engine took a step within the budget: nothing was checked (exit 3)"


def stepped(report: CheckReport) -> bool:
    """Whether the engine explored anything (a search that was done at once counts, and so does a
    violation found in the initial state): if not, its column says "not checked"."""
    return bool(report.complete or report.found or getattr(report.stats, "steps", 0))


def took_a_step(run: CheckRun) -> bool:
    """Whether any engine explored anything (`stepped`)."""
    return any(stepped(r) for r in run.reports)


def exit_code(run: CheckRun, exhaustive: bool, strict: bool = False) -> int:
    """1 on any violation (known upstream behaviour only if `strict`); 3 if an exhaustive search was
    asked for and not achieved, or no engine took a step; else 0."""
    if any(strict or d.upstream is None for r in run.reports for d in r.found):
        return ExitCode.VIOLATION
    if exhaustive and not any(r.engine == "bfs" and r.complete for r in run.reports):
        return ExitCode.INCONCLUSIVE
    if not took_a_step(run):
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK
