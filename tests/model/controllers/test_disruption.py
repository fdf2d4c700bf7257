"""The disruption controller's arithmetic (`pkg/controller/disruption/disruption.go`)."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import api, settled, stored

from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import Container, ObjectKey, Pod, PodDisruptionBudget, PodSpec, ReplicaSet
from kubeprop.model.api.policy import PodDisruptionBudgetSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers.base import Reconcile, reconcile
from kubeprop.model.controllers.disruption import (
    DisruptionController,
    LiveScale,
    ScaleGet,
    disrupted_pods,
    expected_and_desired,
    healthy,
)
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

DATA = Path(__file__).parents[1] / "data" / "maintenance"
SELECT = LabelSelector(match_labels={"app": "web"})
PDB = ObjectKey("poddisruptionbudgets.policy", "default", "web")
DISRUPTION, KEY = "disruption", "default/web"


def test_controller_runs_only_with_budgets() -> None:
    with_pdb = build_model(load_scenario(DATA / "drained.yaml"))
    assert any(isinstance(c, DisruptionController) for c in with_pdb.controllers)
    without = build_model(load_scenario(Path(__file__).parents[1] / "data" / "hpa" / "linear.yaml"))
    assert not any(isinstance(c, DisruptionController) for c in without.controllers)


def test_expected_and_desired_counts() -> None:
    _, state = settled(DATA / "drained.yaml")
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]

    def budget(**spec: object) -> PodDisruptionBudget:
        return PodDisruptionBudget(spec=PodDisruptionBudgetSpec(selector=SELECT, **spec))  # type: ignore[arg-type]

    assert expected_and_desired(state.store, budget(min_available=1), pods) == (2, 1)
    assert expected_and_desired(state.store, budget(min_available="50%"), pods) == (2, 1)
    assert expected_and_desired(state.store, budget(min_available="51%"), pods) == (2, 2)
    assert expected_and_desired(state.store, budget(max_unavailable=1), pods) == (2, 1)
    assert expected_and_desired(state.store, budget(max_unavailable="100%"), pods) == (2, 0)


def test_status_counts_healthy_pods_and_allowed_disruptions() -> None:
    _, state = settled(DATA / "drained.yaml")
    pdb = state.store.get(ObjectKey("poddisruptionbudgets.policy", "default", "web"))
    assert isinstance(pdb, PodDisruptionBudget)
    s = pdb.status
    assert (s.expected_pods, s.desired_healthy, s.current_healthy, s.disruptions_allowed) == (2, 1, 2, 1)
    assert s.observed_generation == pdb.metadata.generation
    assert [(c.type, c.status, c.reason) for c in s.conditions] == [("DisruptionAllowed", "True", "SufficientPods")]


def test_disrupted_pods_expire_after_the_deletion_timeout() -> None:
    _, state = settled(DATA / "drained.yaml")
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    pdb = state.store.get(ObjectKey("poddisruptionbudgets.policy", "default", "web"))
    assert isinstance(pdb, PodDisruptionBudget)
    name = pods[0].metadata.name
    marked = attrs.evolve(pdb, status=attrs.evolve(pdb.status, disrupted_pods={name: 100}))
    kept, recheck = disrupted_pods(marked, pods, now=150, timeout=120)
    assert kept == {name: 100} and recheck == 220 and healthy(pods, kept, 150, 120) == 1
    expired, none = disrupted_pods(marked, pods, now=221, timeout=120)
    assert expired == {} and none is None and healthy(pods, expired, 221, 120) == 2


def test_a_disrupted_pod_counts_healthy_at_the_second_its_entry_expires() -> None:
    """buildDisruptedPodMap keeps an entry whose expiry is not Before now, while countHealthyPods
    leaves the pod out only while the expiry is After now: at expiry == now the entry stays in
    the status and the pod counts healthy (the model left it out, one disruption fewer allowed)."""
    _, state = settled(DATA / "drained.yaml")
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    name = pods[0].metadata.name
    pdb = state.store.get(PDB)
    assert isinstance(pdb, PodDisruptionBudget)
    marked = attrs.evolve(pdb, status=attrs.evolve(pdb.status, disrupted_pods={name: 100}))
    kept, recheck = disrupted_pods(marked, pods, now=220, timeout=120)
    assert kept == {name: 100} and recheck == 220
    status = DisruptionController(120)._status(marked, pods, (2, 1), 220)
    assert (status.current_healthy, status.disruptions_allowed, dict(status.disrupted_pods)) == (2, 1, {name: 100})
    assert healthy(pods, kept, 219, 120) == 1
    assert healthy(pods, kept, 220, 120) == 2


def _evict(model: ClusterModel, state: ClusterState, name: str) -> int:
    request = Request(verb="evict", user="admin", resource="pods", namespace="default", name=name)
    return send(model, state, "admin", request, "user")[1].code


def _sync(state: ClusterState, model: ClusterModel) -> ClusterState:
    """The disruption controller's reconciles of the PDB (instant caches: it reads the store) until its
    key is no longer queued: a sync that needs a live scale GET takes two."""
    ctl = state.controllers[DISRUPTION]
    state = attrs.evolve(state, controllers=state.controllers.set(DISRUPTION, ctl.enqueue((KEY,))))
    for _ in range(4):
        if KEY not in state.controllers[DISRUPTION].queue:
            return state
        state = reconcile(model, state, Reconcile(DISRUPTION, KEY))
    raise AssertionError("the PDB's syncs did not finish")


def _web_pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods", "default")
            if isinstance(p, Pod) and p.metadata.labels.get("app") == "web"]


def test_a_pod_whose_replicaset_is_gone_fails_safe_and_evictions_get_429() -> None:
    """getExpectedScale: a pod none of the finders resolves — here the last pod of an old ReplicaSet,
    still terminating after revisionHistoryLimit 0 (or a cascade deletion) removed its ReplicaSet — is
    an error, "found no controllers for pod"; failSafe sets disruptionsAllowed 0 with a SyncFailed
    condition and the eviction subresource refuses (429). The model left the pod out and allowed one."""
    model, state = settled(DATA / "drained.yaml")
    ref = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="web-old", uid="0ld-rs", controller=True)
    old = Pod(metadata=ObjectMeta(name="web-old-1", namespace="default", labels={"app": "web"},
                                  owner_references=(ref,)),
              spec=PodSpec(containers=(Container(name="app", image="web:0"),)))
    state = api(state, model, Request(verb="create", user=ADMIN, obj=old))
    state = api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                      namespace="default", name="web-old-1", node_name="worker-2"))
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                      name="web-old-1"))
    pdb = PodDisruptionBudget(spec=PodDisruptionBudgetSpec(selector=SELECT, max_unavailable=1))
    get = expected_and_desired(state.store, pdb, _web_pods(state))
    assert get == ScaleGet("replicasets.apps", "default", "web-old", "0ld-rs", "web-old-1")
    state = _sync(state, model)
    status = stored(state, PDB, PodDisruptionBudget).status
    assert status.disruptions_allowed == 0
    assert [(c.type, c.status, c.reason, c.message) for c in status.conditions] == [
        ("DisruptionAllowed", "False", "SyncFailed", 'found no controllers for pod "web-old-1"')]
    running = next(p for p in _web_pods(state) if p.metadata.deletion_timestamp is None)
    assert _evict(model, state, running.metadata.name) == 429
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                      name="web-old-1", grace_period_seconds=0))
    state = _sync(state, model)
    status = stored(state, PDB, PodDisruptionBudget).status
    assert (status.disruptions_allowed, status.conditions[0].reason) == (1, "SufficientPods")
    assert _evict(model, state, running.metadata.name) == 201


def test_a_replicaset_whose_deployment_is_gone_counts_with_its_own_replicas() -> None:
    """A cascade deletion of the Deployment leaves its ReplicaSet for the garbage collector:
    getPodDeployment and getPodReplicaSet find nothing (the ReplicaSet has a Deployment for its
    controller) and getScaleController reads the ReplicaSet's scale. The model counted no pod."""
    model, state = settled(DATA / "drained.yaml")
    state = api(state, model, Request(verb="delete", user=ADMIN, resource="deployments.apps", namespace="default",
                                      name="web"))
    assert state.store.get(ObjectKey("deployments.apps", "default", "web")) is None
    assert any(isinstance(r, ReplicaSet) for r in state.store.list("replicasets.apps", "default"))
    pdb = PodDisruptionBudget(spec=PodDisruptionBudgetSpec(selector=SELECT, max_unavailable=1))
    rs = next(r for r in state.store.list("replicasets.apps", "default") if isinstance(r, ReplicaSet))
    get = expected_and_desired(state.store, pdb, _web_pods(state))
    assert get == ScaleGet("replicasets.apps", "default", rs.metadata.name, rs.metadata.uid,
                           _web_pods(state)[0].metadata.name)
    assert expected_and_desired(state.store, pdb, _web_pods(state), (LiveScale(rs.metadata.uid, 2),)) == (2, 1)
    state = _sync(state, model)
    status = stored(state, PDB, PodDisruptionBudget).status
    assert (status.expected_pods, status.desired_healthy, status.disruptions_allowed) == (2, 1, 1)


def test_a_controller_without_a_scale_subresource_fails_safe() -> None:
    """getScaleController on a kind without a scale subresource (a Job's pods under a percentage or
    maxUnavailable budget): "jobs.batch does not implement the scale subresource"."""
    _, state = settled(DATA / "drained.yaml")
    ref = OwnerReference(api_version="batch/v1", kind="Job", name="batch", uid="j0b", controller=True)
    pod = Pod(metadata=ObjectMeta(name="batch-1", namespace="default", labels={"app": "web"}, owner_references=(ref,)))
    pdb = PodDisruptionBudget(spec=PodDisruptionBudgetSpec(selector=SELECT, min_available="50%"))
    assert expected_and_desired(state.store, pdb, [pod]) == "jobs.batch does not implement the scale subresource"
    assert expected_and_desired(state.store, attrs.evolve(pdb, spec=attrs.evolve(pdb.spec, min_available=1)),
                                [pod]) == (1, 1)
