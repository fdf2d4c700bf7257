"""A kubelet's enabled actions are remembered across the clock while no time of its node comes
(`clock_window`): within `[clock, changes_at)` the node's actions are the same at every clock, and the
enabled-actions cache answers what the plain `actions` does for states whose clock moved within and
beyond the window, forwards and back."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest
from random_runs import mostly_fair_run, plain_actions

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.evolve import evolve
from kubeprop.model.kubelet.clock_window import changes_at
from kubeprop.model.kubelet.component import _in_sync, node_enabled
from kubeprop.model.kubelet.local import cached_pods
from kubeprop.model.scenario.load import feastflow_path, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState

KUBELET = Path(__file__).resolve().parents[1] / "data" / "kubelet"
SCENARIOS = (
    feastflow_path(), KUBELET / "clock-window.yaml", KUBELET / "liveness.yaml", KUBELET / "startup" / "scenario.yaml",
    KUBELET / "deadline" / "scenario.yaml", KUBELET / "missing-config" / "scenario.yaml",
    KUBELET / "missing-volume" / "scenario.yaml", KUBELET / "pressure" / "mixed.yaml",
    KUBELET / "pressure" / "disk.yaml", KUBELET / "sidecar-termination" / "scenario.yaml",
)
"""Probes (readiness, liveness, startup), kills and their deadlines, back-offs, active deadlines,
configuration and mount retries, pressure conditions ending."""
NEAR = 40
"""Every clock this far past a state's is compared (probe periods and the tick are 10 s)."""


def _states(model: ClusterModel, seed: int, length: int) -> list[ClusterState]:
    """A run that follows the fair policy mostly (so the clock moves on) with random steps; the
    user's steps wait for the first half (a ConfigMap or a volume's object created after the pod
    failed to start: the retries then find it)."""
    return list(mostly_fair_run(model, random.Random(seed), length, 0.75,
                                allow=lambda i, a: i >= length // 2 or not isinstance(a, UserStep)))


def _clocks(state: ClusterState, until: int | float, rng: random.Random, near: int) -> list[int]:
    """Clocks within the window: every one of the first `near`, its last, and a few at random."""
    end = until if until != math.inf else state.clock + 100_000
    first = range(state.clock, min(int(end), state.clock + near))
    return sorted({*first, int(end) - 1, *(rng.randrange(state.clock, int(end)) for _ in range(3))})


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.parent.name if p.name == "scenario.yaml" else p.stem)
def test_a_nodes_actions_stay_the_same_within_its_window(path: Path) -> None:
    rng, windows = random.Random(7), 0
    model = build_model(load_scenario(path))
    feast = path == feastflow_path()  # (no probes: the windows never end there; one run)
    for seed in (1,) if feast else (1, 2):
        for reached in _states(model, seed=seed, length=50 if feast else 80):
            # (and the state as it was a little earlier, at any earlier clock, and at the run's start:
            # a retry or a probe due within its window)
            earlier = tuple(evolve(reached, clock=min(reached.clock, clock)) for clock in (
                max(0, reached.clock - rng.randrange(1, NEAR)), rng.randrange(0, reached.clock + 1),
                0))
            for state, node in itertools.product((reached, *earlier), sorted(model.nodes)):
                until = changes_at(model, state, node)
                assert until > state.clock
                direct = tuple(node_enabled(model, state, node))
                for clock in _clocks(state, until, rng, NEAR if state is reached else NEAR // 3):
                    moved = evolve(state, clock=clock)
                    assert tuple(node_enabled(model, moved, node)) == direct, (node, state.clock, clock, until)
                windows += until != math.inf
                if state is reached:
                    _assert_sync_ignores_the_clock(model, state, node, rng)
    assert windows or feast  # the runs reach probes, deadlines or retries to come


def test_the_cache_answers_like_actions_as_the_clock_moves() -> None:
    """States of random runs asked again with their clock moved inside and past each node's window, in
    a shuffled order (forwards and back), through one cache: the cache's answers are `actions`'."""
    rng = random.Random(3)
    for path in SCENARIOS:
        model = build_model(load_scenario(path))
        cache = EnabledCache(model)
        asked: list[ClusterState] = []
        for state in _states(model, seed=11 + len(str(path)), length=60)[::4]:
            ends = [changes_at(model, state, node) for node in sorted(model.nodes)]
            times = {state.clock, state.clock + 1, *(int(t) for t in ends if t != math.inf),
                     *(int(t) - 1 for t in ends if t != math.inf)}
            asked += [state, *(evolve(state, clock=t) for t in sorted(times))]
        chunks = [asked[i:i + 5] for i in range(0, len(asked), 5)]
        rng.shuffle(chunks)
        for chunk in chunks:
            for state in chunk:
                assert cache.actions(state) == plain_actions(model, state), (path.name, state.clock)


def _assert_sync_ignores_the_clock(model: ClusterModel, state: ClusterState, node: str, rng: random.Random) -> None:
    """Whether a pod's status is in sync (`component._in_sync`, remembered without the clock) is the
    same at any clock."""
    cached, runtimes = cached_pods(model, state, node), state.kubelets.get(node)
    for key, runtime in () if runtimes is None else runtimes.pods.items():
        pod = cached.get(key)
        if pod is not None:
            clocks = (0, state.clock, state.clock + 1, state.clock + rng.randrange(1, 1_000))
            assert len({_in_sync(pod, runtime, clock) for clock in clocks}) == 1, (node, key)
