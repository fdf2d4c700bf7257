"""Known upstream behaviour of the Job controller (kubernetes#130103): a sync whose Job cache has not
yet seen the Job finish creates one more pod, which is then let go of uncounted — `job-pods-counted`
fails on the correct model exactly as on a v1.33 cluster, and is recognized as such; the legacy
tracking variant's violation is not. And a pod whose finalizer deleteJobPods removed without the
DELETE following (the controller manager crashed between them), which finishes counted nowhere."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.model.api.batch import Job, is_finished
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import is_progress
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, CrashDuringReconcile, Deliver
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.jobs import job_pods_counted
from kubeprop.properties.registry import Violation
from kubeprop.properties.upstream_behaviour import match, states_of
from kubeprop.properties.upstream_behaviour_jobs import released_not_deleted

DATA = Path(__file__).parents[1] / "model" / "data" / "job"
SCENARIO = DATA / "migrate.yaml"
JOB = ObjectKey("jobs.batch", "default", "migrate")


def _stale(state: ClusterState) -> bool:
    """The store's Job finished, the controller manager's cached one not yet."""
    stored, cached = state.store.get(JOB), state.informers[CONTROLLER_MANAGER].get(JOB)
    return isinstance(stored, Job) and is_finished(stored) and isinstance(cached, Job) and not is_finished(cached)


def _to_cm(act: Action, resource: str) -> bool:
    return isinstance(act, Deliver) and act.component == CONTROLLER_MANAGER and act.resource == resource


def _next(model: ClusterModel, state: ClusterState) -> Action | None:
    """The first progress action, except that while the Job cache is stale its update is held back
    (the pod events and the Job's syncs go first) until the extra pod exists and the pod cache has it."""
    acts = [a for a in actions(model, state) if is_progress(a) and type(a).__name__ != "Tick"]
    if _stale(state):
        pods = sum(1 for p in state.store.list("pods") if isinstance(p, Pod))
        if pods < 3:
            acts = [a for a in acts if not _to_cm(a, "jobs.batch")]
            acts = [a for a in acts if _to_cm(a, "pods") or (isinstance(a, Reconcile) and a.controller == "job")] \
                or acts
        else:
            acts = [a for a in acts if _to_cm(a, "pods")] or acts
    return acts[0] if acts else None


def _walk(variant: str | None = None) -> tuple[ClusterModel, list[Action], Violation | None]:
    model = build_model(load_scenario(SCENARIO), variant=variant)
    state, trace = initial_state(model), []
    for _ in range(150):
        act = _next(model, state)
        if act is None:
            break
        trace.append(act)
        state = step(model, state, act)
        found = job_pods_counted(model, state)
        if found is not None:
            return model, trace, Violation("job-pods-counted", found[0], found[1])
    return model, trace, None


def test_a_sync_from_a_job_cache_behind_the_completion_makes_a_pod_counted_nowhere_upstream() -> None:
    model, trace, violation = _walk()
    assert violation is not None and violation.all_named("Pod") and violation.named("Job") == "default/migrate"
    known = match(model, violation, trace)
    assert known is not None and known.name == "job-stale-finished-sync"
    assert any("kubernetes/issues/130103" in c for c in known.citations)


def test_the_legacy_trackings_lost_pod_is_not_upstream_behaviour() -> None:
    model, trace, violation = _walk("job-legacy-tracking")
    assert violation is not None and "a pod deleted now is never counted" in violation.message
    assert match(model, violation, trace) is None


def test_a_pod_released_by_a_suspend_whose_delete_never_came_is_upstream_behaviour() -> None:
    """tests/model/data/job/suspend-crash-released.json: the Job is suspended while a pod has just
    exited 0; the controller manager dies after the sync's first request (that pod's finalizer
    removal) and before its DELETE; the kubelet writes Succeeded: the pod is counted nowhere and
    not deleted, as upstream's deleteJobPods leaves it."""
    result = replay(DATA / "suspend-crash-released.json")
    assert (result.verdict, result.drift_step, result.meets_expectation) == (Verdict.REPRODUCES, None, True)
    assert result.violation is not None and result.violation.all_named("Pod") == ("default/work-cm7j4",)
    trace = result.counterexample.actions
    assert any(isinstance(a, CrashDuringReconcile) and a.controller == "job" and a.sent == 1 for a in trace)
    known = match(result.model, result.violation, trace)
    assert known is not None and known.name == "job-pod-released-not-deleted"
    # one more pod let go of uncounted, released by nothing: the counts stay wrong without the
    # recognized pod, so the violation is not this behaviour
    states = states_of(result.model, trace)
    last = states[-1]
    pod = next(p for p in last.store.list("pods", "default") if isinstance(p, Pod) and p.metadata.name == "work-cm7j4")
    other = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name="work-other", uid="other-uid"))
    worse = attrs.evolve(last, store=last.store.put(other, "ADDED")[0])
    found = job_pods_counted(result.model, worse)
    assert found is not None
    violation = Violation("job-pods-counted", found[0], found[1])
    assert len(violation.all_named("Pod")) == 2
    assert not released_not_deleted(result.model, (*states[:-1], worse), trace, violation)
