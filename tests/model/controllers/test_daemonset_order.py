"""The environment's choice of which old pods a DaemonSet's rolling update replaces first (audit20a F3):
upstream's `pkg/controller/daemon/update.go` rollingUpdate walks a Go map in no fixed order, so with
maxUnavailable 1 on three nodes any node's pod can be the first replaced. The model walks by name
from a start node (`walk_start`); `walk_starts` names the starts that replace other pods, and
`daemonset_order.ReconcileFrom` is the environment's move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy, fair_run
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.daemonset import DaemonSetController, DaemonSetMemory
from kubeprop.model.controllers.daemonset_order import ReconcileFrom
from kubeprop.model.controllers.daemonset_util import target_node_name
from kubeprop.model.scenario.load import ADMIN, load_scenario

API = ApiHarness(bare_scenario())
KEY = "default/agent"
ROLLOUT = Path(__file__).parents[1] / "data" / "daemonset" / "rollout.yaml"


def _manifest(**rolling: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}}


def _ready(store: Store, pod: Pod) -> Store:
    store = API.ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default",
                                  name=pod.metadata.name, node_name=target_node_name(pod) or ""))
    current = store.get(ObjectKey("pods", "default", pod.metadata.name))
    assert isinstance(current, Pod)
    ready = Condition(type="Ready", status="True", last_transition_time=1)
    status = attrs.evolve(current.status, phase="Running", conditions=set_condition(current.status.conditions, ready))
    return API.ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status)))


def _updated(**rolling: int) -> tuple[Store, DaemonSetMemory]:
    """Three ready pods of the old template, one per worker, and the template changed since."""
    store, response = API.send(API.base, Request(verb="create", user=ADMIN, obj=decode_object(_manifest(**rolling))))
    assert response.ok, response.message
    decision = DaemonSetController().reconcile(store, KEY, DaemonSetMemory(), 1)
    memory = decision.memory
    for request in decision.requests:
        store, answer = API.send(store, request, 1)
        memory = DaemonSetController().observe(memory, request, answer)
    for pod in [p for p in store.list("pods", "default") if isinstance(p, Pod)]:
        store = _ready(store, pod)
    ds = store.get(ObjectKey("daemonsets.apps", "default", "agent"))
    template = ds.spec.template  # type: ignore[union-attr]
    spec = attrs.evolve(template.spec, containers=(attrs.evolve(template.spec.containers[0], image="agent:2"),))
    store = API.ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        ds, spec=attrs.evolve(ds.spec, template=attrs.evolve(template, spec=spec)))))  # type: ignore[union-attr]
    return store, memory


def _replaced(store: Store, memory: DaemonSetMemory, start: str) -> set[str]:
    """The nodes whose pod the sync deletes (surge: onto which it creates), walking from `start`."""
    decision = DaemonSetController(walk_start=start).reconcile(store, KEY, memory, 20)
    nodes = set()
    for r in decision.requests:
        if r.resource == "pods" and r.verb == "delete":
            pod = store.get(ObjectKey("pods", "default", r.name))
            assert isinstance(pod, Pod)
            nodes.add(target_node_name(pod) or "")
        elif r.resource == "pods" and r.verb == "create":
            nodes.add(target_node_name(r.obj) or "")  # type: ignore[arg-type]
    return nodes


def test_any_node_s_pod_can_be_replaced_first() -> None:
    store, memory = _updated()
    workers = sorted(n.metadata.name for n in store.list("nodes"))
    starts = DaemonSetController().walk_starts(store, KEY, memory, 20)
    assert starts == tuple(workers[1:])  # the first by name is the plain Reconcile's
    assert [_replaced(store, memory, s) for s in ("", *starts)] == [{w} for w in workers]


def test_a_surge_can_start_on_any_node() -> None:
    store, memory = _updated(maxUnavailable=0, maxSurge=1)
    workers = sorted(n.metadata.name for n in store.list("nodes"))
    starts = DaemonSetController().walk_starts(store, KEY, memory, 20)
    assert [_replaced(store, memory, s) for s in ("", *starts)] == [{w} for w in workers]


def test_no_choice_where_every_candidate_is_taken() -> None:
    store, memory = _updated(maxUnavailable=3)
    assert DaemonSetController().walk_starts(store, KEY, memory, 20) == ()
    assert len(_replaced(store, memory, "")) == 3


def test_two_at_a_time_reach_each_run_of_two() -> None:
    store, memory = _updated(maxUnavailable=2)
    starts = DaemonSetController().walk_starts(store, KEY, memory, 20)
    chosen = [frozenset(_replaced(store, memory, s)) for s in ("", *starts)]
    assert len(chosen) == len(set(chosen)) == 3 and all(len(c) == 2 for c in chosen)


def test_the_cluster_offers_the_choice_and_the_fair_run_keeps_name_order() -> None:
    """On rollout.yaml (two workers): once the new template is applied the environment may have the
    controller replace worker-2's pod first; the fair run never takes that move and replaces worker-1's."""
    model = build_model(load_scenario(ROLLOUT))
    run = fair_run(model, initial_state(model))
    state = initial_state(model)
    for act in run.trace:
        enabled = actions(model, state)
        choices = [a for a in enabled if isinstance(a, ReconcileFrom)]
        if choices:
            assert choices == [ReconcileFrom("daemonset", "default/log-shipper", "worker-2")]
            assert Reconcile("daemonset", "default/log-shipper") in enabled
            assert not FairPolicy().default(choices[0])
            other = step(model, state, choices[0])
            deleted = [p for p in state.store.list("pods", "default") if isinstance(p, Pod)
                       and (after := other.store.get(ObjectKey("pods", "default", p.metadata.name))) is not None
                       and isinstance(after, Pod) and after.metadata.deletion_timestamp is not None
                       and p.metadata.deletion_timestamp is None]
            assert [p.spec.node_name for p in deleted] == ["worker-2"]
            break
        state = step(model, state, act)
    else:
        raise AssertionError("the fair run never reached a rolling update with a choice")
    assert not any(isinstance(a, ReconcileFrom) for a in run.trace)
