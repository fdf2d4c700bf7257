"""The remembered convergence verdicts (`convergence.VERDICTS`) change when a state is judged,
never what it is judged to be: on random walks (faults included, on the correct model and on
variants whose convergence properties fail) the verdict with the memo, judged once and again, is
the one judged afresh, message included."""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, continuations
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import feastflow_path, load_scenario
from kubeprop.model.state.actions import CrashNode, Quiesce
from kubeprop.model.state.cluster import ClusterModel, ClusterState, etcd_available
from kubeprop.properties.convergence import (
    VERDICTS,
    Verdicts,
    settled_judgement,
    settled_violation,
    stopped_by_environment,
    stutters,
)
from kubeprop.properties.registry import Property, Violation, select

DATA = Path(__file__).parents[1] / "model" / "data" / "variants"
CONVERGENCE = select(kind="convergence")
MODELS = {
    variant: build_model(load_scenario(DATA / "web.yaml"), variant=variant)
    for variant in ("correct", "endpoints-terminating", "nodelifecycle-crash")
}


def _walk(model: ClusterModel, choices: list[int]) -> list[ClusterState]:
    """The states of the walk that takes, at each step, enabled action number `choice` (modulo
    how many there are), then `Quiesce`."""
    state = initial_state(model)
    states = [state]
    for choice in choices:
        enabled = [a for a in actions(model, state) if not isinstance(a, Quiesce)]
        if not enabled:
            break
        state = step(model, state, enabled[choice % len(enabled)])
        states.append(state)
    if Quiesce() in actions(model, state):
        states.append(step(model, state, Quiesce()))
    return states


def _where(model: ClusterModel, state: ClusterState) -> Violation:
    """A 'property' that always fails, naming where the continuation ended (so a verdict from the
    memo must come from the very same end state)."""
    return Violation("where", f"revision {state.store.revision}, clock {state.clock}, "
                              f"{len(state.store.objects)} objects, partitioned {sorted(state.partitioned)}")


WHERE = (Property("where", "reveals the end state", "-", _where, kind="convergence"),
         Property("where", "reveals the end state", "-", _where, kind="convergence", needs_recovery=False))
STUCK = Property("stuck", "no node stays partitioned", "-", lambda m, s: _where(m, s) if s.partitioned else None,
                 kind="convergence", needs_recovery=False)
PROPERTY_SETS = (CONVERGENCE, (*CONVERGENCE, STUCK), (*CONVERGENCE, WHERE[0]), (WHERE[1],), (*CONVERGENCE, WHERE[1]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variant=st.sampled_from(sorted(MODELS)), choices=st.lists(st.integers(0, 10_000), min_size=1, max_size=30),
       picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3), props=st.sampled_from(PROPERTY_SETS),
       max_steps=st.sampled_from((5000, 5000, 30)))
def test_memo_gives_the_fresh_verdict(variant: str, choices: list[int], picks: list[int],
                                      props: tuple[Property, ...], max_steps: int) -> None:
    model = MODELS[variant]
    states = _walk(model, choices)
    for pick in (-1, *picks):  # the walk's end, and a few states on the way
        state = states[pick % len(states)]
        fresh = settled_violation(model, state, props, max_steps=max_steps, memo=False)
        assert settled_violation(model, state, props, max_steps=max_steps) == fresh  # judged (or remembered)
        assert settled_violation(model, state, props, max_steps=max_steps) == fresh  # remembered
        assert settled_violation(model, state, props, max_steps=max_steps + 1, memo=False) == settled_violation(
            model, state, props, max_steps=max_steps + 1)  # another bound: its own entry


def test_a_remembered_verdict_is_the_same_violation() -> None:
    """Judged again, every state of a walk gets its verdict from the memo, the same violation
    (message and objects) as judged afresh — among them the ones judged where a partitioned node
    never heals, whose message says so."""
    model = MODELS["correct"]
    partition = next(i for i, a in enumerate(actions(model, initial_state(model))) if type(a).__name__ == "Partition")
    states = _walk(model, [partition, 0, 0, 0, 1, 2, 3])
    props = (*CONVERGENCE, STUCK)
    VERDICTS.clear()
    first = [settled_violation(model, s, props) for s in states]
    hits = VERDICTS.hits
    again = [settled_violation(model, s, props) for s in states]
    assert again == first
    assert VERDICTS.hits - hits == len(states)
    assert first == [settled_violation(model, s, props, memo=False) for s in states]
    assert any(v is not None and "stays partitioned" in v.message for v in first)


def test_a_judgement_counts_the_steps_of_its_continuations_the_same_when_remembered() -> None:
    """Shrinking's step bound counts the steps of the convergence judgements
    (`settled_judgement`): the continuations' steps, those the one without recoveries shares with
    the one with them (it resumes it where it took its first recovery) once; and a verdict
    remembered from before counts what it took then, so that the count does not depend on what
    the process judged before."""
    model = MODELS["nodelifecycle-crash"]
    partition = next(i for i, a in enumerate(actions(model, initial_state(model))) if type(a).__name__ == "Partition")
    state = _walk(model, [partition, 0, 0, 0, 1, 2, 3])[-1]
    runs = [run.trace for _, run in continuations(model, state)]
    assert len(runs) == 2 and runs[0] != runs[1]  # a partition: with and without the heal
    shared = next(i for i, (a, b) in enumerate(zip(*runs, strict=False)) if a != b)
    VERDICTS.clear()
    fresh = settled_judgement(model, state, CONVERGENCE)
    assert fresh[1] == len(runs[0]) + len(runs[1]) - shared > len(runs[0])
    hits = VERDICTS.hits
    assert settled_judgement(model, state, CONVERGENCE) == fresh and VERDICTS.hits == hits + 1
    assert settled_judgement(model, state, CONVERGENCE, memo=False) == fresh


def test_properties_are_told_apart_by_identity() -> None:
    """Two properties compare equal when only their checks differ: the memo must not mix them."""
    model, state = MODELS["correct"], initial_state(MODELS["correct"])
    holds = Property("p", "statement", "upstream", lambda m, s: None, kind="convergence")
    fails = attrs.evolve(holds, check=lambda m, s: Violation("p", "always"))
    assert holds == fails
    assert settled_violation(model, state, [holds]) is None
    found = settled_violation(model, state, [fails])  # (judged before the workload: the message says so)
    assert found is not None and (found.property, found.message.partition(" (judged")[0]) == ("p", "always")


def test_a_verdict_cut_by_the_deadline_is_not_remembered() -> None:
    model = MODELS["correct"]
    state = initial_state(model)
    always = Property("q", "statement", "upstream", lambda m, s: Violation("q", "fails"), kind="convergence")
    assert settled_violation(model, state, [always], deadline=time.perf_counter() - 1) is None
    found = settled_violation(model, state, [always])
    assert found is not None and (found.property, found.message.partition(" (judged")[0]) == ("q", "fails")


def test_observed_models_are_not_remembered() -> None:
    """A model whose responses are observed (metrics) must see every continuation's requests."""
    model = MODELS["correct"]
    seen: list[str] = []
    observed = attrs.evolve(model, hooks=attrs.evolve(model.hooks, on_response=(lambda c, q, r: seen.append(c),)))
    state = initial_state(observed)
    settled_violation(observed, state, CONVERGENCE)
    count = len(seen)
    assert count > 0
    settled_violation(observed, state, CONVERGENCE)
    assert len(seen) == 2 * count


def test_the_memo_is_bounded() -> None:
    verdicts = Verdicts(limit=3)
    model = MODELS["correct"]
    states = _walk(model, list(range(8)))
    for s in states:
        verdicts.put(verdicts.key(model, s, CONVERGENCE, (), 5000, 100), model, CONVERGENCE, None)
        assert len(verdicts.entries) <= 3
    verdicts.clear()
    assert not verdicts.entries


@pytest.mark.parametrize("variant", sorted(MODELS))
def test_memo_on_the_settled_state(variant: str) -> None:
    """The state a continuation settles in is judged the same with and without the memo."""
    model = MODELS[variant]
    state = _walk(model, [3, 1, 4, 1, 5, 9, 2, 6])[-1]
    assert settled_violation(model, state, CONVERGENCE) == settled_violation(model, state, CONVERGENCE, memo=False)


def test_a_control_plane_stopped_by_an_environment_that_never_recovers_is_no_livelock() -> None:
    """Two of FeastFlow's three masters crash and never boot: etcd has no quorum, every controller's
    retry fails and writes nothing. Upstream the retries back off while time passes (client-go's
    rate-limited requeue); the continuation without recoveries is no livelock, and the one where
    the masters boot settles (the false-alarm campaign's finding at --faults 2)."""
    loaded = load_scenario(feastflow_path())
    faulty = attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=attrs.evolve(loaded.spec.faults, node_crash=2)))
    model = build_model(faulty)
    state = initial_state(model)
    for act in (CrashNode("master-1"), CrashNode("master-2"), Quiesce()):
        assert act in actions(model, state)
        state = step(model, state, act)
    for key in state.controllers["endpointslice"].queue:  # its first failures start its retry budgets
        state = step(model, state, Reconcile("endpointslice", key))
    assert not etcd_available(model, state) and stutters(model, state)
    assert settled_violation(model, state, CONVERGENCE, memo=False) is None
    # a state the control plane can still move from is not a stutter
    assert not stutters(model, initial_state(model))


def _postgres_pending(state: ClusterState) -> bool:
    return any(p.metadata.name == "postgres-0" and not p.spec.node_name for p in state.store.list("pods"))


def test_a_scheduler_cycling_without_an_etcd_quorum_is_no_livelock() -> None:
    """The false-alarm campaign's finding at seed 6, --faults 2 (walks, FeastFlow): postgres-0 is
    pending when master-1 and master-3 crash for good. Without a quorum the scheduler assumes the
    pod, the binding fails, it forgets the pod and assumes it again (schedule_one.go
    handleBindingCycleError) — a cycle that changes the scheduler's memory (so not a stutter) but
    writes nothing. The continuation without recoveries proves nothing; the one where the
    masters boot settles."""
    loaded = load_scenario(feastflow_path())
    faulty = attrs.evolve(loaded, spec=attrs.evolve(loaded.spec, faults=attrs.evolve(loaded.spec.faults, node_crash=2)))
    model = build_model(faulty)
    state, policy = initial_state(model), FairPolicy(recover=True)
    while not _postgres_pending(state):
        act = policy.next_action(model, state)
        assert act is not None
        policy.taken(act)
        state = step(model, state, act)
    for act in (CrashNode("master-1"), CrashNode("master-3"), Quiesce()):
        assert act in actions(model, state)
        state = step(model, state, act)
    assert not etcd_available(model, state) and not stutters(model, state)
    assert stopped_by_environment(model, state, exhausted=False)
    assert settled_violation(model, state, CONVERGENCE, memo=False) is None
    # with a quorum the control plane is not stopped, exhausted or not
    assert not stopped_by_environment(model, initial_state(model), exhausted=True)
