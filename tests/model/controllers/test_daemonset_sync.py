"""The DaemonSet kind through the API server and single syncs of its controller, on the bare
scenario's three workers: defaults and validation (`pkg/apis/apps/v1/defaults.go`,
`pkg/apis/apps/validation/validation.go`), then syncDaemonSet's creates, expectations, failed-pod
back-off, node events and rolling update (`pkg/controller/daemon`)."""

from __future__ import annotations

from typing import Any

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Node, Taint
from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.base import Change
from kubeprop.model.controllers.daemonset import DaemonSetController, DaemonSetMemory, _AfterFailure
from kubeprop.model.controllers.daemonset_util import REVISION_HASH_LABEL, target_node_name, template_hash
from kubeprop.model.scenario.load import ADMIN

API = ApiHarness(bare_scenario())
KEY = "default/agent"


def manifest(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}, **spec}}


def create(body: dict[str, Any]) -> tuple[Store, Any]:
    return API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))


def stored(store: Store) -> DaemonSet:
    obj = store.get(ObjectKey("daemonsets.apps", "default", "agent"))
    assert isinstance(obj, DaemonSet)
    return obj


def daemon_pods(store: Store) -> list[Pod]:
    return [p for p in store.list("pods", "default") if isinstance(p, Pod)]


def test_a_daemonset_is_admitted_with_upstream_defaults() -> None:
    store, response = create(manifest())
    assert response.ok, response.message
    ds = stored(store)
    rolling = ds.spec.update_strategy.rolling_update
    assert ds.spec.update_strategy.type == "RollingUpdate" and rolling is not None
    assert (rolling.max_unavailable, rolling.max_surge, ds.spec.revision_history_limit) == (1, 0, 10)
    assert ds.spec.template.spec.restart_policy == "Always" and ds.metadata.generation == 1


def test_validation_refuses_what_upstream_refuses() -> None:
    cases = {
        "spec.template.metadata.labels": manifest(selector={"matchLabels": {"app": "other"}}),
        "spec.updateStrategy.rollingUpdate.maxSurge": manifest(updateStrategy={
            "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}),
        "spec.updateStrategy.rollingUpdate.maxUnavailable": manifest(updateStrategy={
            "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}),
        "spec.updateStrategy": manifest(updateStrategy={"type": "Recreate"}),
    }
    for path, body in cases.items():
        _, response = create(body)
        assert response.code == 422 and path in response.message, (path, response.message)
    bad = manifest()
    bad["spec"]["template"]["spec"]["activeDeadlineSeconds"] = 5
    _, response = create(bad)
    assert response.code == 422 and "activeDeadlineSeconds in DaemonSet is not Supported" in response.message


def test_selector_immutable_generation_and_status_subresource() -> None:
    store, _ = create(manifest())
    ds = stored(store)
    moved = attrs.evolve(ds, spec=attrs.evolve(ds.spec, min_ready_seconds=5))
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=moved))
    assert stored(store).metadata.generation == 2
    ds = stored(store)
    _, response = API.send(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(ds, spec=attrs.evolve(
        ds.spec, selector=attrs.evolve(ds.spec.selector, match_labels={"app": "agent", "x": "y"})))))
    assert response.code == 422 and "field is immutable" in response.message
    negative = attrs.evolve(ds, status=attrs.evolve(ds.status, number_ready=-1))
    _, response = API.send(store, Request(verb="update-status", user=ADMIN, resource="daemonsets.apps",
                                          namespace="default", name="agent", obj=negative))
    assert response.code == 422 and "status.numberReady" in response.message


def sync(store: Store, memory: DaemonSetMemory, ctl: DaemonSetController | None = None,
         now: int = 1) -> tuple[Store, DaemonSetMemory, tuple[Request, ...]]:
    """One sync reading `store` as its cache; its requests sent in order, each answer observed."""
    ctl = ctl or DaemonSetController()
    decision = ctl.reconcile(store, KEY, memory, now)
    memory = decision.memory
    for request in decision.requests:
        store, response = API.send(store, request, now)
        memory = ctl.observe(memory, request, response)
    return store, memory, decision.requests


def test_one_pod_per_node_with_expectations() -> None:
    store, _ = create(manifest())
    workers = sorted(n.metadata.name for n in store.list("nodes"))
    after, memory, _ = sync(store, DaemonSetMemory())
    pods = daemon_pods(after)
    assert sorted(target_node_name(p) or "" for p in pods) == workers
    assert all(p.metadata.labels[REVISION_HASH_LABEL] == template_hash(stored(after)) for p in pods)
    # a second sync whose pod cache has not seen the creates yet waits for them …
    _, _, again = sync(store, memory)
    assert not [r for r in again if r.verb == "create"]
    # … and without expectations (the ds-no-expectations variant) makes a second pod on every node
    _, _, again = sync(store, memory, DaemonSetController(use_expectations=False))
    assert len([r for r in again if r.verb == "create"]) == len(workers)


def test_failed_pods_are_deleted_through_a_backoff() -> None:
    store, _ = create(manifest())
    store, memory, _ = sync(store, DaemonSetMemory())
    pod = daemon_pods(store)[0]
    failed = attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Failed"))
    store = API.ok(store, Request(verb="update-status", user=ADMIN, resource="pods", namespace="default",
                                  name=pod.metadata.name, obj=failed))
    store, memory, requests = sync(store, memory, now=10)
    assert [(r.verb, r.name) for r in requests if r.resource == "pods"] == [("delete", pod.metadata.name)]
    assert list(memory.backoff.values()) == [(10, 1)]


def test_node_events_enqueue_the_daemonsets_whose_verdict_changes() -> None:
    store, _ = create(manifest())
    ctl = DaemonSetController()
    node = next(n for n in store.list("nodes") if isinstance(n, Node))
    tainted = attrs.evolve(node, spec=attrs.evolve(node.spec, taints=(Taint(key="k", effect="NoSchedule"),)),
                           metadata=attrs.evolve(node.metadata, resource_version="999"))
    assert tuple(ctl.keys_for_change(Change("add", node), store)) == (KEY,)
    assert tuple(ctl.keys_for_change(Change("update", tainted, node), store)) == (KEY,)
    relabelled = attrs.evolve(node, metadata=attrs.evolve(node.metadata, annotations={"a": "b"}))
    assert tuple(ctl.keys_for_change(Change("update", relabelled, node), store)) == ()
    assert tuple(ctl.keys_for_change(Change("delete", node), store)) == ()


def test_a_template_change_replaces_one_node_at_a_time() -> None:
    store, _ = create(manifest())
    store, memory, _ = sync(store, DaemonSetMemory())
    for pod in daemon_pods(store):  # every pod Running and Ready
        store = _bind_and_ready(store, pod)
    ds = stored(store)
    template = ds.spec.template
    spec = attrs.evolve(template.spec, containers=(attrs.evolve(template.spec.containers[0], image="agent:2"),))
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        ds, spec=attrs.evolve(ds.spec, template=attrs.evolve(template, spec=spec)))))
    _, _, requests = sync(store, memory, now=20)
    assert [r.verb for r in requests if r.resource == "pods"] == ["delete"]  # maxUnavailable 1


def _bind_and_ready(store: Store, pod: Pod) -> Store:
    """The pod bound to its target node, Running and Ready (the scheduler and kubelet played by hand)."""
    store = API.ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default",
                                  name=pod.metadata.name, node_name=target_node_name(pod) or ""))
    current = store.get(ObjectKey("pods", "default", pod.metadata.name))
    assert isinstance(current, Pod)
    ready = Condition(type="Ready", status="True", last_transition_time=1)
    status = attrs.evolve(current.status, phase="Running", conditions=set_condition(current.status.conditions, ready))
    return API.ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status)))


def test_after_a_failed_create_the_deletes_and_the_status_are_still_sent() -> None:
    """syncNodes sends the deletes whatever the creates did, and syncDaemonSet writes the status after
    updateDaemonSet's error; a failed adoption patch fails both (getNodesToDaemonPods)."""
    create = Request(verb="create", user=ADMIN, resource="pods", namespace="default", obj=Pod())
    delete = Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="old")
    status = Request(verb="update-status", user=ADMIN, resource="daemonsets.apps", namespace="default", name="agent")
    patch = Request(verb="patch", user=ADMIN, resource="pods", namespace="default", name="orphan")
    after = _AfterFailure((patch, create, create, delete, status))
    refused = Response(code=500, reason="InternalError", message="boom")
    assert after(create, refused) == (delete, status)
    assert after(delete, refused) == (status,)
    assert after(patch, refused) == ()


def _owned_pod(store: Store, node: str, name: str) -> Store:
    """A pod the DaemonSet controls, bound to `node` (as a second daemon pod there would be)."""
    ds = stored(store)
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "agent"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
                                              "uid": ds.metadata.uid, "controller": True}]},
            "spec": {"nodeName": node, "containers": [{"name": "a", "image": "agent:1"}]}}
    return API.ok(store, Request(verb="create", user=ADMIN, obj=decode_object(body)))


def _failed(store: Store, name: str) -> Store:
    pod = store.get(ObjectKey("pods", "default", name))
    assert isinstance(pod, Pod)
    return API.ok(store, Request(verb="update-status", user=ADMIN, resource="pods", namespace="default",
                                 name=name, obj=attrs.evolve(pod, status=attrs.evolve(pod.status, phase="Failed"))))


def test_a_second_failed_pod_on_a_node_waits_for_the_back_off() -> None:
    """podsShouldBeOnNode asks IsInBackOffSinceUpdate per failed pod and calls Next after each delete:
    the second failed pod on the node finds the entry updated just now and is held, and the key is
    requeued after the entry's delay from now (enqueueDaemonSetAfter(ds, delay))."""
    store, _ = create(manifest())
    node = sorted(n.metadata.name for n in store.list("nodes"))[0]
    for name in ("first", "second"):
        store = _failed(_owned_pod(store, node, name), name)
    _, memory, requests = sync(store, DaemonSetMemory(), now=10)
    assert [r.name for r in requests if r.verb == "delete"] == ["first"]  # (the other nodes get their pods)
    assert list(memory.backoff.values()) == [(10, 1)] and dict(memory.held.sorted_items()) == {KEY: 11}


def test_a_surge_update_fails_while_an_old_pod_s_node_is_gone() -> None:
    """rollingUpdate's surge half looks up the node of every old pod without a new one; a node deleted
    while its bound pod is still cached fails the sync: nothing sent, no status, the key requeued."""
    store, _ = create(manifest(updateStrategy={"type": "RollingUpdate",
                                               "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}))
    store, memory, _ = sync(store, DaemonSetMemory())
    for pod in daemon_pods(store):
        store = _bind_and_ready(store, pod)
    gone = sorted(n.metadata.name for n in store.list("nodes"))[0]
    store = API.ok(store, Request(verb="delete", user=ADMIN, resource="nodes", name=gone))
    ds = stored(store)
    template = ds.spec.template
    spec = attrs.evolve(template.spec, containers=(attrs.evolve(template.spec.containers[0], image="agent:2"),))
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        ds, spec=attrs.evolve(ds.spec, template=attrs.evolve(template, spec=spec)))))
    decision = DaemonSetController().reconcile(store, KEY, memory, 20)
    assert decision.requests == () and decision.requeue
