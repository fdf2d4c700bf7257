"""`kubeprop check`: run the engines on a scenario and report every property — of the cluster
model, or of the Raft model (etcd) when a Raft variant or `--model raft` is given. What it does and
its exit codes: `check_args.DESCRIPTION` (its --help); its flags: `check_args`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from kubeprop.counterexamples.api import CheckInterrupted, CheckReport, check
from kubeprop.counterexamples.check_bounds import (
    DEFAULT_BUDGET,
    UNSET,
    CheckBounds,
    check_bounds,
)
from kubeprop.counterexamples.printable import shell_word, shown, shown_error
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.errors import InputError, UsageError, UserCodeError
from kubeprop.model.raft.state import RAFT_VARIANTS
from kubeprop.model.scenario.bootstrap import every_rejection
from kubeprop.model.scenario.load import Scenario, ScenarioError, stored_only_labels
from kubeprop.model.scheduler.served import unserved_templates
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cli.check_args import DEFAULT_DEPTH, ENGINE_ORDER, LASSO_ENGINES
from kubeprop.properties.cli.check_table import (
    CheckRun,
    exit_code,
    interrupted_text,
    table,
)
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.interrupted import Interrupted
from kubeprop.properties.cli.live import LiveLine, LogLines
from kubeprop.properties.cli.table import render
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.metrics import WorstCase, WorstFold, check_report, worst_over
from kubeprop.properties.modules import checked_properties, load_own_scenario
from kubeprop.properties.oscillation import select_cycle
from kubeprop.properties.vacuity import unknown_needs


def keep_hypothesis_under(out: Path) -> None:
    """Hypothesis keeps scratch files (its cache of source constants) in `.hypothesis/` of the
    working folder; put them under the output folder instead, without importing Hypothesis for a
    check that never runs it (`hypothesis_home`). The example database is off (`database=None`,
    profile kubeprop-ci)."""
    from kubeprop.properties.explore.hypothesis_home import keep_under

    keep_under(out / ".hypothesis")


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
    run = _CheckSetup.of(args)
    scenario, props, config, bounds = run.scenario, run.props, run.config, run.bounds
    budget = float(bounds.budget.value or DEFAULT_BUDGET)
    engines = ENGINE_ORDER if args.engine == "all" else (args.engine,)
    if "hypothesis" in engines or "portfolio" in engines:
        keep_hypothesis_under(args.out)
    reports: list[CheckReport] = []
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
        name = _engine_name(args, engine, live)
        line = _progress(mode, engine, share, reports=name == engine)
        engine_config_ = attrs.evolve(config, progress=line) if line is not None and name == engine else config
        try:
            reports.append(attrs.evolve(check(
                scenario, props, engine=name, budget=share, variant=args.variant, parameters=dict(args.params),
                seed=args.seed, config=engine_config_, save_to=args.out,
                all_discoveries=not getattr(args, "first", False)), engine=engine))
        except KeyboardInterrupt as err:
            raise _interrupted(args, run, reports, engine, line, err) from None
        if line is not None:
            line.end()
        if getattr(args, "first", False) and any(d.upstream is None for d in reports[-1].found):
            break  # --first: the other engines of `--engine all` are not run
    return CheckRun(scenario.name, tuple(reports), props, run.explored, args.variant, tuple(args.params),
                    stored_only=_stored_only(scenario, reports), max_depth=config.max_depth, bounds=bounds,
                    unserved=_unserved(scenario, reports))


@attrs.frozen
class _CheckSetup:
    """What `run_engines` checks, made before any engine runs: the scenario, its bounds, the
    properties (a lasso engine's: the cycle properties), the engines' configuration and the
    worst-case metrics fold over what they explore (`--metrics`; None without)."""

    scenario: Scenario
    bounds: CheckBounds
    props: tuple[Any, ...]
    config: EngineConfig
    explored: WorstFold | None

    @classmethod
    def of(cls, args: argparse.Namespace) -> _CheckSetup:
        """Load the scenario and build its model and initial state; bad input (a bad cluster
        address, unknown property needs, objects the API server rejects) raises before any engine runs."""
        if args.cluster and args.engine in ("walk", "all"):  # a bad address is bad input before anything runs
            from kubeprop.properties.explore.dask_walks import _checked_address
            _checked_address(args.cluster)
        scenario = load_own_scenario(args.path)
        bounds = chosen_bounds(args, scenario)
        cycle = args.engine in LASSO_ENGINES
        props: tuple[Any, ...] = (select_cycle(args.properties) if cycle
                                  else checked_properties(scenario, args.properties, args.property_modules))
        config = engine_config(args, bounds)
        model = build_model(scenario, parameters=dict(args.params), variant=args.variant)
        if not cycle and (problems := unknown_needs(model, props)):
            raise InputError("\n".join(problems))
        try:
            start = initial_state(model)
        except ScenarioError as err:  # an object the API server rejects is bad input before any engine runs: each
            raise ScenarioError(every_rejection(scenario, model.api) or err.problems) from None
        explored, config = _metrics_fold(args, cycle, model, start, config)
        return cls(scenario, bounds, props, config, explored)


def _interrupted(args: argparse.Namespace, run: _CheckSetup, reports: Sequence[CheckReport], engine: str,
                 line: LiveLine | LogLines | None, err: KeyboardInterrupt) -> Interrupted:
    """Ctrl-C during `engine`: the Interrupted carrying the table of the engines done so far (and
    the interrupted engine's partial report, if it left one)."""
    if isinstance(line, LiveLine):  # a log says "done" only of an engine that finished
        line.end()
    partial = (err.report,) if isinstance(err, CheckInterrupted) else ()
    done = CheckRun(run.scenario.name, (*reports, *partial), run.props, variant=args.variant,
                    parameters=tuple(args.params), max_depth=run.config.max_depth, bounds=run.bounds)
    return Interrupted(interrupted_text(done, engine))


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


def _progress(mode: str, engine: str, share: float, reports: bool = True) -> LiveLine | LogLines | None:
    """Say on stderr that `engine` starts (unless `--progress none`), and the progress it reports as
    it runs (every engine does, about once a second): log lines, or a live line on a terminal —
    none for the walks on a Dask cluster (not `reports`), which show their own."""
    if mode != "none":
        sys.stderr.write(f"kubeprop check: running {engine} (budget {share:.1f} s)…\n")
        sys.stderr.flush()
    return (None if mode == "none" else LogLines(engine, share) if mode == "lines"
            else LiveLine(engine, share) if reports else None)


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
    """Run `kubeprop check`. The Raft explorer is imported only for a Raft check (a cluster check
    does not need it: 0.03 CPU seconds of every `kubeprop check`'s start-up)."""
    traced: tuple[CheckReport, ...] = ()
    explored = None
    try:
        if is_raft(args):
            from kubeprop.properties.cli.raft import run_raft_check

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
