"""The StatefulSet controller's identity repair (processReplica → UpdateStatefulPod when
identityMatches fails; `pkg/controller/statefulset/stateful_set_control.go`,
`stateful_set_utils.go`): under both pod management policies, and only for what identityMatches
checks — the pod-name label, not the pod-index one (audit 11)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from api_harness import feastflow

from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ObjectKey, Pod, StatefulSet
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.statefulset import POD_NAME_LABEL, StatefulSetController
from kubeprop.model.controllers.statefulset_pod import POD_INDEX_LABEL
from kubeprop.model.scenario.load import ADMIN

API = feastflow()
KEY = "default/postgres"
POD = ObjectKey("pods", "default", "postgres-0")


def _set(policy: str) -> Store:
    """FeastFlow's `postgres` set (one replica) created again with `policy` (the field is
    immutable), its pod created."""
    current = API.base.get(ObjectKey("statefulsets.apps", "default", "postgres"))
    assert isinstance(current, StatefulSet)
    store = API.ok(API.base, Request(verb="delete", user=ADMIN, resource="statefulsets.apps", namespace="default",
                                     name="postgres"))
    fresh = attrs.evolve(current, metadata=attrs.evolve(current.metadata, uid="", resource_version=""),
                         spec=attrs.evolve(current.spec, pod_management_policy=policy))
    store = API.ok(store, Request(verb="create", user=ADMIN, obj=fresh))
    store, _ = API.reconcile(StatefulSetController(), store, KEY, must_succeed=True)
    assert isinstance(store.get(POD), Pod)
    return store


def _relabel(store: Store, **labels: str) -> Store:
    """A user's update of the pod's identity labels (an empty value drops the label)."""
    pod = store.get(POD)
    assert isinstance(pod, Pod)
    kept = {k: v for k, v in {**pod.metadata.labels, **labels}.items() if v}
    return API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        pod, metadata=attrs.evolve(pod.metadata, labels=kept))))


def _patches(store: Store) -> list[Any]:
    _, requests = API.reconcile(StatefulSetController(), store, KEY, must_succeed=True)
    return [r.patch for r in requests if r.verb == "patch" and r.resource == "pods"]


def test_a_parallel_set_repairs_a_pods_name_label() -> None:
    """Upstream processReplica checks identityMatches under both policies; the model returned
    before it for a Parallel set, so a pod that lost its pod-name label (a Service selecting one
    replica by it loses its endpoint) was never repaired."""
    store = _relabel(_set("Parallel"), **{POD_NAME_LABEL: ""})
    labels = [p["metadata"]["labels"] for p in _patches(store)]
    assert labels == [{POD_NAME_LABEL: "postgres-0", POD_INDEX_LABEL: "0"}]


def test_a_pending_ordered_ready_pod_is_not_repaired_yet() -> None:
    """OrderedReady waits for a pod to be Running and Ready before it checks the identity."""
    assert _patches(_relabel(_set("OrderedReady"), **{POD_NAME_LABEL: ""})) == []


def _running_ready(store: Store) -> Store:
    """The scheduler binds the pod and the kubelet reports it Running and Ready."""
    store = API.ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name="postgres-0",
                                  node_name="worker-3"))
    pod = store.get(POD)
    assert isinstance(pod, Pod)
    ready = Condition(type="Ready", status="True", last_transition_time=1)
    status = attrs.evolve(pod.status, phase="Running", pod_ip="10.244.0.10",
                          conditions=set_condition(pod.status.conditions, ready))
    return API.ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(pod, status=status)))


@pytest.mark.parametrize("policy", ["OrderedReady", "Parallel"])
def test_a_pod_index_label_alone_is_not_repaired(policy: str) -> None:
    """identityMatches (v1.33) compares the pod-name label only: a changed pod-index label
    makes no UpdateStatefulPod (the model patched it back on a Running and Ready OrderedReady
    pod); a lost pod-name label is repaired, with the pod-index label too (updateIdentity)."""
    ready = _running_ready(_set(policy))
    assert _patches(_relabel(ready, **{POD_INDEX_LABEL: "7"})) == []
    labels = [p["metadata"]["labels"] for p in _patches(_relabel(ready, **{POD_NAME_LABEL: "", POD_INDEX_LABEL: "7"}))]
    assert labels == [{POD_NAME_LABEL: "postgres-0", POD_INDEX_LABEL: "0"}]
