"""Tests for the API server's validation stage (`kubeprop.model.api.validation`).

Cases follow upstream's tables in `pkg/apis/apps/validation/validation_test.go`,
`pkg/apis/core/validation/validation_test.go` and `pkg/apis/rbac/validation/validation_test.go`;
expected messages are upstream's `field.Error` strings.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from kubeprop.model.api import strategies
from kubeprop.model.api.apps import RollingUpdateDeployment, RollingUpdateStatefulSetStrategy
from kubeprop.model.api.core import VolumeResourceRequirements
from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.ext import (
    CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec,
    CustomResourceDefinitionVersion,
)
from kubeprop.model.api.objects import (
    ApiObject,
    ClusterRole,
    ClusterRoleBinding,
    ConfigMap,
    Container,
    CustomResourceDefinition,
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    EndpointSlice,
    Namespace,
    ObjectMeta,
    OwnerReference,
    PersistentVolumeClaim,
    PersistentVolumeClaimSpec,
    Pod,
    PodSpec,
    PodTemplateSpec,
    PolicyRule,
    ResourceRequirements,
    Role,
    RoleBinding,
    RoleRef,
    Secret,
    Service,
    ServicePort,
    ServiceSpec,
    StatefulSet,
    StatefulSetSpec,
    Subject,
    Toleration,
    TopologySpreadConstraint,
    Volume,
)
from kubeprop.model.api.pod import ContainerPort, VolumeMount
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.validation import FieldError, validate_create, validate_status_update, validate_update

NS = "feastflow"


def meta(name: str = "web", namespace: str = NS, **kw: Any) -> ObjectMeta:
    return ObjectMeta(name=name, namespace=namespace, **kw)


def container(name: str = "app", image: str = "ghcr.io/feastflow/backend:1.4", **kw: Any) -> Container:
    return Container(name=name, image=image, **kw)


def template(labels: dict[str, str] | None = None, **spec: Any) -> PodTemplateSpec:
    spec.setdefault("containers", (container(),))
    return PodTemplateSpec(metadata=ObjectMeta(labels=labels or {"app": "web"}), spec=PodSpec(**spec))


def deployment(**spec: Any) -> Deployment:
    """A FeastFlow-like backend Deployment (defaults applied, as validation sees it)."""
    spec.setdefault("replicas", 2)
    spec.setdefault("selector", LabelSelector(match_labels={"app": "web"}))
    spec.setdefault("template", template())
    return apply_defaults(Deployment(metadata=meta(), spec=DeploymentSpec(**spec)))  # type: ignore[return-value]


def pod(**spec: Any) -> Pod:
    spec.setdefault("containers", (container(),))
    return apply_defaults(Pod(metadata=meta("p"), spec=PodSpec(**spec)))  # type: ignore[return-value]


def errors(obj: ApiObject) -> list[str]:
    return [str(e) for e in validate_create(obj)]


# -- FieldError -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (FieldError(("spec", "replicas"), "Invalid value", "must be greater than or equal to 0", -1),
         "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
        (FieldError(("metadata", "name"), "Required value", "name or generateName is required"),
         "metadata.name: Required value: name or generateName is required"),
        (FieldError(("spec", "template", "metadata", "labels"), "Invalid value",
                    "`selector` does not match template `labels`", {"app": "x"}),
         'spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`'),
        (FieldError(("spec", "containers", 0, "resources", "limits", "[cpu]"), "Invalid value", "x", "1"),
         'spec.containers[0].resources.limits[cpu]: Invalid value: "1": x'),
        (FieldError(("spec",), "Forbidden", "nope", "ignored"), "spec: Forbidden: nope"),
        (FieldError(("a",), "Duplicate value", "", True), "a: Duplicate value: true"),
    ],
)
def test_field_error_prints_like_upstream(error: FieldError, text: str) -> None:
    assert str(error) == text


# -- Deployment -------------------------------------------------------------------------------


def test_valid_feastflow_deployment_passes() -> None:
    tmpl = template(containers=(container(
        ports=(ContainerPort(container_port=8080, name="http"),),
        resources=ResourceRequirements(requests={"cpu": Quantity.parse("250m")}, limits={"cpu": Quantity.parse("1")}),
    ),))
    assert errors(deployment(template=tmpl)) == []


DEPLOYMENT_CASES = [
    ("negative replicas", {"replicas": -1}, ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
    ("selector/template mismatch", {"template": template({"app": "x"})},
     ['spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`']),
    ("selector required", {"selector": None},
     ["spec.selector: Required value",
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']),
    ("empty selector", {"selector": LabelSelector()},
     ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]),
    ("maxSurge 0 and maxUnavailable 0",
     {"strategy": DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(max_surge=0, max_unavailable="0%"))},
     ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0']),
    ("maxUnavailable over 100%",
     {"strategy": DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(max_surge=1, max_unavailable="110%"))},
     ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%']),
    ("rollingUpdate with Recreate",
     {"strategy": DeploymentStrategy("Recreate", RollingUpdateDeployment(max_surge=1))},
     ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]),
    ("duplicate container names", {"template": template(containers=(container(), container()))},
     ['spec.template.spec.containers[1].name: Duplicate value: "app"']),
    ("init container name clashes", {"template": template(init_containers=(container(),))},
     ['spec.template.spec.initContainers[0].name: Duplicate value: "app"']),
    ("restartPolicy must be Always", {"template": template(restart_policy="Never")},
     ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']),
    ("progress deadline", {"progress_deadline_seconds": 5, "min_ready_seconds": 5},
     ["spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"]),
    ("no containers", {"template": template(containers=())}, ["spec.template.spec.containers: Required value"]),
]


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in DEPLOYMENT_CASES], ids=[c[0] for c in DEPLOYMENT_CASES])
def test_deployment_errors(spec: dict[str, Any], expected: list[str]) -> None:
    assert errors(deployment(**spec)) == expected


def test_every_error_is_reported_in_order() -> None:
    bad = deployment(replicas=-1, template=template({"app": "x"}, containers=(container(), container())))
    assert errors(bad) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.metadata.labels: Invalid value: {"app":"x"}: `selector` does not match template `labels`',
        'spec.template.spec.containers[1].name: Duplicate value: "app"',
    ]


def test_selector_is_immutable_on_update() -> None:
    old = deployment()
    new = deployment(selector=LabelSelector(match_labels={"app": "web", "tier": "api"}),
                     template=template({"app": "web", "tier": "api"}))
    assert [str(e) for e in validate_update(new, old)] == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"api"}}: field is immutable'
    ]
    assert validate_update(deployment(replicas=5), old) == []


def test_metadata_identity_is_immutable() -> None:
    old = deployment()
    new = attrs.evolve(old, metadata=attrs.evolve(old.metadata, uid="other", generation=-0))
    assert [str(e) for e in validate_update(new, attrs.evolve(old, metadata=attrs.evolve(old.metadata, uid="u1")))] == [
        'metadata.uid: Invalid value: "other": field is immutable'
    ]


# -- names ------------------------------------------------------------------------------------

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)

NAME_CASES = [
    ("subdomain", ConfigMap(metadata=meta("Bad_Name")), [f'metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_MSG}']),
    ("dns-1035 service", Service(metadata=meta("1abc"), spec=ServiceSpec(ports=(ServicePort(port=80),))),
     [f'metadata.name: Invalid value: "1abc": {DNS1035_MSG}']),
    ("dns label namespace", Namespace(metadata=ObjectMeta(name="a.b")),
     ['metadata.name: Invalid value: "a.b": must not contain dots']),
    ("rbac path segment", Role(metadata=meta("a/b%")),
     ["metadata.name: Invalid value: \"a/b%\": may not contain '/'",
      "metadata.name: Invalid value: \"a/b%\": may not contain '%'"]),
    ("rbac dot-dot", ClusterRole(metadata=ObjectMeta(name="..")),
     ["metadata.name: Invalid value: \"..\": may not be '..'"]),
    ("rbac allows colons", ClusterRole(metadata=ObjectMeta(name="system:controller:x")), []),
    ("name required", ConfigMap(metadata=meta("")),
     ["metadata.name: Required value: name or generateName is required"]),
    ("namespace required", ConfigMap(metadata=meta(namespace="")), ["metadata.namespace: Required value"]),
    ("namespace forbidden", ClusterRole(metadata=ObjectMeta(name="r", namespace="x")),
     ["metadata.namespace: Forbidden: not allowed on this type"]),
    ("generateName prefix may end in a dash", ConfigMap(metadata=meta("web-abcde", generate_name="web-")), []),
]


@pytest.mark.parametrize(("obj", "expected"), [c[1:] for c in NAME_CASES], ids=[c[0] for c in NAME_CASES])
def test_names(obj: ApiObject, expected: list[str]) -> None:
    assert errors(apply_defaults(obj)) == expected


def test_metadata_labels_annotations_owners_finalizers() -> None:
    owners = (OwnerReference("apps/v1", "ReplicaSet", "a", "u1", controller=True),
              OwnerReference("apps/v1", "ReplicaSet", "b", "", controller=True))
    cm = ConfigMap(metadata=meta(labels={"ok": "bad value"}, annotations={"a b": ""}, owner_references=owners,
                                 finalizers=("foo",)))
    assert [e.path for e in validate_create(cm)] == [
        ("metadata", "labels"), ("metadata", "annotations"), ("metadata", "ownerReferences", "uid"),
        ("metadata", "ownerReferences"), ("metadata", "finalizers", 0),
    ]
    assert str(validate_create(cm)[3]).endswith(
        'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and '
        "ReplicaSet/b"
    )


@settings(max_examples=150, deadline=None)
@given(name=strategies.invalid_dns1123_subdomains())
def test_invalid_subdomains_are_rejected_for_configmaps(name: str) -> None:
    errs = validate_create(ConfigMap(metadata=meta(name)))
    assert errs
    assert all(e.path == ("metadata", "name") for e in errs)


# -- pods -------------------------------------------------------------------------------------

TOLERATION_CASES = [
    ("exists with value", Toleration(key="k", operator="Exists", value="v"),
     'spec.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: '
     "value must be empty when `operator` is 'Exists'"),
    ("empty key needs Exists", Toleration(operator="Equal", value="v"),
     'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
     'which means "match all values and all keys"'),
    ("seconds need NoExecute", Toleration(key="k", operator="Exists", effect="NoSchedule", toleration_seconds=5),
     "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
     "`tolerationSeconds` is set"),
    ("bad effect", Toleration(key="k", operator="Exists", effect="NoRun"),
     'spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", '
     '"PreferNoSchedule", "NoExecute"'),
    ("bad operator", Toleration(key="k", operator="In"),
     'spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"'),
]


@pytest.mark.parametrize(("tol", "expected"), [c[1:] for c in TOLERATION_CASES], ids=[c[0] for c in TOLERATION_CASES])
def test_toleration_rules(tol: Toleration, expected: str) -> None:
    assert errors(pod(tolerations=(tol,))) == [expected]


def test_match_all_toleration_is_valid() -> None:
    assert errors(pod(tolerations=(Toleration(operator="Exists"),))) == []


def test_pod_spec_rules() -> None:
    spec = {
        "containers": (container("Web", image="", resources=ResourceRequirements(
            requests={"cpu": Quantity.parse("2")}, limits={"cpu": Quantity.parse("1")}),
            volume_mounts=(VolumeMount(name="data", mount_path="/d"),)),),
        "volumes": (Volume(name="data"), Volume(name="data")),
        "restart_policy": "Sometimes",
        "topology_spread_constraints": (
            TopologySpreadConstraint(max_skew=0, topology_key="zone", when_unsatisfiable="DoNotSchedule"),
            TopologySpreadConstraint(max_skew=1, topology_key="zone", when_unsatisfiable="DoNotSchedule"),
        ),
    }
    assert errors(pod(**spec)) == [
        'spec.volumes[1].name: Duplicate value: "data"',
        'spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case '
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.containers[0].image: Required value",
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
        'spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: "{zone, DoNotSchedule}"',
    ]


def test_volume_mount_must_name_a_volume() -> None:
    ctr = container(volume_mounts=(VolumeMount(name="nope", mount_path="/x"),))
    assert errors(pod(containers=(ctr,))) == ['spec.containers[0].volumeMounts[0].name: Not found: "nope"']


def test_pod_update_allows_images_and_added_tolerations_only() -> None:
    old = pod(tolerations=(Toleration(key="a", operator="Exists"),))
    new_image = attrs.evolve(old, spec=attrs.evolve(old.spec, containers=(
        attrs.evolve(old.spec.containers[0], image="nginx:2"),)))
    assert validate_update(new_image, old) == []
    added = attrs.evolve(old, spec=attrs.evolve(old.spec, tolerations=(*old.spec.tolerations, Toleration(
        key="b", operator="Exists"))))
    assert validate_update(added, old) == []
    removed = attrs.evolve(old, spec=attrs.evolve(old.spec, tolerations=()))
    assert [str(e) for e in validate_update(removed, old)] == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
    ]
    moved = attrs.evolve(old, spec=attrs.evolve(old.spec, node_name="node-2"))
    assert [str(e) for e in validate_update(moved, old)] == [
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    ]
    more = attrs.evolve(old, spec=attrs.evolve(old.spec, containers=(
        *old.spec.containers, attrs.evolve(old.spec.containers[0], name="sidecar"))))
    assert [str(e) for e in validate_update(more, old)] == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    ]


# -- other kinds ------------------------------------------------------------------------------


def test_statefulset_rules_and_update() -> None:
    sts = apply_defaults(StatefulSet(metadata=meta("db"), spec=StatefulSetSpec(
        selector=LabelSelector(match_labels={"app": "web"}), template=template(), service_name="db")))
    assert errors(sts) == []
    assert isinstance(sts, StatefulSet)
    scaled = attrs.evolve(sts, spec=attrs.evolve(sts.spec, replicas=3))
    assert validate_update(scaled, sts) == []
    renamed = attrs.evolve(sts, spec=attrs.evolve(sts.spec, service_name="other"))
    assert [e.detail for e in validate_update(renamed, sts)] == [
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
        "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]
    bad = attrs.evolve(sts, spec=attrs.evolve(sts.spec, pod_management_policy="Random",
                                              update_strategy=attrs.evolve(sts.spec.update_strategy,
                                                                           rolling_update=RollingUpdateStatefulSetStrategy(partition=-1))))
    assert errors(bad) == [
        "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
        "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_service_rules() -> None:
    svc = Service(metadata=meta("api"), spec=ServiceSpec(ports=(ServicePort(port=80), ServicePort(port=0, name="b")),
                                                          type="Magic"))
    assert errors(apply_defaults(svc)) == [
        "spec.ports[0].name: Required value",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
        '"NodePort"',
    ]
    headless = Service(metadata=meta("db"), spec=ServiceSpec(cluster_ip="None"))
    assert errors(apply_defaults(headless)) == []
    old = apply_defaults(Service(metadata=meta("db"), spec=ServiceSpec(cluster_ip="10.0.0.1", cluster_ips=("10.0.0.1",),
                                                                       ports=(ServicePort(port=80),))))
    assert isinstance(old, Service)
    moved = attrs.evolve(old, spec=attrs.evolve(old.spec, cluster_ip="10.0.0.2", cluster_ips=("10.0.0.2",)))
    assert [str(e) for e in validate_update(moved, old)] == [
        'spec.clusterIPs[0]: Invalid value: ["10.0.0.2"]: may not change once set'
    ]


def test_pvc_rules() -> None:
    pvc = PersistentVolumeClaim(metadata=meta("data"), spec=PersistentVolumeClaimSpec(
        access_modes=("ReadWriteOncePod", "ReadWriteOnce")))
    assert errors(apply_defaults(pvc)) == [
        "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
        "spec.resources[storage]: Required value",
    ]
    storage = VolumeResourceRequirements(requests={"storage": Quantity.parse("1Gi")})
    good = apply_defaults(attrs.evolve(pvc, spec=PersistentVolumeClaimSpec(access_modes=("ReadWriteOnce",),
                                                                           resources=storage)))
    assert isinstance(good, PersistentVolumeClaim)
    assert errors(good) == []
    changed = attrs.evolve(good, spec=attrs.evolve(good.spec, access_modes=("ReadWriteMany",)))
    assert [e.detail for e in validate_update(changed, good)] == [
        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
    ]


def test_configmap_and_secret_data() -> None:
    assert [e.path for e in validate_create(ConfigMap(metadata=meta(), data={"..a": "x", "ok.key": "y"}))] == [
        ("data", "[..a]")
    ]
    assert [str(e) for e in validate_create(apply_defaults(Secret(metadata=meta(), data={"k": "not base64!"})))] == [
        "data[k]: Invalid value: illegal base64 data at input byte 3"
    ]
    frozen = ConfigMap(metadata=meta(), data={"a": "1"}, immutable=True)
    thawed = attrs.evolve(frozen, data={"a": "2"})
    assert [str(e) for e in validate_update(thawed, frozen)] == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]


def test_rbac_rules() -> None:
    role = Role(metadata=meta("r"), rules=(PolicyRule(resources=("pods",)),))
    assert errors(role) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
    ]
    crb = apply_defaults(ClusterRoleBinding(metadata=ObjectMeta(name="b"), role_ref=RoleRef(kind="Role", name="r"),
                                            subjects=(Subject(kind="ServiceAccount", name="sa"),)))
    assert errors(crb) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
    ]
    rb = apply_defaults(RoleBinding(metadata=meta("b"), role_ref=RoleRef(kind="Role", name="r"),
                                    subjects=(Subject(kind="User", name="alice"),)))
    assert isinstance(rb, RoleBinding)
    assert errors(rb) == []
    moved = attrs.evolve(rb, role_ref=attrs.evolve(rb.role_ref, name="other"))
    assert [e.detail for e in validate_update(moved, rb)] == ["cannot change roleRef"]


def test_crd_rules() -> None:
    versions = (CustomResourceDefinitionVersion(name="v1", served=True, storage=True),
                CustomResourceDefinitionVersion(name="v2", served=True, storage=True))
    crd = CustomResourceDefinition(metadata=ObjectMeta(name="gadgets.example"), spec=CustomResourceDefinitionSpec(
        group="example", scope="Namespaced", versions=versions,
        names=CustomResourceDefinitionNames(plural="widgets", kind="Widget")))
    assert [str(e) for e in validate_create(crd)] == [
        'metadata.name: Invalid value: "gadgets.example": must be spec.names.plural+"."+spec.group',
        'spec.group: Invalid value: "example": should be a domain with at least one dot',
        'spec.versions: Invalid value: [{"name":"v1","served":true,"storage":true},{"name":"v2","served":true,'
        '"storage":true}]: must have exactly one version marked as storage version',
    ]


def test_endpoint_slice_limits() -> None:
    from kubeprop.model.api.objects import Endpoint

    many = EndpointSlice(metadata=meta("s"), address_type="IPv4",
                         endpoints=tuple(Endpoint(addresses=("10.0.0.1",)) for _ in range(1001)))
    assert errors(many) == ["endpoints: Too many: 1001: must have at most 1000 items"]
    bad = EndpointSlice(metadata=meta("s"), address_type="IPv4", endpoints=(Endpoint(addresses=("::1",)),))
    assert errors(bad) == ['endpoints[0].addresses[0]: Invalid value: "::1": must be a valid IPv4 address']


def test_status_update_counts() -> None:
    old = deployment()
    new = attrs.evolve(old, status=DeploymentStatus(replicas=1, ready_replicas=2, available_replicas=-1))
    assert [str(e) for e in validate_status_update(new, old)] == [
        "status.availableReplicas: Invalid value: -1: must be greater than or equal to 0",
        "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
    ]
