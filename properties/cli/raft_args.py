"""The Raft flags (`add_raft_arguments`, shared by `kubeprop check` and `kubeprop raft`) and the
arguments of `kubeprop raft`: parsing them imports neither the Raft explorer nor the cluster model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kubeprop.counterexamples.check_bounds import MAX_DEPTH, MAX_STATES
from kubeprop.model.raft.state import RAFT_VARIANTS
from kubeprop.model.raft.system import MAX_SERVERS
from kubeprop.properties.cli.flagtypes import depth_bound, int_in, seconds, state_bound

MAX_BFS_WORKERS = 256
"""Most worker processes `--workers` accepts (as `kubeprop check --workers`)."""
DEFAULT_MAX_MEMORY_MB = 1024
"""Resident memory the search may use by default (the visited set holds 8–16 bytes per state;
the frontier holds whole states, compressed: this is what bounds a long run)."""


SCRIPT_NAMES = ("conf", "figure8", "transfer")
"""The `--from` choices: the names of `explore.raft.SCRIPTS`, written out because that module
imports the Raft explorer and with it the cluster model (tests/properties/cli/test_startup.py keeps
the two equal)."""


def add_raft_arguments(p: argparse._ActionsContainer) -> None:
    """The Raft configuration flags (shared by `kubeprop check` and `kubeprop raft`). They default
    to None so that a variant's bounds apply exactly to the flags not given."""
    flag = {"action": "store_true", "default": None}
    p.add_argument("--servers", type=int_in(1, MAX_SERVERS),
                   help="cluster size 1..7 (default: the scenario's etcd members)")
    p.add_argument("--max-term", type=int_in(1, 1000), help="highest term (default 2)")
    p.add_argument("--max-log", type=int_in(0, 1000), help="client writes only while the log is shorter (default 2)")
    p.add_argument("--values", type=int_in(0, 1000), help="number of distinct client puts (default 1)")
    p.add_argument("--cas", help="add a compare-and-swap (if absent) write", **flag)  # type: ignore[arg-type]
    p.add_argument("--max-copies", type=int_in(1, 1000), help="copies of one message in flight (default 1)")
    p.add_argument("--max-msgs", type=int_in(1, 1_000_000), help="messages in flight (default unbounded)")
    p.add_argument("--no-lose", help="the network never drops a message", **flag)  # type: ignore[arg-type]
    p.add_argument("--batch", help="appends may carry any number of entries", **flag)  # type: ignore[arg-type]
    p.add_argument("--restarts", help="members may crash and restart at once", **flag)  # type: ignore[arg-type]
    p.add_argument("--max-down", type=int_in(0, MAX_SERVERS - 1), help="members that may be down at once (default 0)")
    p.add_argument("--down", help="comma-separated members down from the start")
    p.add_argument("--partitions", help="a member may be cut off and healed", **flag)  # type: ignore[arg-type]
    p.add_argument("--reads", type=int_in(0, 1000), help="linearizable reads clients may issue (default 0)")
    p.add_argument("--serial-reads", type=int_in(0, 1000), help="serializable reads clients may issue (default 0)")
    p.add_argument("--history", help="record client calls/returns", **flag)  # type: ignore[arg-type]
    p.add_argument("--no-pre-vote", help="elections without a pre-vote round (etcd 3.4's default; 3.5 has "
                   "--pre-vote on)", **flag)  # type: ignore[arg-type]
    p.add_argument("--no-check-quorum", help="leaders never step down for lack of a quorum's contact (the raft "
                   "library's default; etcd always sets CheckQuorum)", **flag)  # type: ignore[arg-type]
    p.add_argument("--transfers", type=int_in(0, 1000),
                   help="leadership transfers (etcdctl move-leader, a leader's graceful stop) that may be requested "
                        "to a member of the search's choice (default 0)")
    p.add_argument("--conf-changes", type=int_in(0, 1000),
                   help="membership changes (etcdctl member add [--learner], promote, remove) that may be proposed "
                        "(default 0)")
    p.add_argument("--spares", type=int_in(0, MAX_SERVERS - 1),
                   help="of the --servers, how many (the last) are not members at the start, to be added (default 0)")
    p.add_argument("--from", dest="script", choices=SCRIPT_NAMES, help="start after a scripted run")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `kubeprop raft` (its parser made by `main` with its one-line help)."""
    from kubeprop.properties.raft import RAFT_CHECKS

    p.description = ("Explore a Raft cluster (etcd members) breadth-first and check Election Safety, "
                    "Leader Append-Only, Log Matching, Leader Completeness, State Machine Safety, "
                    "acknowledged-write durability and linearizability (or a seed claim / goal). "
                    "Without --servers the cluster is the scenario's etcd members (default FeastFlow). "
                    "A variant brings the bounds it needs unless flags override them. "
                    "`kubeprop check --model raft` does the same with the common table and counterexample files.")
    p.add_argument("--scenario", type=Path, help="scenario whose topology.etcd sizes the cluster")
    p.add_argument("--variant", choices=sorted(RAFT_VARIANTS), help="a catalogue variant")
    add_raft_arguments(p)
    p.add_argument("--check", action="append", metavar="NAME",
                   help=f"check(s) to run (default: all invariants); one of {', '.join(c.name for c in RAFT_CHECKS)}")
    p.add_argument("--max-depth", type=depth_bound, help=f"depth bound of the search (1 to {MAX_DEPTH:,}, as in check)")
    p.add_argument("--max-states", type=state_bound,
                   help=f"distinct-state bound of the search (1 to {MAX_STATES:,}, as in check; --max-memory bounds "
                        "its memory)")
    p.add_argument("--max-seconds", "--budget", dest="max_seconds", type=seconds, default=120.0, metavar="S",
                   help="wall-clock budget of the search in seconds (default 120; --budget, as in check)")
    p.add_argument("--workers", type=int_in(1, MAX_BFS_WORKERS), default=1,
                   help="worker processes of the breadth-first search (same result for any number)")
    p.add_argument("--max-memory", type=int_in(64, 2**40), default=DEFAULT_MAX_MEMORY_MB, metavar="MB",
                   help=f"stop when the search's resident memory exceeds this many MiB (64 or more; "
                        f"default {DEFAULT_MAX_MEMORY_MB})")
    p.add_argument("--progress", choices=("auto", "live", "lines", "none"), default="auto",
                   help="progress on stderr, as in check: a live line (a terminal), log lines (the search's start "
                        "and end and its counters every 5 s), or none; auto (the default) chooses by whether "
                        "stderr is a terminal")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    """Run `kubeprop raft` (imports the Raft explorer)."""
    from kubeprop.properties.cli.raft import run_raft

    return run_raft(args, sys.stdout, sys.stderr)
