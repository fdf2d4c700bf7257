"""The properties that remember work by the identity of objects (`kubeprop.model.memo`) give
the verdict of their direct definition on every state of random runs: the definitions below are
the checks as they read before the memos (object by object, every state), kept as oracles."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest
from random_runs import random_run_states

from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.validation import validate_create
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import build_node_infos, filter_node_affinity, filter_taint_toleration, pod_key
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties import invariants as inv
from kubeprop.properties import scheduler_decisions as sd
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.registry import CheckResult, Violation, select

VARIANTS = Path(__file__).parents[1] / "model" / "data" / "variants"


def direct_scheduler_decisions(model: ClusterModel, state: ClusterState) -> CheckResult:
    """`scheduler-decisions-sound` judged pod by pod on the state alone."""
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod) and sd._ours(p)]
    nodes = {n.metadata.name: n for n in state.store.list("nodes") if isinstance(n, Node)}
    for pod in pods:
        scheduled = sd._scheduled(pod)
        if scheduled is None or not scheduled[0].startswith("True") or pod.spec.node_name not in nodes:
            continue
        key, node = pod_key(pod), pod.spec.node_name
        fresh = sd.fresh_binding(state, pod)
        if fresh and key in sd._assumed(model, state) and sd._caught_up(model, state, key):
            reason = sd.binding_violation(pod, node, sd._snapshot(model, state))
        elif fresh:
            reason = sd._node_local_violation(pod, nodes[node], scheduled[1], fresh)
        else:
            bound = sd.bound_at(pod)
            reason = sd._node_local_violation(pod, nodes[node], bound, fresh) if bound is not None else None
        if reason:
            return (f"Pod {key} is bound to node {node} (t={scheduled[1]}), violating a hard constraint: {reason}",
                    (f"Pod {key}", f"Node {node}"))
    for pod in pods:
        scheduled = sd._scheduled(pod)
        key = pod_key(pod)
        if scheduled is None or scheduled[0] != "False:Unschedulable" or pod.spec.node_name:
            continue
        if pod.status.nominated_node_name or not sd._parked(model, state, key) or not sd._caught_up(model, state, key):
            continue
        witness = sd.unschedulable_violation(pod, sd._with_nominated(sd._snapshot(model, state), pod))
        if witness:
            return (f"Pod {key} is marked Unschedulable, but a node could take it: {witness}", (f"Pod {key}",))
    return None


def direct_node_not_overcommitted(model: ClusterModel, state: ClusterState) -> CheckResult:
    """Every node's pods grouped as the scheduler's snapshot groups them, each node judged by the
    property's own per-node check (`inv.overcommitted`), with no memo."""
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    for info in build_node_infos(nodes, [p for p in state.store.list("pods") if isinstance(p, Pod)]):
        found = inv.overcommitted(info.node, info.pods)
        if found is not None:
            return found
    return None


def direct_bindings(model: ClusterModel, state: ClusterState) -> CheckResult:
    nodes = {n.metadata.name: n for n in state.store.list("nodes") if isinstance(n, Node)}
    infos = {i.name: i for i in build_node_infos(nodes.values(), ())}
    for pod in [p for p in state.store.list("pods") if isinstance(p, Pod)]:
        info = infos.get(pod.spec.node_name)
        bound_at = sd.bound_at(pod)
        if info is None or bound_at is None:
            continue
        fresh = sd.fresh_binding(state, pod)
        at_bind = build_node_infos([inv._with_taints(info.node, sd.taints_at_binding(info.node, fresh, bound_at))],
                                   ())[0]
        reason = filter_taint_toleration(pod, at_bind) or (filter_node_affinity(pod, at_bind) if fresh else None)
        if reason:
            return f"{inv._name(pod)} is bound to node {info.name}: {reason}", (inv._name(pod), f"Node {info.name}")
    return None


def direct_objects_valid(model: ClusterModel, state: ClusterState) -> CheckResult:
    for _key, obj in state.store.objects.sorted_items():
        errors = validate_create(obj)
        if errors:
            return f"{inv._name(obj)} is invalid: {errors[0]}", (inv._name(obj),)
    return None


DIRECT = {"scheduler-decisions-sound": direct_scheduler_decisions,
          "node-not-overcommitted": direct_node_not_overcommitted,
          "bindings-respect-hard-constraints": direct_bindings,
          "persisted-objects-valid": direct_objects_valid}
VIOLATED = {"scheduler-decisions-sound", "node-not-overcommitted", "bindings-respect-hard-constraints"}
"""What the violating cases below break (no scenario persists an invalid object)."""


def _as_violation(name: str, result: CheckResult) -> Violation | None:
    if result is None:
        return None
    if isinstance(result, tuple):
        return Violation(name, result[0], tuple(result[1]))
    return Violation(name, result)


def _states(model: ClusterModel, seed: int, runs: int, length: int) -> list[ClusterState]:
    return list(random_run_states(model, random.Random(seed), runs, length))


CASES = [
    ("tainted", "scheduler-ignores-taints", {}), ("tainted", "scheduler-ignores-taints", {"instantCaches": True}),
    ("tight", "dual-scheduler", {}), ("parked", None, {}), ("spread", None, {"instantCaches": True}),
    ("web", None, {}),
]


@pytest.mark.parametrize(("scenario", "variant", "parameters"), CASES)
def test_memoised_properties_agree_with_their_direct_definition(scenario: str, variant: str | None,
                                                                parameters: dict[str, object]) -> None:
    model = build_model(load_scenario(VARIANTS / f"{scenario}.yaml"), variant=variant, parameters=parameters)
    props = select(list(DIRECT))
    states = _states(model, 3, 6, 50)
    random.Random(5).shuffle(states)  # out of order: a memo must not depend on the order of states
    for state in states + states[:20]:
        for prop in props:
            assert prop(model, state) == _as_violation(prop.name, DIRECT[prop.name](model, state)), prop.name


def test_the_oracles_see_violations() -> None:
    """The comparison covers violated states too: the dual schedulers overcommit a node (a fresh
    binding Z3 refutes) and the scheduler ignoring taints binds against one on these runs."""
    found = set()
    for scenario, variant, parameters in CASES[:3]:
        model = build_model(load_scenario(VARIANTS / f"{scenario}.yaml"), variant=variant, parameters=parameters)
        for state in _states(model, 3, 6, 50):
            found |= {name for name, fn in DIRECT.items() if fn(model, state) is not None}
    assert found == VIOLATED


def direct_caught_up(model: ClusterModel, state: ClusterState, key: str) -> bool:
    """`scheduler_decisions._caught_up` as it read before the log's index: every event scanned."""
    if model.instant_caches:
        return True
    for instance in model.scheduler_instances:
        informer = state.informers.get(instance)
        if informer is None:
            return False
        for resource in ("pods", "nodes", *sd.volumebinding.watches(model, instance)):
            cache = informer.resources.get(resource)
            if cache is None or cache.stale:
                return False
            for event in state.store.events:
                if event.revision > cache.revision and event.key.resource == resource and (
                        f"{event.key.namespace}/{event.key.name}" != key):
                    return False
    return True


@pytest.mark.parametrize(("scenario", "variant"), [("tight", "dual-scheduler"), ("parked", None), ("db", None)])
def test_caught_up_through_the_index_is_the_scan(scenario: str, variant: str | None) -> None:
    """Whether the schedulers' caches have every event but one pod's, read from the log's index by
    resource (the events after a cache's revision found by bisection), is the scan of the whole log,
    for every stored pod's key and none, on random runs; both answers occur, and an event of the
    pod itself left undelivered is ignored (the key matters in some state)."""
    model = build_model(load_scenario(VARIANTS / f"{scenario}.yaml"), variant=variant)
    counts: dict[str, int] = {"True": 0, "False": 0, "key matters": 0}
    for state in _states(model, 11, 4, 40):
        keys = ["", *(f"{p.metadata.namespace}/{p.metadata.name}" for p in state.store.list("pods"))]
        for key in keys:
            answer = sd._caught_up(model, state, key)
            assert answer == direct_caught_up(model, state, key)
            counts[str(answer)] += 1
        counts["key matters"] += len({sd._caught_up(model, state, key) for key in keys}) > 1
    assert counts["True"] and counts["False"] and counts["key matters"], counts


def _with(state: ClusterState, **parts: object) -> ClusterState:
    """`state` with some fields replaced as they are (no converter: a poison stays one)."""
    copy = attrs.evolve(state)
    for name, value in parts.items():
        object.__setattr__(copy, name, value)
    return copy


MEMO_CASES = CASES[:4]
"""Scenarios with fresh bindings Z3 refutes, bindings against taints, and pods parked Unschedulable."""


@pytest.mark.parametrize(("scenario", "variant", "parameters"), MEMO_CASES)
def test_checker_memo_of_scheduler_decisions_against_the_direct_definition(
        scenario: str, variant: str | None, parameters: dict[str, object]) -> None:
    """`Checker`'s remembered verdict of `scheduler-decisions-sound` (by identity, then by value of
    the parts it reads) is the direct definition's on random states asked out of order, each
    followed by copies that differ in one part the verdict may read — another state's informers
    (the schedulers' caches caught up or not), schedulers (what they hold assumed or parked) or
    components down (a parked pod's scheduler), the clock one tick on (a fresh binding is fresh in
    its own tick only: `fresh-binding-clock`) —, so that a key leaving one out answers a copy with
    the verdict of another state."""
    model = build_model(load_scenario(VARIANTS / f"{scenario}.yaml"), variant=variant, parameters=parameters)
    prop = select(["scheduler-decisions-sound"])[0]
    states = _states(model, 3, 6, 50)
    rng = random.Random(9)
    asked: list[ClusterState] = []
    for state in states:
        other = rng.choice(states)
        asked += [state, _with(state, informers=other.informers), _with(state, schedulers=other.schedulers),
                  _with(state, down=other.down | set(model.scheduler_instances[:1])),
                  _with(state, clock=state.clock + 1)]
    rng.shuffle(asked)
    checker = Checker(model, [prop])
    for state in asked + asked[:40]:
        assert checker.violation(state) == _as_violation(prop.name, direct_scheduler_decisions(model, state))


def _broken(obj: ApiObject) -> ApiObject:
    """`obj` under a name validation refuses (the same key in the map of objects)."""
    return attrs.evolve(obj, metadata=attrs.evolve(obj.metadata, name=obj.metadata.name.upper() + "_"))


@pytest.mark.parametrize("scenario", ["web", "tight"])
def test_invalid_objects_are_named_as_the_direct_definition_names_them(scenario: str) -> None:
    """`persisted-objects-valid` (each object's verdict remembered by its identity) gives the direct
    definition's verdict — which object is named first — on random states asked out of order, each
    followed by copies with one object, or two, made invalid (no scenario persists an invalid object
    by itself, so the other comparisons see only valid maps): a memo that answered an object with
    another's verdict, or a check that judged only some objects or out of key order, fails here."""
    model = build_model(load_scenario(VARIANTS / f"{scenario}.yaml"))
    prop = select(["persisted-objects-valid"])[0]
    states = _states(model, 5, 4, 40)
    rng = random.Random(13)
    asked: list[ClusterState] = []
    for state in states:
        keys = sorted(state.store.objects)
        first, second = sorted(rng.sample(keys, 2))
        broken = state.store.objects.set(first, _broken(state.store.objects[first]))
        both = broken.set(second, _broken(state.store.objects[second]))
        asked += [state, _with(state, store=attrs.evolve(state.store, objects=broken)),
                  _with(state, store=attrs.evolve(state.store, objects=both))]
    rng.shuffle(asked)
    found = 0
    for state in asked:
        direct = _as_violation(prop.name, direct_objects_valid(model, state))
        assert prop(model, state) == direct
        found += direct is not None
    assert found
