"""Footprints are sound: actions they call independent commute and do not enable or disable each
other, on random runs of several scenarios (lagging and instant caches, faults, variants)."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest
from commuting import assert_commute, independent_pairs
from random_runs import random_run_states

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.footprint import EVERYTHING, Footprints, actor, component_of
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import ACTION_TYPES, Deliver, FailNextRequest, Partition, Quiesce, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "variants"

CASES = [
    ("web", {}, None),
    ("web", {"instantCaches": True}, None),
    ("db", {}, None),
    ("tight", {}, "dual-scheduler"),
    ("db-restart", {}, "watch-time-travel"),
]


@pytest.mark.parametrize(("scenario", "parameters", "variant"), CASES)
def test_independent_actions_commute(scenario: str, parameters: dict[str, object], variant: str | None) -> None:
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), parameters=parameters or None, variant=variant)
    footprints, rng = Footprints(model), random.Random(5)
    checked = 0
    for state in random_run_states(model, rng, runs=4, length=40):
        pairs = independent_pairs(footprints, actions(model, state))
        checked += assert_commute(model, state, rng.sample(pairs, min(6, len(pairs))))
    assert checked > 20  # the scenario has independent actions to check


EXITS = Path(__file__).parents[1] / "data" / "exits" / "batch.yaml"


@pytest.mark.parametrize("parameters", [{}, {"instantCaches": True}])
def test_independent_actions_commute_under_exit_rules(parameters: dict[str, object]) -> None:
    """`environment.exits` (tests/model/data/exits/batch.yaml): a `ContainerExit`'s choices read the
    kubelet's cached pod (its labels), and `Tick` waits at a bounded container's deadline and is
    shortened to land on it; an exit called independent of another action commutes with it."""
    model = build_model(load_scenario(EXITS), parameters=parameters or None)
    footprints, rng = Footprints(model), random.Random(4)
    checked = exits = 0
    for state in random_run_states(model, rng, runs=6, length=40):
        pairs = independent_pairs(footprints, actions(model, state))
        mine = [p for p in pairs if any(isinstance(a, ContainerExit) for a in p)]
        exits += assert_commute(model, state, rng.sample(mine, min(3, len(mine))))
        checked += assert_commute(model, state, rng.sample(pairs, min(4, len(pairs))))
    assert exits > 8 and checked > 20  # (with instant caches an exit reads the store: few are independent)
    exit_reads = footprints.of(ContainerExit("worker-1", "default/short-x", "work", 0)).reads
    assert {"cache:kubelet/worker-1", "kubelet:worker-1", "clock"} <= exit_reads
    assert {"cache:kubelet/worker-1", "kubelet:worker-1", "up:kubelet/worker-1", "clock"} <= footprints.of(
        Tick(10)).reads  # the deadline guard's reads


def test_unknown_action_kinds_conflict_with_everything() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    footprints = Footprints(model)

    class Mystery(Quiesce):
        pass

    try:
        assert footprints.of(Mystery()) == EVERYTHING
        assert not footprints.independent(Mystery(), Deliver("kubelet/worker-1", "pods", 3))
    finally:
        ACTION_TYPES.pop("Mystery")


def test_what_is_independent() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    footprints = Footprints(model)
    to_kubelet, to_scheduler = Deliver("kubelet/worker-1", "pods", 3), Deliver("scheduler", "pods", 3)
    assert footprints.independent(to_kubelet, to_scheduler)
    assert not footprints.independent(to_kubelet, Partition("worker-1"))  # the partition breaks that watch
    assert footprints.independent(to_kubelet, Partition("worker-2"))
    assert not footprints.independent(Tick(10), Deliver("controller-manager", "pods", 3))  # wake-ups read that cache
    assert not footprints.independent(Tick(10), to_scheduler)  # the flush of parked pods reads that cache
    assert not footprints.independent(Tick(10), to_kubelet)  # an event in flight holds an empty tick


def test_tick_reads_what_its_guards_read() -> None:
    """`Tick` is enabled only if no guard holds the clock (`queued_work.holds_clock`: a reconcile of
    each queued key; `prompt_work`: the schedulers' work, events in flight, the kubelets' prompt
    work), so its footprint reads all of that; a guard this module does not know makes it
    `EVERYTHING`."""
    model = build_model(load_scenario(DATA / "web.yaml"))
    reads = Footprints(model).of(Tick(10)).reads
    cm = "controller-manager"
    assert {"store", "etcd", "clock", f"armed:{cm}", f"up:{cm}", f"cache:{cm}"} <= reads  # a reconcile's reads
    assert {f"ctl:{c.name}" for c in model.controllers} <= reads  # every queue and memory
    for node in model.nodes:  # deliveries to the kubelets, and their prompt work
        assert {f"cache:kubelet/{node}", f"net:{node}", f"up:kubelet/{node}", f"up:node/{node}",
                f"kubelet:{node}"} <= reads
    assert {f"cache:{s}" for s in model.scheduler_instances} <= reads
    footprints = Footprints(model)
    assert not footprints.independent(Tick(10), FailNextRequest(cm, 500))  # an armed failure turns a stutter into work
    assert footprints.independent(Tick(10), FailNextRequest("kubelet/worker-1", 500))

    def mystery_guard(model: ClusterModel, state: ClusterState) -> bool:
        return False

    guarded = attrs.evolve(model, hooks=attrs.evolve(model.hooks, tick_guards=(*model.hooks.tick_guards,
                                                                               mystery_guard)))
    assert Footprints(guarded).of(Tick(10)) == EVERYTHING


def test_actors_and_components() -> None:
    assert actor(Deliver("kubelet/worker-1", "pods", 3)) == "informer/kubelet/worker-1/pods"
    assert component_of(Deliver("kubelet/worker-1", "pods", 3)) == "kubelet/worker-1"
    assert actor(Tick(10)) == "clock" and component_of(Tick(10)) == ""
    assert actor(Partition("worker-1")) == "fault/Partition/worker-1"


@pytest.mark.parametrize(("scenario", "parameters", "variant"), CASES[:3])
def test_class_numbers_and_independent_of_agree_with_the_footprints(scenario: str, parameters: dict[str, object],
                                                                    variant: str | None) -> None:
    """`independent` and `independent_of` (class numbers, remembered conflicts) answer what
    comparing the two footprints answers, for every pair of actions enabled together, also after
    the memo of classes was cleared."""
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), parameters=parameters or None, variant=variant)
    footprints, fresh, rng = Footprints(model), Footprints(model), random.Random(3)
    state, seen = initial_state(model), set()
    for count in range(60):
        enabled = actions(model, state)
        if not enabled:
            break
        seen.update(enabled)
        if count == 30:
            footprints.classes.clear()
        for b in enabled:
            test = footprints.independent_of(b)
            for a in enabled:
                expected = a != b and not fresh.of(a).conflicts(fresh.of(b))
                assert footprints.independent(a, b) == test(a) == expected, (a, b)
        state = step(model, state, enabled[rng.randrange(len(enabled))])
    assert len(footprints.footprints) < len(seen)  # fewer footprints than actions: one per kind and target


def test_a_node_restart_reads_the_watch_cache_it_lists_from() -> None:
    """With `listFromWatchCache` (variant watch-time-travel) a restarted node's kubelet lists from the
    watch cache (`faults._restart_node` → `informers.fresh_informer` → `list_for`), so `RestartNode`
    and a delivery to the watch cache do not commute: the kubelet lists the older or the newer
    cache. Called independent, the sleep sets never reached "RestartNode, then Deliver" — the time
    travel the variant is about (audit19b). FeastFlow, whose budget has node crashes."""
    from kubeprop.model.scenario.load import feastflow_path
    from kubeprop.model.state.actions import RestartNode

    model = build_model(load_scenario(feastflow_path()), variant="watch-time-travel")
    footprints, rng = Footprints(model), random.Random(0)
    assert "cache:watchcache" in footprints.of(RestartNode("worker-1")).reads
    state, checked = initial_state(model), 0
    for _ in range(40):
        enabled = actions(model, state)
        restarts = [a for a in enabled if isinstance(a, RestartNode)]
        deliveries = [a for a in enabled if isinstance(a, Deliver) and a.component == "watchcache"]
        pairs = [(a, b) for a in deliveries for b in restarts if footprints.independent(a, b)]
        checked += assert_commute(model, state, pairs) + len(restarts) * len(deliveries)
        faults = [a for a in enabled if type(a).__name__ in ("CrashNode", "RestartNode")]
        moves = [a for a in enabled if not isinstance(a, Quiesce)] or enabled
        state = step(model, state, rng.choice(faults) if faults and rng.random() < 0.2 else rng.choice(moves))
    assert checked > 0  # the run met a restart beside a pending delivery to the watch cache
