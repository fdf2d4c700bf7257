"""`kubeprop raft`: explore a Raft configuration with the BFS and report.

Prints the configuration, a result table (exit reason, states, distinct states, depth, seconds,
states/s, each check's verdict) and, when a check fails or a goal is reached, the run in numbered
steps. Exit 0: no violation (or goal reached); 1: a violation (or an exhaustive search that never
reached the goal); 2: bad input; 3: a goal not reached before a bound cut the search.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from kubeprop.model.errors import InputError
from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import RAFT_VARIANTS, ROLE_NAMES, RaftConfig, describe
from kubeprop.model.raft.system import RaftConfigError, validate, with_variant
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.raft import SCRIPTS, RaftRun, explore
from kubeprop.properties.raft import RAFT_CHECKS, RaftCheck, select_checks

FEASTFLOW_KEY = "/registry/deployments/default/feastflow-backend"
DEFAULT_MAX_MEMORY_MB = 1024
"""Resident memory the search may use by default (the visited set holds 8–16 bytes per state;
the frontier holds whole states, compressed: this is what bounds a long run)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `raft` subcommand."""
    p = sub.add_parser(
        "raft", help="model-check etcd's Raft (elections, replication, reads) at small bounds",
        description="Explore a Raft cluster (etcd members) breadth-first and check Election Safety, "
                    "Leader Append-Only, Log Matching, Leader Completeness, State Machine Safety, "
                    "acknowledged-write durability and linearizability (or a seed claim / goal). "
                    "Without --servers the cluster is the scenario's etcd members (default FeastFlow).")
    p.add_argument("--servers", type=int, help="cluster size 1..7 (default: the scenario's etcd members)")
    p.add_argument("--scenario", type=Path, help="scenario whose topology.etcd sizes the cluster")
    p.add_argument("--variant", choices=sorted(RAFT_VARIANTS), help="a catalogue variant")
    p.add_argument("--max-term", type=int, default=2)
    p.add_argument("--max-log", type=int, default=2, help="client writes only while the log is shorter")
    p.add_argument("--values", type=int, default=1, help="number of distinct client puts")
    p.add_argument("--cas", action="store_true", help="add a compare-and-swap (if absent) write")
    p.add_argument("--max-copies", type=int, default=1, help="copies of one message in flight")
    p.add_argument("--max-msgs", type=int, help="messages in flight (default unbounded)")
    p.add_argument("--no-lose", action="store_true", help="the network never drops a message")
    p.add_argument("--batch", action="store_true", help="appends may carry any number of entries")
    p.add_argument("--restarts", action="store_true", help="members may crash and restart at once")
    p.add_argument("--max-down", type=int, default=0, help="members that may be down at once")
    p.add_argument("--down", default="", help="comma-separated members down from the start")
    p.add_argument("--partitions", action="store_true", help="a member may be cut off and healed")
    p.add_argument("--reads", type=int, default=0, help="linearizable reads clients may issue")
    p.add_argument("--serial-reads", type=int, default=0, help="serializable reads clients may issue")
    p.add_argument("--history", action="store_true", help="record client calls/returns")
    p.add_argument("--check", action="append", metavar="NAME",
                   help=f"check(s) to run (default: all invariants); one of {', '.join(c.name for c in RAFT_CHECKS)}")
    p.add_argument("--from", dest="script", choices=sorted(SCRIPTS), help="start after a scripted run")
    p.add_argument("--max-depth", type=int)
    p.add_argument("--max-states", type=int)
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes of the breadth-first search (same result for any number)")
    p.add_argument("--max-memory", type=int, default=DEFAULT_MAX_MEMORY_MB, metavar="MB",
                   help=f"stop when the search's resident memory exceeds this (default {DEFAULT_MAX_MEMORY_MB})")
    p.set_defaults(run=lambda args: run_raft(args, sys.stdout, sys.stderr))


def _names(args: argparse.Namespace) -> tuple[int, tuple[str, ...], str]:
    if args.servers is not None and args.scenario is None:
        return args.servers, (), "k"
    scenario = load_scenario(args.scenario)
    members = scenario.spec.topology.etcd
    if not members:
        raise RaftConfigError(f"scenario {scenario.name}: topology.etcd lists no members")
    names = tuple(f"{m.name}" for m in members)
    return (args.servers or len(names)), names, FEASTFLOW_KEY if scenario.name.lower() == "feastflow" else "k"


def build_config(args: argparse.Namespace) -> tuple[RaftConfig, tuple[RaftCheck, ...]]:
    """The configuration and checks the arguments ask for; RaftConfigError/KeyError on bad input."""
    servers, names, key = _names(args)
    ops = [Op("put", key, f"v{i}" if key == "k" else f"replicas={i + 4}") for i in range(1, args.values + 1)]
    if args.cas:
        ops.append(Op("cas", key, "cas", expect=0))
    checks = select_checks(args.check)
    lookup = {n: i for i, n in enumerate(names or [f"s{i + 1}" for i in range(servers)])}
    down = [d for d in args.down.split(",") if d]
    for d in down:
        if d not in lookup:
            raise RaftConfigError(f"--down: unknown member {d!r}; valid: {', '.join(lookup)}")
    history = args.history or args.reads > 0 or args.serial_reads > 0 or any(
        c.kind != "invariant" or c.name in ("Linearizable", "AckedWritesDurable") for c in checks)
    config = RaftConfig(
        servers=servers, names=names, max_term=args.max_term, max_log=args.max_log, ops=tuple(ops),
        max_copies=args.max_copies, max_msgs=args.max_msgs, lose=not args.no_lose, batch=args.batch,
        restarts=args.restarts, max_down=args.max_down, initially_down=frozenset(lookup[d] for d in down),
        partitions=args.partitions, history=history, reads=args.reads, serial_reads=args.serial_reads)
    return validate(with_variant(config, args.variant)), checks


def _summary(config: RaftConfig, variant: str | None) -> str:
    names = ", ".join(config.name(s) for s in range(config.servers))
    down = ", ".join(config.name(s) for s in sorted(config.initially_down)) or "none"
    return (f"Raft: {config.servers} members ({names}); quorum {config.quorum_size} ({config.quorum}); "
            f"variant {variant or 'none'}\nbounds: term ≤ {config.max_term}, client writes while log < "
            f"{config.max_log}, {len(config.ops)} write op(s), ≤ {config.max_copies} copies/message"
            f"{'' if config.max_msgs is None else f', ≤ {config.max_msgs} in flight'}; lose={config.lose}, "
            f"batch={config.batch}, restarts={config.restarts}, max down={config.max_down}, down at start: "
            f"{down}, partitions={config.partitions}, reads={config.reads}, serializable reads="
            f"{config.serial_reads}")


def print_run(config: RaftConfig, checks: tuple[RaftCheck, ...], run: RaftRun, out: TextIO) -> None:
    """The result table and, if something was found, the numbered trace."""
    r, s = run.result, run.result.stats
    found = r.violation.property if r.violation is not None else None
    goal_hit = any(c.name == found and c.kind == "goal" for c in checks)
    out.write(f"\n{'result':<22}{'goal reached' if goal_hit else run.exit_reason}\n{'states generated':<22}{s.states}\n"
              f"{'distinct states':<22}{s.distinct}\n{'max depth':<22}{s.depth}\n"
              f"{'seconds':<22}{s.seconds:.2f}\n{'distinct states/s':<22}{s.states_per_second:.0f}\n")
    if run.engine is not None:
        e = run.engine
        out.write(f"{'workers':<22}{e.workers}\n{'visited set':<22}{e.visited_bytes / 2**20:.1f} MiB "
                  f"(fingerprints)\n{'peak memory':<22}{e.peak_rss / 2**20:.0f} MiB (RSS, summed over processes)\n")
    for c in checks:
        if c.name == found:
            verdict = "REACHED" if c.kind == "goal" else "VIOLATED"
        elif found is not None:
            verdict = "not violated before the search stopped"
        elif c.kind == "goal":
            verdict = "not reached" + (" (exhaustive)" if r.exit_reason == "exhausted" else " within bounds")
        else:
            verdict = "holds" + (" (exhaustive)" if r.exit_reason == "exhausted" else " within bounds")
        out.write(f"  {c.kind:<10}{c.name:<22}{verdict}\n")
    if r.violation is None:
        return
    out.write(f"\n{r.violation}\n")
    if run.prefix:
        out.write(f"(steps 1–{len(run.prefix)} are the scripted start, the rest found by the search)\n")
    for n, act in enumerate(run.trace, 1):
        out.write(f"{n:>3}. {describe(config, act)}\n")
    if r.final is not None:
        final = r.final
        for srv in range(config.servers):
            log = " ".join(f"{t}:{'noop' if v == 0 else config.ops[v - 1].value}" for t, v in final.log[srv])
            out.write(f"     {config.name(srv)}: {ROLE_NAMES[final.role[srv]]} term {final.term[srv]} commit "
                      f"{final.commit[srv]}{' DOWN' if not final.is_up(srv) else ''} log [{log}]\n")


def run_raft(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the command; returns the exit code."""
    try:
        config, checks = build_config(args)
        script = SCRIPTS[args.script] if args.script else ()
        out.write(_summary(config, args.variant) + "\n")
        out.write(f"checks: {', '.join(c.name for c in checks)}\n")
        if args.workers < 1:
            raise RaftConfigError(f"--workers must be ≥ 1, got {args.workers}")
        if args.max_memory < 64:
            raise RaftConfigError(f"--max-memory must be at least 64 (MB), got {args.max_memory}")
        run = explore(config, checks, Bounds(args.max_depth, args.max_states, args.max_seconds), script,
                      args.workers, max_memory=args.max_memory * 2**20)
    except InputError as e:
        err.write(f"kubeprop raft: bad input: {e.args[0] if e.args else e}\n")
        return ExitCode.BAD_INPUT
    print_run(config, checks, run, out)
    result = run.result
    goals = [c for c in checks if c.kind == "goal"]
    if result.violation is not None:
        return ExitCode.OK if goals and result.violation.property in {g.name for g in goals} else ExitCode.VIOLATION
    if goals:
        return ExitCode.VIOLATION if result.exit_reason == "exhausted" else ExitCode.INCONCLUSIVE
    return ExitCode.OK
