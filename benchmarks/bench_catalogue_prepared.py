"""The catalogue benchmark's older table (`bench_catalogue.py --prepared`): each engine (BFS,
walks, Hypothesis) from a state the fair driver prepared, with an action filter (`ENTRIES`), and the
correct model by BFS at the same bounds.

Imported by `bench_catalogue.py` (and `DATA` by `bench_catalogue_steps.py` through it); imports
kubeprop only, no other benchmark script.
"""

from __future__ import annotations

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
