"""Nodes, pods and a strategy run for the descheduler's unit tests (tests/model/descheduler/):
the objects upstream's plugin tests build (`test.BuildTestNode`, `test.BuildTestPod`)."""

from __future__ import annotations

from kubeprop.model.api.core import NodeSpec, NodeStatus, Taint
from kubeprop.model.api.meta import Condition, ObjectMeta, OwnerReference
from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.api.pod import Container, PodSpec, PodStatus, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.descheduler import strategies
from kubeprop.model.scenario.schema_addons import EvictorDecl
from kubeprop.model.scheduler.nodeinfo import build_node_infos

RS = (OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="rs", uid="u1", controller=True),)


def node(name: str, cpu: str = "2", taints: tuple[Taint, ...] = (), labels: dict[str, str] | None = None,
         unschedulable: bool = False) -> Node:
    alloc = {"cpu": Quantity.parse(cpu), "memory": Quantity.parse("4Gi"), "pods": Quantity.parse("20")}
    return Node(metadata=ObjectMeta(name=name, labels=labels or {}),
                spec=NodeSpec(unschedulable=unschedulable, taints=taints),
                status=NodeStatus(allocatable=alloc, conditions=(Condition(type="Ready", status="True"),)))


def pod(name: str, on: str, cpu: str = "100m", owners: tuple[OwnerReference, ...] = RS, image: str = "web:1",
        **spec: object) -> Pod:
    container = Container(name="c", image=image, resources=ResourceRequirements(requests={"cpu": Quantity.parse(cpu)}))
    return Pod(metadata=ObjectMeta(name=name, namespace="default", labels={"app": "web"}, owner_references=owners),
               spec=PodSpec(**{"containers": (container,), **spec}, node_name=on),  # type: ignore[arg-type]
               status=PodStatus(phase="Running"))


def run(strategy, args, nodes: list[Node], pods: list[Pod], evictor: EvictorDecl = EvictorDecl(),  # type: ignore[no-untyped-def]
        refuse: frozenset[str] = frozenset()) -> list[str]:
    snapshot = strategies.Snapshot.of(build_node_infos(nodes, pods), evictor)
    evicted: list[str] = []

    def evict(p: Pod) -> str:
        if p.metadata.name in refuse:
            return "failed"
        evicted.append(p.metadata.name)
        return "ok"

    strategy(snapshot, args, evict)
    return evicted
