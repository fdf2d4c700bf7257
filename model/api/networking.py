"""`networking.k8s.io/v1` Ingress, IngressClass and NetworkPolicy, kept as data
(`staging/src/k8s.io/api/networking/v1/types.go`).

No component of the model but the garbage collector (their owner references) reads these
kinds, and none of them changes what the other modelled components do: upstream no
kube-controller-manager controller but the garbage collector watches them (an Ingress is served
by a third-party ingress controller named by its IngressClass, a NetworkPolicy is enforced by the
network plug-in on each node; `cmd/kube-controller-manager/app/controllermanager.go`
NewControllerDescriptors lists none for `networking.k8s.io`), and the model has neither a
network nor an ingress controller. The API server stores them, with RBAC, defaults and the
cheap upstream checks (`validation_networking`); the top-level spec fields are typed (so an
unknown field is an error, as with `fieldValidation=Strict`), everything below them is kept as
immutable JSON (`Any`). `STORED_ONLY_KINDS` names them for the scenario report.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.meta import KindInfo, ObjectMeta
from kubeprop.model.api.selectors import LabelSelector

NETWORKING_GROUP = "networking.k8s.io"


@attrs.frozen
class IngressSpec:
    """ingressClassName, defaultBackend, tls, rules (the last three kept as data)."""

    ingress_class_name: str | None = None
    default_backend: Any = None
    tls: tuple[Any, ...] = ()
    rules: tuple[Any, ...] = ()


@attrs.frozen
class IngressStatus:
    """Written by the ingress controller (none in the model): the load balancer's addresses."""

    load_balancer: Any = None


@attrs.frozen(cache_hash=True)
class Ingress:
    """HTTP routes to Services, for an ingress controller outside the model."""

    INFO: ClassVar[KindInfo] = KindInfo(NETWORKING_GROUP, "v1", "Ingress", "ingresses", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: IngressSpec = IngressSpec()
    status: IngressStatus = IngressStatus()


@attrs.frozen
class IngressClassSpec:
    """The ingress controller that implements the class, and its parameters (kept as data)."""

    controller: str = ""
    parameters: Any = None


@attrs.frozen(cache_hash=True)
class IngressClass:
    """Names the ingress controller for Ingresses of this class (cluster-scoped, no status)."""

    INFO: ClassVar[KindInfo] = KindInfo(NETWORKING_GROUP, "v1", "IngressClass", "ingressclasses",
                                        namespaced=False, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    spec: IngressClassSpec = IngressClassSpec()


@attrs.frozen
class NetworkPolicySpec:
    """podSelector (typed), ingress/egress rules (kept as data) and policyTypes."""

    pod_selector: LabelSelector = LabelSelector()
    ingress: tuple[Any, ...] = ()
    egress: tuple[Any, ...] = ()
    policy_types: tuple[str, ...] = ()


@attrs.frozen(cache_hash=True)
class NetworkPolicy:
    """Allowed traffic for the selected pods, enforced by a network plug-in outside the model
    (no status: NetworkPolicyStatus was removed in v1.28)."""

    INFO: ClassVar[KindInfo] = KindInfo(NETWORKING_GROUP, "v1", "NetworkPolicy", "networkpolicies",
                                        namespaced=True, status_subresource=False)

    metadata: ObjectMeta = ObjectMeta()
    spec: NetworkPolicySpec = NetworkPolicySpec()


STORED_ONLY_KINDS: tuple[type[Any], ...] = (Ingress, IngressClass, NetworkPolicy)
"""Kinds the API server stores but no modelled component but the garbage collector reads or is affected by."""
