"""Tenant operator properties."""
from __future__ import annotations

import attrs
from tenant_operator import REGISTRY_NS, RESOURCE, config_hash

from kubeprop.model.api.objects import ConfigMap, CustomObject, Deployment, ObjectKey
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import as_property, register


def _tenants(state: ClusterState) -> list[CustomObject]:
    return [t for t in state.store.list(RESOURCE) if isinstance(t, CustomObject)]


def no_orphaned_registration(model: ClusterModel, state: ClusterState) -> str | None:
    """ALWAYS: a registration Secret exists only while its Tenant exists."""
    live = {f"{t.metadata.namespace}.{t.metadata.name}" for t in _tenants(state)}
    for s in state.store.list("secrets", REGISTRY_NS):
        owner = s.metadata.labels.get("tenant")
        if owner is not None and owner not in live:
            return f"Secret {REGISTRY_NS}/{s.metadata.name} outlives Tenant {owner}"
    return None


def one_registration(model: ClusterModel, state: ClusterState) -> str | None:
    """ALWAYS: a Tenant has at most one registration."""
    seen: dict[str, int] = {}
    for s in state.store.list("secrets", REGISTRY_NS):
        o = s.metadata.labels.get("tenant")
        if o is not None:
            seen[o] = seen.get(o, 0) + 1
    bad = sorted(k for k, v in seen.items() if v > 1)
    return f"Tenant {bad[0]} has {seen[bad[0]]} registrations" if bad else None


def deployment_has_current_config(model: ClusterModel, state: ClusterState) -> str | None:
    """SETTLED: each live Tenant's Deployment carries its ConfigMap's hash."""
    for t in _tenants(state):
        if t.metadata.deletion_timestamp is not None:
            continue
        ns = t.metadata.namespace
        d = state.store.get(ObjectKey("deployments.apps", ns, t.metadata.name))
        cm = state.store.get(ObjectKey("configmaps", ns, str(t.spec.get("configMap", ""))))
        want = config_hash(cm if isinstance(cm, ConfigMap) else None)
        if not isinstance(d, Deployment):
            return f"Tenant {ns}/{t.metadata.name} has no Deployment"
        have = d.spec.template.metadata.annotations.get("example.com/config-hash")
        if have != want:
            return f"Deployment {ns}/{t.metadata.name} has config hash {have}, ConfigMap has {want}"
    return None


def _reg(p):
    return register(attrs.evolve(p, source=__name__))


REGISTERED = tuple(_reg(p) for p in (
    as_property("tenant-no-orphaned-registration", "A registration lives only while its Tenant does.", "",
                "safety", no_orphaned_registration),
    as_property("tenant-one-registration", "At most one registration per Tenant.", "", "safety", one_registration),
    as_property("tenant-deployment-current-config", "Each Tenant's Deployment carries its ConfigMap's hash.", "",
                "convergence", deployment_has_current_config),
))
