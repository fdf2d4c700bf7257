"""Defaults and the cheap validation of the stored-only networking kinds (`networking`).

Upstream: `pkg/apis/networking/v1/defaults.go` (SetDefaults_NetworkPolicy) and
`pkg/apis/networking/validation/validation.go` (ValidateNetworkPolicySpec, ValidateIngressSpec,
ValidateIngressClass, ValidateIngressClassUpdate). Checked: names (DNS subdomains, by the
ObjectMeta stage), a NetworkPolicy's podSelector and policyTypes, an Ingress's
ingressClassName and that it has rules or a default backend, an IngressClass's required and
immutable controller. Not checked (kept as data, see docs/objects.md): Ingress rules, paths,
backends and TLS entries; NetworkPolicy peers and ports (nor their protocol default, TCP);
IngressClass parameters and the controller's domain-prefixed-path syntax.
"""

from __future__ import annotations

from kubeprop.model.api.networking import Ingress, IngressClass, NetworkPolicy
from kubeprop.model.api.validation_fields import (
    ErrorList,
    dns1123_subdomain,
    immutable,
    invalid,
    label_selector,
    not_supported,
    required,
)
from kubeprop.model.evolve import evolve

POLICY_TYPES = ("Egress", "Ingress")


def default_network_policy(obj: NetworkPolicy) -> NetworkPolicy:
    """SetDefaults_NetworkPolicy: no policyTypes means Ingress, plus Egress if there are egress rules."""
    if obj.spec.policy_types:
        return obj
    types = ("Ingress", "Egress") if obj.spec.egress else ("Ingress",)
    return evolve(obj, spec=evolve(obj.spec, policy_types=types))


def validate_network_policy(obj: NetworkPolicy) -> ErrorList:
    """ValidateNetworkPolicySpec's podSelector and policyTypes checks (the rules are not checked)."""
    spec = obj.spec
    errs = label_selector(spec.pod_selector, ("spec", "podSelector"))
    path = ("spec", "policyTypes")
    if len(spec.policy_types) > len(POLICY_TYPES):
        return [*errs, invalid(path, list(spec.policy_types), "may not specify more than two policyTypes")]
    return errs + [not_supported((*path, i), t, POLICY_TYPES) for i, t in enumerate(spec.policy_types)
                   if t not in POLICY_TYPES]


def validate_ingress(obj: Ingress) -> ErrorList:
    """ValidateIngressSpec's class-name and rules-or-backend checks (rules, paths and TLS are not checked)."""
    spec = obj.spec
    errs: ErrorList = []
    if spec.ingress_class_name is not None:
        errs += dns1123_subdomain(spec.ingress_class_name, ("spec", "ingressClassName"))
    if not spec.rules and spec.default_backend is None:
        errs.append(invalid(("spec",), None, "either `defaultBackend` or `rules` must be specified"))
    return errs


def validate_ingress_class(obj: IngressClass) -> ErrorList:
    """validateIngressClassSpec: the controller is required (its syntax is not checked)."""
    return [] if obj.spec.controller else [required(("spec", "controller"))]


def validate_ingress_class_update(new: IngressClass, old: IngressClass) -> ErrorList:
    """validateIngressClassSpecUpdate: the controller is immutable."""
    return immutable(new.spec.controller, old.spec.controller, ("spec", "controller"))
