"""Delta debugging returns 1-minimal failing sequences, and shrinks cluster traces to replayable
traces that still violate the same property."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import attrs

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import run
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver
from kubeprop.properties.explore.shrink import Judge, ddmin, enabled_as, shrink_trace
from kubeprop.properties.explore.shrink_clock import ShrinkClock
from kubeprop.properties.registry import select

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"


def one_minimal(result: tuple[int, ...], fails: Callable[[tuple[int, ...]], bool]) -> bool:
    return fails(result) and not any(fails(result[:i] + result[i + 1:]) for i in range(len(result)))


def test_ddmin_finds_the_failure_inducing_items() -> None:
    def fails(c: tuple[int, ...]) -> bool:
        return {3, 7, 12} <= set(c)

    assert ddmin(tuple(range(20)), fails) == (3, 7, 12)


def test_ddmin_result_is_one_minimal_with_order_constraints() -> None:
    # fails when some 5 comes before some 2 and there are at least two 9s
    def fails(c: tuple[int, ...]) -> bool:
        return 5 in c and 2 in c[c.index(5):] and c.count(9) >= 2

    items = (1, 9, 2, 5, 4, 9, 9, 2, 8, 5, 2, 9)
    result = ddmin(items, fails)
    assert one_minimal(result, fails)
    assert len(result) == 4 and sorted(result) == [2, 5, 9, 9]


def test_ddmin_empty_and_budget() -> None:
    assert ddmin((1, 2, 3), lambda c: True) == ()
    tried: list[tuple[int, ...]] = []

    def fails(c: tuple[int, ...]) -> bool:
        tried.append(c)
        return 17 in c and 40 in c

    result = ddmin(tuple(range(64)), fails, max_tests=5)
    assert len(tried) == 5 and fails(result) and len(result) <= 64


def test_shrink_trace_drops_padding_and_keeps_the_property() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"), variant="rs-no-expectations",
                        parameters={"instantCaches": False})
    state = initial_state(model)
    names = ["Reconcile(controller=deployment, key=default/web)",
             "Deliver(component=controller-manager, resource=replicasets.apps, revision=11)",
             "Reconcile(controller=replicaset, key=default/web-9b8d4d75)",
             "Deliver(component=controller-manager, resource=pods, revision=13)",
             "Reconcile(controller=replicaset, key=default/web-9b8d4d75)"]
    trace: list[Action] = []
    for wanted in names:
        for _ in range(2):  # pad with harmless enabled actions: events delivered to other components
            pad = next((a for a in actions(model, state) if str(a).startswith("Deliver(") and
                        "controller-manager" not in str(a)), None)
            if pad is not None:
                trace.append(pad)
                state = step(model, state, pad)
        act = next(a for a in actions(model, state) if str(a) == wanted)
        trace.append(act)
        state = step(model, state, act)
    judge = Judge(model, initial_state(model), select(kind="safety"))
    violation, _ = judge(trace)
    assert violation is not None and violation.property == "replicaset-no-overcreation"
    assert len(trace) > 5
    shrunk_violation, shrunk = shrink_trace(judge, trace, "replicaset-no-overcreation")
    assert shrunk_violation is not None and shrunk_violation.property == "replicaset-no-overcreation"
    assert [str(a) for a in shrunk] == names
    run(model, initial_state(model), shrunk)


def test_a_write_before_a_delivery_can_go_the_delivery_meets_the_next_event() -> None:
    """The user trial: reconciles of other objects stayed in a shrunk trace, since dropping one
    shifts the revisions of the deliveries after it, which were then "not enabled". A delivery is
    the next event of its watch (`enabled_as`): the unrelated write goes, and the trace reported
    replays exactly, with the revisions it met."""
    model = build_model(load_scenario(DATA / "web.yaml"), variant="rs-no-expectations",
                        parameters={"instantCaches": False})
    names = ["Reconcile(controller=deployment, key=default/web)",
             "Deliver(component=controller-manager, resource=replicasets.apps, revision=11)",
             "Reconcile(controller=replicaset, key=default/web-9b8d4d75)",
             "Deliver(component=controller-manager, resource=pods, revision=13)",
             "Reconcile(controller=replicaset, key=default/web-9b8d4d75)"]
    state = initial_state(model)
    unrelated = next(a for a in actions(model, state) if str(a).startswith("Reconcile(controller=endpoints"))
    state = step(model, state, unrelated)  # writes the Endpoints: every later revision moves up one
    trace: list[Action] = [unrelated]
    for wanted in names:
        kind = wanted.split(", revision=")[0]
        act = next(a for a in actions(model, state) if str(a).split(", revision=")[0] == kind)
        trace.append(act)
        state = step(model, state, act)
    assert [str(a) for a in trace[1:]] != names  # the deliveries met other revisions
    judge = Judge(model, initial_state(model), select(kind="safety"))
    assert judge(trace)[0] is not None
    shrunk_violation, shrunk = shrink_trace(judge, trace, "replicaset-no-overcreation")
    assert shrunk_violation is not None and shrunk_violation.property == "replicaset-no-overcreation"
    assert [str(a) for a in shrunk] == names
    run(model, initial_state(model), shrunk)  # every action enabled as recorded


def test_enabled_as_stands_in_a_delivery_of_the_same_watch_only() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"), parameters={"instantCaches": False})
    state = step(model, initial_state(model), Reconcile("deployment", "default/web"))
    enabled = actions(model, state)
    delivery = next(a for a in enabled if isinstance(a, Deliver))
    assert enabled_as(delivery, enabled) is delivery
    assert enabled_as(attrs.evolve(delivery, revision=delivery.revision + 50), enabled) == delivery
    assert enabled_as(attrs.evolve(delivery, resource="configmaps"), enabled) is None
    assert enabled_as(Reconcile("deployment", "default/nothing"), enabled) is None


def test_judge_rejects_disabled_actions() -> None:
    model = build_model(load_scenario(DATA / "tight.yaml"))
    first = actions(model, initial_state(model))[0]
    judge = Judge(model, initial_state(model), select(kind="safety"), select(["workloads-ready"]))
    assert judge((first, first)) == (None, ())  # the same Reconcile twice: the second is not enabled
    violation, shown = judge((first,))
    assert violation is not None and violation.property == "workloads-ready"
    assert type(shown[-1]).__name__ == "Quiesce"


def test_the_shrink_clock_says_when_time_cut_the_shrinking() -> None:
    """A deadline that stops shrinking makes the result depend on the machine (`ShrinkClock.cut`,
    reported by `kubeprop check`); the count of tests does not."""
    def fails(c: tuple[int, ...]) -> bool:
        return 17 in c and 40 in c

    past = ShrinkClock(time.perf_counter() - 1.0)
    assert ddmin(tuple(range(64)), fails, clock=past) == tuple(range(64)) and past.cut
    counted = ShrinkClock(None)
    ddmin(tuple(range(64)), fails, max_tests=5, clock=counted)
    assert not counted.cut
    roomy = ShrinkClock(time.perf_counter() + 600.0)
    assert ddmin(tuple(range(64)), fails, clock=roomy) == (17, 40) and not roomy.cut
    phase = roomy.share(0.0)  # a phase's clock that has run out cuts the whole shrinking
    assert phase.passed() and phase.cut and roomy.cut


def test_a_find_whose_shrinking_time_cut_says_so() -> None:
    from kubeprop.counterexamples.api import Discovery
    from kubeprop.properties.cli.check_table import _unshrunk
    from kubeprop.properties.registry import Violation

    found = Discovery(Violation("endpoints-ready-pods", "…"), shrink_cut=4.5)
    assert _unshrunk(found) == ("shrinking stopped at its time bound (4.5 s): a larger --budget, or a faster or "
                                "quieter machine, may shrink it further (the violation is the same)",)
    assert _unshrunk(attrs.evolve(found, shrink_cut=None)) == ()
