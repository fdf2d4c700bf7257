"""The descheduler component: its run interval and its evictions through the Eviction API."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.descheduler.component import DeschedulerRun, next_timer
from kubeprop.model.scenario.load import load_scenario

DATA = Path(__file__).parents[1] / "data"


def test_runs_at_start_then_every_interval_and_evicts_duplicates() -> None:
    model = build_model(load_scenario(DATA / "descheduler" / "duplicates.yaml"))
    state = initial_state(model)
    assert DeschedulerRun() in actions(model, state)
    state = settle(model, step(model, state, DeschedulerRun()), max_steps=2000, max_ticks=0).state
    assert next_timer(model, state) == 300 and DeschedulerRun() not in actions(model, state)
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    assert {p.spec.node_name for p in pods} == {"worker-1"} and len(pods) == 2
    before = {p.metadata.name for p in pods}
    run = settle(model, state, max_steps=2000, max_ticks=30)
    assert DeschedulerRun() in run.trace
    after = [p for p in run.state.store.list("pods") if isinstance(p, Pod)]
    assert len(before - {p.metadata.name for p in after}) == 1, "the run evicted one duplicate"
    assert {p.spec.node_name for p in after} == {"worker-1"}, "and its replacement came back to worker-1"


def test_no_descheduler_without_a_policy() -> None:
    model = build_model(load_scenario(DATA / "hpa" / "linear.yaml"))
    assert DeschedulerRun() not in actions(model, initial_state(model))
    assert next_timer(model, initial_state(model)) is None
