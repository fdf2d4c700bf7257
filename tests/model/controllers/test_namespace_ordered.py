"""OrderedNamespaceDeletion (KEP-5080; beta and on by default in v1.33, locked on from v1.34): the
namespace controller deletes a terminating namespace's pods first and its other objects only once
no pod is left (`deleteAllContent` in `pkg/controller/namespace/deletion/namespaced_resources_deleter.go`);
parameter `orderedNamespaceDeletion`, false for v1.32 and before.

The eleventh audit's false alarm: the model deleted every item in one pass, so the team property
of `data/namespace-ordered` ("while a pod of team-a exists, its NetworkPolicy exists") was
violated although real v1.33 keeps it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import feastflow
from user_modules import user_folder

from kubeprop.model.api.core import Namespace
from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import ConfigMap, Container, ObjectKey, Pod, PodSpec
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.namespace import NamespaceController, NamespaceMemory
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import ClusterState

DATA = Path(__file__).resolve().parents[1] / "data" / "namespace-ordered"
POLICY = ObjectKey("networkpolicies.networking.k8s.io", "team-a", "default-deny")
NAMESPACE = ObjectKey("namespaces", "", "team-a")


@pytest.fixture(autouse=True)
def team_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _expected_run(**parameters: object) -> list[ClusterState]:
    """Every state of the run a user expects: the rollout, then `kubectl delete namespace team-a`."""
    model = build_model(load_scenario(DATA / "scenario.yaml"), parameters=dict(parameters))
    run = fair_run(model, initial_state(model), max_steps=400)
    assert not run.exhausted
    states = [initial_state(model)]
    for act in run.trace:
        states.append(step(model, states[-1], act))
    return states


def _violations(states: list[ClusterState]) -> list[str]:
    prop = importlib.import_module("namespace_ordered_checks").pods_keep_their_network_policy
    found = [prop.check(None, s) for s in states]
    return [f.message for f in found if f is not None]


def test_v133_deletes_the_pods_before_the_network_policy() -> None:
    states = _expected_run()
    assert _violations(states) == []
    pods_seen = [i for i, s in enumerate(states) if list(s.store.list("pods", "team-a"))]
    policy_marked = [i for i, s in enumerate(states)
                     if (p := s.store.get(POLICY)) is None or p.metadata.deletion_timestamp is not None]
    assert pods_seen and policy_marked and policy_marked[0] > pods_seen[-1]
    assert states[-1].store.get(NAMESPACE) is None  # and the namespace is emptied and removed
    assert [k for k in states[-1].store.objects if k.namespace == "team-a"] == []


def test_v132_deletes_everything_at_once() -> None:
    """`orderedNamespaceDeletion: false`, v1.32 and before: the policy goes in the pass that
    deletes the pod, which runs on meanwhile (its 30 s grace period)."""
    states = _expected_run(orderedNamespaceDeletion=False)
    assert _violations(states)
    assert states[-1].store.get(NAMESPACE) is None


def _terminating_with_pod_and_config() -> Store:
    """Namespace team-a with a bound pod (deleted gracefully, so it stays a while) and a ConfigMap,
    then deleted: Terminating."""
    api = feastflow()
    store = api.ok(api.base, Request(verb="create", user=ADMIN, obj=Namespace(metadata=ObjectMeta(name="team-a"))))
    pod = Pod(metadata=ObjectMeta(name="web", namespace="team-a"),
              spec=PodSpec(containers=(Container(name="web", image="web:1"),), node_name="worker-1"))
    store = api.ok(store, Request(verb="create", user=ADMIN, obj=pod))
    store = api.ok(store, Request(verb="create", user=ADMIN,
                                  obj=ConfigMap(metadata=ObjectMeta(name="settings", namespace="team-a"))))
    return api.ok(store, Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"), 10)


def _pass(ctl: NamespaceController, live: Store, memory: object, now: int) -> tuple[Store, object, list[str]]:
    """One reconcile, its cache the live store, its requests sent in order: the requests' targets."""
    api = feastflow()
    decision = ctl.reconcile(live, "team-a", memory, now)
    memory, sent = decision.memory, []
    for request in decision.requests:
        result = api.handle(live, request, now)
        assert result.response.ok, result.response
        live, memory = result.store, ctl.observe(memory, request, result.response)
        sent.append(f"{request.verb} {request.resource}/{request.name}".rstrip("/"))
    return live, memory, sent


def _content_remaining(live: Store) -> str:
    namespace = live.get(NAMESPACE)
    assert isinstance(namespace, Namespace)
    condition = find_condition(namespace.status.conditions, "NamespaceContentRemaining")
    assert condition is not None
    return f"{condition.status} {condition.reason}"


def test_the_controller_waits_for_the_pods_before_deleting_the_rest() -> None:
    """The pass that finds a pod deletes it alone and, as upstream returns before
    `ProcessContentTotals`, sets no content totals; the ConfigMap is deleted only once a pass
    finds no pod."""
    ctl = NamespaceController()
    live, memory, _ = _pass(ctl, _terminating_with_pod_and_config(), ctl.initial_memory(), 11)
    live, memory, sent = _pass(ctl, live, memory, 12)
    assert [s for s in sent if s.startswith("delete")] == ["delete pods/web"]
    assert _content_remaining(live) == "False ContentRemoved"
    live, memory, sent = _pass(ctl, live, memory, 13)  # the pod is terminating: wait for it
    assert sent == []
    assert live.get(ObjectKey("configmaps", "team-a", "settings")) is not None
    api = feastflow()  # the kubelet is done with the pod
    live = api.ok(live, Request(verb="delete", user=ADMIN, resource="pods", namespace="team-a", name="web",
                                grace_period_seconds=0), 14)
    live, memory, sent = _pass(ctl, live, memory, 15)  # gone from the cache: list again
    assert not [s for s in sent if s.startswith("delete")]
    live, memory, sent = _pass(ctl, live, memory, 16)
    assert [s for s in sent if s.startswith("delete")] == ["delete configmaps/settings"]
    assert _content_remaining(live) == "True SomeResourcesRemain"
    live, memory, sent = _pass(ctl, live, memory, 17)
    assert sent[-1] == "finalize namespaces/team-a"
    assert live.get(NAMESPACE) is None and memory == NamespaceMemory()


def test_without_the_gate_one_pass_deletes_everything() -> None:
    ctl = NamespaceController(ordered=False)
    live, memory, _ = _pass(ctl, _terminating_with_pod_and_config(), ctl.initial_memory(), 11)
    live, memory, sent = _pass(ctl, live, memory, 12)
    assert sorted(s for s in sent if s.startswith("delete")) == ["delete configmaps/settings", "delete pods/web"]
    assert _content_remaining(live) == "True SomeResourcesRemain"
