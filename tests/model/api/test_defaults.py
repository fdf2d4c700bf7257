"""Tests for scheme defaulting and the DefaultTolerationSeconds plug-in (kubeprop.model.api.defaults).

Expected values are upstream's: `pkg/apis/apps/v1/defaults_test.go`, `pkg/apis/core/v1/defaults_test.go`,
`plugin/pkg/admission/defaulttolerationseconds/admission_test.go`.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.defaults import apply_defaults, default_toleration_seconds, image_tag
from kubeprop.model.api.objects import (
    ApiObject,
    Deployment,
    Namespace,
    Pod,
    RoleBinding,
    Secret,
    Service,
    StatefulSet,
    Toleration,
    decode_object,
)
from kubeprop.model.api.quantity import Quantity

POD_SPEC: dict[str, Any] = {"containers": [{"name": "app", "image": "shop/app:1.2"}]}


def manifest(api_version: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **fields}


def deployment(spec: dict[str, Any] | None = None) -> Deployment:
    body = {"replicas": 3, "template": {"spec": POD_SPEC}, **(spec or {})}
    obj = decode_object(manifest("apps/v1", "Deployment", spec=body))
    assert isinstance(obj, Deployment)
    return obj


def pod(spec: dict[str, Any]) -> Pod:
    obj = decode_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    assert isinstance(obj, Pod)
    return obj


def defaulted(obj: ApiObject) -> Any:
    return apply_defaults(obj)


# --- apps/v1 --------------------------------------------------------------------------------------


def test_deployment_defaults() -> None:
    spec = defaulted(deployment({"replicas": None})).spec
    assert spec.replicas == 1
    assert spec.strategy.type == "RollingUpdate"
    assert spec.strategy.rolling_update.max_surge == "25%"
    assert spec.strategy.rolling_update.max_unavailable == "25%"
    assert spec.revision_history_limit == 10
    assert spec.progress_deadline_seconds == 600
    assert spec.template.spec.restart_policy == "Always"


def test_deployment_keeps_given_values() -> None:
    given_spec = {"revisionHistoryLimit": 0, "progressDeadlineSeconds": 30,
                  "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}}}
    spec = defaulted(deployment(given_spec)).spec
    assert spec.replicas == 3
    assert spec.revision_history_limit == 0
    assert spec.progress_deadline_seconds == 30
    assert spec.strategy.rolling_update.max_surge == 0
    assert spec.strategy.rolling_update.max_unavailable == "25%"


def test_recreate_deployment_gets_no_rolling_update() -> None:
    spec = defaulted(deployment({"strategy": {"type": "Recreate"}})).spec
    assert spec.strategy.type == "Recreate"
    assert spec.strategy.rolling_update is None


def test_statefulset_defaults() -> None:
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "template": {"spec": POD_SPEC},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}
    obj = decode_object(body)
    assert isinstance(obj, StatefulSet)
    spec = defaulted(obj).spec
    assert spec.replicas == 1
    assert spec.pod_management_policy == "OrderedReady"
    assert spec.update_strategy.type == "RollingUpdate"
    assert spec.update_strategy.rolling_update.partition == 0
    assert spec.revision_history_limit == 10
    retention = dict(spec.persistent_volume_claim_retention_policy)
    assert retention == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    claim = spec.volume_claim_templates[0]
    assert (claim.spec.volume_mode, claim.status.phase) == ("Filesystem", "Pending")


def test_statefulset_explicit_rolling_update_without_parameters_gets_no_partition() -> None:
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"updateStrategy": {"type": "RollingUpdate"}}}
    spec = defaulted(decode_object(body)).spec
    assert spec.update_strategy.rolling_update is None  # as upstream: only an unset type creates it


# --- pods -----------------------------------------------------------------------------------------


def test_pod_spec_defaults() -> None:
    probe = {"httpGet": {"port": 8080}}
    p = defaulted(pod({"containers": [{"name": "a", "image": "a:1", "ports": [{"containerPort": 80}],
                                       "readinessProbe": probe}]}))
    assert (p.spec.restart_policy, p.spec.termination_grace_period_seconds) == ("Always", 30)
    assert p.spec.scheduler_name == "default-scheduler"
    assert p.spec.priority is None  # the Priority admission plug-in's job
    container = p.spec.containers[0]
    assert container.ports[0].protocol == "TCP"
    ready = container.readiness_probe
    timing = (ready.timeout_seconds, ready.period_seconds, ready.success_threshold, ready.failure_threshold)
    assert timing == (1, 10, 1, 3)
    assert dict(ready.http_get) == {"port": 8080, "path": "/", "scheme": "HTTP"}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("registry.local:5000/team/nginx", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/team/nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("Not/A/Valid/Image", "IfNotPresent"),
        ("", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image: str, policy: str) -> None:
    p = defaulted(pod({"containers": [{"name": "a", "image": image}]}))
    assert p.spec.containers[0].image_pull_policy == policy


def test_explicit_image_pull_policy_is_kept() -> None:
    p = defaulted(pod({"containers": [{"name": "a", "image": "nginx", "imagePullPolicy": "Never"}]}))
    assert p.spec.containers[0].image_pull_policy == "Never"
    assert image_tag("localhost/app") == "latest"


def test_pod_requests_default_to_limits_but_not_in_templates() -> None:
    resources = {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m"}}
    spec = {"containers": [{"name": "a", "image": "a:1", "resources": resources}]}
    requests = defaulted(pod(spec)).spec.containers[0].resources.requests
    assert dict(requests) == {"cpu": Quantity.parse("100m"), "memory": Quantity.parse("1Gi")}
    template = defaulted(deployment({"template": {"spec": spec}})).spec.template
    assert dict(template.spec.containers[0].resources.requests) == {"cpu": Quantity.parse("100m")}


# --- other kinds ----------------------------------------------------------------------------------


def test_service_defaults() -> None:
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}
    obj = decode_object(body)
    assert isinstance(obj, Service)
    spec = defaulted(obj).spec
    assert (spec.type, spec.session_affinity) == ("ClusterIP", "None")
    assert [(p.protocol, p.target_port) for p in spec.ports] == [("TCP", 80), ("TCP", "https")]


def test_namespace_secret_binding_defaults() -> None:
    ns = defaulted(decode_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}))
    assert isinstance(ns, Namespace)
    assert ns.status.phase == "Active"
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == "shop"
    assert defaulted(Secret()).type == "Opaque"
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "sa"}]}
    binding = defaulted(decode_object(body))
    assert isinstance(binding, RoleBinding)
    assert binding.role_ref.api_group == "rbac.authorization.k8s.io"
    assert [s.api_group for s in binding.subjects] == ["rbac.authorization.k8s.io", ""]


def test_volume_defaults() -> None:
    pv = defaulted(decode_object(manifest("v1", "PersistentVolume")))
    assert (pv.spec.persistent_volume_reclaim_policy, pv.spec.volume_mode, pv.status.phase) == (
        "Retain", "Filesystem", "Pending",
    )
    pvc = defaulted(decode_object(manifest("v1", "PersistentVolumeClaim")))
    assert (pvc.spec.volume_mode, pvc.status.phase) == ("Filesystem", "Pending")


# --- idempotence ----------------------------------------------------------------------------------

_MANIFESTS: list[dict[str, Any]] = [
    manifest("apps/v1", "Deployment", spec={"template": {"spec": POD_SPEC}}),
    manifest("apps/v1", "ReplicaSet", spec={"template": {"spec": POD_SPEC}}),
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
     "spec": {"template": {"spec": POD_SPEC}, "volumeClaimTemplates": [{"metadata": {"name": "v"}}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": POD_SPEC},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 1}]}},
    manifest("v1", "Endpoints", subsets=[{"ports": [{"port": 1}]}]),
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "e"},
     "addressType": "IPv4", "ports": [{"port": 1}]},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "status": {"capacity": {"cpu": "2"}}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
    {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "p"}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
     "roleRef": {"kind": "ClusterRole", "name": "x"}, "subjects": [{"kind": "Group", "name": "g"}]},
]


@pytest.mark.parametrize("manifest", _MANIFESTS, ids=lambda m: str(m["kind"]))
def test_defaults_are_idempotent(manifest: dict[str, Any]) -> None:
    once = apply_defaults(decode_object(manifest))
    assert apply_defaults(once) == once


@settings(max_examples=60, deadline=None)
@given(
    replicas=st.none() | st.integers(0, 5),
    surge=st.none() | st.sampled_from([0, 1, "50%"]),
    strategy=st.sampled_from(["", "RollingUpdate", "Recreate"]),
    image=st.sampled_from(["a", "a:1", "a:latest", ""]),
    policy=st.sampled_from(["", "Never"]),
)
def test_deployment_defaults_idempotent_and_keep_given_values(
    replicas: int | None, surge: int | str | None, strategy: str, image: str, policy: str
) -> None:
    container = {"name": "c", "image": image, "imagePullPolicy": policy}
    spec: dict[str, Any] = {"replicas": replicas, "template": {"spec": {"containers": [container]}}}
    if strategy:
        spec["strategy"] = {"type": strategy}
    if surge is not None and strategy != "Recreate":
        spec["strategy"] = {**spec.get("strategy", {}), "rollingUpdate": {"maxSurge": surge}}
    obj = deployment(spec)
    once = defaulted(obj)
    assert apply_defaults(once) == once
    assert once.spec.replicas == (1 if replicas is None else replicas)
    if surge is not None and strategy != "Recreate":
        assert once.spec.strategy.rolling_update.max_surge == surge
    if policy:
        assert once.spec.template.spec.containers[0].image_pull_policy == policy


# --- DefaultTolerationSeconds ---------------------------------------------------------------------

NOT_READY = Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute", 300)
UNREACHABLE = Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute", 300)


def test_default_tolerations_added() -> None:
    assert default_toleration_seconds(pod(POD_SPEC)).spec.tolerations == (NOT_READY, UNREACHABLE)
    custom = default_toleration_seconds(pod(POD_SPEC), seconds=60).spec.tolerations
    assert [t.toleration_seconds for t in custom] == [60, 60]
    both = default_toleration_seconds(pod(POD_SPEC), 30, 90).spec.tolerations
    assert [(t.key, t.toleration_seconds) for t in both] == [(NOT_READY.key, 30), (UNREACHABLE.key, 90)]


@pytest.mark.parametrize(
    ("existing", "added"),
    [
        (Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute", 10), (UNREACHABLE,)),
        (Toleration("node.kubernetes.io/unreachable", "Exists", "", "", None), (NOT_READY,)),
        (Toleration("", "Exists", "", "", None), ()),  # tolerates everything
        (Toleration("", "Exists", "", "NoExecute", None), ()),
        (Toleration("", "Exists", "", "NoSchedule", None), (NOT_READY, UNREACHABLE)),
        (Toleration("node.kubernetes.io/not-ready", "", "", "NoSchedule", None), (NOT_READY, UNREACHABLE)),
        (Toleration("dedicated", "Equal", "gpu", "NoExecute", None), (NOT_READY, UNREACHABLE)),
    ],
)
def test_existing_toleration_suppresses_default(existing: Toleration, added: tuple[Toleration, ...]) -> None:
    p = pod(POD_SPEC)
    p = attrs.evolve(p, spec=attrs.evolve(p.spec, tolerations=(existing,)))
    assert default_toleration_seconds(p).spec.tolerations == (existing, *added)


def test_default_tolerations_idempotent() -> None:
    once = default_toleration_seconds(pod(POD_SPEC))
    assert default_toleration_seconds(once) is once
