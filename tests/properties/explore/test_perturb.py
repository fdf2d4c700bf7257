"""Perturbing the fair run: where perturbations go (quiet points, right after a write, among the
effects of the previous one), the held policy, determinism, and what the engine finds."""

from __future__ import annotations

import itertools
from pathlib import Path

import attrs

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, expected_policy, run, settle
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.nodelifecycle import MonitorNodeHealth
from kubeprop.model.kubelet.component import ProbeResult
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, CrashNode, Deliver, Partition, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.explore.around import _Node, _Search
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.node_reach import by_reach, node_order, workloads_on
from kubeprop.properties.explore.perturb import USER, HeldPolicy, Hold, effects, run_perturb
from kubeprop.properties.explore.perturb_placements import (
    Perturbation,
    _Perturb,
    _Run,
    is_perturbation,
    ranked,
    target_of,
)

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"


def _held(*actors: str) -> HeldPolicy:
    return HeldPolicy(**attrs.asdict(expected_policy(), recurse=False), held=frozenset(actors))


def test_a_held_informer_waits_until_only_the_user_or_time_is_left() -> None:
    delivery, reconcile = Deliver("controller-manager", "endpoints", 7), Reconcile("endpoints", "default/web")
    policy = _held(Hold.informer("controller-manager", "endpoints").actor)
    assert policy.choose([delivery, reconcile]) == reconcile  # the fair policy would deliver first
    assert policy.diverged and policy.held
    policy.taken(reconcile)
    assert policy.choose([delivery, UserStep(0)]) == delivery  # released: nothing else is left
    assert not policy.held and not policy.void


def test_a_hold_released_before_it_changed_anything_is_void() -> None:
    policy = _held(Hold.informer("controller-manager", "pods").actor)
    assert policy.choose([Reconcile("endpoints", "default/web"), Tick(10)]) == Reconcile("endpoints", "default/web")
    assert not policy.diverged
    delivery = Deliver("controller-manager", "pods", 3)
    assert policy.choose([delivery, Tick(10)]) == delivery
    assert policy.void  # the run it came from took the same steps


def test_the_user_held_waits_for_time_to_pass_too() -> None:
    policy = _held(USER)
    assert policy.choose([UserStep(0), Tick(10)]) == Tick(10)  # the expected run would take the step
    assert policy.held and policy.diverged
    assert policy.choose([UserStep(0)]) == UserStep(0)
    assert not policy.held


def test_perturbations_and_their_ranks() -> None:
    policy = expected_policy()
    assert is_perturbation(policy, Partition("worker-1")) and is_perturbation(policy, CrashComponent("scheduler"))
    probe = ProbeResult("worker-1", "default/web-1", "web", "readiness", False)
    assert is_perturbation(policy, probe)  # bad luck
    assert not is_perturbation(policy, attrs.evolve(probe, success=True))  # a probe passing is progress
    assert not any(is_perturbation(policy, a) for a in (UserStep(0), Tick(10), Reconcile("endpoints", "a/b")))
    acts = [Partition("worker-1"), Partition("worker-2"), CrashComponent("scheduler"), Partition("worker-3")]
    assert [r for r, _ in ranked(acts, 2)] == [2, 3, 2, 4]  # one of each kind first
    assert target_of(probe) == target_of(attrs.evolve(probe, success=True))
    assert target_of(probe) != target_of(attrs.evolve(probe, pod="default/web-2"))


def test_node_faults_go_first_where_they_reach_workloads_no_earlier_node_holds() -> None:
    """shop.yaml settled: a web replica on worker-1 and on worker-2, the database on worker-3. Every
    node holds one pod; after worker-1 (the web Deployment), worker-3 reaches a workload not yet
    reached (the StatefulSet), worker-2 only the web Deployment again."""
    model = build_model(load_scenario(CATALOGUE / "shop.yaml"))
    state = settle(model, initial_state(model)).state
    on = workloads_on(state)
    assert on["worker-3"] == {("StatefulSet", "default", "db"): 1}
    assert on["worker-1"] == on["worker-2"] == {("Deployment", "default", "web"): 1}  # through its ReplicaSet
    assert node_order(state, ["worker-1", "worker-2", "worker-3"]) == ["worker-1", "worker-3", "worker-2"]
    acts = [Partition("worker-1"), CrashNode("worker-2"), UserStep(0), Partition("worker-2"), Partition("worker-3")]
    assert by_reach(state, acts) == [Partition("worker-1"), Partition("worker-3"), UserStep(0), Partition("worker-2"),
                                     CrashNode("worker-2")]  # each node's partition before its crash


def test_effects_are_the_steps_the_run_it_came_from_did_not_take() -> None:
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    root = _Node(initial_state(model), None, None, 0, 0)
    a, b, c = Reconcile("deployment", "default/web"), Reconcile("replicaset", "default/web-1"), MonitorNodeHealth()

    def node(act: object, depth: int) -> _Node:
        return _Node(root.state, root, act, depth, 0)  # type: ignore[arg-type]

    parent = _Run(None, (), [root, node(a, 1), node(b, 2), node(b, 3)], [], [True] * 4, (), 0, 0)
    at = parent.nodes[1]
    perturbed = [node(Partition("worker-1"), 2), node(b, 3), node(c, 4), node(b, 5), node(b, 6)]
    assert effects(perturbed, parent, at) == [True, False, True, False, True]  # b twice after `at`, not thrice


def test_a_partition_then_a_crash_between_a_node_and_its_pods_shows_nodelifecycle_crash() -> None:
    model = build_model(load_scenario(CATALOGUE / "web.yaml"), variant="nodelifecycle-crash")
    config = EngineConfig(budget_seconds=60.0, shrink=False)
    found = run_perturb(model, initial_state(model), config)
    assert found.engine == "perturb" and found.violation is not None
    assert found.violation.property == "pods-on-unknown-nodes-not-ready"
    at = found.trace.index(CrashComponent("controller-manager"))
    assert isinstance(found.trace[at - 1], MonitorNodeHealth)  # right after it marked the node Unknown
    assert any(isinstance(a, Partition) for a in found.trace[:at])
    assert "Partition" in found.stats.note and "CrashComponent" in found.stats.note
    run(model, initial_state(model), found.trace)
    again = run_perturb(model, initial_state(model), config)
    assert (again.violation, again.trace, again.stats.note) == (found.violation, found.trace, found.stats.note)


def test_a_probe_flap_with_the_writer_behind_its_own_write_shows_endpoints_stale_cache() -> None:
    model = build_model(load_scenario(CATALOGUE / "web-flap.yaml"), variant="endpoints-stale-cache")
    found = run_perturb(model, initial_state(model), EngineConfig(budget_seconds=60.0, shrink=False))
    assert found.violation is not None and found.violation.property in ("endpoints-ready-pods",
                                                                         "endpoints-match-ready-pods")
    assert "informer/controller-manager/endpoints held back" in found.stats.note
    run(model, initial_state(model), found.trace)
    correct = build_model(load_scenario(CATALOGUE / "web-flap.yaml"), parameters={"instantCaches": False})
    clean = run_perturb(correct, initial_state(correct), EngineConfig(budget_seconds=60.0, shrink=False))
    assert (clean.exit_reason, clean.violation) == ("runs-done", None)


def test_the_correct_model_is_clean_where_the_variant_is_found() -> None:
    model = build_model(load_scenario(CATALOGUE / "db.yaml"))
    clean = run_perturb(model, initial_state(model), EngineConfig(budget_seconds=60.0, shrink=False, deviations=2))
    assert (clean.exit_reason, clean.violation) == ("runs-done", None)
    assert clean.stats.runs > 1
    variant = build_model(load_scenario(CATALOGUE / "db.yaml"), variant="sts-split-brain")
    found = run_perturb(variant, initial_state(variant), EngineConfig(budget_seconds=60.0, shrink=False, deviations=2))
    assert found.violation is not None and found.violation.property == "one-running-pod-per-identity"


def test_runs_are_taken_by_increasing_discrepancy(monkeypatch: object) -> None:
    from kubeprop.properties.explore import perturb

    taken: list[tuple[int, tuple[int, ...]]] = []
    original = perturb._perturbed

    def recording(search, slicer, state, candidate, discrepancy, path):  # type: ignore[no-untyped-def]
        taken.append((discrepancy, path))
        return (yield from original(search, slicer, state, candidate, discrepancy, path))

    monkeypatch.setattr(perturb, "_perturbed", recording)  # type: ignore[attr-defined]
    model = build_model(load_scenario(CATALOGUE / "db.yaml"))
    perturb.run_perturb(model, initial_state(model), EngineConfig(budget_seconds=60.0, shrink=False, deviations=2))
    assert len(taken) > 10
    assert [d for d, _ in taken] == sorted(d for d, _ in taken)
    for (d1, p1), (d2, p2) in itertools.pairwise(taken):
        assert d1 < d2 or p1 < p2  # depth-first (path order) within one discrepancy


def test_a_run_cut_at_a_known_state_keeps_its_placements(monkeypatch: object) -> None:
    """A perturbed run that reaches a state an earlier run reached stops stepping there, but its
    placements go on along the earlier run from that state (`perturb._merge`): they are taken,
    once each, and the search with them explores more runs and states than without."""
    from kubeprop.properties.explore import perturb

    on_tail: list[tuple[int, object, object]] = []
    everything: list[tuple[int, object, object]] = []
    original = perturb._perturbed

    def recording(search, slicer, state, candidate, discrepancy, path):  # type: ignore[no-untyped-def]
        parent, key = candidate.parent, (id(candidate.at), candidate.act, candidate.keep)
        if parent.tail is not None and any(n is candidate.at for n in parent.nodes[parent.tail:]):
            assert parent.nodes[parent.tail].state in search.seen
            on_tail.append(key)
            assert key not in everything  # not placed again where an earlier run placed it
        everything.append(key)
        return (yield from original(search, slicer, state, candidate, discrepancy, path))

    monkeypatch.setattr(perturb, "_perturbed", recording)  # type: ignore[attr-defined]
    model = build_model(load_scenario(CATALOGUE / "db.yaml"))
    config = EngineConfig(budget_seconds=60.0, shrink=False, deviations=2)
    merged = perturb.run_perturb(model, initial_state(model), config)
    assert merged.exit_reason == "runs-done" and len(on_tail) >= 5
    monkeypatch.setattr(perturb, "_merge", lambda *args: None)  # type: ignore[attr-defined]
    cut = perturb.run_perturb(model, initial_state(model), config)
    assert cut.exit_reason == "runs-done"
    assert merged.stats.runs > cut.stats.runs and merged.stats.distinct > cut.stats.distinct


def test_a_known_run_goes_on_from_the_first_node_that_reached_a_state() -> None:
    from kubeprop.properties.explore.perturb_placements import _Known

    model = build_model(load_scenario(CATALOGUE / "db.yaml"))
    states = [initial_state(model)]
    for _ in range(3):
        states.append(step(model, states[-1], actions(model, states[-1])[0]))
    a, b, c = (_Node(s, None, None, i, 0) for i, s in enumerate(states[:3]))
    known = _Known()
    known.add(a, None, ())
    known.add(b, a, ("x",))
    known.add(c, b, ("x",))
    known.add(_Node(states[1], a, None, 1, 1), a, ("y",))  # a later node of a known state
    assert known.continuation(states[1], 10) == [b, c]
    assert known.continuation(states[0], 2) == [a, b]
    assert known.continuation(states[3], 10) == []
    assert known.chains[b] == ("x",)


def _partitioned_run(model: ClusterModel, perturb: _Perturb, point: int = -2) -> _Run:
    """web.yaml's fair run, then worker-1 cut off at its quiet point `point` (-2: where the last
    user step is due, -1: where it ends) and the fair policy on to the end: the perturbed run, its
    quiet points and its effects."""
    def follow(node: _Node, policy: FairPolicy) -> tuple[list[_Node], list[_Node]]:
        nodes, quiet = [node], []
        while (act := policy.next_action(model, node.state)) is not None:
            if isinstance(act, UserStep):
                quiet.append(node)
            policy.taken(act)
            node = _Node(step(model, node.state, act), node, act, node.depth + 1, node.deviations)
            nodes.append(node)
        return nodes, [*quiet, node]

    fair, fair_quiet = follow(_Node(initial_state(model), None, None, 0, 0), expected_policy())
    parent = _Run(None, (), fair, fair_quiet, [True] * len(fair), (), 0, 0)
    at, cut = fair_quiet[point], Partition("worker-1")
    policy = perturb.search.replayed(at)
    policy.taken(cut)
    nodes, quiet = follow(_Node(step(model, at.state, cut), at, cut, at.depth + 1, 1), policy)
    return _Run(cut, (), nodes, quiet, effects(nodes, parent, at), (), 1, 1)


def _placed(point: int) -> tuple[_Run, list[tuple[int, _Node, Perturbation]]]:
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    config = EngineConfig(budget_seconds=60.0, shrink=False)
    with memoised(model) as cache:
        perturb = _Perturb(_Search(model, config, Checker(model, config.safety()), None, cache))
        run = _partitioned_run(model, perturb, point)
        return run, list(perturb.placements(run))


def _marked(run: _Run) -> _Node:
    """The node after the node lifecycle controller's write among `run`'s effects (worker-1 Unknown)."""
    return next(n for n, e in zip(run.nodes, run.effects, strict=True)
                if e and isinstance(n.action, MonitorNodeHealth) and n.parent is not None
                and n.state.store.revision > n.parent.state.store.revision)


def test_a_crash_right_after_each_actors_first_timed_write_among_a_faults_effects_comes_first() -> None:
    """Worker-1 cut off where the last user step is due (web.yaml): the node lifecycle controller's
    first effect marks it Unknown, and the controller manager crashed right there (Sieve's
    intermediate state on the fault's effect, before it marks the pods) is ranked 0 and taken right
    after the first quiet point's placements of that rank — not after every quiet point's (rank 2
    before). One such crash per
    actor that wrote among the effects, in run order, ranked among themselves; each placed once."""
    run, placed = _placed(-2)
    keys = [(id(node), act) for _, node, act in placed]
    assert len(keys) == len(set(keys))
    marked = _marked(run)
    ranks = {(id(node), act): rank for rank, node, act in placed}
    assert ranks[(id(marked), CrashComponent("controller-manager"))] == 0
    at_quiet = [i for i, (rank, node, _) in enumerate(placed) if node is run.quiet[0] and rank == 0]
    assert at_quiet and placed[max(at_quiet) + 1][1:] == (marked, CrashComponent("controller-manager"))  # right after
    firsts = [(rank, node) for rank, node, act in placed if isinstance(act, CrashComponent)
              and rank < len(run.quiet)]
    assert [n.depth for _, n in firsts] == sorted(n.depth for _, n in firsts)


def test_effects_before_a_runs_first_quiet_point_keep_their_rank() -> None:
    """Worker-1 cut off where web.yaml's fair run ends: the run's only quiet point is its own end,
    after every effect, so the crash after the node lifecycle controller's write keeps its rank
    among the effects, after that quiet point's recoveries (`_Perturb._first_writes`)."""
    run, placed = _placed(-1)
    assert run.quiet == [run.nodes[-1]]
    ranks = {(id(node), act): rank for rank, node, act in placed}
    assert ranks[(id(_marked(run)), CrashComponent("controller-manager"))] >= 1
    assert min(rank for rank, node, _ in placed if node is run.quiet[0]) == 0
