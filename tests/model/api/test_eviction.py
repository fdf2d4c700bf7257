"""The pods/eviction subresource (`pkg/registry/core/pod/storage/eviction.go`) and the scale subresource."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from cluster_harness import settled

from kubeprop.model.api.eviction import budget_cause
from kubeprop.model.api.meta import Condition, find_condition
from kubeprop.model.api.objects import Deployment, ObjectKey, Pod, PodDisruptionBudget
from kubeprop.model.api.server import Request, Response, StatusCause
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

DATA = Path(__file__).parents[1] / "data" / "maintenance"
PDB = ObjectKey("poddisruptionbudgets.policy", "default", "web")


@pytest.fixture(scope="module", name="settled")
def drained() -> tuple[ClusterModel, ClusterState]:
    return settled(DATA / "drained.yaml")


def _pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods") if isinstance(p, Pod)]


def _evict(model: ClusterModel, state: ClusterState, pod: Pod) -> tuple[ClusterState, Response]:
    return send(model, state, "admin", Request(verb="evict", user="admin", resource="pods",
                                               namespace="default", name=pod.metadata.name), "user")


def _with_budget(state: ClusterState, **status: object) -> ClusterState:
    pdb = state.store.get(PDB)
    assert isinstance(pdb, PodDisruptionBudget)
    store, _, _ = state.store.put(attrs.evolve(pdb, status=attrs.evolve(pdb.status, **status)), "MODIFIED")
    return attrs.evolve(state, store=store)


def test_budget_allows_one_eviction_and_records_it(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    pdb = state.store.get(PDB)
    assert isinstance(pdb, PodDisruptionBudget) and pdb.status.disruptions_allowed == 1
    first, second = _pods(state)
    state, response = _evict(model, state, first)
    assert response.code == 201
    evicted = state.store.get(ObjectKey("pods", "default", first.metadata.name))
    assert isinstance(evicted, Pod) and evicted.metadata.deletion_timestamp is not None
    target = find_condition(evicted.status.conditions, "DisruptionTarget")
    assert target is not None and target.reason == "EvictionByEvictionAPI"
    pdb = state.store.get(PDB)
    assert isinstance(pdb, PodDisruptionBudget)
    assert pdb.status.disruptions_allowed == 0 and first.metadata.name in pdb.status.disrupted_pods
    _, refused = _evict(model, state, second)
    # pkg/registry/core/pod/storage/eviction.go checkAndDecrement: the message is the same for every
    # budget; what the budget lacks is a DisruptionBudget StatusCause (kubectl prints the message only)
    assert (refused.code, refused.message) == (429, "Cannot evict pod as it would violate the pod's disruption budget.")
    assert refused.causes == (
        StatusCause("DisruptionBudget", "The disruption budget web needs 1 healthy pods and has 2 currently"),)


def test_unobserved_budget_is_429(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    state = _with_budget(state, observed_generation=0)
    _, response = _evict(model, state, _pods(state)[0])
    assert (response.code, response.message) == (429, "Cannot evict pod as it would violate the pod's disruption "
                                                      "budget.")
    assert budget_cause(response) == "The disruption budget web is still being processed by the server."


def test_negative_budget_is_403_and_two_budgets_500(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    _, response = _evict(model, _with_budget(state, disruptions_allowed=-1), _pods(state)[0])
    assert response.code == 403 and "pdb disruptions allowed is negative" in response.message
    pdb = state.store.get(PDB)
    assert isinstance(pdb, PodDisruptionBudget)
    twin = attrs.evolve(pdb, metadata=attrs.evolve(pdb.metadata, name="twin", uid="", resource_version=""))
    state, created = send(model, state, "admin", Request(verb="create", user="admin", obj=twin), "user")
    assert created.ok
    _, response = _evict(model, state, _pods(state)[0])
    assert response.code == 500 and "more than one PodDisruptionBudget" in response.message


def test_unready_pod_is_evicted_without_spending_a_met_budget(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    pod = _pods(state)[0]
    unready = attrs.evolve(pod, status=attrs.evolve(pod.status, conditions=tuple(
        attrs.evolve(c, status="False") if c.type == "Ready" else c for c in pod.status.conditions)))
    store, _, _ = state.store.put(unready, "MODIFIED")
    state = _with_budget(attrs.evolve(state, store=store), disruptions_allowed=0, current_healthy=1,
                         desired_healthy=1)
    state, response = _evict(model, state, unready)
    assert response.code == 201
    pdb = state.store.get(PDB)
    assert isinstance(pdb, PodDisruptionBudget) and pdb.status.disruptions_allowed == 0
    assert not pdb.status.disrupted_pods


def test_pending_pods_ignore_budgets(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    pod = _pods(state)[0]
    pending = attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Pending"))
    store, _, _ = state.store.put(pending, "MODIFIED")
    state = _with_budget(attrs.evolve(state, store=store), disruptions_allowed=0)
    _, response = _evict(model, state, pending)
    assert response.code == 201


def test_scale_subresource_writes_spec_replicas(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    request = Request(verb="update-scale", user="admin", resource="deployments.apps", namespace="default",
                      name="web", patch={"spec": {"replicas": 5}})
    state, response = send(model, state, "admin", request, "user")
    deployment = state.store.get(ObjectKey("deployments.apps", "default", "web"))
    assert response.code == 200 and isinstance(deployment, Deployment) and deployment.spec.replicas == 5
    stale = attrs.evolve(request, patch={"spec": {"replicas": 1}, "metadata": {"resourceVersion": "1"}})
    assert send(model, state, "admin", stale, "user")[1].code == 409
    negative = attrs.evolve(request, patch={"spec": {"replicas": -1}})
    assert send(model, state, "admin", negative, "user")[1].code == 422
    pods = attrs.evolve(request, resource="pods", name=_pods(state)[0].metadata.name)
    assert send(model, state, "admin", pods, "user")[1].code == 404


def test_rbac_governs_the_subresources(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    from kubeprop.model.api.rbac_authn import UserInfo

    viewer = attrs.evolve(model, api=attrs.evolve(model.api, users=model.api.users.set(
        "viewer", UserInfo("viewer", ("system:authenticated",)))))
    _, response = send(viewer, state, "viewer", Request(verb="evict", user="viewer", resource="pods",
                                                        namespace="default", name=_pods(state)[0].metadata.name),
                       "user")
    assert response.code == 403 and "forbidden" in response.message


def test_condition_is_kept_on_a_dry_run(settled: tuple[ClusterModel, ClusterState]) -> None:
    model, state = settled
    pod = _pods(state)[0]
    request = Request(verb="evict", user="admin", resource="pods", namespace="default", name=pod.metadata.name,
                      dry_run=True)
    after, response = send(model, state, "admin", request, "user")
    assert response.code == 201 and after.store.get(ObjectKey("pods", "default", pod.metadata.name)) == pod
    assert Condition(type="DisruptionTarget") not in pod.status.conditions
