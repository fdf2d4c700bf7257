"""`kubeprop check`: run the engines on a scenario and report every property — of the cluster
model, or of the Raft model (etcd) when a Raft variant or `--model raft` is given.

Default: the built-in FeastFlow scenario and the portfolio (the search around the fair run, its
perturbations where they matter, fault injection around it, PCT priority runs, swarm walks, a
bounded breadth-first search and Hypothesis, taking turns on up to three cores: `--workers`)
within a hard wall-clock budget of a minute; a scenario's `bounds:` (maxDepth, maxStates,
timeLimitSeconds) are the defaults of `--max-depth`, `--max-states` and `--budget`, a flag given
wins, and the header says where each bound came from (`check_bounds`); `--engine NAME` runs one engine with the whole
budget, `--engine all` each of bfs, walk and hypothesis with an equal share. Prints one row per
property — violated (with the counterexample file), held (exhaustively, or within the bound the
engine reached), vacuous (it could not have failed in this scenario), or not checked — then one
line per engine with its exit reason, the seconds it used and how far it got. A violation does not
end an engine's search: it goes on for the properties not yet violated, and every discovery gets
its own file. A violation that is known behaviour of Kubernetes itself
(`kubeprop.properties.upstream_behaviour`) is listed under its own heading with its upstream
citation and does not fail the check unless `--strict` is given — under `--variant` too, when its
trace replays on the variant's correct twin (`kubeprop.properties.upstream_twin`), with a line
saying it happens without the variant. Exit codes: 0 nothing violated;
1 a violation (counterexample files written); 2 bad input; 3 inconclusive (`--exhaustive` asked
for a complete search and a bound cut it short, or no engine took a step); 130 Ctrl-C, after
printing every violation found before it (`CheckInterrupted`), recorded where that was quick."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs
import yaml

from kubeprop.counterexamples.api import INTERRUPTED, CheckInterrupted, CheckReport, Discovery, check
from kubeprop.counterexamples.check_bounds import (
    DEFAULT_BUDGET,
    MAX_DEPTH,
    MAX_STATES,
    UNSET,
    CheckBounds,
    check_bounds,
)
from kubeprop.counterexamples.format import length_words
from kubeprop.counterexamples.printable import shell_word, shown, shown_error
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.errors import InputError, UsageError
from kubeprop.model.raft.state import RAFT_VARIANTS
from kubeprop.model.scenario.load import Scenario, load_scenario, stored_only_labels, stored_only_note
from kubeprop.model.scenario.nodes import no_nodes_note
from kubeprop.model.scenario.schema import PARAMETERS, boolean_word_problem, parameter_problem
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.scheduler.served import unserved_templates, unserved_templates_note
from kubeprop.properties.cli.engine_lines import column
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.flagtypes import depth_bound, int_in, output_folder, seconds, state_bound
from kubeprop.properties.cli.interrupted import Interrupted
from kubeprop.properties.cli.live import LiveLine, LogLines
from kubeprop.properties.cli.table import Finding, Table, render
from kubeprop.properties.explore.discoveries import SETTLES
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.portfolio import LATE
from kubeprop.properties.explore.shrink_clock import MAX_SHRINK_STEPS, SHRINK_STEPS_LIMIT
from kubeprop.properties.metrics import WorstCase, WorstFold, check_report, worst_over
from kubeprop.properties.modules import checked_properties
from kubeprop.properties.oscillation import select_cycle
from kubeprop.properties.registry import Property
from kubeprop.properties.upstream_behaviour import HEADING, explanation
from kubeprop.properties.vacuity import vacuous_properties, variant_vacuity

ENGINE_ORDER = ("bfs", "walk", "hypothesis")
"""What `--engine all` runs, each with an equal share of the budget."""
LASSO_ENGINES = ("lasso", "lasso-exhaustive")
"""Engines that look for oscillations (cycle properties, `kubeprop.properties.oscillation`); run
only when asked for by name."""
ENGINES = ("portfolio", "around", "faults", "perturb", "pct", *ENGINE_ORDER)
"""`--engine` choices besides `all` and the lasso engines; the default is the portfolio."""
CHECKS_CONVERGENCE = {name: True for name in ENGINES}
DEFAULT_DEPTH: int = EngineConfig().max_depth
ENGINE_HELP = {
    "portfolio": "the default: every engine below taking turns within the budget, the search around the "
                 "fair run first",
    "around": "the runs that deviate from the fair run at most k times (k = 0, 1, 2, 3), shortest first",
    "faults": "the fair run with one or two faults of the scenario's budget injected at any point",
    "perturb": "the fair run perturbed where it matters (a fault where it is quiet, a crash right after a "
               "write, a second fault among the first one's effects), each run followed to its end",
    "pct": "PCT priority runs: a probabilistic guarantee for bugs of small depth",
    "bfs": "breadth-first search with partial-order reduction: a proof of absence when it exhausts the space; "
           "cut by --max-depth, every state within the depth and shortest counterexamples only with "
           "--no-reduction (the reduction may reach a state only deeper: the report says when it did); for "
           "small spaces and CI gates",
    "walk": "swarm random walks over worker processes: the cheapest broad coverage of big spaces and "
            "fault combinations",
    "hypothesis": "Hypothesis stateful testing: long random schedules, failures shrunk to short ones",
    "all": "bfs, walk and hypothesis, each with an equal share of --budget",
}



MAX_WORKERS = 256
"""The most worker processes (walk workers, portfolio lanes) --workers accepts."""

_positive_int = int_in(1, MAX_DEPTH)
_positive_float = seconds


def _parameter(text: str) -> tuple[str, Any]:
    """NAME=VALUE with VALUE in YAML (`true`, `40`, `[a, b]`), checked against the parameter's range."""
    name, sep, raw = text.partition("=")
    if not sep or name not in PARAMETERS:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of: {', '.join(PARAMETERS)}")
    try:
        value = yaml.safe_load(raw)
    except (yaml.YAMLError, RecursionError) as err:
        raise argparse.ArgumentTypeError(f"{name}: the value {raw!r} is not YAML: "
                                         f"{getattr(err, 'problem', None) or err}") from None
    problem = parameter_problem(name, value) or boolean_word_problem(name, value, raw)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{name}: {problem}")
    return name, value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kubeprop check` to the CLI."""
    from kubeprop.properties.cli.raft import add_raft_arguments

    engines = "; ".join(f"{name}: {what}" for name, what in ENGINE_HELP.items())
    p = sub.add_parser("check", help="explore a scenario with the engines and check every property",
                       description=__doc__)
    p.add_argument("path", nargs="?", type=Path, metavar="SCENARIO|MANIFEST_DIR",
                   help="scenario file or folder, or a manifest folder (default: FeastFlow)")
    p.add_argument("--engine", choices=(*ENGINES, "all", *LASSO_ENGINES), default="portfolio",
                   help=f"engine(s) to run: {engines}; lasso or lasso-exhaustive look for oscillations after "
                        "Quiesce and check the cycle properties")
    p.add_argument("--property", dest="properties", action="append", metavar="NAME",
                   help="check only this property (repeatable; default: every registered property, the "
                        "scenario's own and those of --properties)")
    p.add_argument("--properties", dest="property_modules", action="append", default=[], metavar="MODULE[:ATTR]",
                   help="also check your own properties: every one MODULE defines, or the one (or list) ATTR "
                        "names; the module must be importable (PYTHONPATH) (repeatable)")
    p.add_argument("--model", choices=("cluster", "raft"),
                   help="the cluster model (default) or the Raft model of etcd (implied by a Raft variant)")
    p.add_argument("--variant", choices=sorted({*VARIANTS, *RAFT_VARIANTS}),
                   help="a named model variant (the bug catalogue; quorum-ceil, follower-read and raft-figure8 "
                        "are Raft variants)")
    p.add_argument("--param", dest="params", action="append", type=_parameter, default=[], metavar="NAME=VALUE",
                   help="override a model parameter, e.g. --param instantCaches=true (repeatable)")
    p.add_argument("--max-depth", type=depth_bound,
                   help=f"BFS depth bound; length of each walk, PCT run and Hypothesis example — every other walk "
                        f"and PCT run goes on for the fair run's length and a quarter when that is longer, to reach "
                        f"a long workload's end (1 to {MAX_DEPTH:,}; default: the scenario's bounds.maxDepth, else "
                        f"{DEFAULT_DEPTH})")
    p.add_argument("--max-states", type=state_bound,
                   help=f"distinct-state bound of the explicit searches (1 to {MAX_STATES:,}: the bound is there for "
                        "memory; default: the scenario's bounds.maxStates, else none)")
    p.add_argument("--runs", type=_positive_int,
                   help="walks and Hypothesis examples to run (default: as many as the budget allows); after a "
                        "violation the search goes on for the other properties and counts its runs anew")
    p.add_argument("--shrink-steps", type=int_in(1, SHRINK_STEPS_LIMIT), default=MAX_SHRINK_STEPS, metavar="N",
                   help=f"shrink a counterexample replaying and judging at most N model steps (default "
                        f"{MAX_SHRINK_STEPS:,}): counted in steps, the same on any machine; the budget still bounds it")
    p.add_argument("--budget", type=_positive_float,
                   help="wall-clock seconds for the whole run, every engine and shrinking included (default: the "
                        f"scenario's bounds.timeLimitSeconds, else {DEFAULT_BUDGET:g})")
    p.add_argument("--workers", type=int_in(1, MAX_WORKERS),
                   help="worker processes: the portfolio's lanes, each running some of its engines, with the same "
                        "result as one (default: the core count or 3, whichever is fewer; at most one per engine; "
                        "1: all in this process, as with --metrics); --engine walk: walk workers (default: the "
                        "core count)")
    p.add_argument("--cluster", metavar="tcp://HOST:8786", default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
                   help="run the walks on this dask.distributed scheduler (default $DASK_SCHEDULER_ADDRESS; "
                        "needs kubeprop[dask])")
    p.add_argument("--seed", type=int_in(-(2**63), 2**64 - 1), default=0, help="seed of the random engines (default 0)")
    p.add_argument("--out", type=output_folder, default="kubeprop-out",  # a str: argparse checks it too
                   help="where counterexample files go (and Hypothesis' scratch folder, .hypothesis)")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto",
                   help="progress on stderr: a live line (a terminal), log lines (each engine's start and end, "
                        "and a line every 10 s), or none (default auto: live on a terminal, else lines)")
    p.add_argument("--no-reduction", dest="reduction", action="store_false",
                   help="the BFS without partial-order reduction: every state within --max-depth, shortest "
                        "counterexamples (more transitions; the reduction's ample sets may reach a state only "
                        "deeper, so a depth bound covers fewer states)")
    p.add_argument("--exhaustive", action="store_true",
                   help="exit 3 unless the BFS explored every state (within --max-depth if given)")
    add_raft_arguments(p.add_argument_group("the Raft model (--model raft or a Raft variant)"))
    p.add_argument("--metrics", action="store_true",
                   help="also print the worst value of each control-plane metric (docs/metrics.md)")
    p.add_argument("--first", action="store_true",
                   help="stop at the first violation that is not known upstream behaviour (default: search on for "
                        "the other properties until the budget is spent)")
    p.add_argument("--strict", action="store_true",
                   help="fail (exit 1) also on violations that are known upstream behaviour (by default "
                        "listed under their own heading, exit 0)")
    p.set_defaults(run=lambda args: run_check(args, sys.stdout))


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


def keep_hypothesis_under(out: Path) -> None:
    """Hypothesis keeps scratch files (its cache of source constants) in `.hypothesis/` of the
    working folder; put them under the output folder instead. The example database is off
    (`database=None`, profile kubeprop-ci)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(out / ".hypothesis")


def chosen_bounds(args: argparse.Namespace, scenario: Scenario) -> CheckBounds:
    """The depth, state and time bounds: each flag given wins, else the scenario's `bounds:`, else
    the default (`check_bounds`)."""
    def given(value: Any) -> Any:
        return UNSET if value is None else value
    return check_bounds(scenario.spec.bounds, max_depth=given(args.max_depth), max_states=given(args.max_states),
                        budget=given(args.budget), default_depth=DEFAULT_DEPTH)


def engine_config(args: argparse.Namespace, bounds: CheckBounds) -> EngineConfig:
    """The engines' configuration the flags (and the scenario's bounds) ask for."""
    depth, states = bounds.max_depth.value, bounds.max_states.value
    return EngineConfig(max_depth=DEFAULT_DEPTH if depth is None else int(depth), workers=args.workers,
                        max_states=None if states is None else int(states), runs=args.runs,
                        max_shrink_steps=args.shrink_steps, reduction=getattr(args, "reduction", True))


def run_engines(args: argparse.Namespace) -> CheckRun:
    """Run the selected engine (or `all` of them, each with an equal share of the budget) within
    `--budget` seconds of wall clock in all, loading the scenario included — from when the process
    started when run from the shell (`args.started`, set by `main`)."""
    began: float = getattr(args, "started", None) or time.perf_counter()
    if args.cluster and args.engine in ("walk", "all"):  # a bad address is bad input before anything runs
        from kubeprop.properties.explore.dask_walks import _checked_address
        _checked_address(args.cluster)
    scenario = load_scenario(args.path)
    bounds = chosen_bounds(args, scenario)
    budget = float(bounds.budget.value or DEFAULT_BUDGET)
    cycle = args.engine in LASSO_ENGINES
    props: tuple[Any, ...] = (select_cycle(args.properties) if cycle
                              else checked_properties(scenario, args.properties, args.property_modules))
    engines = ENGINE_ORDER if args.engine == "all" else (args.engine,)
    config = engine_config(args, bounds)
    model = build_model(scenario, parameters=dict(args.params), variant=args.variant)
    start = initial_state(model)  # an object the API server rejects is bad input before any engine runs
    explored = None
    if getattr(args, "metrics", False) and not cycle and not getattr(args, "cluster", None):
        explored = WorstFold(model, start)
        config = attrs.evolve(config, on_run=explored.add)
    if "hypothesis" in engines or "portfolio" in engines:
        keep_hypothesis_under(args.out)
    reports = []
    mode = getattr(args, "progress", "auto")
    mode = ("live" if sys.stderr.isatty() else "lines") if mode == "auto" else mode
    live = mode == "live"
    for i, engine in enumerate(engines):
        share = max(0.0, (budget - (time.perf_counter() - began)) / (len(engines) - i))
        if mode != "none":
            sys.stderr.write(f"kubeprop check: running {engine} (budget {share:.1f} s)…\n")
            sys.stderr.flush()
        line: LiveLine | LogLines | None = (None if mode == "none" else LogLines(engine, share) if mode == "lines"
                                            else LiveLine(engine, share) if engine in ("bfs", "portfolio") else None)
        engine_config_ = (attrs.evolve(config, progress=line) if line is not None and engine in ("bfs", "portfolio")
                          else config)
        name = engine
        if engine == "walk" and args.cluster:  # the walks on a Dask cluster (kubeprop.properties.explore.dask_walks)
            from kubeprop.properties.explore.dask_walks import dask_engine, terminal_progress
            name = dask_engine(args.cluster, terminal_progress if live else None)
        try:
            reports.append(attrs.evolve(check(
                scenario, props, engine=name, budget=share, variant=args.variant, parameters=dict(args.params),
                seed=args.seed, config=engine_config_, save_to=args.out,
                all_discoveries=not getattr(args, "first", False)), engine=engine))
        except KeyboardInterrupt as err:
            if isinstance(line, LiveLine):  # a log says "done" only of an engine that finished
                line.end()
            partial = (err.report,) if isinstance(err, CheckInterrupted) else ()
            run = CheckRun(scenario.name, (*reports, *partial), props, variant=args.variant,
                           parameters=tuple(args.params), max_depth=config.max_depth, bounds=bounds)
            raise Interrupted(_interrupted(run, engine)) from None
        if line is not None:
            line.end()
        if getattr(args, "first", False) and any(d.upstream is None for d in reports[-1].found):
            break  # --first: the other engines of `--engine all` are not run
    return CheckRun(scenario.name, tuple(reports), props, explored, args.variant, tuple(args.params),
                    stored_only=_stored_only(scenario, reports), max_depth=config.max_depth, bounds=bounds,
                    unserved=_unserved(scenario, reports))


def _stored_only(scenario: Scenario, reports: Sequence[CheckReport]) -> tuple[str, ...]:
    """The stored-only objects of the manifests and of the workload steps (as the model loaded them)."""
    steps = reports[0].model.workload_objects if reports else ()
    return stored_only_labels([*(m.obj for m in scenario.objects), *(o for step in steps for o in step)])


def _unserved(scenario: Scenario, reports: Sequence[CheckReport]) -> tuple[tuple[str, str], ...]:
    """The pod templates of the manifests and of the workload steps no scheduler of the scenario serves."""
    steps = reports[0].model.workload_objects if reports else ()
    return unserved_templates([*(m.obj for m in scenario.objects), *(o for step in steps for o in step)])


def _interrupted(run: CheckRun, engine: str) -> str:
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
    `kubeprop replay` and `kubeprop gate` print it (`format.length_words`)."""
    start = found.counterexample.continuation_start if found.counterexample is not None else None
    return length_words(len(found.trace), start)


def _cell(report: CheckReport, prop: Property, vacuous: bool) -> str:
    found = report.discovery(prop.name)
    if found is not None:
        ce = found.counterexample
        if ce is not None and ce.cycle_start is not None:
            return f"VIOLATED (lasso {ce.cycle_start}+{len(ce.actions) - ce.cycle_start})"
        return f"{'VIOLATED' if found.upstream is None else 'UPSTREAM'} ({discovery_length(found)})"
    if vacuous:  # it could not have failed here, judged or not (the note under the table says why)
        return "vacuous"
    if prop.kind == "convergence" and report.discovery(SETTLES) is not None:
        return "not judged (no settle)"
    if report.exit_reason == INTERRUPTED:
        return "interrupted"
    if not stepped(report):
        return "not checked (no step)"
    if prop.kind == "convergence" and not CHECKS_CONVERGENCE.get(report.engine, False):
        return "not checked"
    return "held (exhaustive)" if report.complete else "held (bounded)"


def table(run: CheckRun) -> Table:
    """The cluster run as the common result table."""
    model = run.reports[0].model
    vacuous = vacuous_properties(model, run.properties)
    cells = tuple(tuple(_cell(r, p, p.name in vacuous) for r in run.reports) for p in run.properties)
    findings = tuple(Finding(r.engine, str(d.violation), d.path, d.note, _inline(d), explanation=_unshrunk(d))
                     for r in run.reports for d in r.found if d.upstream is None)
    upstream = tuple(Finding(r.engine, str(d.violation), d.path, d.note, _inline(d),
                             explanation=explanation(d.upstream, variant=r.model.variant) + _unshrunk(d))
                     for r in run.reports for d in r.found if d.upstream is not None)
    warnings = tuple(w for w in (variant_vacuity(model), None if took_a_step(run) else NO_STEP,
                                 *map(figures_missing, run.reports),
                                 *(reduced_depth(r, run.max_depth) for r in run.reports)) if w)
    notes = (no_nodes_note(model.scenario.spec), stored_only_note(run.stored_only),
             unserved_templates_note(run.unserved))
    bounds = run.bounds.line() if run.bounds is not None and run.bounds.from_scenario else None
    return Table(title(run), tuple(p.name for p in run.properties),
                 tuple(column(r, run.max_depth) for r in run.reports), cells,
                 vacuous=tuple((n, v) for n, v in vacuous.items() if not any(r.discovery(n) for r in run.reports)),
                 warnings=warnings, findings=findings, upstream=upstream,
                 upstream_heading=HEADING, header=tuple(line for line in (bounds, *notes) if line))


def title(run: CheckRun) -> str:
    """The header line: the scenario, and the variant and parameter overrides when given."""
    variant = f", variant {run.variant}" if run.variant else ""
    parameters = ", ".join(f"{name}={json.dumps(value)}" for name, value in run.parameters)
    return f"kubeprop check: scenario {run.scenario}{variant}{f', parameters {parameters}' if parameters else ''}"


def _inline(found: Discovery) -> tuple[str, ...]:
    """The trace's actions, printed under a violation recorded but not written (its file could
    not be: a link planted at its name), so that the finding is kept; none when it has a file."""
    if found.path is not None or found.counterexample is None:
        return ()
    return tuple(str(action) for action in found.trace)


def _unshrunk(found: Discovery) -> tuple[str, ...]:
    """The line saying a discovery's trace is as found, when Ctrl-C came before shrinking it, or
    that its shrinking stopped before its end: cut by the budget's time bound (so the length may
    differ on another machine), or at its step bound (`--shrink-steps`: the same on any machine).
    The counterexample file's note says the same (`Discovery.shrink_note`)."""
    if found.unshrunk:
        return (f"not shrunk: interrupted before shrinking ({len(found.trace)} steps as found)",)
    return (found.shrink_note,) if found.shrink_note else ()


def reduced_depth(report: CheckReport, max_depth: int) -> str | None:
    """The warning for a BFS cut by its depth bound after its partial-order reduction narrowed some
    states to an ample set (`EngineStats.narrowed`): its "held" covers the reduced search within
    the depth, which may reach a state within the depth of the start only deeper."""
    narrowed = getattr(report.stats, "narrowed", 0)
    if report.engine != "bfs" or not narrowed or report.exit_reason != "depth-bound":
        return None
    return (f"bfs: 'held (bounded)' means held within depth {max_depth} of the reduced search: partial-order "
            f"reduction (ample sets) took only some of the enabled actions at {narrowed:,} state"
            f"{'s' if narrowed != 1 else ''}, so a state within {max_depth} step{'s' if max_depth != 1 else ''} of the "
            "start may lie deeper in "
            "it and go unchecked; --no-reduction checks every state within the depth")


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


def is_raft(args: argparse.Namespace) -> bool:
    """Whether the flags ask for the Raft model; UsageError when they contradict each other."""
    raft_variant = args.variant in RAFT_VARIANTS
    if args.model == "cluster" and raft_variant:
        raise UsageError(f"--variant {args.variant} is a Raft variant; it needs --model raft (or no --model)")
    if args.model == "raft" and args.variant is not None and not raft_variant:
        raise UsageError(f"--variant {args.variant} is a cluster variant; Raft variants: "
                         f"{', '.join(RAFT_VARIANTS)}")
    return args.model == "raft" or raft_variant


def run_check(args: argparse.Namespace, out: TextIO, timing: bool = True) -> int:
    """Run `kubeprop check`."""
    from kubeprop.properties.cli.raft import run_raft_check

    traced: tuple[CheckReport, ...] = ()
    explored = None
    try:
        if is_raft(args):
            result, code = run_raft_check(args)
        else:
            run = run_engines(args)
            result, code = table(run), exit_code(run, args.exhaustive, getattr(args, "strict", False))
            traced, explored = run.reports, run.explored
    except InputError as err:
        sys.stderr.write(f"kubeprop check: bad input:\n{shown_error(err)}\n")
        return ExitCode.BAD_INPUT
    render(result, out, timing)
    if getattr(args, "metrics", False) and traced:
        model, traces = traced[0].model, [r.trace for r in traced]
        rows = worst_over(model, traces, explored)
        out.write("\n" + "\n".join(check_report(model, traces, explored, rows)) + "\n")
        _write_worst_cases(model, rows, args.out, out)
    return code


def _write_worst_cases(model: Any, rows: Sequence[tuple[str, WorstCase]], folder: Path, out: TextIO) -> None:
    """The worst case of each state time metric as a counterexample file (`counterexamples.worst`)."""
    from kubeprop.counterexamples.format import write
    from kubeprop.counterexamples.output import OutputError
    from kubeprop.counterexamples.worst import record_worst

    for where, worst in rows:
        ce = record_worst(model, worst, where)
        if ce is not None:
            try:
                path = write(ce, folder)
            except OutputError as err:  # a link planted at its name: the figures above stand
                out.write(f"worst case: {worst.row.metric} {worst.row.worst} s ({where}): not recorded: "
                          f"{shown_error(err)}\n")
                continue
            out.write(f"worst case: {worst.row.metric} {worst.row.worst} s ({where}): {shown(path)}\n"
                      f"  replay with: kubeprop replay {shell_word(path)}\n")


def main(argv: Sequence[str]) -> int:
    """Run `kubeprop check` with these arguments (for tests)."""
    from kubeprop.properties.cli.main import main as cli_main

    return cli_main(["check", *argv])
