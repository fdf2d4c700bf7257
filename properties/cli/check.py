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
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs
import yaml

from kubeprop.counterexamples.api import CheckInterrupted, CheckReport, check
from kubeprop.counterexamples.check_bounds import (
    DEFAULT_BUDGET,
    MAX_DEPTH,
    MAX_STATES,
    UNSET,
    CheckBounds,
    check_bounds,
)
from kubeprop.counterexamples.printable import shell_word, shown, shown_error
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.errors import InputError, UsageError, UserCodeError
from kubeprop.model.raft.state import RAFT_VARIANTS
from kubeprop.model.scenario.bootstrap import every_rejection
from kubeprop.model.scenario.load import Scenario, ScenarioError, load_scenario, stored_only_labels
from kubeprop.model.scenario.schema import PARAMETERS, boolean_word_problem, parameter_problem
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.scheduler.served import unserved_templates
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cli.check_table import (
    ENGINE_ORDER,
    ENGINES,
    LASSO_ENGINES,
    CheckRun,
    exit_code,
    interrupted_text,
    table,
)
from kubeprop.properties.cli.engine_lines import DEFAULT_DEPTH, NOT_AN_ENGINE
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.flagtypes import depth_bound, int_in, output_folder, seconds, state_bound
from kubeprop.properties.cli.interrupted import Interrupted
from kubeprop.properties.cli.live import LiveLine, LogLines
from kubeprop.properties.cli.table import render
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.shrink_clock import MAX_SHRINK_STEPS, SHRINK_STEPS_LIMIT
from kubeprop.properties.metrics import WorstCase, WorstFold, check_report, worst_over
from kubeprop.properties.modules import checked_properties
from kubeprop.properties.oscillation import select_cycle
from kubeprop.properties.registry import did_you_mean

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
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {shown(repr(text))}; NAME one of: "
                                         f"{', '.join(PARAMETERS)}")
    if name not in PARAMETERS:
        raise argparse.ArgumentTypeError(f"unknown parameter {shown(repr(name))}; {did_you_mean(name, PARAMETERS)}")
    try:
        value = yaml.safe_load(raw)
    except (yaml.YAMLError, RecursionError) as err:
        raise argparse.ArgumentTypeError(f"{name}: the value {raw!r} is not YAML: "
                                         f"{getattr(err, 'problem', None) or err}") from None
    problem = parameter_problem(name, value) or boolean_word_problem(name, value, raw)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{name}: {problem}")
    return name, value


def _engine(text: str) -> str:
    """An `--engine` value; `expected`, the portfolio's shared part, is refused saying what it is."""
    if text == "expected":
        raise argparse.ArgumentTypeError(NOT_AN_ENGINE)
    return text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kubeprop check` to the CLI."""
    from kubeprop.properties.cli.raft import add_raft_arguments

    engines = "; ".join(f"{name}: {what}" for name, what in ENGINE_HELP.items())
    p = sub.add_parser("check", help="explore a scenario with the engines and check every property",
                       description=__doc__)
    p.add_argument("path", nargs="?", type=Path, metavar="SCENARIO|MANIFEST_DIR",
                   help="scenario file or folder, or a manifest folder (default: FeastFlow)")
    p.add_argument("--engine", type=_engine, choices=(*ENGINES, "all", *LASSO_ENGINES), default="portfolio",
                   help=f"engine(s) to run: {engines}; lasso or lasso-exhaustive look for oscillations after "
                        "Quiesce and check the cycle properties. The 'expected' line under the portfolio in the "
                        "engines table is not an engine: it is the run a user expects, computed once for around, "
                        "perturb and faults")
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
    _add_bound_arguments(p)
    p.add_argument("--cluster", metavar="tcp://HOST:8786", default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
                   help="run the walks on this dask.distributed scheduler (default $DASK_SCHEDULER_ADDRESS; "
                        "needs kubeprop[dask])")
    p.add_argument("--seed", type=int_in(-(2**63), 2**64 - 1), default=0, help="seed of the random engines (default 0)")
    p.add_argument("--out", type=output_folder, default="kubeprop-out",  # a str: argparse checks it too
                   help="where counterexample files go (and Hypothesis' scratch folder, .hypothesis)")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto",
                   help="progress on stderr: a live line (a terminal), log lines (each engine's start and end, "
                        "and a line every 10 s), or none (default auto: live on a terminal, else lines)")
    add_reduction_argument(p)
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



def add_reduction_argument(p: argparse.ArgumentParser, depth: str = "--max-depth") -> None:
    """`--no-reduction` (`args.reduction`, default True: `EngineConfig.reduction`), shared by `kubeprop
    check` and `kubeprop gate`; `depth` names the depth bound it is about."""
    p.add_argument("--no-reduction", dest="reduction", action="store_false",
                   help=f"the BFS without partial-order reduction: every state within {depth}, shortest "
                        "counterexamples (more transitions; the reduction's ample sets may reach a state only "
                        "deeper, so a depth bound covers fewer states)")


def _add_bound_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that bound the search: depth, states, runs, shrinking, time and worker processes."""
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
    try:
        start = initial_state(model)
    except ScenarioError as err:  # an object the API server rejects is bad input before any engine runs: each
        raise ScenarioError(every_rejection(scenario, model.api) or err.problems) from None
    explored, config = _metrics_fold(args, cycle, model, start, config)
    if "hypothesis" in engines or "portfolio" in engines:
        keep_hypothesis_under(args.out)
    reports = []
    mode = getattr(args, "progress", "auto")
    mode = ("live" if sys.stderr.isatty() else "lines") if mode == "auto" else mode
    live = mode == "live"
    for i, engine in enumerate(engines):
        used = time.perf_counter() - began
        share = max(0.0, (budget - used) / (len(engines) - i))
        if i == 0 and share <= 0:  # said plainly, not as "running portfolio (budget 0.0 s)"
            sys.stderr.write(f"kubeprop check: start-up (loading the scenario, building the model) took {used:.1f} s "
                             f"of the {budget:g} s budget; no engine ran; raise --budget\n")
            mode, live = "none", False
        line = _progress(mode, engine, share)
        engine_config_ = (attrs.evolve(config, progress=line) if line is not None and engine in ("bfs", "portfolio")
                          else config)
        name = _engine_name(args, engine, live)
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
            raise Interrupted(interrupted_text(run, engine)) from None
        if line is not None:
            line.end()
        if getattr(args, "first", False) and any(d.upstream is None for d in reports[-1].found):
            break  # --first: the other engines of `--engine all` are not run
    return CheckRun(scenario.name, tuple(reports), props, explored, args.variant, tuple(args.params),
                    stored_only=_stored_only(scenario, reports), max_depth=config.max_depth, bounds=bounds,
                    unserved=_unserved(scenario, reports))


def _metrics_fold(args: argparse.Namespace, cycle: bool, model: ClusterModel, start: ClusterState,
                  config: EngineConfig) -> tuple[WorstFold | None, EngineConfig]:
    """With `--metrics` (not for the lasso engines, nor for walks on a Dask cluster): the fold of the
    worst metrics over every run, and the engines' configuration that feeds it every finished run."""
    if getattr(args, "metrics", False) and not cycle and not getattr(args, "cluster", None):
        fold = WorstFold(model, start)
        return fold, attrs.evolve(config, on_run=fold.add)
    return None, config


def _engine_name(args: argparse.Namespace, engine: str, live: bool) -> str:
    """The engine `check` runs for `engine`: with `--cluster`, the walks on a Dask cluster
    (`kubeprop.properties.explore.dask_walks`)."""
    if engine != "walk" or not args.cluster:
        return engine
    from kubeprop.properties.explore.dask_walks import dask_engine, terminal_progress
    return dask_engine(args.cluster, terminal_progress if live else None)


def _progress(mode: str, engine: str, share: float) -> LiveLine | LogLines | None:
    """Say on stderr that `engine` starts (unless `--progress none`), and the progress it reports as
    it runs: log lines, or a live line on a terminal for the engines that report (bfs, portfolio)."""
    if mode != "none":
        sys.stderr.write(f"kubeprop check: running {engine} (budget {share:.1f} s)…\n")
        sys.stderr.flush()
    return (None if mode == "none" else LogLines(engine, share) if mode == "lines"
            else LiveLine(engine, share) if engine in ("bfs", "portfolio") else None)


def _stored_only(scenario: Scenario, reports: Sequence[CheckReport]) -> tuple[str, ...]:
    """The stored-only objects of the manifests and of the workload steps (as the model loaded them)."""
    steps = reports[0].model.workload_objects if reports else ()
    return stored_only_labels([*(m.obj for m in scenario.objects), *(o for step in steps for o in step)])


def _unserved(scenario: Scenario, reports: Sequence[CheckReport]) -> tuple[tuple[str, str], ...]:
    """The pod templates of the manifests and of the workload steps no scheduler of the scenario serves."""
    steps = reports[0].model.workload_objects if reports else ()
    return unserved_templates([*(m.obj for m in scenario.objects), *(o for step in steps for o in step)])



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
        if isinstance(err, UserCodeError) and os.environ.get("KUBEPROP_DEBUG"):
            raise  # (the traceback into the user's controller or property)
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
