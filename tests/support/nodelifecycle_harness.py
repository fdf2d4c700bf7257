"""Helpers of the node lifecycle / taint eviction tests: a running pod on worker-1, a partition,
one enabled action of a module at a time."""

from __future__ import annotations

from typing import Any

import attrs
from cluster_harness import api, stored

from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import Container, Node, ObjectKey, Pod, PodSpec, Probe, Toleration
from kubeprop.model.api.server import Request
from kubeprop.model.controllers import nodelifecycle as nlc
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.runtime import initial_kubelet
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, kubelet
from kubeprop.model.state.informer import start_informer

NODE = "worker-1"
POD = "default/web"


def step(model: ClusterModel, state: ClusterState, act: Action, module: Any = nlc) -> ClusterState:
    acts = list(module.enabled(model, state))
    assert act in acts, f"{act} not enabled: {[str(a) for a in acts]}"
    result: ClusterState = module.HANDLERS[type(act)](model, state, act)
    return result


def running_pod(model: ClusterModel, tolerations: tuple[Toleration, ...] = ()) -> ClusterState:
    """web bound to worker-1, started, Ready and reported; the controllers started at 0."""
    probe = Probe(http_get=FrozenMap({"path": "/ready", "port": 80}))
    pod = Pod(metadata=ObjectMeta(name="web", namespace="default"),
              spec=PodSpec(containers=(Container(name="app", image="web:1", readiness_probe=probe),),
                           tolerations=tolerations))
    state = ClusterState(store=bootstrap(model.scenario).store,
                         kubelets=FrozenMap({n: initial_kubelet() for n in model.nodes}),
                         controllers=FrozenMap({nlc.NAME: nlc.initial_nodelifecycle_memory(started_at=0)}))
    state = api(state, model, Request(verb="create", user=ADMIN, obj=pod))
    state = api(state, model, Request(verb="bind", user="system:kube-scheduler", resource="pods",
                                      namespace="default", name="web", node_name=NODE))
    state = step(model, state, kl.StartPod(NODE, POD), kl)
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True), kl)
    return step(model, state, kl.SyncPodStatus(NODE, POD), kl)


def partition(state: ClusterState) -> ClusterState:
    cache = start_informer(state.store, ("pods",))
    return attrs.evolve(state, partitioned=frozenset({NODE}), heartbeat_lost=FrozenMap({NODE: state.clock}),
                        informers=state.informers.set(kubelet(NODE), cache))


def node(state: ClusterState, name: str = NODE) -> Node:
    return stored(state, ObjectKey("nodes", "", name), Node)


def pod(state: ClusterState) -> Pod:
    return stored(state, ObjectKey("pods", "default", "web"), Pod)


def pod_ready(state: ClusterState) -> str:
    cond = find_condition(pod(state).status.conditions, "Ready")
    assert cond is not None
    return cond.status


def at(state: ClusterState, clock: int) -> ClusterState:
    return attrs.evolve(state, clock=clock)
