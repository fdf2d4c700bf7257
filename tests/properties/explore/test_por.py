"""Partial-order reduction is sound: on small scenarios the full and the reduced breadth-first
searches reach the same states and give every property the same verdict, and the reduced one
takes fewer transitions where actions are independent."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import is_progress
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, Report, bfs
from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER, REPLICASET_RACE
from kubeprop.properties.explore.engine import ActionFilter, EngineConfig, allow, run_bfs
from kubeprop.properties.explore.incremental import parts_function
from kubeprop.properties.explore.por import reduced_bfs, reduced_bfs_steps
from kubeprop.properties.registry import Property, select

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"

# (scenario, variant, parameters, filter, depth)
CASES: dict[str, tuple[str, str, dict[str, object], ActionFilter | None, int]] = {
    "replicaset race": ("web", "rs-no-expectations", {"instantCaches": False}, REPLICASET_RACE, 7),
    "dual scheduler": ("tight", "dual-scheduler", {}, DUAL_SCHEDULER, 9),
    "database, every action": ("db", "correct", {}, None, 4),
    "web, every action": ("web", "correct", {"instantCaches": True}, None, 4),
    "partitioned database": ("db", "sts-split-brain", {"instantCaches": True},
                             allow("Partition", "Reconcile", "Schedule", "Bind", "StartPod", "Deliver"), 4),
}


def full_states(model: ClusterModel, start: ClusterState, flt: ActionFilter | None, depth: int) -> set[ClusterState]:
    """Every state within `depth` actions of `start` (a plain breadth-first search)."""
    seen, layer = {start}, [start]
    for _ in range(depth):
        following = []
        for state in layer:
            for act in actions(model, state):
                if flt is None or flt(act):
                    nxt = step(model, state, act)
                    if nxt not in seen:
                        seen.add(nxt)
                        following.append(nxt)
        layer = following
    return seen


def reduced_states(model: ClusterModel, start: ClusterState, flt: ActionFilter | None, depth: int | None,
                   properties: tuple[Property, ...] = (), ample: bool = False) -> set[ClusterState]:
    return reduced_run(model, start, flt, depth, properties, ample)[0]


def reduced_run(model: ClusterModel, start: ClusterState, flt: ActionFilter | None, depth: int | None,
                properties: tuple[Property, ...] = (), ample: bool = False) -> tuple[set[ClusterState], Report]:
    """The states `reduced_bfs_steps` reaches and its report (with `ample`: `reduced_bfs`'s search, which
    has ample sets on; the states come from the same run)."""
    seen: set[ClusterState] = set()
    gen = reduced_bfs_steps(model, start, properties, Bounds(max_depth=depth), flt, visit=seen.add, ample_sets=ample)
    next(gen)
    with pytest.raises(StopIteration) as ended:
        gen.send(None)
    report: Report = ended.value.value
    return seen, report


@pytest.mark.parametrize("case", list(CASES))
def test_sleep_sets_reach_the_same_states(case: str) -> None:
    scenario, variant, parameters, flt, depth = CASES[case]
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)
    start = initial_state(model)
    assert reduced_states(model, start, flt, depth) == full_states(model, start, flt, depth)


EXITS = Path(__file__).parents[2] / "model" / "data" / "exits" / "batch.yaml"


def _near_a_deadline(model: ClusterModel) -> ClusterState:
    """A state of tests/model/data/exits/batch.yaml from which `Tick` is shortened to land on the
    deadline of the running container `work` (`environment.exits`): the run a user expects up to
    `work`'s start (Job `free`'s container left running: its active deadline is a timer), then
    time passing while the control plane has nothing to do."""
    state = initial_state(model)
    for _ in range(400):
        enabled = actions(model, state)
        ticks = [a for a in enabled if isinstance(a, Tick)]
        if ticks and ticks[0].seconds < model.tick_seconds:
            return state
        running = any(isinstance(a, ContainerExit) and a.container == "work" for a in enabled)
        moves = [a for a in enabled if is_progress(a) and not isinstance(a, (ContainerExit, Tick))
                 and not (running and isinstance(a, UserStep))]
        prep = [a for a in enabled if isinstance(a, ContainerExit) and a.container == "prep" and a.success]
        state = step(model, state, (moves or prep or ticks)[0])
    raise AssertionError("no tick landed on a deadline")


def test_sleep_sets_reach_the_same_states_around_an_exit_deadline() -> None:
    """Where a `ContainerExit`'s choices read the rule and `Tick` waits for a bounded container, the
    reduced search reaches the full one's states (faults, exits, ticks, the kubelet's work)."""
    model = build_model(load_scenario(EXITS), parameters={"instantCaches": True})
    start = _near_a_deadline(model)
    flt = allow("Tick", "ContainerExit", "SyncPodStatus", "Reconcile", "CrashComponent", "RestartComponent",
                "RestartContainer", "StartPod")
    full = full_states(model, start, flt, 5)
    assert any(not any(isinstance(a, Tick) for a in actions(model, s)) and s.clock > start.clock for s in full)
    assert reduced_states(model, start, flt, 5) == full


@pytest.mark.parametrize("case", ["replicaset race", "dual scheduler", "partitioned database"])
def test_every_property_gets_the_same_verdict(case: str) -> None:
    scenario, variant, parameters, flt, depth = CASES[case]
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)
    start = initial_state(model)
    for prop in select(kind="safety"):
        full = bfs(model, start, [prop], Bounds(max_depth=depth), action_filter=flt)
        reduced = reduced_bfs(model, start, [prop], Bounds(max_depth=depth), action_filter=flt)
        assert (full.violation is None) == (reduced.violation is None), prop.name
        assert reduced.stats.distinct <= full.stats.distinct
        if full.violation is None:
            assert reduced.stats.distinct == full.stats.distinct and reduced.exit_reason == full.exit_reason


def test_reduction_takes_fewer_transitions_and_finds_the_same_bug() -> None:
    model = build_model(load_scenario(DATA / "tight.yaml"), variant="correct")
    start = initial_state(model)
    config = EngineConfig(max_depth=30, action_filter=DUAL_SCHEDULER, budget_seconds=None,
                          properties=("node-not-overcommitted",))
    full = run_bfs(model, start, attrs.evolve(config, reduction=False))
    reduced = run_bfs(model, start, config)
    assert (full.exit_reason, reduced.exit_reason) == ("exhausted", "exhausted")
    assert reduced.stats.distinct == full.stats.distinct and reduced.stats.steps < full.stats.steps
    buggy = build_model(load_scenario(DATA / "tight.yaml"), variant="dual-scheduler")
    found = run_bfs(buggy, initial_state(buggy), config)
    assert found.violation is not None and found.violation.property == "node-not-overcommitted"


# --- ample (persistent) sets: exhausted spaces, compared on what the properties read -------------

TAINTED_LAGGING = ("tainted", "correct", {"instantCaches": False}, allow("Reconcile", "Schedule", "Bind", "Deliver"))
"""Lagging caches, every delivery: the kubelets' pod deliveries commute with the control plane,
so ample sets prune states here (about 8,000 distinct states in full)."""
AMPLE_CASES: list[tuple[str, tuple[str, str, dict[str, object], ActionFilter]]] = [
    ("bindings-respect-hard-constraints", ("tight", "dual-scheduler", {}, DUAL_SCHEDULER)),
    ("node-not-overcommitted", ("tight", "dual-scheduler", {}, DUAL_SCHEDULER)),
    *((name, ("tainted", "scheduler-ignores-taints", {"instantCaches": True}, allow("Reconcile", "Schedule", "Bind")))
      for name in ("one-running-pod-per-identity", "resource-versions-monotonic",
                   "bindings-respect-hard-constraints", "node-not-overcommitted")),
    pytest.param("one-running-pod-per-identity", TAINTED_LAGGING, marks=pytest.mark.slow),  # type: ignore[list-item]
    pytest.param("resource-versions-monotonic", TAINTED_LAGGING, marks=pytest.mark.slow),  # type: ignore[list-item]
]


def visible(states: set[ClusterState], properties: tuple[Property, ...]) -> set[tuple[object, ...]]:
    """The states as the properties see them: the parts each reads."""
    parts = parts_function(tuple(dict.fromkeys(name for p in properties for name in p.reads or ())))
    assert parts is not None
    return {parts(s) for s in states}


def _model(case: tuple[str, str, dict[str, object], ActionFilter]) -> tuple[ClusterModel, ClusterState]:
    scenario, variant, parameters, _ = case
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)
    return model, initial_state(model)


@pytest.mark.parametrize(("name", "case"), AMPLE_CASES)
def test_ample_sets_keep_every_verdict_and_every_visible_state(
        name: str, case: tuple[str, str, dict[str, object], ActionFilter]) -> None:
    model, start = _model(case)
    flt, props = case[3], tuple(select([name]))
    full = bfs(model, start, props, Bounds(), action_filter=flt)
    with_ample, reduced = reduced_run(model, start, flt, None, props, ample=True)  # `reduced_bfs`'s search
    assert (full.violation is None) == (reduced.violation is None)
    if full.violation is not None:
        assert reduced.violation is not None and reduced.violation.property == full.violation.property
        return
    assert full.exit_reason == reduced.exit_reason == "exhausted"
    assert visible(with_ample, props) == visible(reduced_states(model, start, flt, None, props), props)


@pytest.mark.slow
def test_ample_sets_prune_states_where_little_is_visible() -> None:
    model, start = _model(TAINTED_LAGGING)
    props = tuple(select(["one-running-pod-per-identity"]))
    sleep_only = reduced_states(model, start, TAINTED_LAGGING[3], None, props)
    both = reduced_states(model, start, TAINTED_LAGGING[3], None, props, ample=True)
    assert both < sleep_only


def test_no_ample_reduction_with_convergence_or_an_unknown_reader() -> None:
    from kubeprop.properties.explore.ample import AmpleSets, visible_tokens

    model = build_model(load_scenario(DATA / "tainted.yaml"))
    assert visible_tokens(select(["workload-steps-succeed"])) == frozenset({"workload"})
    assert visible_tokens([attrs.evolve(select(["node-not-overcommitted"])[0], reads=None)]) is None
    assert not AmpleSets(model, tuple(select(["node-not-overcommitted"])), convergence=True).enabled
    assert AmpleSets(model, tuple(select(["node-not-overcommitted"])), convergence=False).enabled


def test_reduced_trace_is_rebuilt_by_replay_and_is_shortest() -> None:
    """The reduced search keeps only (parent number, index among the filtered enabled actions) per
    state and rebuilds a counterexample by replaying those indices: the trace it reports is as
    short as the full search's and, stepped from the start, ends in a violating state."""
    model = build_model(load_scenario(DATA / "tight.yaml"), variant="dual-scheduler")
    start = initial_state(model)
    props = select(names=["node-not-overcommitted"])
    full = bfs(model, start, props, Bounds(max_depth=30), action_filter=DUAL_SCHEDULER)
    reduced = reduced_bfs(model, start, props, Bounds(max_depth=30), action_filter=DUAL_SCHEDULER)
    assert full.violation is not None and reduced.violation is not None
    assert len(reduced.trace) == len(full.trace) > 3
    state = start
    for act in reduced.trace:
        assert DUAL_SCHEDULER(act) and act in actions(model, state)
        state = step(model, state, act)
    assert props[0](model, state) == reduced.violation


def test_a_budget_spent_before_the_search_began_checks_nothing() -> None:
    """As the plain BFS: `kubeprop gate --budget 1e-9` must see a search that took no step."""
    model, start = _model(("web", "correct", {"instantCaches": True}, None))
    report = reduced_bfs(model, start, select(None), Bounds(budget_seconds=0.0))
    assert report.exit_reason == "time-bound"
    assert (report.stats.states, report.stats.distinct, report.stats.depth) == (0, 0, 0)


def test_independence_masks_match_the_footprints_pair_by_pair() -> None:
    """The sleep sets' independence, as a bit mask per numbered action extended as actions are
    numbered, is `Footprints.independent` for every pair (masks asked for early, then later)."""
    from kubeprop.properties.explore.incremental import Checker
    from kubeprop.properties.explore.por import _Search

    model, state = _model(("web", "correct", {"instantCaches": True}, None))
    search = _Search(model, Checker(model, ()), (), None, None, True, None)
    rng = random.Random(3)
    for _ in range(60):
        enabled = actions(model, state)
        for act in enabled:
            search.actions.number(act)
        search._independent_of(search.actions.number(rng.choice(enabled)))
        state = step(model, state, rng.choice(enabled))
    items = search.actions.items
    assert len(items) > 30
    for i, act in enumerate(items):
        mask = search._independent_of(i)
        assert [mask >> j & 1 == 1 for j in range(len(items))] == [
            search.footprints.independent(act, other) for other in items]


def test_the_closure_over_bit_masks_is_the_stubborn_set_closure() -> None:
    """`AmpleSets._closure` (bit masks) reaches what a plain worklist over the conflict and enabler
    lists reaches, for every seed and several sets of live representatives."""
    from kubeprop.properties.explore.ample import AmpleSets

    model = build_model(load_scenario(None))
    # built-in properties by name: `select(kind="safety")` would also hold what other tests registered
    ample = AmpleSets(model, select(["node-not-overcommitted", "one-running-pod-per-identity"]), False)
    assert ample.enabled
    n = len(ample.reps)
    rng = random.Random(5)
    patterns = [bytes([1] * n)] + [bytes(rng.random() < 0.7 for _ in range(n)) for _ in range(6)]

    def reference(seed: int, successors: list[frozenset[int]]) -> set[int]:
        """A plain worklist over sets: `successors[i]`, i's conflicts and enablers that are live."""
        reached, work = {seed}, [seed]
        while work:
            new = successors[work.pop()] - reached
            reached |= new
            work.extend(new)
        return reached

    assert n > 20
    for alive in patterns:
        live = {j for j in range(n) if alive[j]}
        successors = [frozenset((*ample.conflicts[i], *ample.enablers[i])) & live for i in range(n)]
        for seed in range(n):
            mask = ample._closure(seed, alive)
            assert {i for i in range(n) if mask >> i & 1} == reference(seed, successors)


REDUCED_DEPTH = Path(__file__).parent / "data" / "reduced-depth" / "scenario.yaml"


def test_under_a_depth_bound_ample_sets_may_reach_a_state_only_deeper_and_say_so() -> None:
    """Ample sets keep every visible state reachable, not its depth (trial 8, M1): at the start of
    reduced-depth/scenario.yaml the ample set of a property reading only the workload is {Quiesce},
    so the user's first step, one action from the start, is two deep in the reduced search. Cut at
    depth 1 the reduced search holds where the full one finds the violation, and its stats say it
    narrowed a state (`narrowed`: what `kubeprop check` warns of); one level deeper it finds it."""
    from kubeprop.properties.registry import as_property

    prop = as_property("workload-not-started", "s", "u", "safety",
                       lambda m, s: "started" if s.workload_next else None, reads=("workload_next",))
    model = build_model(load_scenario(REDUCED_DEPTH))
    start = initial_state(model)

    def search(depth: int, reduction: bool) -> tuple[str, int, int]:
        result = run_bfs(model, start, EngineConfig(max_depth=depth, properties=(prop,), reduction=reduction,
                                                    budget_seconds=None, shrink=False))
        return str(result.exit_reason), result.stats.narrowed, len(result.trace)

    assert search(1, reduction=False) == ("violation", 0, 1)
    assert search(1, reduction=True) == ("depth-bound", 1, 0)
    assert search(2, reduction=True) == ("violation", 1, 2)
    from kubeprop.properties.explore.bfs import run_to_end

    sleep_only = run_to_end(reduced_bfs_steps(model, start, (prop,), Bounds(max_depth=1), ample_sets=False))
    assert sleep_only.exit_reason == "violation" and len(sleep_only.trace) == 1  # sleep sets keep depths
