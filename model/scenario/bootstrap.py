"""Build a scenario's initial API store by sending every object through the real API server.

Order (as a kubeadm cluster comes up, then `kubectl apply -f`): the system namespaces
(`pkg/controlplane/controller/systemnamespaces`), the Node objects of the topology (as kubelets
register them), the RBAC bindings of the scenario's users, then every manifest object in file
order as the scenario's `applyAs` user. Each object's outcome is kept, so `kubeprop validate`
can report it and the cluster model can refuse a scenario whose manifests were rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from kubeprop.model.api.admission import with_default_storage_class, with_default_toleration_seconds
from kubeprop.model.api.manifests import ManifestObject
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import (
    ApiObject,
    ClusterRoleBinding,
    Namespace,
    Node,
    NodeSpec,
    NodeStatus,
    RoleBinding,
    RoleRef,
    Subject,
    Taint,
)
from kubeprop.model.api.rbac_kinds import RBAC_GROUP
from kubeprop.model.api.server import ApiServerConfig, Request, Response, handle
from kubeprop.model.api.store import Store
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


@attrs.frozen
class Bootstrap:
    """The initial store and every object's outcome, in the order they were sent."""

    store: Store
    outcomes: tuple[Outcome, ...]

    @property
    def rejected(self) -> tuple[Outcome, ...]:
        """Outcomes that were not 2xx."""
        return tuple(o for o in self.outcomes if not o.response.ok)


def node_object(decl: NodeDecl) -> Node:
    """The Node a kubelet registers: hostname label, role label and taint, Ready=True."""
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
    ready = Condition(type="Ready", status="True", reason="KubeletReady", message="kubelet is posting ready status",
                      last_heartbeat_time=0, last_transition_time=0)
    return Node(
        metadata=ObjectMeta(name=decl.name, labels=labels),
        spec=NodeSpec(unschedulable=decl.unschedulable, taints=tuple(taints)),
        status=NodeStatus(capacity=capacity, allocatable=allocatable, conditions=(ready,)),
    )


def user_bindings(user: UserDecl) -> list[ApiObject]:
    """The RoleBindings / ClusterRoleBindings a scenario user declaration stands for."""
    subject = Subject(kind="User", name=user.name, api_group=RBAC_GROUP)
    out: list[ApiObject] = []
    for role in user.cluster_roles:
        out.append(ClusterRoleBinding(
            metadata=ObjectMeta(name=f"kubeprop:{user.name}:{role}"), subjects=(subject,),
            role_ref=RoleRef(api_group=RBAC_GROUP, kind="ClusterRole", name=role),
        ))
    for grant in user.roles:
        kind, role = ("ClusterRole", grant.cluster_role) if grant.cluster_role else ("Role", grant.role)
        out.append(RoleBinding(
            metadata=ObjectMeta(name=f"kubeprop:{user.name}:{role}", namespace=grant.namespace),
            subjects=(subject,), role_ref=RoleRef(api_group=RBAC_GROUP, kind=kind, name=role),
        ))
    return out


def api_config(scenario: Scenario, parameters: Mapping[str, Any] | None = None) -> ApiServerConfig:
    """The API server of a scenario: its users, its admission chain and its feature gates configured
    by the model parameters (`defaultTolerationSeconds`, `defaultStorageClass`,
    `maxUnavailableStatefulSet`; default: the scenario's own parameters)."""
    values = {**PARAMETERS, **scenario.spec.parameters, **(parameters or {})}
    admission = with_default_toleration_seconds(scenario.admission, int(values["defaultTolerationSeconds"]))
    admission = with_default_storage_class(admission, str(values["defaultStorageClass"]))
    return ApiServerConfig(users=scenario.users, admission=admission,
                           max_unavailable_stateful_set=bool(values["maxUnavailableStatefulSet"]))


def bootstrap(scenario: Scenario, now: int = 0, config: ApiServerConfig | None = None) -> Bootstrap:
    """Create the scenario's objects, in order, through the API server pipeline (`config`:
    the model's API server; default: `api_config(scenario)`)."""
    config = config or api_config(scenario)
    store = Store()
    outcomes: list[Outcome] = []

    def send(obj: ApiObject, user: str, origin: str, source: ManifestObject | None = None) -> None:
        nonlocal store
        result = handle(store, Request(verb="create", user=user, obj=obj), config, now)
        store = result.store
        outcomes.append(Outcome(obj, user, result.response, origin, source))

    for ns in SYSTEM_NAMESPACES:
        send(Namespace(metadata=ObjectMeta(name=ns)), ADMIN, "system")
    written = manifest_nodes(scenario.objects)  # Node manifests are the topology (scenario/nodes.py)
    for decl in scenario.spec.topology.nodes:
        send(node_object(decl), ADMIN, "topology", written.get(decl.name))
    for user in scenario.spec.users:
        for binding in user_bindings(user):
            send(binding, ADMIN, "users")
    for manifest in scenario.objects:
        if manifest.obj.metadata.name not in written or not isinstance(manifest.obj, Node):
            send(manifest.obj, scenario.apply_as, "manifest", manifest)
    return Bootstrap(store, tuple(outcomes))
