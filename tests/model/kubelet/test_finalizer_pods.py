"""Deleting a pod a finalizer keeps: the kubelet kills it once, writes its terminal status, DELETEs it
with grace 0 (`pkg/kubelet/status/status_manager.go` syncPod, canBeDeleted) and then leaves it alone
while the finalizer keeps it (`pkg/kubelet/pod_workers.go` UpdatePod: a finished uid takes no further
updates); a repeated grace-0 DELETE of it writes nothing (`registry/store.go` markAsDeleting keeps the
earlier deletionTimestamp, `etcd3/store.go` GuaranteedUpdate skips an unchanged object).

The model used to forget the pod after its DELETE and start over — KillPod, FinishTermination and a
write each time, 1,510 revisions in 3,000 steps of the fair run — a livelock `settles` reported on any
scenario deleting a pod with a finalizer. Bounds below are steps and states, never wall time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import attrs
from cluster_harness import api, make_model

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Pod
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state
from kubeprop.model.cluster.compose import step as cluster_step
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select

from .test_kubelet import NODE, POD, api_pod, bound_state, run_ready, runtime, step, web_pod

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "finalizer"
KEEP = "example.com/keep"


def _kept_pod() -> Pod:
    pod = web_pod()
    return attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, finalizers=(KEEP,)))


def _deleted(model: ClusterModel) -> ClusterState:
    """The kept pod, ready, deleted by a user, its containers stopped on SIGTERM."""
    state = run_ready(model, bound_state(model, _kept_pod()))
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web"))
    state = step(model, state, kl.KillPod(NODE, POD))
    return step(model, state, kl.StopGracefully(NODE, POD, 0))


def test_the_kubelet_finishes_a_kept_pod_once_and_then_leaves_it_alone() -> None:
    model = make_model()
    state = step(model, _deleted(model), kl.FinishTermination(NODE, POD))
    pod = api_pod(state)
    assert pod is not None and pod.metadata.finalizers == (KEEP,)
    assert pod.metadata.deletion_grace_period_seconds == 0 and pod.status.phase == "Succeeded"
    assert runtime(state).deleted
    # A cache that caught up with the DELETE changes nothing: no KillPod, no status write, no DELETE.
    assert [a for a in kl.enabled(model, state) if getattr(a, "pod", None) == POD] == []


def test_a_kept_pod_is_forgotten_once_its_finalizer_is_removed() -> None:
    model = make_model()
    state = step(model, _deleted(model), kl.FinishTermination(NODE, POD))
    pod = api_pod(state)
    assert pod is not None
    unkept = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, finalizers=()))
    state = api(state, model, Request(verb="update", user=ADMIN, obj=unkept))
    assert api_pod(state) is None  # ShouldDeleteDuringUpdate: grace 0 and no finalizer left
    state = step(model, state, kl.CleanupOrphan(NODE, POD))
    assert POD not in kl.kubelet_state(state, NODE).pods


def test_a_repeated_grace_zero_delete_of_a_kept_pod_writes_nothing() -> None:
    model = make_model()
    pod = attrs.evolve(_kept_pod(), metadata=ObjectMeta(name="web", namespace="default", finalizers=(KEEP,)))
    state = bound_state(model, pod)
    delete = Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="web",
                     grace_period_seconds=0)
    state = api(state, model, delete)
    marked = api_pod(state)
    assert marked is not None and marked.metadata.deletion_grace_period_seconds == 0
    again = api(attrs.evolve(state, clock=state.clock + 5), model, delete)
    assert again.store.revision == state.store.revision and api_pod(again) == marked


def _scenario(name: str) -> ClusterModel:
    return build_model(load_scenario(DATA / name))


def test_the_fair_run_settles_with_one_kill_and_one_final_delete() -> None:
    model = _scenario("scenario.yaml")
    run = fair_run(model, initial_state(model), max_steps=500)
    assert not run.exhausted
    taken = Counter(type(a).__name__ for a in run.trace)
    assert taken["KillPod"] == 1 and taken["FinishTermination"] == 1
    pod = api_pod(run.state, "default/keeper")
    assert pod is not None and pod.metadata.deletion_grace_period_seconds == 0
    assert first_violation(model, run.state, select(kind="convergence")) is None


def test_a_pod_deleted_before_it_is_bound_settles() -> None:
    """podgc's gcUnscheduledTerminating marks the unbound pod Failed and DELETEs it with grace 0;
    its retry finds nothing to change, writes nothing, and the cluster is quiet (the model's
    repeated markAsDeleting used to write a revision each time: podgc chased its own writes)."""
    model = _scenario("scenario.yaml")
    state = initial_state(model)
    user = next(a for a in actions(model, state) if isinstance(a, UserStep))
    run = settle(model, cluster_step(model, state, user), max_steps=500)
    assert not run.exhausted and len(run.trace) < 50


def test_a_delete_that_waits_waits_for_ever_on_the_finalizer() -> None:
    """kubectl delete (--wait, its default) waits for the pod to go, and the finalizer nobody removes
    keeps it: `workload-steps-finish`, as upstream."""
    model = _scenario("waits.yaml")
    run = fair_run(model, initial_state(model), max_steps=500)
    assert not run.exhausted
    found = first_violation(model, run.state, select(["workload-steps-finish"]))
    assert found is not None and KEEP in found.message
