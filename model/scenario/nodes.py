"""Node objects in the manifests are the topology.

A manifest folder that holds `kind: Node` objects describes its own cluster: those nodes, and no
others, are the topology (the default `worker-1..3` is for folders without Nodes). A scenario file
without `topology.nodes` takes them the same way. A scenario that declares `topology.nodes` *and*
has Node manifests is an error naming both places: the nodes must be declared in one of them.

Each Node becomes a `NodeDecl` with exactly its name, labels, taints, `spec.unschedulable` and
`status.capacity` / `status.allocatable` (one defaults to the other); bootstrap then registers it
as a kubelet would (hostname and OS labels, Ready=True, see `bootstrap.node_object`) in place of
the manifest, and it gets a kubelet and a `system:node:<name>` identity like every topology node.
The manifest stays among the scenario's objects (its file is part of the content hash and of a
counterexample's packed scenario; `kubeprop validate` shows its file and line). Its written
`status.conditions` are not kept: a node's conditions are the kubelet's and the node lifecycle
controller's to write.

A scenario file with neither has no nodes — unlike a bare manifest folder, which gets the default
workers: its `topology` is what it declares, so a cluster without nodes can be written on purpose
and a scenario packed in a counterexample file keeps its meaning. `kubeprop validate` and
`kubeprop check` say so in a note (`no_nodes_note`), since its pods can never run.

Every real kubelet reports an `ephemeral-storage` capacity, read from its root filesystem
(`pkg/kubelet/nodestatus/setters.go` MachineInfo; LocalStorageCapacityIsolation is GA and always
on), so a pod requesting it fits a real node with room. A node declared here without it offers
none, and the scheduler refuses such a pod as upstream would on a node that reports 0 (`Insufficient
ephemeral-storage`, `pkg/scheduler/framework/plugins/noderesources/fit.go` fitsRequest). The
model keeps what the scenario declares — it does not guess a disk size — but says so
(`ephemeral_storage_note`) in `kubeprop validate` and `kubeprop check`, naming the nodes and the
field to add, whenever a manifest's pod requests ephemeral-storage. The default workers of a bare
folder declare it (`load.DEFAULT_WORKER_ALLOCATABLE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kubeprop.model.api.core import Node
from kubeprop.model.api.manifests import ManifestObject, Problem
from kubeprop.model.api.objects import ApiObject, Pod, kind_info
from kubeprop.model.api.pod import PodSpec
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.checks import node_resource_problem
from kubeprop.model.scenario.schema import NodeDecl, ScenarioFile

__all__ = ["EPHEMERAL_STORAGE", "ephemeral_storage_note", "manifest_nodes", "no_nodes_note", "node_decl",
           "node_manifest_problems", "nodes_as_topology"]

EPHEMERAL_STORAGE = "ephemeral-storage"


def no_nodes_note(spec: ScenarioFile) -> str | None:
    """The note `kubeprop validate` and `kubeprop check` print for a scenario whose cluster has no
    node (no `topology.nodes`, no Node manifest; None when it has one): its pods stay Pending, so
    its workloads never become ready and the properties about pods on nodes are vacuous
    (`kubeprop.properties.vacuity`)."""
    if spec.topology.nodes:
        return None
    return ("note: the scenario declares no nodes (no `topology.nodes`, no Node manifest): no pod can run, so no "
            "workload becomes ready and the properties about pods on nodes are vacuous; declare `topology.nodes` "
            "(the same manifests given as a folder, without a scenario file, get three workers worker-1..3), or "
            "keep it so if a cluster without nodes is what you mean")


def _pod_specs(objects: Iterable[ApiObject]) -> Iterator[tuple[ApiObject, PodSpec]]:
    """Each object's pod spec: a Pod's own, a workload's template's (a CronJob's job template's)."""
    for obj in objects:
        if isinstance(obj, Pod):
            yield obj, obj.spec
            continue
        spec = getattr(obj, "spec", None)
        job = getattr(spec, "job_template", None)
        template = getattr(getattr(job, "spec", None), "template", None) or getattr(spec, "template", None)
        pod_spec = getattr(template, "spec", None)
        if isinstance(pod_spec, PodSpec):
            yield obj, pod_spec


def _requests_ephemeral_storage(spec: PodSpec) -> bool:
    """A container or init container requests ephemeral-storage, or limits it (a pod's limit
    without a request is also its request: `pkg/apis/core/v1/defaults.go` SetDefaults_Pod)."""
    return any(EPHEMERAL_STORAGE in c.resources.requests or EPHEMERAL_STORAGE in c.resources.limits
               for c in (*spec.init_containers, *spec.containers))


def ephemeral_storage_note(spec: ScenarioFile, objects: Iterable[ApiObject]) -> str | None:
    """The note for a topology whose nodes declare no `ephemeral-storage` while a pod of `objects`
    (the manifests) requests it: such a pod never fits those nodes (`Insufficient ephemeral-storage`),
    which no real node would cause, since every kubelet reports it (module docstring). None when
    no pod requests it or every node declares it."""
    wanting = [obj for obj, pod_spec in _pod_specs(objects) if _requests_ephemeral_storage(pod_spec)]
    missing = [n.name for n in spec.topology.nodes
               if EPHEMERAL_STORAGE not in n.allocatable and EPHEMERAL_STORAGE not in n.capacity]
    if not wanting or not missing:
        return None
    first = wanting[0]
    who = f"{kind_label(first)}{f' and {len(wanting) - 1} more' if len(wanting) > 1 else ''}"
    verb = "requests" if len(wanting) == 1 else "request"
    return (f"note: {who} {verb} ephemeral-storage, but node{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} declare{'' if len(missing) > 1 else 's'} none: such pods never fit "
            f"there (Insufficient ephemeral-storage), though every real kubelet reports its root disk; "
            f"add `ephemeral-storage` (e.g. 18Gi) to each node's allocatable (topology.nodes[].allocatable, "
            f"or a Node manifest's status.allocatable), or keep it so if a node without local storage is meant")


def kind_label(obj: ApiObject) -> str:
    """`Kind namespace/name` of a manifest object (namespace `default` when it names none)."""
    return f"{kind_info(obj).kind} {obj.metadata.namespace or 'default'}/{obj.metadata.name}"


def node_decl(node: Node) -> NodeDecl:
    """The topology entry a Node manifest stands for."""
    return NodeDecl(name=node.metadata.name, capacity=node.status.capacity, allocatable=node.status.allocatable,
                    labels=node.metadata.labels, taints=node.spec.taints, unschedulable=node.spec.unschedulable)


def _where(m: ManifestObject) -> str:
    return f"{m.file}:{m.line}"


def nodes_as_topology(spec: ScenarioFile, objects: tuple[ManifestObject, ...], declared: tuple[str, int] | None
                      ) -> tuple[ScenarioFile, list[Problem]]:
    """`spec` with the manifests' Nodes as its topology nodes.

    `declared` is where the scenario declares `topology.nodes` (file, line), or None when it does
    not (a scenario without nodes, or a bare manifest folder, whose default nodes the manifests'
    Nodes replace). Problems: both places declare nodes; a Node without capacity or allocatable,
    or with one the scheduler cannot hold (`checks.node_resource_problem`)."""
    nodes = [m for m in objects if isinstance(m.obj, Node)]
    if not nodes:
        return spec, []
    if declared is not None:
        file, line = declared
        listed = ", ".join(f"{_where(m)} Node {m.obj.metadata.name}" for m in nodes)
        return spec, [Problem(file, line, "topology.nodes",
                                       f"nodes are declared here and as Node manifests ({listed}); declare them in "
                                       "one place: remove topology.nodes or the Node manifests")]
    problems = [p for m in nodes for p in node_manifest_problems(m)]
    seen: set[str] = set()
    for m in nodes:
        if m.obj.metadata.name in seen:
            problems.append(m.problem(("metadata", "name"), f"duplicate Node {m.obj.metadata.name!r}"))
        seen.add(m.obj.metadata.name)
    decls = tuple(node_decl(m.obj) for m in nodes if isinstance(m.obj, Node))
    return evolve(spec, topology=evolve(spec.topology, nodes=decls)), problems


def node_manifest_problems(m: ManifestObject) -> list[Problem]:
    """A Node manifest's own problems as a topology node, each at its field's line: no size
    (neither status.allocatable nor status.capacity), or a size the scheduler cannot hold
    (`checks.node_resource_problem`: a negative or fractional count, …). Every resource is checked
    on its own, so all of them are reported at once."""
    if not isinstance(m.obj, Node):
        return []
    status, name = m.obj.status, m.obj.metadata.name
    if not (status.allocatable or status.capacity):
        return [m.problem(("status", "allocatable"), f"Node {name}: needs status.allocatable or status.capacity "
                          "(cpu, memory, pods): a node of the topology needs a size")]
    problems = []
    for section, values in (("capacity", status.capacity), ("allocatable", status.allocatable)):
        for resource, quantity in values.items():
            problem = node_resource_problem(resource, quantity)
            if problem is not None:
                problems.append(m.problem(("status", section, resource), f"Node {name}: {problem}"))
    return problems


def manifest_nodes(objects: tuple[ManifestObject, ...]) -> dict[str, ManifestObject]:
    """The Node manifests by name: the topology nodes they stand for (bootstrap creates those
    from the topology, with the manifest as the source)."""
    return {m.obj.metadata.name: m for m in objects if isinstance(m.obj, Node)}
