"""Build a scenario's initial API store by sending every object through the real API server.

Order (as a kubeadm cluster comes up, then `kubectl apply -f`): the system namespaces
(`pkg/controlplane/controller/systemnamespaces`), the Node objects of the topology (as kubelets
register them), the RBAC bindings of the scenario's users, then every manifest object in file
order as the scenario's `applyAs` user. A user's RoleBinding in a namespace that does not exist
yet but that a manifest's Namespace creates waits for it: it is sent right after that Namespace
(as a cluster admin binds a tenant once its namespace exists), so `users[].roles` may name a
namespace of the manifests. Every other scenario's order, and so its initial state, is as before.
Each object's outcome is kept, with the scenario field it comes from (`users[1].roles[0]`) or its
manifest, so `kubeprop validate` can report it and the cluster model can refuse a scenario whose
objects were rejected, naming where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.admission import with_default_storage_class, with_default_toleration_seconds
from kubeprop.model.api.manifests import ManifestObject, Problem
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import (
    ApiObject,
    ClusterRoleBinding,
    Namespace,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectKey,
    RoleBinding,
    RoleRef,
    Subject,
    Taint,
    kind_info,
)
from kubeprop.model.api.rbac_kinds import RBAC_GROUP
from kubeprop.model.api.server import ApiServerConfig, Request, Response, handle
from kubeprop.model.api.store import Store
from kubeprop.model.api.yamlsource import YamlError, format_path, load_yaml_documents
from kubeprop.model.scenario.load import ADMIN, Scenario
from kubeprop.model.scenario.nodes import manifest_nodes
from kubeprop.model.scenario.schema import PARAMETERS, NodeDecl, UserDecl

SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
CONTROL_PLANE_TAINT = Taint(key="node-role.kubernetes.io/control-plane", effect="NoSchedule")


@attrs.frozen
class Outcome:
    """What the API server answered for one object of the scenario."""

    obj: ApiObject
    user: str
    response: Response
    origin: str
    """system (namespaces), topology (nodes), users (their bindings) or manifest."""
    source: ManifestObject | None = None
    field: str = ""
    """The scenario field the object stands for (`users[1].roles[0]`, `topology.nodes[0]`), if any."""


@attrs.frozen
class Bootstrap:
    """The initial store and every object's outcome, in the order they were sent."""

    store: Store
    outcomes: tuple[Outcome, ...]

    @property
    def rejected(self) -> tuple[Outcome, ...]:
        """Outcomes that were not 2xx."""
        return tuple(o for o in self.outcomes if not o.response.ok)


KUBELET_NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
"""(type, status, reason, message) of the conditions a healthy kubelet posts, from its first node status
on (`pkg/kubelet/nodestatus/setters.go` MemoryPressureCondition, DiskPressureCondition,
PIDPressureCondition, ReadyCondition; pressure turns them True: `kubeprop.model.kubelet.pressure`)."""


def node_object(decl: NodeDecl) -> Node:
    """The Node a kubelet registers: hostname label, role label and taint, and the conditions its
    kubelet posts (`KUBELET_NODE_CONDITIONS`: Ready=True, no pressure), so that a node lost later has
    them turned Unknown with reason NodeStatusUnknown, as upstream (`node_lifecycle_controller.go`
    tryUpdateNodeHealth; NodeStatusNeverUpdated is for a condition the kubelet never posted)."""
    labels = dict(decl.labels)
    labels.setdefault("kubernetes.io/hostname", decl.name)
    labels.setdefault("kubernetes.io/os", "linux")
    taints = list(decl.taints)
    if decl.role == "control-plane":
        labels.setdefault("node-role.kubernetes.io/control-plane", "")
        if CONTROL_PLANE_TAINT not in taints:
            taints.append(CONTROL_PLANE_TAINT)
    capacity = decl.capacity or decl.allocatable
    allocatable = decl.allocatable or decl.capacity
    conditions = tuple(Condition(type=type_, status=status, reason=reason, message=message, last_heartbeat_time=0,
                                 last_transition_time=0) for type_, status, reason, message in KUBELET_NODE_CONDITIONS)
    return Node(
        metadata=ObjectMeta(name=decl.name, labels=labels),
        spec=NodeSpec(unschedulable=decl.unschedulable, taints=tuple(taints)),
        status=NodeStatus(capacity=capacity, allocatable=allocatable, conditions=conditions),
    )


def user_bindings(user: UserDecl) -> list[ApiObject]:
    """The RoleBindings / ClusterRoleBindings a scenario user declaration stands for."""
    return [binding for _, binding in user_grants(user)]


def user_grants(user: UserDecl, index: int = 0) -> list[tuple[str, ApiObject]]:
    """`user_bindings` of `users[index]`, each with the scenario field it comes from."""
    subject = Subject(kind="User", name=user.name, api_group=RBAC_GROUP)
    out: list[tuple[str, ApiObject]] = []
    for i, role in enumerate(user.cluster_roles):
        out.append((f"users[{index}].clusterRoles[{i}]", ClusterRoleBinding(
            metadata=ObjectMeta(name=f"kubeprop:{user.name}:{role}"), subjects=(subject,),
            role_ref=RoleRef(api_group=RBAC_GROUP, kind="ClusterRole", name=role),
        )))
    for i, grant in enumerate(user.roles):
        kind, role = ("ClusterRole", grant.cluster_role) if grant.cluster_role else ("Role", grant.role)
        out.append((f"users[{index}].roles[{i}]", RoleBinding(
            metadata=ObjectMeta(name=f"kubeprop:{user.name}:{role}", namespace=grant.namespace),
            subjects=(subject,), role_ref=RoleRef(api_group=RBAC_GROUP, kind=kind, name=role),
        )))
    return out


def api_config(scenario: Scenario, parameters: Mapping[str, Any] | None = None) -> ApiServerConfig:
    """The API server of a scenario: its users, its admission chain and its feature gates configured
    by the model parameters (`defaultTolerationSeconds`, `defaultStorageClass`,
    `maxUnavailableStatefulSet`, `matchLabelKeysInPodAffinity`; default: the scenario's own parameters)."""
    values = {**PARAMETERS, **scenario.spec.parameters, **(parameters or {})}
    admission = with_default_toleration_seconds(scenario.admission, int(values["defaultTolerationSeconds"]))
    admission = with_default_storage_class(admission, str(values["defaultStorageClass"]))
    return ApiServerConfig(users=scenario.users, admission=admission,
                           max_unavailable_stateful_set=bool(values["maxUnavailableStatefulSet"]),
                           match_label_keys_in_pod_affinity=bool(values["matchLabelKeysInPodAffinity"]))


def bootstrap(scenario: Scenario, now: int = 0, config: ApiServerConfig | None = None) -> Bootstrap:
    """Create the scenario's objects, in order, through the API server pipeline (`config`:
    the model's API server; default: `api_config(scenario)`)."""
    config = config or api_config(scenario)
    store = Store()
    outcomes: list[Outcome] = []

    def send(obj: ApiObject, user: str, origin: str, source: ManifestObject | None = None, field: str = "") -> None:
        nonlocal store
        result = handle(store, Request(verb="create", user=user, obj=obj), config, now)
        store = result.store
        outcomes.append(Outcome(obj, user, result.response, origin, source, field))

    for ns in SYSTEM_NAMESPACES:
        send(Namespace(metadata=ObjectMeta(name=ns)), ADMIN, "system")
    written = manifest_nodes(scenario.objects)  # Node manifests are the topology (scenario/nodes.py)
    for i, decl in enumerate(scenario.spec.topology.nodes):
        send(node_object(decl), ADMIN, "topology", written.get(decl.name), f"topology.nodes[{i}]")
    created = {m.obj.metadata.name for m in scenario.objects if isinstance(m.obj, Namespace)}
    waiting: dict[str, list[tuple[str, ApiObject]]] = {}
    for index, user in enumerate(scenario.spec.users):
        for field, binding in user_grants(user, index):
            namespace = binding.metadata.namespace
            if namespace and namespace in created and store.get(ObjectKey("namespaces", "", namespace)) is None:
                waiting.setdefault(namespace, []).append((field, binding))  # sent once the manifest made it
            else:
                send(binding, ADMIN, "users", field=field)
    for manifest in scenario.objects:
        if manifest.obj.metadata.name not in written or not isinstance(manifest.obj, Node):
            send(manifest.obj, scenario.apply_as, "manifest", manifest)
        if isinstance(manifest.obj, Namespace):
            for field, binding in waiting.pop(manifest.obj.metadata.name, []):
                send(binding, ADMIN, "users", field=field)
    return Bootstrap(store, tuple(outcomes))


def object_label(obj: ApiObject) -> str:
    """`Kind namespace/name` (`Kind name` for a cluster-scoped object), as an error names it."""
    info = kind_info(obj)
    name = obj.metadata.name or f"{obj.metadata.generate_name}*"
    namespace = obj.metadata.namespace or ("default" if info.namespaced else "")
    return f"{info.kind} {namespace}/{name}" if namespace else f"{info.kind} {name}"


def rejection_problem(scenario: Scenario, outcome: Outcome) -> Problem:
    """The input problem for an object the API server rejected at bootstrap: at its manifest's
    file and line, or at the scenario field it stands for (`users[1].roles[0]`), naming the object
    and the answer."""
    response = outcome.response
    message = f"the API server rejected {object_label(outcome.obj)}: {response.code} {response.reason}: " \
              f"{response.message}"
    if outcome.source is not None:
        return Problem(outcome.source.file, outcome.source.line, "", message)
    return Problem(scenario.path or "<scenario>", _field_line(scenario, outcome.field), outcome.field, message)


def rejection_problems(scenario: Scenario, outcome: Outcome) -> list[Problem]:
    """`rejection_problem`, but for a manifest object refused with field errors (422 Invalid) one
    problem per error, at the field's own line and path (`file:18: spec.template.metadata.labels:
    the API server rejected Deployment default/web: 422 Invalid: Invalid value: ...`), as
    `kubeprop validate` prints them under the object."""
    response, source = outcome.response, outcome.source
    if source is None or not response.errors:
        return [rejection_problem(scenario, outcome)]
    head = f"the API server rejected {object_label(outcome.obj)}: {response.code} {response.reason}"
    return [Problem(source.file, source.line_of(error.path), format_path((*source.prefix, *error.path)),
                    f"{head}: {error.body()}") for error in response.errors]


def every_rejection(scenario: Scenario, config: ApiServerConfig | None = None) -> list[Problem]:
    """Every object of the scenario the API server rejects at bootstrap, as problems
    (`rejection_problems`), in the order they were sent: `kubeprop check` reports them all, as
    `kubectl apply -f` reports every object's error, where the cluster model stops at the first."""
    return [p for o in bootstrap(scenario, config=config).rejected for p in rejection_problems(scenario, o)]


def _field_line(scenario: Scenario, field: str) -> int:
    """The line of `field` (`users[1].roles[0]`) in the scenario file, or 0 when unknown."""
    if not field or not scenario.path or not Path(scenario.path).is_file():
        return 0
    try:
        docs = load_yaml_documents(Path(scenario.path))
    except YamlError:
        return 0
    path: list[str | int] = []
    for name, index in re.findall(r"([A-Za-z]+)(?:\[(\d+)\])?", field):
        path.append(name)
        if index:
            path.append(int(index))
    return docs[0].line_of(tuple(path)) if len(docs) == 1 else 0
