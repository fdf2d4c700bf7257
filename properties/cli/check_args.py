"""The arguments of `kubeprop check`, apart from the command (`check`): parsing them, and so
`kubeprop check --help` and a bad flag (exit 2), imports no engine and none of the cluster model.
The constants the flags show come from light modules, or are defined here for the rest of the CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from kubeprop.counterexamples.check_bounds import DEFAULT_BUDGET, MAX_DEPTH, MAX_STATES
from kubeprop.counterexamples.printable import shown
from kubeprop.model.raft.state import RAFT_VARIANTS
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.properties.cli.flagtypes import depth_bound, int_in, output_folder, seconds, state_bound
from kubeprop.properties.cli.raft_args import add_raft_arguments
from kubeprop.properties.explore.shrink_clock import MAX_SHRINK_STEPS, SHRINK_STEPS_LIMIT

DESCRIPTION = """`kubeprop check`: run the engines on a scenario and report every property — of the cluster
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
"""What `kubeprop check --help` says (the module docstring of `check`)."""

DEFAULT_DEPTH = 80
"""The engines' `max_depth` when neither `--max-depth` nor the scenario's `bounds:` set one:
`EngineConfig().max_depth`, written out because importing `explore.engine` imports the whole model
(tests/properties/cli/test_startup.py keeps the two equal)."""

ENGINE_ORDER = ("bfs", "walk", "hypothesis")
"""What `--engine all` runs, each with an equal share of the budget."""
LASSO_ENGINES = ("lasso", "lasso-exhaustive")
"""Engines that look for oscillations (cycle properties, `kubeprop.properties.oscillation`); run
only when asked for by name."""
ENGINES = ("portfolio", "around", "faults", "perturb", "pct", *ENGINE_ORDER)
"""`--engine` choices besides `all` and the lasso engines; the default is the portfolio."""

NOT_AN_ENGINE = ("'expected' is the run a user expects, which around, perturb and faults share as their start (the "
                 "engines table's 'expected' line: its steps are counted once), not an engine of its own; "
                 "--engine around follows it first")
"""Why `--engine expected` (and a gate check's `engine: expected`) is refused (trial 10: the engines
table lists an `expected` line)."""

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
    import yaml

    from kubeprop.model.scenario.schema import PARAMETERS, boolean_word_problem, parameter_problem
    from kubeprop.properties.registry import did_you_mean

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


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `kubeprop check` (its parser made by `main` with its one-line help)."""
    engines = "; ".join(f"{name}: {what}" for name, what in ENGINE_HELP.items())
    p.description = DESCRIPTION
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
                   help=f"a named model variant (the bug catalogue; {', '.join(RAFT_VARIANTS)} are Raft variants)")
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
                        "and a line every 5 s: the budget used and left, the engine's runs, steps or states, steps/s, "
                        "the properties found violated so far), or none (default auto: live on a terminal, else "
                        "lines); stdout and the results are the same in every mode")
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
    p.set_defaults(run=_run)



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


def _run(args: argparse.Namespace) -> int:
    """Run `kubeprop check` (imports the engines)."""
    from kubeprop.properties.cli.check import run_check

    return run_check(args, sys.stdout)
