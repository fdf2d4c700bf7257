"""Small pure helpers of the API server's write path: pod grace periods, JSON merge patch, and
ClusterIP allocation."""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs

from kubeprop.model.api.objects import Pod, Service
from kubeprop.model.api.store import Store

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
"""The default `--service-cluster-ip-range` of kubeadm clusters; 10.96.0.1 is the `kubernetes` Service."""


def pod_grace_period(pod: Pod, requested: int | None) -> int:
    """The grace period a pod delete gets (`pkg/registry/core/pod/strategy.go` CheckGracefulDelete):
    the request's value, else spec.terminationGracePeriodSeconds; 0 when the pod is not bound or
    already terminal; a negative value becomes 1."""
    period = requested if requested is not None else pod.spec.termination_grace_period_seconds or 0
    if not pod.spec.node_name or pod.status.phase in ("Succeeded", "Failed"):
        period = 0
    return 1 if period < 0 else period


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def allocate_cluster_ip(svc: Service, store: Store) -> Service:
    """Give a ClusterIP/NodePort/LoadBalancer Service the lowest free address of SERVICE_CIDR
    (upstream picks a random free one, `pkg/registry/core/service/ipallocator`; the model is
    deterministic). Headless (`None`) and ExternalName Services get none."""
    spec = svc.spec
    if spec.type == "ExternalName" or spec.cluster_ip == "None":
        return svc
    if spec.cluster_ip:
        return attrs.evolve(svc, spec=attrs.evolve(spec, cluster_ips=(spec.cluster_ip,)))
    used = {
        other.spec.cluster_ip for other in store.list("services") if isinstance(other, Service)
    }
    hosts = SERVICE_CIDR.hosts()
    next(hosts)  # 10.96.0.1 is reserved for the kubernetes Service
    for address in hosts:
        if str(address) not in used:
            ip = str(address)
            return attrs.evolve(svc, spec=attrs.evolve(spec, cluster_ip=ip, cluster_ips=(ip,)))
    return svc
