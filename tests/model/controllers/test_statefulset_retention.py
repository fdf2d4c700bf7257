"""The StatefulSet PVC retention policy (StatefulSetAutoDeletePVC, KEP-1847, GA in v1.32): the
StatefulSet controller keeps its claims' owner references (`statefulset_retention`) and the
garbage collector deletes a claim whose owner is gone.

The scenario is the sixth user trial's `sts2` (a Parallel, OnDelete set of three with `whenDeleted:
Delete, whenScaled: Delete`, scaled to one and then deleted), refused at decode before: upstream
deletes the claims of ordinals 1 and 2 after their pods and the last claim with the set. The race
test is the one upstream's PodClaimIsStale guards against (kubernetes PR #99728, the review
thread on `PodClaimIsStale`; kubernetes#107487): a pod re-created for an ordinal whose claim still
names the previous pod would start on a claim the garbage collector is deleting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cluster_harness import fair_states, gone_at

from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.objects import ObjectKey, PersistentVolumeClaim, Pod, StatefulSet, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import deliver_instantly
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.controllers.statefulset_retention import (
    PodIdentity,
    claim_is_stale,
    claim_owner_up_to_date,
    updated_owner_refs,
)
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState, send

SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: sts2}
manifests: [manifests]
topology:
  nodes:
    - {name: w1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
    - {name: w2, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
users:
  - {name: admin, clusterRoles: [cluster-admin]}
workload:
  - scale: {statefulset: default/kv, replicas: 1}
  - delete: {kind: StatefulSet, name: kv}
faults: {nodeCrash: 1, partition: 1}
"""
KV = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv, namespace: default}
spec:
  serviceName: kv
  replicas: 3
  podManagementPolicy: Parallel
  updateStrategy: {type: OnDelete}
POLICY  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: kv
          image: kv:1
          resources: {requests: {cpu: 100m, memory: 64Mi}}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: kv, namespace: default}
spec:
  clusterIP: None
  selector: {app: kv}
  ports: [{name: kv, port: 6379}]
"""
BOTH = "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}\n"


def _model(tmp: Path, policy: str, instant: bool = False) -> ClusterModel:
    (tmp / "manifests").mkdir(exist_ok=True)
    (tmp / "manifests" / "kv.yaml").write_text(KV.replace("POLICY", policy))
    (tmp / "scenario.yaml").write_text(SCENARIO)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": instant})


def _claim(name: str) -> ObjectKey:
    return ObjectKey("persistentvolumeclaims", "default", name)


def _pod(name: str) -> ObjectKey:
    return ObjectKey("pods", "default", name)


def _all(state: ClusterState, resource: str) -> list[Any]:
    return list(state.store.list(resource))


def _replay(model: ClusterModel) -> tuple[list[ClusterState], list[int]]:
    """The fair run's states (the initial one first) and the indices of its user steps."""
    states, trace = fair_states(model)
    return states, [i + 1 for i, act in enumerate(trace) if isinstance(act, UserStep)]


def test_trial_sts2_claims_go_after_their_pods_then_with_the_set(tmp_path: Path) -> None:
    """whenScaled Delete: the claims of ordinals 1 and 2 get their pod as controller before the
    pod is deleted and are deleted by the garbage collector after it; data-kv-0 (the set as
    controller) stays until the set is deleted, then goes with it."""
    states, (scaled, deleted) = _replay(_model(tmp_path, BOTH))
    for ordinal in (1, 2):
        claim_gone, pod_gone = gone_at(states, _claim(f"data-kv-{ordinal}")), gone_at(states, _pod(f"kv-{ordinal}"))
        assert pod_gone is not None and claim_gone is not None and scaled < pod_gone < claim_gone
        last = states[pod_gone - 1]
        claim, pod = last.store.get(_claim(f"data-kv-{ordinal}")), last.store.get(_pod(f"kv-{ordinal}"))
        assert isinstance(claim, PersistentVolumeClaim) and isinstance(pod, Pod)
        assert claim.metadata.owner_references == (OwnerReference(
            api_version="v1", kind="Pod", name=f"kv-{ordinal}", uid=pod.metadata.uid,
            controller=True, block_owner_deletion=True),)
    before = states[deleted - 1]
    kept, sts = before.store.get(_claim("data-kv-0")), before.store.get(ObjectKey("statefulsets.apps", "default", "kv"))
    assert isinstance(kept, PersistentVolumeClaim) and isinstance(sts, StatefulSet)
    assert [(r.kind, r.uid, r.controller) for r in kept.metadata.owner_references] == [
        ("StatefulSet", sts.metadata.uid, True)]
    gone = gone_at(states, _claim("data-kv-0"))
    assert gone is not None and gone > deleted
    assert not _all(states[-1], "persistentvolumeclaims") and not _all(states[-1], "pods")


def test_retain_retain_keeps_every_claim_without_owners(tmp_path: Path) -> None:
    """The default (no policy, Retain/Retain): no owner reference is written and no claim goes."""
    states, _ = _replay(_model(tmp_path, ""))
    claims = _all(states[-1], "persistentvolumeclaims")
    assert sorted(c.metadata.name for c in claims) == ["data-kv-0", "data-kv-1", "data-kv-2"]
    assert all(not c.metadata.owner_references for s in states for c in _all(s, "persistentvolumeclaims"))


def test_when_deleted_only_keeps_scaled_claims_until_the_set_goes(tmp_path: Path) -> None:
    """whenDeleted Delete, whenScaled Retain: every claim has the set as controller; the scale-down
    deletes none, the set's deletion all of them."""
    policy = "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}\n"
    states, (_, deleted) = _replay(_model(tmp_path, policy))
    before = states[deleted - 1]
    claims = _all(before, "persistentvolumeclaims")
    assert sorted(c.metadata.name for c in claims) == ["data-kv-0", "data-kv-1", "data-kv-2"]
    assert all([r.kind for r in c.metadata.owner_references] == ["StatefulSet"] for c in claims)
    assert not _all(states[-1], "persistentvolumeclaims")


def _user(model: ClusterModel, state: ClusterState, request: Request) -> ClusterState:
    before = state.store.revision
    state, response = send(model, state, ADMIN, request, "user")
    assert response.ok, response.message
    return deliver_instantly(model, state, tuple(e for e in state.store.events if e.revision > before))


def test_recreated_pod_waits_for_the_claim_being_collected(tmp_path: Path) -> None:
    """The race: scaled 3 -> 1 and back to 3 while data-kv-2 still names the deleted kv-2 as its
    owner. Creating kv-2 now would give the new pod a claim the garbage collector is about to
    delete; the controller creates neither it nor its claim (PodClaimIsStale) until the claim is
    gone, then a new, empty claim and the pod."""
    model = _model(tmp_path, BOTH, instant=True)
    states, (scaled, _) = _replay(model)
    window = next(s for s in states[scaled:] if s.store.get(_pod("kv-2")) is None
                  and s.store.get(_claim("data-kv-2")) is not None)
    scale_up = Request(verb="patch", user=ADMIN, resource="statefulsets.apps", namespace="default", name="kv",
                       patch={"spec": {"replicas": 3}})
    state = _user(model, window, scale_up)
    old_claim = state.store.get(_claim("data-kv-2"))
    assert isinstance(old_claim, PersistentVolumeClaim)
    assert "kv-2" not in _created(state) and "data-kv-2" not in _created(state)
    orphaned = _user(model, state, Request(verb="patch", user=ADMIN, resource="persistentvolumeclaims",
                                           namespace="default", name="data-kv-2",
                                           patch={"metadata": {"ownerReferences": None}}))
    assert "kv-2" in _created(orphaned)  # what the check prevents: the pod would take the old claim
    settled = settle(model, state, max_steps=1500).state
    pod, claim = settled.store.get(_pod("kv-2")), settled.store.get(_claim("data-kv-2"))
    assert isinstance(pod, Pod) and isinstance(claim, PersistentVolumeClaim)
    assert claim.metadata.uid != old_claim.metadata.uid


def _created(state: ClusterState) -> set[str]:
    """The names one StatefulSet sync creates, reading the store as an instant cache."""
    sync = StatefulSetController().reconcile(state.store, "default/kv", None, state.clock)
    return {r.obj.metadata.name for r in sync.requests if r.verb == "create" and r.obj is not None}


def _claim_with(*refs: OwnerReference) -> PersistentVolumeClaim:
    return PersistentVolumeClaim(metadata=ObjectMeta(name="data-kv-1", namespace="default", owner_references=refs))


def _set(policy: dict[str, str]) -> StatefulSet:
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "kv", "namespace": "default", "uid": "set-uid"},
            "spec": {"replicas": 1, "serviceName": "kv", "selector": {"matchLabels": {"app": "kv"}},
                     "template": {"metadata": {"labels": {"app": "kv"}}, "spec": {"containers": [{"name": "c"}]}},
                     "persistentVolumeClaimRetentionPolicy": policy}}
    sts = apply_defaults(decode_object(body))
    assert isinstance(sts, StatefulSet)
    return sts


SET_REF = OwnerReference(api_version="apps/v1", kind="StatefulSet", name="kv", uid="set-uid", controller=True,
                         block_owner_deletion=True)
POD_REF = OwnerReference(api_version="v1", kind="Pod", name="kv-1", uid="pod-uid", controller=True,
                         block_owner_deletion=True)


@pytest.mark.parametrize(("scaled", "deleted", "live", "condemned"), [
    ("Retain", "Retain", (), ()),
    ("Retain", "Delete", (SET_REF,), (SET_REF,)),
    ("Delete", "Retain", (), (POD_REF,)),
    ("Delete", "Delete", (SET_REF,), (POD_REF,)),
])
def test_owner_table(scaled: str, deleted: str, live: tuple[OwnerReference, ...],
                     condemned: tuple[OwnerReference, ...]) -> None:
    """isClaimOwnerUpToDate / updateClaimOwnerRefForSetAndPod: the wanted references from any
    start (none, the set's, the pod's, both), and a claim with them is up to date."""
    sts = _set({"whenScaled": scaled, "whenDeleted": deleted})
    for is_condemned, want in ((False, live), (True, condemned)):
        pod = PodIdentity("kv-1", "pod-uid", condemned=is_condemned)
        for start in ((), (SET_REF,), (POD_REF,), (SET_REF, POD_REF)):
            assert updated_owner_refs(_claim_with(*start), sts, pod) == want
            assert claim_owner_up_to_date(_claim_with(*start), sts, pod) == (start == want)


def test_stale_and_foreign_references_are_left_alone() -> None:
    """A reference to an earlier pod of the name is stale: the claim is not touched (and blocks a
    new pod under whenScaled Delete); another controller keeps the claim, losing only ours."""
    sts = _set({"whenScaled": "Delete", "whenDeleted": "Delete"})
    old = OwnerReference(api_version="v1", kind="Pod", name="kv-1", uid="old-uid", controller=True)
    assert claim_owner_up_to_date(_claim_with(old), sts, PodIdentity("kv-1", "pod-uid", condemned=True))
    assert claim_is_stale(_claim_with(old), sts, "kv-1")
    assert not claim_is_stale(_claim_with(old), _set({"whenDeleted": "Delete"}), "kv-1")
    assert not claim_is_stale(_claim_with(SET_REF), sts, "kv-1")
    other = OwnerReference(api_version="example.com/v1", kind="Db", name="db", uid="db-uid", controller=True)
    live = PodIdentity("kv-1", "pod-uid", condemned=False)
    assert claim_owner_up_to_date(_claim_with(other), sts, live)
    assert not claim_owner_up_to_date(_claim_with(other, SET_REF), sts, live)
    assert updated_owner_refs(_claim_with(other, SET_REF), sts, live) == (other,)
