"""The enabled-actions cache answers exactly what `actions` answers, on random runs of several
scenarios (and it is used inside `memoised`)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeprop.model.cluster import compose
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.cluster.incremental import EnabledCache, memoised
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Quiesce, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "variants"
MODEL_DATA = DATA.parent


def plain(model: ClusterModel, state: ClusterState) -> tuple[Action, ...]:
    out: list[Action] = []
    for component in compose.COMPONENTS:
        out.extend(component.enabled(model, state))
    return tuple(out)


@pytest.mark.parametrize(("scenario", "parameters", "variant"), [
    (None, {}, None), ("web", {}, None), ("web", {"instantCaches": True}, None), ("db", {}, "sts-split-brain"),
    ("db-restart", {}, "watch-time-travel"), ("tight", {}, "dual-scheduler"), ("restore", {}, None),
    ("restore", {"etcdRestoreMarkCompacted": True}, None),
])
def test_cache_answers_like_actions(scenario: str | None, parameters: dict[str, object], variant: str | None) -> None:
    path = None if scenario is None else DATA / f"{scenario}.yaml"
    model = build_model(load_scenario(path), parameters=parameters or None, variant=variant)
    cache, rng = EnabledCache(model), random.Random(3)
    for _ in range(6):
        state = initial_state(model)
        for _ in range(50):
            enabled = plain(model, state)
            assert cache.actions(state) == enabled
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])


@pytest.mark.parametrize("parameters", [{}, {"instantCaches": True}])
def test_cache_answers_like_actions_under_exit_rules(parameters: dict[str, object]) -> None:
    """`environment.exits` (tests/model/data/exits/batch.yaml): the exits a rule's codes remove and the
    ticks its deadlines hold or shorten, on runs where time passes whenever it may (one time in four
    not) and an exit is drawn only one time in five, so that the deadlines come."""
    model = build_model(load_scenario(MODEL_DATA / "exits" / "batch.yaml"), parameters=parameters or None)
    cache, rng = EnabledCache(model), random.Random(4)
    shortened = 0
    for _ in range(5):
        state = initial_state(model)
        for _ in range(40):
            enabled = plain(model, state)
            assert cache.actions(state) == enabled
            if not enabled:
                break
            ticks = [a for a in enabled if isinstance(a, Tick)]
            shortened += any(t.seconds < model.tick_seconds for t in ticks)
            pool = [a for a in enabled if not isinstance(a, ContainerExit)] if rng.random() < 0.8 else enabled
            state = step(model, state, ticks[0] if ticks and rng.random() < 0.75 else rng.choice(pool or enabled))
    assert shortened or not parameters  # (with lagging caches the runs reach a deadline more rarely)


@pytest.mark.parametrize("path", [
    None, DATA / "web.yaml", DATA / "node-loss.yaml", DATA / "tainted.yaml", DATA / "parked.yaml",
    MODEL_DATA / "hpa" / "linear.yaml", MODEL_DATA / "maintenance" / "drained.yaml",
    MODEL_DATA / "descheduler" / "duplicates.yaml", MODEL_DATA / "catalogue" / "web-rollout.yaml",
    DATA / "overload.yaml", DATA / "overload-max-inflight.yaml",
])
def test_cache_answers_like_actions_on_fair_continuations(path: Path | None) -> None:
    """After some random faults, `Quiesce` and the fair run (what the convergence check follows:
    timers, `Tick`, recoveries), the cached answer equals the plain one at every state."""
    model = build_model(load_scenario(path))
    cache, rng = EnabledCache(model), random.Random(5)
    for _ in range(3):
        state, prefix = initial_state(model), FairPolicy()
        for _ in range(rng.randrange(250)):  # mostly the fair run (pods start), faults in between
            enabled = plain(model, state)
            assert cache.actions(state) == enabled
            if not enabled:
                break
            fair, other = prefix.choose(enabled), [a for a in enabled if not isinstance(a, Quiesce)] or enabled
            act = fair if fair is not None and rng.random() < 0.8 else other[rng.randrange(len(other))]
            prefix.taken(act)
            state = step(model, state, act)
        if not state.quiesced:
            state = step(model, state, Quiesce())
        _assert_along_fair_run(model, cache, state, FairPolicy(recover=rng.random() < 0.5), 150)


@pytest.mark.parametrize(("scenario", "variant"),
                         [("web", None), ("db", "sts-split-brain"), ("tight", "dual-scheduler")])
def test_answers_from_a_predecessor_asked_for_long_before(scenario: str, variant: str | None) -> None:
    """A breadth-first search over a random tree of runs: each state asked for with `near`, what
    `near_answers` said of its predecessor when that was asked — other states asked in between,
    partly answered (without `Tick`) — is answered like `actions`."""
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant)
    cache, rng = EnabledCache(model), random.Random(7)
    layer = [(initial_state(model), None)]
    for _ in range(12):
        following = []
        for state, near in layer:
            enabled = plain(model, state)
            assert cache.actions(state, near=near) == enabled
            here = cache.near_answers(state)
            assert here is not None and here[0] is state
            for act in rng.sample(enabled, min(3, len(enabled))):
                following.append((step(model, state, act), here))
            cache.actions(rng.choice(layer)[0], tick=False)  # another state asked in between
        layer = rng.sample(following, min(12, len(following)))
    assert cache.near_answers(initial_state(model)) is None  # a state not answered last: nothing to say


def _assert_along_fair_run(model: ClusterModel, cache: EnabledCache, state: ClusterState, policy: FairPolicy,
                           steps: int) -> None:
    """The cached answer equals the plain one at every state of `policy`'s run from `state`."""
    for _ in range(steps):
        enabled = plain(model, state)
        assert cache.actions(state) == enabled
        act = policy.choose(enabled)
        if act is None:
            break
        policy.taken(act)
        state = step(model, state, act)


def test_memoised_is_scoped_to_its_model_and_block() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    other = build_model(load_scenario(DATA / "db.yaml"))
    with memoised(model) as cache:
        assert compose.CACHES[-1] is cache
        state = initial_state(model)
        assert compose.actions(model, state) == plain(model, state)
        assert compose.actions(other, initial_state(other)) == plain(other, initial_state(other))
    assert not compose.CACHES


@pytest.mark.parametrize("fault", ["Partition", "CrashNode"])
@pytest.mark.parametrize("path", [None, DATA / "node-loss.yaml", DATA / "tainted.yaml"])
def test_cache_answers_like_actions_while_a_lost_node_is_handled(path: Path | None, fault: str) -> None:
    """A node lost for good after the cluster settled: node lifecycle marks it, taints it and
    evicts its pods (its cache's pods change while its memory and nodes do not)."""
    from kubeprop.model.cluster.drive import settle

    model = build_model(load_scenario(path))
    cache = EnabledCache(model)
    settled = settle(model, initial_state(model)).state
    for lost in (a for a in plain(model, settled) if type(a).__name__ == fault):
        _assert_along_fair_run(model, cache, step(model, step(model, settled, lost), Quiesce()),
                               FairPolicy(recover=False), 300)


def _pairs(model: ClusterModel, rng: random.Random, runs: int = 4, length: int = 60
           ) -> list[tuple[ClusterState, ClusterState]]:
    """(state, successor) along random runs, and random pairs of states of different runs."""
    states: list[ClusterState] = []
    pairs = []
    for _ in range(runs):
        state = initial_state(model)
        for _ in range(length):
            enabled = plain(model, state)
            if not enabled:
                break
            nxt = step(model, state, enabled[rng.randrange(len(enabled))])
            pairs.append((state, nxt))
            states.append(nxt)
            state = nxt
    pairs += [(rng.choice(states), rng.choice(states)) for _ in range(len(states))]
    return pairs


@pytest.mark.parametrize(("scenario", "parameters"), [
    ("web", {}), ("web", {"instantCaches": True}), ("tight", {"schedulerInstances": 2, "leaderElection": False}),
    ("restore", {}), ("node-loss", {}),
])
def test_deps_cover_what_each_key_reads(scenario: str, parameters: dict[str, object]) -> None:
    """`DEPS` is what lets a part keep its answer without computing its key: wherever none of a
    part's tokens changed between two states, its key must be the very same in both."""
    from kubeprop.model.cluster.enabled_reads import changes

    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), parameters=parameters or None)
    cache = EnabledCache(model)
    for before, after in _pairs(model, random.Random(6)):
        changed = changes(before, after)
        for part in cache.parts:
            if part.deps is None or not part.deps.isdisjoint(changed):
                continue
            key_before = part.key_fn(model, before, *part.args)  # type: ignore[misc]
            key_after = part.key_fn(model, after, *part.args)  # type: ignore[misc]
            assert key_before is not None and key_after is not None
            # (a plain `object()` in a key means "no cache": never the same, whatever changed)
            assert all(a is b or (a == b and isinstance(a, bool | int)) or type(a) is object
                       for a, b in zip(key_before, key_after, strict=True)), part.enabled_fn


def test_the_fair_driver_takes_what_it_took_without_the_cache() -> None:
    """`FairPolicy.next_action` asks the cache part by part and stops at the first move never
    taken: the same action as choosing among every enabled action, without any cache."""
    from kubeprop.model.cluster.drive import expected_policy

    model = build_model(load_scenario(MODEL_DATA / "catalogue" / "web-rollout.yaml"))
    rng = random.Random(8)
    with memoised(model):
        policies = (lambda: FairPolicy(max_ticks=100), lambda: expected_policy(100), lambda: FairPolicy(recover=False))
        for make in policies:
            state, policy = initial_state(model), make()
            for _ in range(250):
                enabled = plain(model, state)
                expected = policy.choose([a for a in enabled if type(a).__name__ != "Tick"])
                if expected is None and policy.allow_ticks and policy.ticks < policy.max_ticks:
                    expected = policy.choose(enabled)
                assert policy.next_action(model, state) == expected
                if not enabled:
                    break
                act = expected if expected is not None and rng.random() < 0.9 else rng.choice(enabled)
                policy.taken(act)
                state = step(model, state, act)


def _workload_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """A user's timer that reads a part of the state none of the built-in timers reads: due one
    second on while the workload has steps left."""
    return state.clock + 1 if state.workload_next < 1 else None


def test_a_timer_the_cache_does_not_know_is_asked_in_every_state() -> None:
    """`Tick`'s part keeps its answer only for the timers and guards whose reads `_tick` lists; a
    model with another timer (a user's, reading any part of the state) recomputes it in every state."""
    import attrs

    model = build_model(load_scenario(DATA / "web.yaml"))
    model = attrs.evolve(model, hooks=attrs.evolve(model.hooks, timers=(*model.hooks.timers, _workload_timer)))
    cache, rng = EnabledCache(model), random.Random(5)
    assert any(part.deps is None and part.key_fn is not None and "tick" in part.key_fn.__name__
               for part in cache.parts)
    for _ in range(4):
        state = initial_state(model)
        for _ in range(60):
            enabled = plain(model, state)
            assert cache.actions(state) == enabled
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
