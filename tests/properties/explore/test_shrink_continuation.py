"""A convergence counterexample shows its fair continuation up to where the cluster is stuck, not a
timer loop run to the tick bound (a user trial's drain counterexample: 2 actions, then 1,405 of an
eviction loop). Deterministic and untimed: one fair continuation of a small scenario."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.counterexamples.format import dumps
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.trace import record_result
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import continuations
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Quiesce
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.shrink_continuation import shown_continuation
from kubeprop.properties.registry import Property, Violation, select

LOOP = Path(__file__).parent / "data" / "eviction-loop" / "scenario.yaml"


@attrs.frozen
class _Result:
    """An engine result as `record_result` reads it."""

    violation: Violation
    trace: tuple[Action, ...]
    engine: str = "walk"


def _quiesced() -> tuple[ClusterModel, ClusterState, tuple[Action, ...]]:
    """The eviction-loop model, its quiesced start and the fair continuation from there."""
    model = build_model(load_scenario(LOOP))
    start = step(model, initial_state(model), Quiesce())
    return model, start, next(iter(continuations(model, start)))[1].trace


def _evictions(trace: tuple[Action, ...]) -> int:
    return sum(type(a).__name__ == "TaintEvictPod" for a in trace)


def test_the_recorded_continuation_has_no_round_of_the_eviction_loop(tmp_path: Path) -> None:
    model, _, full = _quiesced()
    assert _evictions(full) >= 5  # the judged continuation loops to its tick bound
    prop = select(["deployments-complete"])[0]
    ce = record_result(model, _Result(Violation(prop.name, ""), (Quiesce(),)))
    assert _evictions(ce.actions) == 0 and not any(type(a).__name__ == "Tick" for a in ce.actions)
    assert len(ce.actions) < len(full) // 10
    assert ce.violation.message == "Deployment default/web: updated 2, total 2, available 1 of 2 " \
                                   "(observedGeneration 1, generation 1)"  # the violation judged at the end
    path = tmp_path / "ce.json"
    path.write_text(dumps(ce))
    assert replay(path).verdict is Verdict.REPRODUCES


def test_a_property_that_held_again_after_the_last_quiet_state_is_shown_whole() -> None:
    model, start, full = _quiesced()
    end = start
    for act in full:
        end = step(model, end, act)

    def late(_: ClusterModel, state: ClusterState) -> Violation | None:  # fails only once the clock is at the end
        return Violation("late", "the end") if state.clock >= end.clock else None

    prop = Property("late", "fails at the end only", "", late, kind="convergence")
    assert shown_continuation(model, start, full, prop) == full
    deployments = select(["deployments-complete"])[0]
    shown = shown_continuation(model, start, full, deployments)
    assert shown == full[:len(shown)] and len(shown) < len(full)
