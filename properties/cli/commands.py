"""The arguments of `kubeprop validate`, `gate`, `schedule` and `replay` (`check`'s are in
`check_args`, `raft`'s in `raft_args`): each command's parser made by `main` with its one-line
help gets them when the command is chosen, and its `run` imports the command's module only when it
runs, so that `--help` and a bad flag (exit 2) import none of the model's engines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kubeprop.counterexamples.check_bounds import DEFAULT_BUDGET
from kubeprop.properties.cli.check_args import add_reduction_argument
from kubeprop.properties.cli.flagtypes import input_path, int_in, module_name, output_path, rlimit_flag, seconds
from kubeprop.properties.cli.schedule_progress import PROGRESS_MODES

GATE_DESCRIPTION = """`kubeprop gate`: the CI gate. Fails closed.

1. Replays the counterexample corpus, each file in a child process (`gate_replay`): known bugs
   must REPRODUCE, fixed ones must PASS; a STALE file, an unreadable file, a mismatch, or a replay
   that exits, crashes or hangs is a failure with its reason. A corpus file imports no module
   unless the config's `allowImports` names it.
2. Runs the configured checks within the budget; any violation, any crash, a check that took no
   step within its budget, and — for a check that requires an exhaustive search — any bound
   reached first is a failure with its reason; so is, for a check that requires a deterministic
   verdict (the default check does), a search the budget cut before its depth or state bound.
   A BFS cut by its depth bound after its partial-order reduction narrowed some states warns that
   its "held" covers the reduced search within the depth (as `kubeprop check`); `--no-reduction`
   turns the reduction off for every check.
3. Writes JUnit XML (one case per property × scenario and per corpus file; failures carry the
   rendered trace and the counterexample path) and a Markdown summary for a CI job page
   (`--summary FILE`, or `$GITHUB_STEP_SUMMARY` when set) — also when interrupted, with an
   `interrupted` error case.

A violation that is known behaviour of Kubernetes itself (`kubeprop.properties.upstream_behaviour`)
passes its case with the citation and the counterexample path in the message, unless `--strict` —
in a check with a `variant:` too, when the variant plays no part in it (its trace replays on the
correct twin: `kubeprop.properties.upstream_twin`; the message then says "also without variant V").
A property that could not have failed in its check's scenario (`kubeprop.properties.vacuity`) is
vacuous, not held: a warning in the log, a JUnit skip and a summary row with the reason; it fails
the gate only in a check with `vacuous: fail`. A check without `engine:` runs the BFS. Without a
config the gate runs `gate_config.DEFAULT_CHECKS`: a BFS of FeastFlow bounded by states and depth,
whose verdict is the same on every machine.
Exit 0 only if everything held (vacuous and skipped cases aside); 1 otherwise; 2 on bad input (a
bad config file or flag, an output path that is a folder, in a missing folder or one of the
inputs: every such problem at once); 130 when interrupted
(143 on SIGTERM: a CI timeout or cancel; JUnit and the summary are written all the same). Each case's
line is printed as it finishes, and a line on stderr says when each check starts, so a CI log is
never silent for a whole check.

The config file is YAML; `kubeprop.properties.cli.gate_config` shows its keys and checks it (every
problem at once).
"""
"""What `kubeprop gate --help` says."""

MAX_BUDGET_SECONDS = 10_000_000.0
"""The largest budget accepted, `--budget` and a gate config's (about 115 days): beyond it a number is a
typo, not a plan."""

DEFAULT_RLIMIT = 50_000_000
"""Z3 resource units per check when `--rlimit` is not given: `scheduling.solver.DEFAULT_RLIMIT`,
written out because that module imports Z3 (tests/properties/cli/test_startup.py keeps the two
equal)."""


def validate_arguments(validate: argparse.ArgumentParser) -> None:
    """The arguments of `kubeprop validate`."""
    validate.description = (
        "Load a scenario (a scenario file, a folder with scenario.yaml, or a bare manifest "
        "file/folder; default: the built-in FeastFlow scenario), send every object through the "
        "modelled API server as the scenario's user (authentication, RBAC, admission, "
        "validation, persistence), and print for each object either 'created' with the "
        "defaults the server applied, or the 4xx reason with file:line: field. "
        "Exit 0 when every object is admitted, 2 on bad input or any rejected object."
    )
    validate.add_argument("path", nargs="?", type=Path, metavar="PATH",
                          help="scenario file, scenario folder, or manifest file/folder (default: FeastFlow)")
    validate.add_argument("--output", "-o", choices=("summary", "yaml"), default="summary",
                          help="summary (default): one line per object plus applied defaults; "
                               "yaml: the stored objects as YAML")
    validate.set_defaults(run=_run_validate)


def gate_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `kubeprop gate`."""
    p.description = GATE_DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--config", type=input_path("the gate config file, or leave the flag out for the built-in "
                                               "corpus and check"),
                   help="gate config file (YAML; default: the built-in corpus and a bounded BFS of FeastFlow)")
    p.add_argument("--budget", type=seconds, help="seconds for all checks together (each check also has its own; "
                                                 f"a positive number up to {MAX_BUDGET_SECONDS:,.0f})")
    p.add_argument("--junit", type=output_path, help="write JUnit XML here")
    p.add_argument("--summary", type=output_path, help="write a Markdown summary here (default: $GITHUB_STEP_SUMMARY)")
    p.add_argument("--out", type=output_path, default=Path("kubeprop-out"),  # checked with the others (gate_outputs)
                   help="where new counterexample files go")
    p.add_argument("--strict", action="store_true",
                   help="fail also on violations that are known upstream behaviour (by default they pass, cited)")
    add_reduction_argument(p, depth="each check's maxDepth")
    p.set_defaults(run=_run_gate)


def schedule_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `kubeprop schedule`."""
    p.description = (
        "Place the scenario's desired pods (replicas x pod template of every Deployment, StatefulSet and "
        "ReplicaSet) on its nodes under every hard scheduling constraint with Z3: print a placement, or a "
        "minimal explanation of why none exists; compare with the default scheduler placing one pod at a "
        "time; with --fail-nodes K, try every set of K nodes lost. --drain is kubectl drain: the node stays "
        "cordoned and still counts as a topologySpreadConstraint domain (nodeTaintsPolicy Ignore by default), "
        "so a zone left empty can make spreading impossible; --remove deletes the Node object, and its "
        "domains with it. The pods go through the API server's admission (Priority, DefaultTolerationSeconds, "
        "...) as a controller's do. Exit 0 feasible, 1 a finding (infeasible, a breaking node set, the "
        "scheduler leaving a pod Pending although a placement exists, or a pod the API server refuses), "
        "2 bad input, 3 unknown (Z3's --rlimit exhausted, or --budget spent).")
    p.add_argument("path", nargs="?", type=Path, metavar="SCENARIO",
                   help="scenario file, scenario folder, or manifest file/folder (default: FeastFlow)")
    p.add_argument("--scale", action="append", default=[], metavar="WORKLOAD=N",
                   help="replicas for a workload (name or namespace/name); repeatable")
    p.add_argument("--fail-nodes", type=int_in(-1000, 1000), default=0, metavar="K",
                   help="also check every set of K further nodes lost, their Node objects deleted as with --remove "
                        "(incrementally, one solver)")
    p.add_argument("--drain", nargs="+", default=[], metavar="NODE",
                   help="kubectl drain --ignore-daemonsets --delete-emptydir-data --force: cordon the nodes (they "
                        "stay, and their topology domains still count for spreading) and evict their pods")
    p.add_argument("--remove", nargs="+", default=[], metavar="NODE",
                   help="delete the Node objects: they leave the snapshot with their topology domains, their pods "
                        "are deleted (a controller's come back pending)")
    p.add_argument("--rlimit", type=rlimit_flag, default=DEFAULT_RLIMIT, metavar="N",
                   help=f"Z3 resource units per check (deterministic budget; default {DEFAULT_RLIMIT})")
    p.add_argument("--budget", type=seconds, metavar="SECONDS",
                   help="wall-clock seconds for the whole run, from the process's start, loading included (default: "
                        f"the scenario's bounds.timeLimitSeconds, else {DEFAULT_BUDGET:g}); past it the run ends "
                        "'UNKNOWN: budget spent' (exit 3), an explanation being shrunk is printed as not minimal")
    p.add_argument("--progress", choices=PROGRESS_MODES, default="auto",
                   help="progress on stderr: a live line (a terminal), log lines (each phase's start and a line "
                        "every 5 s), or none (default auto: live on a terminal, else lines)")
    p.set_defaults(run=_run_schedule)


def replay_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `kubeprop replay`."""
    parser.description = (
        "Replay counterexample files: rebuild each file's scenario and model variant, re-run its actions "
        "checking each is still enabled and each state's fingerprint matches, and judge the property at the "
        "recorded step. Prints each trace (numbered steps, what changed, the violation) and one verdict line "
        "per file. Exit 0 when every file PASSES (the property now holds), 1 when any REPRODUCES, 3 when any "
        "is STALE (the model or scenario changed; the trace no longer applies) and none reproduces, 2 on bad "
        "input. With --expect: 0 when every verdict matches the file's expectation, 1 otherwise."
    )
    parser.add_argument("files", nargs="+", type=input_path("a counterexample file (.json)"), metavar="FILE",
                        help="counterexample files (.json)")
    parser.add_argument("--full", action="store_true", help="show the whole state after every step")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of text")
    parser.add_argument("--html", type=output_path, metavar="FILE",
                        help="also write a self-contained HTML page with the trace as a timeline")
    parser.add_argument("--expect", action="store_true",
                        help="judge each file against its 'expectation' (reproduces|passes), as the corpus does")
    parser.add_argument("--allow-import", dest="allow_imports", action="append", default=[], metavar="MODULE",
                        type=module_name,
                        help="let a file's scenario import MODULE for its admission:/controllers: entries, or its "
                             "property.module (exact name; repeatable). Without it a file never runs code: "
                             "only built-in properties are found")
    parser.add_argument("--scenario", type=input_path("a scenario file or folder, or leave the flag out to "
                                                      "replay each file on its own scenario"), metavar="PATH",
                        help="replay against this scenario (your own file, loaded as kubeprop check loads one) in "
                             "place of each file's; STALE if it differs from the recorded one, replayed all the "
                             "same. Without it a path-mode file whose scenario changed is STALE and not replayed")
    parser.set_defaults(run=_run_replay)


def _run_validate(args: argparse.Namespace) -> int:
    from kubeprop.properties.cli.validate import run_validate

    return run_validate(args.path, args.output, sys.stdout)


def _run_gate(args: argparse.Namespace) -> int:
    from kubeprop.properties.cli.gate import run_gate

    return run_gate(args)


def _run_schedule(a: argparse.Namespace) -> int:
    from kubeprop.properties.cli.schedule import run_schedule

    return run_schedule(a.path, a.scale, a.fail_nodes, a.drain, a.rlimit, sys.stdout, sys.stderr, a.remove, a.budget,
                        a.progress, getattr(a, "started", None))


def _run_replay(args: argparse.Namespace) -> int:
    from kubeprop.properties.cli.replay import run_replay

    return run_replay(args)
