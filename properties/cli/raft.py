"""The Raft model on the command line: `kubeprop check --model raft` (or a Raft variant), and
`kubeprop raft`, its older, Raft-only front end.

Both explore a Raft configuration with the BFS. A variant brings the bounds under which it can
show (`properties.raft.VARIANT_BOUNDS`); a flag given on the command line overrides them. Checks
that could not have failed within the bounds are reported as vacuous, and a variant that cannot
differ from the correct rule (quorum-ceil on an odd member count, follower-read without reads) is
a warning.

`kubeprop check` prints the common result table (`table.py`), goes on after a violation for the
checks not yet violated, and writes one counterexample file per discovery (`kubeprop replay`
reads them). `kubeprop raft` prints the configuration, a result table (exit reason, states,
distinct states, depth, seconds, states/s, each check's verdict) and the run in numbered steps.
Its exit codes: 0 no violation (or goal reached); 1 a violation (or an exhaustive search that
never reached the goal); 2 bad input; 3 a goal not reached before a bound cut the search, or no
search at all (start-up used the whole budget).

Both count the budget as `kubeprop check` does, from when the process started (`args.started`,
set by `main`: Python's start-up and imports included), so that `--budget 3` returns about 3 s
after the user pressed Enter (trial 11: 5.7–7.2 s, start-up uncounted); and both show the search's
progress on stderr (`--progress`, as `check`'s: a live line on a terminal, else a line every 5 s;
trial 11: `kubeprop raft` ran 123 s in silence).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.api import INTERRUPTED
from kubeprop.counterexamples.printable import shown_error
from kubeprop.model.errors import InputError, UsageError
from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import ROLE_NAMES, RaftConfig, describe, short_value
from kubeprop.model.raft.system import RaftConfigError, validate, with_variant
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.interrupted import Interrupted
from kubeprop.properties.cli.live import LiveLine, LogLines
from kubeprop.properties.cli.table import EngineColumn, Finding, Table, render
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.raft import RaftRun, explore, explore_all, script_steps
from kubeprop.properties.raft import (
    VARIANT_BOUNDS,
    RaftCheck,
    check_vacuity,
    select_checks,
    variant_vacuity,
)

FEASTFLOW_KEY = "/registry/deployments/default/feastflow-backend"
DEFAULTS: dict[str, Any] = {
    "servers": None, "max_term": 2, "max_log": 2, "values": 1, "cas": False, "max_copies": 1, "max_msgs": None,
    "no_lose": False, "batch": False, "restarts": False, "max_down": 0, "down": "", "partitions": False,
    "reads": 0, "serial_reads": 0, "history": False, "script": None, "no_pre_vote": False, "no_check_quorum": False,
    "transfers": 0, "conf_changes": 0, "spares": 0,
}
"""Each Raft flag's value when neither the command line nor the variant sets it."""


def resolve(args: argparse.Namespace, variant: str | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Each Raft flag's value: the command line's, else the variant's bound, else the default;
    and the `name=value` of every bound the variant supplied."""
    brought = dict(VARIANT_BOUNDS[variant].settings) if variant in VARIANT_BOUNDS else {}
    values, applied = {}, []
    for name, default in DEFAULTS.items():
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
        elif name in brought and not (name == "servers" and getattr(args, "scenario", None) is not None):
            values[name] = brought[name]
            applied.append(f"{name.replace('_', '-')}={brought[name]}")
        else:
            values[name] = default
    return values, tuple(applied)


def _names(values: dict[str, Any], scenario_path: Path | None) -> tuple[int, tuple[str, ...], str]:
    if values["servers"] is not None and scenario_path is None:
        return int(values["servers"]), (), "k"
    scenario = load_scenario(scenario_path)
    members = scenario.spec.topology.etcd
    if not members:
        raise RaftConfigError(f"scenario {scenario.name}: topology.etcd lists no members")
    names = tuple(f"{m.name}" for m in members)
    if values["servers"] is not None and values["servers"] != len(names):
        raise RaftConfigError(f"--servers {values['servers']}: scenario {scenario.name} has {len(names)} etcd members "
                              f"({', '.join(names)}); leave --servers out, or give it without --scenario")
    return len(names), names, FEASTFLOW_KEY if scenario.name.lower() == "feastflow" else "k"


def build_config(args: argparse.Namespace, scenario_path: Path | None = None, check_names: list[str] | None = None
                 ) -> tuple[RaftConfig, tuple[RaftCheck, ...], tuple[str, ...]]:
    """The configuration and checks the arguments ask for, and the bounds the variant brought;
    RaftConfigError/UnknownName on bad input."""
    values, applied = resolve(args, args.variant)
    servers, names, key = _names(values, scenario_path)
    ops = [Op("put", key, f"v{i}" if key == "k" else f"replicas={i + 4}") for i in range(1, values["values"] + 1)]
    if values["cas"]:
        ops.append(Op("cas", key, "cas", expect=0))
    checks = select_checks(check_names)
    lookup = {n: i for i, n in enumerate(names or [f"s{i + 1}" for i in range(servers)])}
    down = [d for d in values["down"].split(",") if d]
    for d in down:
        if d not in lookup:
            raise RaftConfigError(f"--down: unknown member {d!r}; valid: {', '.join(lookup)}")
    if len(set(down)) != len(down):
        raise RaftConfigError(f"--down {values['down']}: names a member more than once")
    if values["max_down"] >= servers:
        raise RaftConfigError(f"--max-down {values['max_down']}: must be 0..{servers - 1} (fewer than the "
                              f"{servers} members)")
    history = values["history"] or values["reads"] > 0 or values["serial_reads"] > 0 or any(
        c.kind != "invariant" or c.name in ("Linearizable", "AckedWritesDurable") for c in checks)
    config = RaftConfig(
        servers=servers, names=names, max_term=values["max_term"], max_log=values["max_log"], ops=tuple(ops),
        max_copies=values["max_copies"], max_msgs=values["max_msgs"], lose=not values["no_lose"],
        batch=values["batch"], restarts=values["restarts"], max_down=values["max_down"],
        initially_down=frozenset(lookup[d] for d in down), partitions=values["partitions"], history=history,
        reads=values["reads"], serial_reads=values["serial_reads"], pre_vote=not values["no_pre_vote"],
        check_quorum=not values["no_check_quorum"], transfers=values["transfers"], spares=values["spares"],
        conf_changes=values["conf_changes"])
    return validate(with_variant(config, args.variant)), checks, applied


def _summary(config: RaftConfig, variant: str | None, applied: tuple[str, ...] = ()) -> str:
    names = ", ".join(config.name(s) for s in range(config.servers))
    down = ", ".join(config.name(s) for s in sorted(config.initially_down)) or "none"
    brought = f"\nbounds from variant {variant}: {', '.join(applied)}" if applied else ""
    return (f"Raft: {config.servers} members ({names}); quorum {config.quorum_size} ({config.quorum}); "
            f"variant {variant or 'none'}\nbounds: term ≤ {config.max_term}, client writes while log < "
            f"{config.max_log}, {len(config.ops)} write op(s), ≤ {config.max_copies} copies/message"
            f"{'' if config.max_msgs is None else f', ≤ {config.max_msgs} in flight'}; lose={config.lose}, "
            f"batch={config.batch}, restarts={config.restarts}, max down={config.max_down}, down at start: "
            f"{down}, partitions={config.partitions}, reads={config.reads}, serializable reads="
            f"{config.serial_reads}; pre-vote={config.pre_vote}, check-quorum={config.check_quorum}"
            f"{f', leader transfers ≤ {config.transfers}' if config.transfers else ''}"
            f"{f', membership changes ≤ {config.conf_changes}' if config.conf_changes else ''}"
            f"{f', spares {config.spares}' if config.spares else ''}{brought}")


def vacuous_checks(config: RaftConfig, checks: tuple[RaftCheck, ...], variant: str | None) -> dict[str, str]:
    """Check name → why it could not have failed: its own vacuity, or — for the check that catches
    the variant — the variant's."""
    out = {c.name: why for c in checks if (why := check_vacuity(config, c)) is not None}
    target = VARIANT_BOUNDS[variant].target if variant in VARIANT_BOUNDS else None
    why = variant_vacuity(config, variant)
    if why is not None and target is not None and target not in out:
        out[target] = why
    return out


def _verdict(c: RaftCheck, found: str | None, exit_reason: str, vacuous: dict[str, str]) -> str:
    if c.name == found:
        return "REACHED" if c.kind == "goal" else "VIOLATED"
    if found is not None:
        return "not violated before the search stopped"
    if c.name in vacuous:
        return f"vacuous: {vacuous[c.name]}"
    if c.kind == "goal":
        return "not reached" + (" (exhaustive)" if exit_reason == "exhausted" else " within bounds")
    return "holds" + (" (exhaustive)" if exit_reason == "exhausted" else " within bounds")


def print_run(config: RaftConfig, checks: tuple[RaftCheck, ...], run: RaftRun, out: TextIO,
              variant: str | None = None) -> None:
    """The result table and, if something was found, the numbered trace."""
    r, s = run.result, run.result.stats
    found = r.violation.property if r.violation is not None else None
    goal_hit = any(c.name == found and c.kind == "goal" for c in checks)
    vacuous = vacuous_checks(config, checks, variant)
    out.write(f"\n{'result':<22}{'goal reached' if goal_hit else run.exit_reason}\n{'states generated':<22}{s.states}\n"
              f"{'distinct states':<22}{s.distinct}\n{'max depth':<22}{s.depth}\n"
              f"{'seconds':<22}{s.seconds:.2f}\n{'distinct states/s':<22}{s.states_per_second:.0f}\n")
    if run.engine is not None:
        e = run.engine
        out.write(f"{'workers':<22}{e.workers}\n{'visited set':<22}{e.visited_bytes / 2**20:.1f} MiB "
                  f"(fingerprints)\n{'peak memory':<22}{e.peak_rss / 2**20:.0f} MiB (RSS, summed over processes)\n")
    for c in checks:
        out.write(f"  {c.kind:<10}{c.name:<22}{_verdict(c, found, r.exit_reason, vacuous)}\n")
    warning = variant_vacuity(config, variant)
    if warning is not None:
        out.write(f"\nwarning: {warning}\n")
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
            log = " ".join(f"{t}:{short_value(config, v)}" for t, v in final.log[srv])
            out.write(f"     {config.name(srv)}: {ROLE_NAMES[final.role[srv]]} term {final.term[srv]} commit "
                      f"{final.commit[srv]}{' DOWN' if not final.is_up(srv) else ''} log [{log}]\n")


def run_raft(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `kubeprop raft`; returns the exit code."""
    try:
        config, checks, applied = build_config(args, args.scenario, args.check)
        values, _ = resolve(args, args.variant)
        script = script_steps(values["script"], config)
        out.write(_summary(config, args.variant, applied) + "\n")
        out.write(f"checks: {', '.join(c.name for c in checks)}\n")
        left = budget_left(args, args.max_seconds)
        if left <= 0:
            out.flush()
            err.write(_spent("kubeprop raft", args.max_seconds, left, "no search ran"))
            return ExitCode.INCONCLUSIVE
        line = progress_line(args, "kubeprop raft", left, err)
        run = explore(config, checks, Bounds(args.max_depth, args.max_states, left), script,
                      args.workers, progress=line, max_memory=args.max_memory * 2**20)
        if line is not None:
            line.end()
    except InputError as e:
        err.write(f"kubeprop raft: bad input:\n{shown_error(e)}\n")
        return ExitCode.BAD_INPUT
    print_run(config, checks, run, out, args.variant)
    result = run.result
    goals = [c for c in checks if c.kind == "goal"]
    if result.violation is not None:
        return ExitCode.OK if goals and result.violation.property in {g.name for g in goals} else ExitCode.VIOLATION
    if goals:
        return ExitCode.VIOLATION if result.exit_reason == "exhausted" else ExitCode.INCONCLUSIVE
    return ExitCode.OK


def budget_left(args: argparse.Namespace, budget: float) -> float:
    """The seconds of `budget` left, counted from when the process started (`args.started`, set
    by `main`; from now when it is not set)."""
    began: float = getattr(args, "started", None) or time.perf_counter()
    return budget - (time.perf_counter() - began)


def _spent(command: str, budget: float, left: float, what: str) -> str:
    """What stderr says when start-up used the whole budget (as `kubeprop check` says it)."""
    return (f"{command}: start-up (loading, building the configuration) took {budget - left:.1f} s of the "
            f"{budget:g} s budget; {what}; raise --budget\n")


def progress_line(args: argparse.Namespace, command: str, budget: float, err: TextIO) -> LiveLine | LogLines | None:
    """Say on `err` that the search starts (unless `--progress none`), and the progress callback
    for its counters (`bfs.SearchStats`): a live line on a terminal, else log lines (`live.py`)."""
    mode = getattr(args, "progress", "auto")
    if mode == "auto":
        mode = "live" if err.isatty() else "lines"
    if mode == "none":
        return None
    err.write(f"{command}: running bfs (budget {budget:.1f} s)…\n")
    err.flush()
    return LiveLine("bfs", budget, err) if mode == "live" else LogLines("bfs", budget, err, command=command)


# --- `kubeprop check --model raft` ---------------------------------------------------------------

def _finding(config: RaftConfig, variant: str | None, checks: tuple[RaftCheck, ...], run: RaftRun, out: Path,
             script: str | None) -> Finding:
    assert run.result.violation is not None
    violation = run.result.violation
    check = next(c for c in checks if c.name == violation.property)
    try:
        ce = raft_trace.record(config, variant, check, run.trace, options={"script": script} if script else None)
        return Finding("bfs", str(violation), raft_trace.write(ce, out))
    except ValueError as err:
        return Finding("bfs", str(violation), note=f"not recorded: {err}",
                       steps=tuple(describe(config, a) for a in run.trace))


def _budget(args: argparse.Namespace) -> float:
    """`kubeprop check --budget` for the Raft model (no scenario, so no scenario bounds): 60 s unless given."""
    from kubeprop.counterexamples.check_bounds import DEFAULT_BUDGET

    return float(args.budget) if args.budget is not None else DEFAULT_BUDGET


def run_raft_check(args: argparse.Namespace) -> tuple[Table, int]:
    """`kubeprop check` on the Raft model: every discovery, one file each, in the common table (the
    Raft model has one engine, the BFS: `--engine` portfolio, the default, and all mean it). A
    Ctrl-C raises `Interrupted` with the table of the violations found before it (their files
    written)."""
    if args.engine not in ("bfs", "all", "portfolio"):
        raise UsageError(f"--engine {args.engine}: the Raft model is explored by bfs only")
    if args.property_modules:
        raise UsageError("--properties: the Raft model's checks are built in (kubeprop.properties.raft)")
    config, checks, applied = build_config(args, args.path, args.properties)
    values, _ = resolve(args, args.variant)
    script = script_steps(values["script"], config)
    began = time.perf_counter()
    left = budget_left(args, _budget(args))
    if left <= 0:  # as `check` on the cluster model: said plainly, every check "not checked (no step)", exit 3
        sys.stderr.write(_spent("kubeprop check", _budget(args), left, "no engine ran"))
        return _raft_table(args, config, checks, applied, (), "time-bound", time.perf_counter() - began), \
            ExitCode.INCONCLUSIVE
    line = progress_line(args, "kubeprop check", left, sys.stderr)
    try:
        runs = explore_all(config, checks, Bounds(args.max_depth, args.max_states, left), script, progress=line)
    except Unfinished as err:
        table = _raft_table(args, config, checks, applied, err.found, INTERRUPTED, time.perf_counter() - began)
        text = io.StringIO()
        if err.found:
            render(table, text)
        text.write(f"\nbfs: interrupted before it finished; {len(err.found)} violation"
                   f"{'s' if len(err.found) != 1 else ''} it found before the interrupt"
                   f"{', listed above' if err.found else ''}\n")
        raise Interrupted(text.getvalue()) from None
    if line is not None:
        line.end()
    last = runs[-1].result
    exit_reason = "violation" if last.violation is not None else last.exit_reason
    table = _raft_table(args, config, checks, applied, runs, exit_reason, time.perf_counter() - began)
    found = {r.result.violation.property for r in runs if r.result.violation is not None}
    if any(c.kind != "goal" for c in checks if c.name in found):
        return table, ExitCode.VIOLATION
    if getattr(args, "exhaustive", False) and exit_reason != "exhausted":
        return table, ExitCode.INCONCLUSIVE
    return table, ExitCode.OK


def _raft_table(args: argparse.Namespace, config: RaftConfig, checks: tuple[RaftCheck, ...], applied: tuple[str, ...],
                runs: Sequence[RaftRun], exit_reason: str, seconds: float) -> Table:
    """The common result table of the Raft check's `runs` (each with its counterexample file)."""
    values, _ = resolve(args, args.variant)
    found = {r.result.violation.property: r for r in runs if r.result.violation is not None}
    vacuous = vacuous_checks(config, checks, args.variant)

    def cell(c: RaftCheck) -> str:
        if c.name in found:
            return f"{'REACHED' if c.kind == 'goal' else 'VIOLATED'} ({len(found[c.name].trace)} steps)"
        if c.name in vacuous:
            return "vacuous"
        if not runs and exit_reason != INTERRUPTED:
            return "not checked (no step)"
        if exit_reason == INTERRUPTED:
            return "interrupted"
        how = "exhaustive" if exit_reason == "exhausted" else "bounded"
        return f"{'not reached' if c.kind == 'goal' else 'held'} ({how})"

    stats = [r.result.stats for r in runs]
    figures = (f": {sum(s.states for s in stats)} steps, {max(s.distinct for s in stats)} distinct, "
               f"depth {max(s.depth for s in stats)}") if stats else ""
    if exit_reason == INTERRUPTED:
        figures += f" in the search{'es' if len(stats) != 1 else ''} that ended" if stats else ": no search ended"
    searched = sum(s.seconds for s in stats) if exit_reason == INTERRUPTED else seconds  # the finished searches'
    column = EngineColumn("bfs", exit_reason, figures, seconds, sum(s.states for s in stats) / max(searched, 1e-9))
    warning = variant_vacuity(config, args.variant)
    return Table(f"kubeprop check: Raft model, variant {args.variant or 'none'}",
                 tuple(c.name for c in checks), (column,), tuple((cell(c),) for c in checks),
                 header=tuple(_summary(config, args.variant, applied).splitlines()),
                 vacuous=tuple((n, v) for n, v in vacuous.items() if n not in found),
                 warnings=(warning,) if warning else (),
                 findings=tuple(_finding(config, args.variant, checks, r, args.out, values["script"])
                                for r in found.values()))
