"""The scheduling queue's back-off (`kubeprop.model.scheduler.backoff`; upstream v1.33
`pkg/scheduler/backend/queue/backoff_queue.go`, `scheduling_queue.go`, `active_queue.go`): a pod
that failed is not tried again until an event moves it *and* its back-off ends (a timer the clock
reaches), or — SchedulerPopFromBackoffQ, v1.33 — the active queue is empty; a pod whose binding
failed waits in the error backoff queue, never popped early. Before, the model retried a moved or
failed pod at once."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.prompt_work import scheduler_holds_clock
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.backoff import ATTEMPTS_CAP, Backoff, backoff_seconds
from kubeprop.model.scheduler.binding import Bind
from kubeprop.model.scheduler.component import MarkUnschedulable, Schedule, SchedulerState
from kubeprop.model.scheduler.queue import next_pod, next_timer
from kubeprop.model.state.actions import Action, FailNextRequest, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, view

DATA = Path(__file__).parents[1] / "data"
CYCLES = (Schedule, MarkUnschedulable)


def _model(path: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / path), parameters=parameters or None)


def _take(model: ClusterModel, state: ClusterState, kind: type[Action], **fields: object) -> ClusterState:
    act = next(a for a in actions(model, state) if isinstance(a, kind)
               and all(getattr(a, k) == v for k, v in fields.items()))
    return step(model, state, act)


def _memory(state: ClusterState) -> SchedulerState:
    memory = state.schedulers["scheduler"]
    assert isinstance(memory, SchedulerState)
    return memory


def _cycles(model: ClusterModel, state: ClusterState) -> set[str]:
    return {a.pod for a in actions(model, state) if isinstance(a, CYCLES)}


def test_backoff_doubles_per_attempt_up_to_its_cap() -> None:
    """calculateBackoffDuration with PodInitialBackoffSeconds 1, PodMaxBackoffSeconds 10."""
    assert [backoff_seconds(n) for n in range(7)] == [0, 1, 2, 4, 8, 10, 10]
    assert ATTEMPTS_CAP == 5


def _c_moved(model: ClusterModel) -> ClusterState:
    """a and b bound to worker-1 (full), c parked at t=0; the user deletes a: the event moves c
    within its back-off (1 s after its first attempt)."""
    state = initial_state(model)
    state = _take(model, state, Schedule, pod="default/a")
    state = _take(model, state, Schedule, pod="default/b")
    state = _take(model, state, MarkUnschedulable, pod="default/c")
    state = _take(model, _take(model, state, Bind, pod="default/a"), Bind, pod="default/b")
    state = step(model, state, UserStep(0))
    assert not _memory(state).unschedulable and _memory(state).backoff == {"default/c": Backoff(1)}
    assert _memory(state).attempts == {"default/c": 1}
    return state


def test_a_moved_pod_waits_for_its_backoff_to_end_without_pop_from_backoff() -> None:
    """v1.32 (no SchedulerPopFromBackoffQ): c is not tried until flushBackoffQCompleted moves it,
    its back-off end is the scheduler's timer, and it does not hold the clock meanwhile."""
    model = _model("variants/parked.yaml", instantCaches=True, schedulerPopFromBackoffQ=False)
    state = _c_moved(model)
    assert _cycles(model, state) == set()
    assert not scheduler_holds_clock(model, state)
    assert next_timer(model, state) == 1
    state = step(model, state, Tick(10))
    assert not _memory(state).backoff and _cycles(model, state) == {"default/c"}


def test_a_moved_pod_is_popped_from_the_backoff_queue_when_the_active_queue_is_empty() -> None:
    """v1.33: Pop takes the backoff queue's head at once when the active queue is empty; a cycle
    counts one attempt more and takes it out of the backoff queue."""
    model = _model("variants/parked.yaml", instantCaches=True)
    state = _c_moved(model)
    assert _cycles(model, state) == {"default/c"} and scheduler_holds_clock(model, state)
    state = _take(model, state, MarkUnschedulable, pod="default/c")  # a still terminating
    assert not _memory(state).backoff and _memory(state).attempts == {"default/c": 2}


def test_active_pods_go_before_backing_off_ones_and_the_backoff_queue_by_its_end() -> None:
    """The active queue is popped first whatever the priorities; the backoff queue by back-off
    end, then the active queue's order."""
    model = _model("variants/parked.yaml", instantCaches=True)
    state = initial_state(model)
    memory = _memory(state)
    view_ = view(model, state, "scheduler")

    def head(backoff: dict[str, Backoff], pop: bool = True) -> str | None:
        pod = next_pod(view_, evolve(memory, backoff=FrozenMap(backoff)), pop)
        return None if pod is None else f"default/{pod.metadata.name}"

    assert head({}) == "default/a"
    assert head({"default/a": Backoff(1)}) == "default/b"
    every = {"default/a": Backoff(2), "default/b": Backoff(1), "default/c": Backoff(1)}
    assert head(every) == "default/b"
    assert head(every, pop=False) is None
    assert head({"default/a": Backoff(1, error=True)} | {k: every[k] for k in ("default/b", "default/c")}) \
        == "default/b"
    assert head({k: Backoff(1, error=True) for k in every}) is None


def test_a_pod_whose_binding_failed_does_not_hold_the_clock() -> None:
    """The error backoff queue is never popped early: a waits for a tick, and the scheduler lets the
    clock move (its back-off end is a timer)."""
    model = _model("binding/scenario.yaml")
    state = _take(model, initial_state(model), Schedule, pod="default/a")
    state = step(model, state, FailNextRequest("scheduler", 500))
    state = _take(model, state, Bind, pod="default/a")
    assert _memory(state).backoff == {"default/a": Backoff(1, error=True)}
    while any(isinstance(a, (*CYCLES, Bind)) for a in actions(model, state)):
        state = _take(model, state, Schedule if _cycles(model, state) else Bind)
    assert "default/a" not in _cycles(model, state) and not scheduler_holds_clock(model, state)
    assert next_timer(model, state) == 1
    pod = state.store.get(ObjectKey("pods", "default", "a"))
    assert isinstance(pod, Pod) and not pod.spec.node_name


def test_attempts_count_failures_and_go_when_the_pod_is_seen_bound() -> None:
    """A cycle that assumes the pod adds no attempt (its binding failing would: above); one that
    parks it does; the count goes once the cache shows the pod bound."""
    model = _model("variants/parked.yaml", instantCaches=True)
    state = _take(model, initial_state(model), Schedule, pod="default/a")
    assert not _memory(state).attempts
    state = _c_moved(model)
    state = step(model, state, UserStep(1))
    state = settle(model, state).state
    pod = state.store.get(ObjectKey("pods", "default", "c"))
    assert isinstance(pod, Pod) and pod.spec.node_name == "worker-1"
    assert not _memory(state).attempts and not _memory(state).backoff
