"""`kubeprop check`: run the engines on a scenario and report every property.

Default: the built-in FeastFlow scenario, all three engines (breadth-first search, swarm random
walks, Hypothesis stateful testing) sharing a budget of about a minute. Prints one row per
property — violated (with the counterexample file), held (exhaustively, or within the bound the
engine reached), or not checked — then one line per engine with its exit reason and figures.
Exit codes: 0 nothing violated; 1 a violation (counterexample files written); 2 bad input;
3 inconclusive (`--exhaustive` asked for a complete search and a bound cut it short).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs
import yaml

from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.model.errors import UsageError
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.registry import Property, select

ENGINE_ORDER = ("bfs", "walk", "hypothesis")
CHECKS_CONVERGENCE = {"bfs": True, "walk": True, "hypothesis": True}


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _parameter(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or name not in PARAMETERS:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of: {', '.join(PARAMETERS)}")
    return name, yaml.safe_load(raw)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kubeprop check` to the CLI."""
    p = sub.add_parser("check", help="explore a scenario with the engines and check every property",
                       description=__doc__)
    p.add_argument("path", nargs="?", type=Path, metavar="SCENARIO|MANIFEST_DIR",
                   help="scenario file or folder, or a manifest folder (default: FeastFlow)")
    p.add_argument("--engine", choices=(*ENGINE_ORDER, "all"), default="all", help="engine(s) to run (default all)")
    p.add_argument("--property", dest="properties", action="append", metavar="NAME",
                   help="check only this property (repeatable; default: every registered property)")
    p.add_argument("--variant", choices=sorted(VARIANTS), help="a named model variant (the bug catalogue)")
    p.add_argument("--param", dest="params", action="append", type=_parameter, default=[], metavar="NAME=VALUE",
                   help="override a model parameter, e.g. --param instantCaches=true (repeatable)")
    p.add_argument("--max-depth", type=_positive_int, help="BFS depth bound; length of each walk / example")
    p.add_argument("--budget", type=_positive_float, default=60.0, help="seconds for all engines together")
    p.add_argument("--workers", type=_positive_int, help="walk worker processes (default: the core count)")
    p.add_argument("--cluster", metavar="tcp://HOST:8786", default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
                   help="run the walks on this dask.distributed scheduler (default $DASK_SCHEDULER_ADDRESS; "
                        "needs kubeprop[dask])")
    p.add_argument("--seed", type=int, default=0, help="seed of the random engines (default 0)")
    p.add_argument("--out", type=Path, default=Path("kubeprop-out"), help="where counterexample files go")
    p.add_argument("--exhaustive", action="store_true",
                   help="exit 3 unless the BFS explored every state (within --max-depth if given)")
    p.set_defaults(run=lambda args: run_check(args, sys.stdout))


@attrs.frozen
class CheckRun:
    """All engines' reports for one scenario."""

    scenario: str
    reports: tuple[CheckReport, ...]
    properties: tuple[Property, ...]


def run_engines(args: argparse.Namespace) -> CheckRun:
    """Run the selected engines with an equal share of the budget each."""
    scenario = load_scenario(args.path)
    props = select(args.properties)
    engines = ENGINE_ORDER if args.engine == "all" else (args.engine,)
    share = args.budget / len(engines)
    config = EngineConfig(max_depth=args.max_depth or 30, workers=args.workers)
    reports = []
    live = sys.stderr.isatty()
    for engine in engines:
        if live:
            sys.stderr.write(f"kubeprop check: running {engine} (budget {share:.0f} s)…\n")
        engine_config = attrs.evolve(config, progress=_show_progress) if live and engine == "bfs" else config
        name = engine
        if engine == "walk" and args.cluster:  # the walks on a Dask cluster (kubeprop.properties.explore.dask_walks)
            from kubeprop.properties.explore.dask_walks import dask_engine, terminal_progress
            name = dask_engine(args.cluster, terminal_progress if live else None)
        reports.append(attrs.evolve(check(
            scenario, [p.name for p in props], engine=name, budget=share, variant=args.variant,
            parameters=dict(args.params), seed=args.seed, config=engine_config, save_to=args.out), engine=engine))
        if live and engine == "bfs":
            sys.stderr.write("\n")
    return CheckRun(scenario.name, tuple(reports), props)


def _show_progress(stats: Any) -> None:
    """One overwritten terminal line: states, distinct, depth, states/s, memory (max RSS)."""
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stderr.write(f"\r  bfs: {stats.states:,} states, {stats.distinct:,} distinct, depth {stats.depth}, "
                     f"{stats.states_per_second:,.0f} distinct/s, {rss_mb:,.0f} MB   ")
    sys.stderr.flush()


def _cell(report: CheckReport, prop: Property) -> str:
    if report.violation is not None:
        if report.violation.property == prop.name:
            return f"VIOLATED ({len(report.trace)} steps)"
        return "not reached"
    if prop.kind == "convergence" and not CHECKS_CONVERGENCE.get(report.engine, False):
        return "not checked"
    return "held (exhaustive)" if report.complete else "held (bounded)"


def _engine_line(report: CheckReport) -> str:
    s = report.stats
    figures = ""
    if s is not None:
        distinct = f", {s.distinct} distinct" if getattr(s, "distinct", 0) else ""
        runs = f", {s.runs} runs" if getattr(s, "runs", 0) else ""
        figures = f": {s.steps} steps{distinct}{runs}, depth {getattr(s, 'depth', 0)}"
    return f"  {report.engine:<11} {report.exit_reason}{figures}"


def render(run: CheckRun, out: TextIO, timing: bool = True) -> None:
    """The property table, the engines' exit reasons, and the counterexample files."""
    engines = [r.engine for r in run.reports]
    width = max(len(p.name) for p in run.properties) + 2
    out.write(f"kubeprop check: scenario {run.scenario}\n\n")
    out.write(f"{'property':<{width}}" + "".join(f"{e:<22}" for e in engines) + "\n")
    for prop in run.properties:
        out.write(f"{prop.name:<{width}}" + "".join(f"{_cell(r, prop):<22}" for r in run.reports).rstrip() + "\n")
    out.write("\nengines:\n")
    for report in run.reports:
        out.write(_engine_line(report) + "\n")
        if timing and report.stats is not None:
            s = report.stats
            out.write(f"  {'':<11} time: {s.seconds:.1f} s ({s.steps_per_second:,.0f} steps/s)\n")
    for report in run.reports:
        if report.violation is None:
            continue
        out.write(f"\n{report.engine}: {report.violation}\n")
        if report.path is not None:
            out.write(f"  counterexample: {report.path}\n  reproduce with: kubeprop replay {report.path}\n")
        elif report.note:
            out.write(f"  {report.note}\n")


def exit_code(run: CheckRun, exhaustive: bool) -> int:
    """1 on any violation; 3 if an exhaustive search was asked for and not achieved; else 0."""
    if any(r.violation is not None for r in run.reports):
        return ExitCode.VIOLATION
    if exhaustive and not any(r.engine == "bfs" and r.complete for r in run.reports):
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def run_check(args: argparse.Namespace, out: TextIO, timing: bool = True) -> int:
    """Run `kubeprop check`."""
    try:
        run = run_engines(args)
    except UsageError as err:
        sys.stderr.write(f"kubeprop check: {err}\n")
        return ExitCode.BAD_INPUT
    render(run, out, timing)
    return exit_code(run, args.exhaustive)


def main(argv: Sequence[str]) -> int:
    """Run `kubeprop check` with these arguments (for tests)."""
    from kubeprop.properties.cli.main import main as cli_main

    return cli_main(["check", *argv])
