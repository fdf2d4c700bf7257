"""The bug catalogue as a user meets it: `kubeprop check SCENARIO --variant V --budget 10` from the
initial state with the default strategy, on scenarios written as users write them; and, as a
second table, the prepared-start figures of each engine.

Run: `python benchmarks/bench_catalogue.py [--out docs/catalogue.md] [--budget 10] [--feastflow]
[--prepared] [--shortest] [--workers N]`.

What users get (`user_rows`): for each cluster-level variant, its scenario in
tests/model/data/catalogue (`kubeprop.properties.explore.catalogue.USER_SCENARIOS`: manifests,
workload steps, a fault budget — no prepared start, no action filter), then the further rows of
`MORE_USER_SCENARIOS` (a variant on a scenario a user wrote for their whole app), checked with every property
by `kubeprop.counterexamples.check` (the portfolio, seed 0) within `--budget` seconds, and the
correct model on the same scenario at the same budget, each in a fresh interpreter as a user runs
it. Reported: the property found first and the seconds until it was found — the `found after`
figure that command prints, on the engine's clock (loading the scenario, shrinking and recording
not included) — the engine that found it, and its length (the actions the engine found; a
convergence counterexample's file adds the fair continuation after them, which `kubeprop check`
prints as `3 steps, then a fair continuation of 66`) against the shortest known counterexample of
that variant on that scenario (`SHORTEST`, from `--shortest`: the default strategy's
counterexample shrunk for a minute). That command then searches on for the other properties until
its budget is spent, so it reports at about `--budget` seconds; the *time to report* is of
`kubeprop check SCENARIO --variant V --property P --budget 10` with P the property found, which
stops once P's counterexample is shrunk and written: the seconds until that command (the console
script's code, `python -m kubeprop.properties.cli`, in a new process) returned, starting Python
and importing kubeprop included. The correct model's verdict: `clean`, `clean (upstream: …)` when
what it found is known upstream behaviour (`kubeprop check` lists it under UPSTREAM and exits 0),
or `VIOLATION …`.
Users' own controllers (`operator_rows`): each example of `OPERATORS` (a user's controller with a
bug, its properties, a scenario) checked the same way, and its fixed version at the same budget.
`--feastflow` does the same on the built-in FeastFlow scenario for the variants that can occur
there. `--workers N` runs the portfolio on N lanes (default: as `kubeprop check`, the cores or 3,
whichever is fewer); each table is followed by one of the portfolio's steps and each lane's CPU
seconds (on a shared machine the steadier figures); `--only V` (repeatable) runs only those
variants (and no users' controllers). `--prepared` adds the older table: each engine from a state
the fair driver prepared, with an action filter (`ENTRIES`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.objects import Deployment, Pod, RollingUpdateDeployment
from kubeprop.model.api.server import Request, handle
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet.component import ProbeResult
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Heal, Partition, Quiesce, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER, REPLICASET_RACE
from kubeprop.properties.explore.engine import EngineConfig, allow, run_bfs
from kubeprop.properties.explore.stateful import find_with_hypothesis
from kubeprop.properties.explore.walk import run_walks

DATA = Path(__file__).resolve().parents[1] / "tests" / "model" / "data" / "variants"
Prepare = Callable[[ClusterModel], ClusterState]


@attrs.frozen
class Entry:
    """One catalogue entry as a benchmark."""

    variant: str
    scenario: str
    prop: str
    filter: Any
    depth: int
    prepare: Prepare = attrs.field(default=initial_state)
    parameters: tuple[tuple[str, Any], ...] = ()


def _settled(model: ClusterModel) -> ClusterState:
    return settle(model, initial_state(model)).state


def _scaled_down(model: ClusterModel) -> ClusterState:
    return step(model, _settled(model), UserStep(0))


def _readiness_failed(model: ClusterModel) -> ClusterState:
    state = _settled(model)
    pod = next(p for p in state.store.list("pods") if isinstance(p, Pod))
    return step(model, state, ProbeResult(pod.spec.node_name, f"default/{pod.metadata.name}", "web", "readiness",
                                          False))


def _partitioned_until_evicted(model: ClusterModel) -> ClusterState:
    state = _settled(model)
    node = next(p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod))
    state = step(model, step(model, state, Partition(node)), Quiesce())
    for _ in range(400):
        run = settle(model, state, max_steps=1, avoid=(Heal,))
        if not run.trace:
            return state
        state = run.state
        if type(run.trace[0]).__name__ == "TaintEvictPod":
            return state
    return state


def _rollout_with_zero_fenceposts(model: ClusterModel) -> ClusterState:
    state = _settled(model)
    d = next(x for x in state.store.list("deployments.apps") if isinstance(x, Deployment))
    rolling = RollingUpdateDeployment(max_surge=0, max_unavailable="1%")
    patched = attrs.evolve(d, spec=attrs.evolve(d.spec, strategy=attrs.evolve(d.spec.strategy, rolling_update=rolling)))
    result = handle(state.store, Request(verb="update", user="admin", obj=patched), model.api, state.clock)
    state = settle(model, attrs.evolve(state, store=result.store)).state
    return step(model, state, UserStep(1))


ENTRIES = (
    Entry("rs-no-expectations", "web", "replicaset-no-overcreation",
          REPLICASET_RACE, 12,
          parameters=(("instantCaches", False),)),
    Entry("endpoints-terminating", "web", "endpoints-ready-pods", allow("Reconcile", "KillPod"), 8, _scaled_down,
          (("instantCaches", True),)),
    Entry("endpoints-liveness", "web", "endpoints-ready-pods", allow("Reconcile", "SyncPodStatus"), 8,
          _readiness_failed, (("instantCaches", True),)),
    Entry("sts-split-brain", "db", "one-running-pod-per-identity",
          allow("Reconcile", "Schedule", "Bind", "StartPod", "TaintEvictPod"), 10, _partitioned_until_evicted,
          (("instantCaches", True),)),
    Entry("rollout-fencepost", "web", "deployments-complete", allow("Quiesce", "Reconcile"), 4,
          _rollout_with_zero_fenceposts, (("instantCaches", True),)),
    Entry("scheduler-ignores-taints", "tainted", "bindings-respect-hard-constraints",
          allow("Reconcile", "Schedule", "Bind"), 8, parameters=(("instantCaches", True),)),
    Entry("dual-scheduler", "tight", "node-not-overcommitted",
          DUAL_SCHEDULER, 14,
          parameters=(("instantCaches", False),)),
)
"""nodelifecycle-crash and watch-time-travel need a crash at one precise moment of a longer run;
tests/model/scenario/test_variants.py drives them by hand and they are not part of this benchmark."""

ENGINES = {"bfs": run_bfs, "walk": run_walks, "hypothesis": find_with_hypothesis}


def run_entry(entry: Entry, variant: str, engine: str, budget: float) -> tuple[float, Any]:
    """(seconds, EngineResult) of one engine on one entry."""
    model = build_model(load_scenario(DATA / f"{entry.scenario}.yaml"), variant=variant,
                        parameters=dict(entry.parameters))
    start = entry.prepare(model)
    config = EngineConfig(seed=0, budget_seconds=budget, max_depth=entry.depth, properties=(entry.prop,),
                          action_filter=entry.filter, workers=1, runs=400)
    began = time.perf_counter()
    result = ENGINES[engine](model, start, config)
    return time.perf_counter() - began, result


def _cell(seconds: float, result: Any) -> str:
    if result.violation is not None:
        return f"{seconds:.2f} s, {len(result.trace)} steps"
    return f"not found ({result.exit_reason}, {seconds:.1f} s)"


SHORTEST: dict[tuple[str, str], int] = {
    ("web", "rs-no-expectations"): 5, ("web", "endpoints-terminating"): 41, ("web", "endpoints-liveness"): 19,
    ("web", "nodelifecycle-crash"): 59, ("web-flap", "endpoints-stale-cache"): 27,
    ("web-rollout", "rollout-fencepost"): 3, ("db", "sts-split-brain"): 106,
    ("db-failover", "watch-time-travel"): 4, ("tainted", "scheduler-ignores-taints"): 6,
    ("tight", "dual-scheduler"): 7, ("shop", "sts-split-brain"): 172,
    ("feastflow", "rs-no-expectations"): 5, ("feastflow", "endpoints-terminating"): 242,
    ("feastflow", "endpoints-liveness"): 22, ("feastflow", "endpoints-stale-cache"): 56,
    ("feastflow", "nodelifecycle-crash"): 205, ("feastflow", "sts-split-brain"): 262,
    ("feastflow", "watch-time-travel"): 4, ("feastflow", "scheduler-ignores-taints"): 7,
    ("feastflow", "dual-scheduler"): 64,
}
"""(scenario, variant) → the shortest known counterexample: the default strategy's, shrunk for a
minute (`--shortest` recomputes them, with `--feastflow` FeastFlow's too). Kept across runs only
while the model's runs stay the same: nodelifecycle-crash on web was 15 before the model fix that
made its one-fault path go (docs/catalogue.md), then 124 until shrinking shrank a run's choices
first (23); the eleventh round's shrinking brought FeastFlow's endpoints-terminating 278 → 69,
dual-scheduler 272 → 48, sts-split-brain 167 → 77 (shop 132 → 73). Recomputed in the fifteenth
round (commit 9eb9bd8) for the scenarios whose runs the fourteenth round's volume binding changed
(claims are now provisioned and bound before a StatefulSet's pod can run, and FeastFlow's fair run
went 62 → 67 steps): the older, shorter figures were of the model before volume binding.
The other rows kept theirs (what `kubeprop check --budget 10` records there still has that length);
each recomputed figure equals what it now records (its shrinking reaches the same trace within its
step bound).
In the sixteenth round (commit 4a08f17) every row was recomputed, when the clock began to wait for
prompt work: traces that let time pass while the control plane had work in hand are gone
(docs/catalogue.md)."""


@attrs.frozen
class UserRow:
    """One variant on one user scenario: what `kubeprop check` gave, and the correct model."""

    variant: str
    scenario: str
    found: bool
    caught: bool
    property: str
    seconds_to_find: float
    seconds_total: float
    engine: str
    length: int
    correct: str
    steps: int = 0
    """The portfolio's steps in all (every member, lanes past the answer included)."""
    lanes: tuple[float, ...] = ()
    """CPU seconds of each lane."""
    continuation: int = 0
    """The fair continuation's steps a convergence counterexample's file adds after `length`."""


def user_row(path: Path | None, scenario: str, variant: str, caught_by: tuple[str, ...], budget: float,
             workers: int | None = None) -> UserRow:
    """`kubeprop check`'s result for the variant and for the correct model, each in a fresh process
    (as a user runs it), and the time `kubeprop check … --property P` took to report the find."""
    found = _fresh(path, variant, budget, workers)
    clean = _fresh(path, "correct", budget, workers)
    prop = found["property"] or found["exit_reason"]
    total = report_seconds(path, variant, found["property"], budget, workers) if found["property"] else 0.0
    return UserRow(variant, scenario, found["property"] is not None, prop in caught_by, prop, found["to_find"],
                   total, found["engine"], found["length"], verdict(clean), found["steps"], tuple(found["lanes"]),
                   found["continuation"])


def verdict(answer: dict[str, Any]) -> str:
    """The correct-model column: `clean`, `clean (upstream: PROPERTY, BEHAVIOUR, N steps)` when every
    find is known upstream behaviour (`kubeprop check` lists it under UPSTREAM and exits 0), or
    `VIOLATION PROPERTY (N steps)`."""
    if answer["property"] is not None:
        return f"VIOLATION {answer['property']} ({_length(answer['length'], answer['continuation'])})"
    known = "; ".join(f"{u['property']}, {u['behaviour']}, {_length(u['length'], u['continuation'])}"
                      for u in answer["upstream"])
    return f"clean (upstream: {known})" if known else "clean"


def _length(found: int, continuation: int) -> str:
    """`5 steps`, or `3 steps, then a fair continuation of 66`, as `kubeprop check` prints it."""
    text = f"{found} step{'' if found == 1 else 's'}"
    return f"{text}, then a fair continuation of {continuation}" if continuation else text


def cli_command(path: Path | None, variant: str, prop: str, budget: float, workers: int | None = None) -> list[str]:
    """The `kubeprop check` arguments whose time to report the table gives."""
    where = [str(path)] if path else []
    lanes = [] if workers is None else ["--workers", str(workers)]
    named = [] if variant == "correct" else ["--variant", variant]
    return ["check", *where, *named, "--property", prop, "--budget", f"{budget:g}", *lanes]


def report_seconds(path: Path | None, variant: str, prop: str, budget: float, workers: int | None = None,
                   import_path: Path | None = None) -> float:
    """Wall seconds until `kubeprop check PATH --variant V --property P --budget B` returned, run as the
    console script runs it (`python -m kubeprop.properties.cli`) in a new process, its files in a
    scratch folder. Exit 1: the violation found again; exit 0: not found again within the budget (a
    loaded machine runs fewer steps in it), `math.inf`, which the table prints as such; any other
    exit is an error."""
    import tempfile

    env = None if import_path is None else {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(import_path), os.environ.get("PYTHONPATH", "")) if p)}
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "kubeprop.properties.cli", *cli_command(path, variant, prop, budget, workers),
                   "--out", out, "--progress", "none"]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - began
    if done.returncode == 0:
        return math.inf
    if done.returncode != 1:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}, not 1:\n{done.stdout}{done.stderr}")
    return seconds


def _fresh(path: Path | None, variant: str, budget: float, workers: int | None = None,
           import_path: Path | None = None) -> dict[str, Any]:
    """Run `one_check` in a new interpreter (with `import_path` on its PYTHONPATH: a user's
    controller and properties); its JSON answer with the wall time it took."""
    began = time.perf_counter()
    lanes = [] if workers is None else ["--workers", str(workers)]
    env = None if import_path is None else {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(import_path), os.environ.get("PYTHONPATH", "")) if p)}
    out = subprocess.run([sys.executable, __file__, "--one", str(path or ""), variant, str(budget), *lanes],
                         check=True, capture_output=True, text=True, env=env).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    answer["total"] = time.perf_counter() - began
    return answer


def one_check(path: str, variant: str, budget: float, workers: int | None = None) -> dict[str, Any]:
    """What `kubeprop check PATH --variant VARIANT --budget BUDGET [--workers N]` finds first, as
    JSON data: the property (the first violation not known upstream behaviour), the engine, the
    counterexample's length (the actions the engine found, and the fair continuation's after them),
    the seconds until it was found (`found after`, the engine's clock) and until the call returned,
    the known upstream behaviours found (property, behaviour, length), the portfolio's steps and
    each lane's CPU seconds. The call stops at that first violation, as `kubeprop check` does not
    (it searches on for the other properties): the first run is the same."""
    from kubeprop.counterexamples.api import check

    began = time.perf_counter()
    report = check(Path(path) if path else None, variant=variant, budget=budget, seed=0,
                   config=EngineConfig(workers=workers))
    total = time.perf_counter() - began
    effort = {"steps": report.stats.steps if report.stats is not None else 0,
              "lanes": list(getattr(report.stats, "lanes", ())),
              "parts": {p.engine: p.stats.steps for p in (report.stats.parts if report.stats is not None else ())}}
    upstream = [{"property": d.violation.property, "behaviour": d.upstream.name, "length": d.found_length,
                 "continuation": len(d.trace) - d.found_length} for d in report.found if d.upstream is not None]
    first = next((d for d in report.found if d.upstream is None), None)
    if first is None:
        return {"property": None, "exit_reason": str(report.exit_reason), "engine": report.engine, "length": 0,
                "continuation": 0, "to_find": total, "in_check": total, "upstream": upstream, **effort}
    note = report.stats.note if report.stats is not None else ""
    engine = note.split(":")[0].removeprefix("found by ") if note else report.engine
    return {"property": first.violation.property, "exit_reason": str(report.exit_reason), "engine": engine,
            "length": first.found_length, "continuation": len(first.trace) - first.found_length,
            "to_find": report.found_after if report.found_after is not None else total, "in_check": total,
            "upstream": upstream, **effort}


def shortest_known(path: Path | None, variant: str, seconds: float = 60.0) -> int:
    """The length of the variant's counterexample the default strategy finds when its shrinking has
    no step bound and may take `seconds` (the reference of the table's length ratio)."""
    from kubeprop.counterexamples.api import check

    report = check(path, variant=variant, budget=30.0 + seconds, seed=0, config=EngineConfig(max_shrink_steps=None))
    return report.found[0].found_length if report.violation is not None else 0


def _seconds(value: float) -> str:
    """A time to report; `math.inf` when the re-run did not find the violation again in its budget."""
    return "not found again in the budget" if math.isinf(value) else f"{value:.2f} s"


def _user_cell(row: UserRow, shortest: int | None) -> str:
    if row.property.startswith(CANNOT):
        return f"{row.property} | — | — | — | —"
    if not row.found:
        return f"not found ({row.property}) | — | — | — | —"
    ratio = f" ({row.length / shortest:.1f}× the shortest known, {shortest})" if shortest else ""
    mark = "" if row.caught else " (not the catalogue's property)"
    then = f", then a fair continuation of {row.continuation}" if row.continuation else ""
    return (f"{row.property}{mark} | {row.seconds_to_find:.2f} s | {_seconds(row.seconds_total)} | {row.engine} | "
            f"{row.length}{then}{ratio}")


def user_table(rows: list[UserRow], title: str, first: str = "variant", last: str = "correct model, same budget"
               ) -> list[str]:
    out = [f"**{title}**", "", f"| {first} | scenario | found first (P) | time to find | time to report, "
           f"`--property P` | engine | length | {last} |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        out.append(f"| {row.variant} | {row.scenario} | {_user_cell(row, SHORTEST.get((row.scenario, row.variant)))} "
                   f"| {row.correct} |")
    found = sorted(r.seconds_to_find for r in rows if r.found)
    totals = sorted(r.seconds_total for r in rows if r.found)
    cannot = sum(r.property.startswith(CANNOT) for r in rows)
    among = f"{len(rows) - cannot} that can occur ({cannot} cannot occur here)" if cannot else f"{len(rows)}"
    if found:
        out += ["", f"{len(found)} of {among} found; time to find: median {statistics.median(found):.2f} s, "
                f"worst {found[-1]:.2f} s; time to report: median {_seconds(statistics.median(totals))}, worst "
                f"{_seconds(totals[-1])}."]
    return out


def fenceposts_never_both_zero(model: ClusterModel) -> str | None:
    """Why rollout-fencepost cannot change anything in `model` (None: it may). The variant drops
    ResolveFenceposts' rule "maxUnavailable = 1 when maxSurge and maxUnavailable both resolve to 0"
    (`deployment_util.resolve_fenceposts`), so it differs from the correct model only for a rolling
    Deployment whose two fenceposts resolve to 0 at some replica count. Judged on the
    Deployments of the manifests and apply steps (defaulted as the API server does: 25%/25%), at
    every replica count they or a scale step set; unknown (None) when an autoscaler or a
    controller of the user's own may set other counts, or create Deployments."""
    from kubeprop.model.api.defaults import apply_defaults
    from kubeprop.model.controllers.deployment_util import resolve_fenceposts
    from kubeprop.model.controllers.hpa import uses_hpa
    from kubeprop.properties.vacuity import own_controllers

    if uses_hpa(model) or own_controllers(model):
        return None
    objects = [m.obj for m in model.scenario.objects] + [o for step in model.workload_objects for o in step]
    deployments = [apply_defaults(o) for o in objects if isinstance(o, Deployment)]
    counts: dict[str, set[int]] = {}
    for d in deployments:
        assert isinstance(d, Deployment)
        counts.setdefault(f"{d.metadata.namespace or 'default'}/{d.metadata.name}", set()).add(
            1 if d.spec.replicas is None else d.spec.replicas)
    for workload_step in model.scenario.spec.workload:
        scale = workload_step.scale
        if scale is not None and scale.deployment in counts:
            counts[scale.deployment].add(scale.replicas)
    seen = []
    for d in deployments:
        assert isinstance(d, Deployment)
        rolling = d.spec.strategy.rolling_update
        if d.spec.strategy.type != "RollingUpdate" or rolling is None:
            continue
        name = f"{d.metadata.namespace or 'default'}/{d.metadata.name}"
        for replicas in sorted(counts[name]):
            resolved = resolve_fenceposts(rolling.max_surge, rolling.max_unavailable, replicas, False)
            if replicas > 0 and resolved == (0, 0):
                return None
        seen.append(f"{d.metadata.name}: maxSurge {rolling.max_surge}, maxUnavailable {rolling.max_unavailable} at "
                    f"{', '.join(map(str, sorted(counts[name])))} replicas")
    return ("maxSurge and maxUnavailable never both resolve to 0, where the variant differs, at the replica counts "
            f"the scenario sets ({'; '.join(seen) or 'no rolling Deployment'}; no autoscaler)")


CANNOT = "cannot occur here"
"""How a row of a variant that cannot show on the scenario begins."""

CANNOT_OCCUR: dict[str, Callable[[ClusterModel], str | None]] = {"rollout-fencepost": fenceposts_never_both_zero}
"""Variant → why it cannot occur on a scenario (computed from the model; None: it may)."""


def lane_table(rows: list[UserRow]) -> list[str]:
    """The portfolio's effort for each found variant: its steps (every member; lanes run past the
    answer until they hear of it) and each lane's CPU seconds, the slowest lane's setting the pace."""
    out = ["| variant | lanes | portfolio steps | CPU s per lane | slowest lane |", "|---|---|---|---|---|"]
    for row in rows:
        if row.found and row.lanes:
            cpu = " + ".join(f"{c:.2f}" for c in row.lanes)
            out.append(f"| {row.variant} | {len(row.lanes)} | {row.steps:,} | {cpu} | {max(row.lanes):.2f} |")
    return out


def feastflow_rows(budget: float, workers: int | None = None, only: list[str] | None = None) -> list[UserRow]:
    """Every cluster-level variant on FeastFlow: run unless `variant_vacuity` or `CANNOT_OCCUR`
    says it cannot show there (then the row gives that reason)."""
    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.scenario.variants import VARIANTS
    from kubeprop.properties.explore.catalogue import USER_SCENARIOS
    from kubeprop.properties.vacuity import variant_vacuity

    rows = []
    for variant in (v for v in VARIANTS if v in USER_SCENARIOS and (not only or v in only)):
        model = build_model(load_scenario(None), variant=variant)
        why = variant_vacuity(model) or (CANNOT_OCCUR[variant](model) if variant in CANNOT_OCCUR else None)
        if why is not None:
            rows.append(UserRow(variant, "feastflow", False, False, f"{CANNOT}: {why}", 0.0, 0.0, "", 0, "—"))
        else:
            rows.append(user_row(None, "feastflow", variant, USER_SCENARIOS[variant][1], budget, workers))
        print(rows[-1], flush=True)
    return rows


OPERATORS: tuple[tuple[str, str, str], ...] = (
    ("examples/migration_operator", "scenario.yaml", "one-migration-per-generation"),
    ("examples/migration_operator", "scenario-recorded.yaml", "ready-generations-migrate"),
    ("examples/ledger_operator", "scenario.yaml", "recorded-pods-in-ledger"),
    ("examples/restart_operator", "scenario.yaml", "restarts-counted"),
    ("tests/properties/explore/data/leader", "scenario.yaml", "at-most-one-leader"),
)
"""Users' own controllers with a bug, as (example folder, its scenario, the user's property that
catches it): the migration operator's stale-cache race and its second version's crash between two
writes of one reconcile, the ledger operator's lost update (a write without its resourceVersion),
the restart operator's unobserved state (an edge-triggered count), and a user trial's first operator
(tests/properties/explore/data/leader: two leaders after the controller manager restarted with two
pod keys queued, its own patch not yet in its cache); scenario-fixed.yaml in each folder runs the fix."""


def operator_rows(budget: float, workers: int | None = None) -> list[UserRow]:
    """`kubeprop check` on each of `OPERATORS`, and on the fix at the same budget."""
    root = Path(__file__).resolve().parents[1]
    rows, fixes = [], dict[str, dict[str, Any]]()
    for folder, scenario, prop in OPERATORS:
        where = root / folder
        found = _fresh(where / scenario, "correct", budget, workers, import_path=where)
        if folder not in fixes:
            fixes[folder] = _fresh(where / "scenario-fixed.yaml", "correct", budget, workers, import_path=where)
        caught = found["property"] or found["exit_reason"]
        total = (report_seconds(where / scenario, "correct", found["property"], budget, workers, import_path=where)
                 if found["property"] else 0.0)
        rows.append(UserRow(Path(folder).name, scenario, found["property"] is not None, caught == prop, caught,
                            found["to_find"], total, found["engine"], found["length"], verdict(fixes[folder]),
                            found["steps"], tuple(found["lanes"]), found["continuation"]))
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    from kubeprop.properties.cli.check import MAX_WORKERS
    from kubeprop.properties.cli.flagtypes import int_in
    from kubeprop.properties.explore.catalogue import MORE_USER_SCENARIOS, USER_SCENARIOS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="also write the Markdown tables to this file")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per `kubeprop check` (default 10)")
    parser.add_argument("--feastflow", action="store_true", help="also the variants on FeastFlow")
    parser.add_argument("--prepared", action="store_true", help="also each engine from a prepared start")
    parser.add_argument("--shortest", action="store_true", help="recompute the shortest known counterexamples")
    parser.add_argument("--workers", type=int_in(1, MAX_WORKERS),
                        help="the portfolio's lanes (default: as `kubeprop check`)")
    parser.add_argument("--only", action="append", metavar="VARIANT", choices=sorted(USER_SCENARIOS),
                        help="only this variant (repeatable)")
    parser.add_argument("--one", nargs=3, metavar=("PATH", "VARIANT", "BUDGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_check(args.one[0], args.one[1], float(args.one[2]), args.workers)))
        return 0
    catalogue = DATA.parent / "catalogue"
    if args.shortest:
        for variant, (scenario, _) in USER_SCENARIOS.items():
            SHORTEST[(scenario, variant)] = shortest_known(catalogue / f"{scenario}.yaml", variant)
            print(f"shortest {scenario} {variant}: {SHORTEST[(scenario, variant)]}", flush=True)
            if args.feastflow:
                SHORTEST[("feastflow", variant)] = shortest_known(None, variant)
                print(f"shortest feastflow {variant}: {SHORTEST[('feastflow', variant)]}", flush=True)
        for variant, scenario, _ in MORE_USER_SCENARIOS:
            SHORTEST[(scenario, variant)] = shortest_known(catalogue / f"{scenario}.yaml", variant)
            print(f"shortest {scenario} {variant}: {SHORTEST[(scenario, variant)]}", flush=True)
    load_before = os.getloadavg()
    rows = []
    lanes = "" if args.workers is None else f" --workers {args.workers}"
    for variant, (scenario, caught_by) in USER_SCENARIOS.items():
        if args.only and variant not in args.only:
            continue
        rows.append(user_row(catalogue / f"{scenario}.yaml", scenario, variant, caught_by, args.budget, args.workers))
        print(rows[-1], flush=True)
    for variant, scenario, caught_by in MORE_USER_SCENARIOS:
        if args.only and variant not in args.only:
            continue
        rows.append(user_row(catalogue / f"{scenario}.yaml", scenario, variant, caught_by, args.budget, args.workers))
        print(rows[-1], flush=True)
    b = f"--budget {args.budget:g}{lanes}"
    lines = user_table(rows, f"User scenarios (tests/model/data/catalogue): found first and time to find by `kubeprop "
                             f"check SCENARIO --variant V {b}`; time to report of `kubeprop check SCENARIO "
                             f"--variant V --property P {b}`")
    lines += ["", *lane_table(rows)]
    if not args.only:
        ops = operator_rows(args.budget, args.workers)
        lines += ["", *user_table(ops, f"Users' own controllers (examples/): found first and time to find by "
                                       f"`PYTHONPATH=examples/NAME kubeprop check examples/NAME/scenario.yaml {b}`; "
                                       "time to report of the same with `--property P`",
                                  first="operator", last="the fixed operator, same budget")]
        lines += ["", *lane_table(ops)]
    if args.feastflow:
        ff = feastflow_rows(args.budget, args.workers, args.only)
        lines += ["", *user_table(ff, f"FeastFlow: found first and time to find by `kubeprop check --variant V {b}`; "
                                      f"time to report of `kubeprop check --variant V --property P {b}`")]
        lines += ["", *lane_table(ff)]
    if args.prepared:
        title = "**Prepared start (a state the fair driver reaches) with an action filter, each engine, 60 s budget**"
        lines += ["", title, "", *prepared_rows(60.0)]
    lines += ["", f"Load average (1, 5, 15 min) when the run began: {_load(load_before)}; when it ended: "
              f"{_load(os.getloadavg())} (2 cores, shared)."]
    print("\n".join(lines))
    if args.out:
        _write(args.out, "\n".join(lines))
    return 0


def _load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{a:.1f}" for a in averages)


def prepared_rows(budget: float) -> list[str]:
    """The older table: each engine from the prepared start of each `ENTRIES` entry, with its filter."""
    rows = ["| variant | property | bfs | walk | hypothesis | correct model, bfs at the same bounds |",
            "|---|---|---|---|---|---|"]
    for entry in ENTRIES:
        cells = [_cell(*run_entry(entry, entry.variant, engine, budget)) for engine in ENGINES]
        seconds, clean = run_entry(entry, "correct", "bfs", budget)
        verdict = "VIOLATION" if clean.violation is not None else "clean"
        rows.append(f"| {entry.variant} | {entry.prop} | {' | '.join(cells)} | {verdict}: {clean.exit_reason}, "
                    f"{clean.stats.distinct} states, {seconds:.2f} s |")
        print(rows[-1], flush=True)
    return rows


def _write(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else ""
    marker = "<!-- catalogue-table -->"
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split(marker, 1)[1] if marker in rest else ""
        text = f"{head}{marker}\n{table}\n{marker}{tail}"
    else:
        text += f"\n{marker}\n{table}\n{marker}\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
