"""`kubeprop schedule`: can the scenario's pods all be placed, and what breaks it?

Steps: the scenario's desired pods (`scheduling_workloads.desired_pods`, `--scale` applied) on
its nodes; `--remove` deletes Nodes and `--drain` drains them as `kubectl drain` does
(`properties/scheduling/drain.py`: a drained node stays, cordoned, and still counts for
topology spreading); one Z3 solver (`scheduling_solver`) answers "every pod at once", then,
incrementally under assumptions, the same with every set of `--fail-nodes K` further nodes lost
(a set losing bound pods on a solver of its own, `_what_if`);
and the default scheduler's one-at-a-time result (`greedy`, on the same nodes, the drained ones
included) is compared with Z3's joint answer. Pods naming a scheduler the scenario does not run
(`kubeprop.model.scheduler.served`: upstream only a scheduler with a profile of that name takes
them) are left out of both, and the output names them. The workload pods are created through the
model's own API server (`desired_pods`: defaults and the scenario's admission chain, Priority
included); a create it refuses is a finding, the pod left out. Exit codes: 0 feasible (and greedy
agrees), 1 a finding (infeasible, a failure set that breaks it, greedy leaving a pod Pending although
a placement exists, or a pod the API server refuses), 2 bad input, 3 unknown (Z3 ran out of its
`--rlimit` budget, or the wall-clock `--budget` ran out: "budget spent").

`--budget SECONDS` bounds the whole run in wall-clock time, from the process's start as `kubeprop
check`'s does (default: the scenario's `bounds.timeLimitSeconds`, else 60 s): a `Deadline` that
creating the pods, building the encoding, the one-at-a-time scheduler and the what-ifs check
between two units of their work, and that each Z3 check gets as its `timeout`. An explanation
whose shrinking it cuts is printed as not minimal (the infeasibility is proven all the same);
anything else it cuts ends the run with "UNKNOWN ...: budget spent" (exit 3, or 1 after a
finding). `--progress` reports the phase on stderr (`schedule_progress`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import attrs

from kubeprop.counterexamples.check_bounds import DEFAULT_BUDGET
from kubeprop.counterexamples.printable import shown
from kubeprop.model.api.core import Node
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import ApiServerConfig
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.errors import UsageError
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos, pod_key
from kubeprop.model.scheduler.served import served, unserved_note
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.flagtypes import parse_int
from kubeprop.properties.cli.schedule_progress import ScheduleProgress
from kubeprop.properties.scheduling.deadline import BudgetSpent, Deadline
from kubeprop.properties.scheduling.drain import NodeChange
from kubeprop.properties.scheduling.drain import drain as drain_nodes
from kubeprop.properties.scheduling.drain import remove as remove_nodes
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.explain import comparison_table, explain_core, placement_table
from kubeprop.properties.scheduling.solver import Outcome, SchedulingSolver, build_budget
from kubeprop.properties.scheduling.volumes import ScenarioVolumes, scenario_volumes
from kubeprop.properties.scheduling.workloads import ScaleError, desired_count, desired_pods, greedy

__all__ = ["MAX_PODS", "MAX_WHAT_IFS", "run_schedule"]

MAX_WHAT_IFS = 10_000
MAX_PODS = 100_000
"""The most pods one run may ask for (after --scale), a bound on the objects built in memory. The
Z3 budget bounds the rest: the encoding's build stops past `build_budget(--rlimit)` units of work
(at least one per pod-node pair), and a run asking for more pod-node pairs than that answers
unknown (exit 3) before building a pod."""
EXPLAINED_WHAT_IFS = 3


class BadInput(UsageError, ValueError):
    """A flag value that cannot be used (the message says what would be valid)."""


def _scale(values: Sequence[str]) -> dict[str, int]:
    """--scale's values by workload name; BadInput naming every bad one, and every workload given
    twice (which value is meant is not for kubeprop to guess)."""
    out: dict[str, int] = {}
    problems: list[str] = []
    for value in values:
        name, sep, count = value.partition("=")
        replicas = parse_int(count) if count.isascii() and count.isdigit() else None
        if not sep or not name or replicas is None or replicas > MAX_PODS:
            problems.append(f"--scale {value!r}: expected WORKLOAD=N with N a whole number from 0 to {MAX_PODS} "
                            "(ASCII digits), e.g. feastflow-backend=5")
        elif name in out:
            problems.append(f"--scale {name}={replicas}: {name} is already scaled to {out[name]} by an earlier "
                            "--scale; give each workload once")
        else:
            out[name] = replicas
    if problems:
        raise BadInput("\n".join(problems))
    return out


def _check_size(pods: int) -> None:
    if pods > MAX_PODS:
        raise BadInput(f"{pods} pods to place; at most {MAX_PODS}: scale the workloads down with --scale")


def _over_budget(out: TextIO, pods: int, nodes: int, rlimit: int) -> bool:
    """Whether the encoding cannot fit the build budget: it considers every pod-node pair, one unit
    of work each (`encode`), so more pairs than the budget end as EncodingTooLarge anyway."""
    if pods * nodes <= build_budget(rlimit):
        return False
    out.write(f"UNKNOWN: {pods} pod(s) x {nodes} node(s) = {pods * nodes:,} pod-node pairs, past the build budget "
              f"of --rlimit {rlimit}: {build_budget(rlimit):,} units of work (one per pair at least); "
              "raise --rlimit or scale the workloads down\n")
    return True


def _check_nodes(names: Sequence[str], drain: Sequence[str], remove: Sequence[str], fail: int) -> None:
    for flag, chosen in (("--drain", drain), ("--remove", remove)):
        unknown = [n for n in chosen if n not in names]
        if unknown:
            raise BadInput(f"{flag} {', '.join(unknown)}: no such node; valid: {', '.join(names)}")
    both = sorted(set(drain) & set(remove))
    if both:
        raise BadInput(f"--drain and --remove both name {', '.join(both)}: a node is drained or removed, not both")
    left = len(names) - len(set(drain) | set(remove))
    if not 0 <= fail <= left:
        raise BadInput(f"--fail-nodes {fail}: must be between 0 and {left} (the nodes not drained or removed)")
    if math.comb(left, fail) > MAX_WHAT_IFS:
        raise BadInput(f"--fail-nodes {fail}: {math.comb(left, fail)} node sets to try; at most {MAX_WHAT_IFS}")


def _unknown(out: TextIO, outcome: Outcome, rlimit: int, what: str) -> None:
    out.write(f"UNKNOWN {what}: Z3 stopped after {outcome.spent} resource units "
              f"(--rlimit {rlimit} per check): {outcome.reason}\n")


def _infeasible(out: TextIO, solver: SchedulingSolver, outcome: Outcome, down: Sequence[str], what: str) -> None:
    down_ix = frozenset(solver.node_index(n) for n in down)
    kind = "Minimal explanation" if outcome.minimal else \
        "Explanation (not minimal: the budget, --rlimit or --budget, ran out while shrinking it)"
    out.write(f"INFEASIBLE {what}: not every pod can be placed. {kind}:\n")
    for line in explain_core(solver.enc, outcome.core, down_ix):
        out.write(f"  - {line}\n")


def _greedy_finding(out: TextIO, solver: SchedulingSolver, outcome: Outcome, volumes: ScenarioVolumes,
                    deadline: Deadline) -> bool:
    nodes = solver.problem.nodes
    deadline.enter("the default scheduler, one pod at a time", len(solver.problem.pending))
    result = greedy(nodes, solver.problem.pending, volumes=volumes.checks, deadline=deadline,
                    reserve=volumes.reserve, namespaces=solver.problem.namespaces)
    if not result.pending:
        out.write("The default scheduler, one pod at a time, places every pod too.\n")
        return False
    out.write("FINDING: the scheduler leaves a pod Pending although a placement exists.\n")
    for key, message in result.pending.sorted_items():
        out.write(f"  {key}: {message}\n")
    rows = comparison_table(result.placement, outcome.placement, solver.problem.pending,
                            ("SCHEDULER (one at a time)", "Z3 (joint)"))
    out.writelines(f"  {row}\n" for row in rows)
    return True


def _what_if(solver: SchedulingSolver, combo: tuple[str, ...], minimise: bool
             ) -> tuple[SchedulingSolver, Outcome, tuple[str, ...]]:
    """One what-if: `combo` lost, as Nodes deleted. On the shared solver (its down literals) when no
    pod is bound to a lost node; otherwise on the problem with those nodes removed (`drain.remove`,
    as `--remove`): the pods bound there are deleted with them (podgc gcOrphaned) and count no more
    for spreading or (anti-)affinity, which down literals do not express. (The solver asked, its
    outcome, the nodes its explanation takes as down)."""
    lost = set(combo)
    if not any(ni.pods for ni in solver.problem.nodes if ni.name in lost):
        return solver, solver.check(combo, minimise=minimise), combo
    removed = SchedulingSolver(remove_nodes(solver.problem, combo).problem, solver.rlimit, deadline=solver.deadline)
    return removed, removed.check(minimise=minimise), ()


def _what_ifs(out: TextIO, solver: SchedulingSolver, drain: Sequence[str], k: int, deadline: Deadline,
              found: list[bool]) -> tuple[int, int]:
    """Try every set of `k` more nodes lost (Node deleted: `_what_if`), among those neither drained
    nor removed; (breaking sets, unknown sets). A breaking set is recorded in `found` as soon as it
    is printed (a budget that ends the what-ifs keeps it)."""
    live = [ni.name for ni in solver.problem.nodes if ni.name not in drain]
    broken = unknown = tried = 0
    total = math.comb(len(live), k)
    for combo in itertools.combinations(live, k):
        tried += 1
        deadline.enter(f"what-if {tried} of {total} (losing {', '.join(combo)})")
        asked, outcome, down = _what_if(solver, combo, broken < EXPLAINED_WHAT_IFS)
        if outcome.status == "unknown":
            unknown += 1
            _unknown(out, outcome, solver.rlimit, f"losing {', '.join(combo)}")
        elif outcome.status == "unsat":
            broken += 1
            found.append(True)
            if broken <= EXPLAINED_WHAT_IFS:
                _infeasible(out, asked, outcome, down, f"after losing {', '.join(combo)}")
                if asked is not solver:
                    out.writelines(f"  - {name} is down (what-if: its Node deleted, with the pods bound there)\n"
                                   for name in combo)
            else:
                out.write(f"INFEASIBLE after losing {', '.join(combo)}\n")
    out.write(f"What-if: {tried} set(s) of {k} node(s) tried, {broken} break it, {unknown} unknown.\n")
    return broken, unknown


def _changes(problem: Problem, drain: Sequence[str], remove: Sequence[str]) -> tuple[Problem, list[str]]:
    """The problem after --remove, then --drain, and lines saying what happened to the nodes' pods."""
    lines: list[str] = []
    if remove:
        change = remove_nodes(problem, remove)
        lines.append(f"Removed {', '.join(change.nodes)} (Node deleted): gone from the snapshot with its topology "
                     "domains.")
        problem = change.problem
        lines.extend(_pod_lines(change))
    if drain:
        change = drain_nodes(problem, drain)
        lines.append(f"Drained {', '.join(change.nodes)} (as `kubectl drain {' '.join(change.nodes)}"
                     f"{_drain_flags(change)}` does): cordoned (spec.unschedulable, taint "
                     "node.kubernetes.io/unschedulable:NoSchedule); the Node stays in the scheduler's snapshot, so "
                     "topology spreading still counts its domains (unless a constraint's nodeTaintsPolicy is Honor).")
        problem = change.problem
        lines.extend(_pod_lines(change))
    return problem, lines


def _drain_flags(change: NodeChange) -> str:
    """The `kubectl drain` flags the drained nodes' pods need for the drain `--drain` models (every
    pod kubectl can take off evicted, `drain.DRAIN_FLAGS`): `--ignore-daemonsets` when a DaemonSet
    pod stays, `--delete-emptydir-data` when an evicted pod has an emptyDir volume, `--force` when
    one declares no controller (`staging/src/k8s.io/kubectl/pkg/drain/filters.go`; without the flag
    kubectl refuses to drain). None when the pods need none: the flags are not the scenario's."""
    def controlled(pod: Pod, kind: str | None = None) -> bool:
        owner = next((r for r in pod.metadata.owner_references if r.controller), None)
        return owner is not None and (kind is None or owner.kind == kind)

    evicted = (*change.pending_again, *change.deleted)
    flags = [flag for flag, needed in (
        ("--ignore-daemonsets", any(controlled(p, "DaemonSet") for p in change.staying)),
        ("--delete-emptydir-data", any(v.empty_dir is not None for p in evicted for v in p.spec.volumes)),
        ("--force", any(not controlled(p) for p in evicted))) if needed]
    return "".join(f" {flag}" for flag in flags)


def _pod_lines(change: NodeChange) -> list[str]:
    return [f"  {what}: {', '.join(pod_key(p) for p in pods)}" for pods, what in (
        (change.pending_again, "pending again (recreated by their controller)"),
        (change.deleted, "deleted for good (no controller recreates them)"),
        (change.staying, "staying (mirror or DaemonSet pods)")) if pods]


def _served_only(problem: Problem) -> tuple[Problem, list[str]]:
    """The problem without the pending pods no scheduler of the scenario serves, and lines naming
    them by scheduler (upstream they stay Pending unless that scheduler runs: `pkg/scheduler/
    eventhandlers.go` responsibleForPod)."""
    left: dict[str, list[str]] = {}
    for pod in problem.pending:
        if not served(pod):
            left.setdefault(pod.spec.scheduler_name, []).append(pod_key(pod))
    if not left:
        return problem, []
    kept = tuple(p for p in problem.pending if served(p))
    lines = [f"Left out: {', '.join(pods)}: {unserved_note(name)}." for name, pods in sorted(left.items())]
    return attrs.evolve(problem, pending=kept), lines


def _what(drain: Sequence[str], remove: Sequence[str]) -> str:
    parts = [f"{', '.join(names)} {verb}" for names, verb in ((drain, "drained"), (remove, "removed")) if names]
    return f"with {' and '.join(parts)}" if parts else "as given"


@attrs.frozen
class _Loaded:
    """The scenario as `kubeprop schedule` reads it: name, initial store and clock, the model's API
    server (whose admission the workload pods go through), nodes, --scale, pods to place."""

    name: str
    store: Store
    now: int
    api: ApiServerConfig
    cluster_class: str
    nodes: list[Node]
    replicas: dict[str, int]
    count: int


def _load(path: Path | None, scale: Sequence[str], fail_nodes: int, drain: Sequence[str], remove: Sequence[str],
          rlimit: int) -> tuple[_Loaded, float]:
    """The scenario loaded and its time limit (`bounds.timeLimitSeconds`, else `DEFAULT_BUDGET`), or
    BadInput / ScaleError / a scenario error."""
    if rlimit <= 0:
        raise BadInput(f"--rlimit {rlimit}: must be a positive number of Z3 resource units")
    scenario = load_scenario(path)
    model = build_model(scenario)
    state = initial_state(model)
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    _check_nodes([n.metadata.name for n in nodes], drain, remove, fail_nodes)
    replicas = _scale(scale)
    count = desired_count(state.store, replicas)
    _check_size(count)
    limit = scenario.spec.bounds.time_limit_seconds
    return _Loaded(scenario.name, state.store, state.clock, model.api, str(model.parameter("defaultStorageClass")),
                   nodes, replicas, count), float(limit) if limit is not None else DEFAULT_BUDGET


def _refused_lines(refused: FrozenMap[str, str]) -> list[str]:
    """Lines naming the controllers' pod creates the model's API server refuses (admission or
    validation): upstream those pods never exist (the controller records FailedCreate)."""
    if not refused:
        return []
    return ["FINDING: the API server refuses pod(s) a controller would create (they never exist, so are not "
            "placed):", *(f"  {key}: {message}" for key, message in refused.sorted_items())]


def _with_volumes(loaded: _Loaded, problem: Problem) -> tuple[Problem, ScenarioVolumes, list[str]]:
    """The problem with the nodes VolumeBinding refuses each pod (`scenario_volumes`: Z3 and the
    one-at-a-time scheduler are given the same verdicts), and lines naming the pods whose claims
    the scenario as given does not settle, their claims left out."""
    found = scenario_volumes(loaded.store, problem.pending, loaded.cluster_class, loaded.api, loaded.now)
    lines = [f"Claims ignored: {key}: {message} in the scenario as given (the PV controller binds it, or has it "
             "provisioned, later: not modelled here): placed as if it had no claims."
             for key, message in found.unsettled.sorted_items()]
    nodes = [ni.node for ni in problem.nodes]
    volumes = found.problem_volumes(nodes)
    return attrs.evolve(problem, volumes=volumes, shared_claims=found.shared_claims(nodes)), found, lines


def _problem(loaded: _Loaded, drain: Sequence[str], remove: Sequence[str], deadline: Deadline
             ) -> tuple[Problem, list[str], int, int, ScenarioVolumes]:
    """(the problem to solve, lines to print before the verdict, pods left out as unserved, pods the
    API server refused, the pods' volumes)."""
    deadline.enter("creating the pods through the API server", loaded.count)
    desired = desired_pods(loaded.store, loaded.api, loaded.replicas, loaded.now, deadline)
    deadline.enter("the nodes' changes and the pods' volumes")
    snapshot = Problem(build_node_infos(loaded.nodes, desired.bound), desired.pending, workloads=desired.workloads,
                       namespaces=desired.namespaces)
    problem, lines = _changes(snapshot, drain, remove)
    asked = len(problem.pending)
    problem, left_out = _served_only(problem)
    problem, volumes, ignored = _with_volumes(loaded, problem)
    return problem, [*_refused_lines(desired.refused), *lines, *left_out, *ignored], asked - len(problem.pending), \
        len(desired.refused), volumes


def run_schedule(path: Path | None, scale: Sequence[str], fail_nodes: int, drain: Sequence[str], rlimit: int,
                 out: TextIO, err: TextIO, remove: Sequence[str] = (), budget: float | None = None,
                 progress: str = "none", started: float | None = None) -> int:
    """The whole command; returns the exit code. `budget` (None: the scenario's time limit) counts
    from `started` (`time.perf_counter()`; None: now)."""
    began = time.perf_counter() if started is None else started
    deadline = Deadline(phase="loading the scenario")
    try:
        loaded, limit = _load(path, scale, fail_nodes, drain, remove, rlimit)
    except (BadInput, ScaleError) as bad:
        err.write(f"kubeprop schedule: bad input:\n{bad}\n")
        return ExitCode.BAD_INPUT
    seconds_ = limit if budget is None else budget
    deadline.end = began + seconds_
    reporter = ScheduleProgress(progress, deadline, began, seconds_, err)
    reporter.start()
    found: list[bool] = []
    code: int | None = None  # None while running: an exception (Ctrl-C, a closed pipe) says no "done"
    try:
        code = _solve(loaded, fail_nodes, drain, remove, rlimit, out, deadline, found)
    except BudgetSpent as spent:
        count = f", {deadline.done:,} of {deadline.total:,} done" if deadline.total else ""
        out.write(f"UNKNOWN: budget spent: the {seconds_:g} s of --budget ran out while {spent.phase}{count} "
                  f"({time.perf_counter() - began:.1f} s since the start); what is above stands; raise --budget "
                  "for the rest\n")
        code = ExitCode.VIOLATION if found else ExitCode.INCONCLUSIVE
    finally:
        reporter.end(code)
    return code


def _solve(loaded: _Loaded, fail_nodes: int, drain: Sequence[str], remove: Sequence[str], rlimit: int,
           out: TextIO, deadline: Deadline, found: list[bool]) -> int:
    """Everything after loading (`run_schedule`); a finding printed is recorded in `found` at once,
    so that a budget ending the run later still exits 1."""
    if _over_budget(out, loaded.count, len(loaded.nodes) - len(set(remove)), rlimit):
        return ExitCode.INCONCLUSIVE
    problem, lines, unserved, refused, volumes = _problem(loaded, drain, remove, deadline)
    solver = SchedulingSolver(problem, rlimit, deadline=deadline)
    what = _what(drain, remove)
    cordoned = f" ({len(set(drain))} of them cordoned)" if drain else ""
    skipped = f" ({unserved} more for schedulers the scenario does not run: left out)" if unserved else ""
    out.write(f"Scenario {shown(loaded.name)}: {len(problem.pending)} pod(s) to place{skipped} on "
              f"{len(problem.nodes)} node(s){cordoned}.\n")
    out.writelines(f"{line}\n" for line in lines)
    if refused:
        found.append(True)
    deadline.enter("checking with Z3 whether every pod can be placed at once")
    outcome = solver.check()
    if outcome.status == "unknown":
        _unknown(out, outcome, rlimit, what)
        return ExitCode.VIOLATION if refused else ExitCode.INCONCLUSIVE
    if outcome.status == "unsat":
        _infeasible(out, solver, outcome, (), what)
        return ExitCode.VIOLATION
    out.write(f"FEASIBLE {what}: a placement of every pod (Z3):\n")
    out.writelines(f"  {row}\n" for row in placement_table(outcome.placement, problem.pending))
    finding = _greedy_finding(out, solver, outcome, volumes, deadline)
    if finding:
        found.append(True)
    broken, unknown = _what_ifs(out, solver, drain, fail_nodes, deadline, found) if fail_nodes else (0, 0)
    if finding or broken or refused:
        return ExitCode.VIOLATION
    return ExitCode.INCONCLUSIVE if unknown else ExitCode.OK
