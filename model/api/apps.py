"""`apps/v1` kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet (`staging/src/k8s.io/api/apps/v1/types.go`)."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from kubeprop.model.api.codec import MODEL_ONLY
from kubeprop.model.api.core import PersistentVolumeClaim
from kubeprop.model.api.integers import Int32, Int64, IntOrString
from kubeprop.model.api.meta import Condition, KindInfo, ObjectMeta
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector


@attrs.frozen
class RollingUpdateDeployment:
    """maxSurge / maxUnavailable: an absolute number or a percentage string such as "25%"."""

    max_surge: IntOrString | None = None
    max_unavailable: IntOrString | None = None


@attrs.frozen
class DeploymentStrategy:
    """RollingUpdate (default) or Recreate."""

    type: str = ""
    rolling_update: RollingUpdateDeployment | None = None


@attrs.frozen(cache_hash=True)
class DeploymentSpec:
    """Deployment spec (`apps/v1 DeploymentSpec`)."""

    replicas: Int32 | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec = PodTemplateSpec()
    strategy: DeploymentStrategy = DeploymentStrategy()
    min_ready_seconds: Int32 = 0
    revision_history_limit: Int32 | None = None
    paused: bool = False
    progress_deadline_seconds: Int32 | None = None


@attrs.frozen
class DeploymentStatus:
    """Deployment status written by the deployment controller."""

    observed_generation: Int64 = 0
    replicas: Int32 = 0
    updated_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    unavailable_replicas: Int32 = 0
    terminating_replicas: Int32 | None = None
    conditions: tuple[Condition, ...] = ()
    collision_count: Int32 | None = None


@attrs.frozen(cache_hash=True)
class Deployment:
    """A Deployment: declarative rollouts over ReplicaSets."""

    INFO: ClassVar[KindInfo] = KindInfo("apps", "v1", "Deployment", "deployments", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: DeploymentSpec = DeploymentSpec()
    status: DeploymentStatus = DeploymentStatus()


@attrs.frozen(cache_hash=True)
class ReplicaSetSpec:
    """ReplicaSet spec."""

    replicas: Int32 | None = None
    min_ready_seconds: Int32 = 0
    selector: LabelSelector | None = None
    template: PodTemplateSpec = PodTemplateSpec()


@attrs.frozen
class ReplicaSetStatus:
    """ReplicaSet status written by the replicaset controller."""

    replicas: Int32 = 0
    fully_labeled_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    terminating_replicas: Int32 | None = None
    observed_generation: Int64 = 0
    conditions: tuple[Condition, ...] = ()


@attrs.frozen(cache_hash=True)
class ReplicaSet:
    """A ReplicaSet: keeps `replicas` active pods matching its selector."""

    INFO: ClassVar[KindInfo] = KindInfo("apps", "v1", "ReplicaSet", "replicasets", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: ReplicaSetSpec = ReplicaSetSpec()
    status: ReplicaSetStatus = ReplicaSetStatus()


@attrs.frozen
class RollingUpdateStatefulSetStrategy:
    """Pods with ordinal ≥ partition are updated; maxUnavailable is kept as given."""

    partition: Int32 | None = None
    max_unavailable: IntOrString | None = None


@attrs.frozen
class StatefulSetUpdateStrategy:
    """RollingUpdate (default) or OnDelete."""

    type: str = ""
    rolling_update: RollingUpdateStatefulSetStrategy | None = None


@attrs.frozen
class StatefulSetOrdinals:
    """`spec.ordinals` (StatefulSetStartOrdinal, GA in v1.31): the pods are `<name>-<start>` …
    `<name>-<start + replicas - 1>`."""

    start: Int32 = 0


@attrs.frozen(cache_hash=True)
class StatefulSetSpec:
    """StatefulSet spec (`apps/v1 StatefulSetSpec`)."""

    replicas: Int32 | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec = PodTemplateSpec()
    volume_claim_templates: tuple[PersistentVolumeClaim, ...] = ()
    service_name: str = ""
    pod_management_policy: str = ""
    update_strategy: StatefulSetUpdateStrategy = StatefulSetUpdateStrategy()
    revision_history_limit: Int32 | None = None
    min_ready_seconds: Int32 = 0
    persistent_volume_claim_retention_policy: Any = None
    ordinals: StatefulSetOrdinals | None = attrs.field(default=None, metadata={"fingerprint": "omit-if-default"})
    """Left out of fingerprints while unset, so recorded traces of sets without it stay valid."""


@attrs.frozen
class StatefulSetStatus:
    """StatefulSet status written by the statefulset controller."""

    observed_generation: Int64 = 0
    replicas: Int32 = 0
    ready_replicas: Int32 = 0
    current_replicas: Int32 = 0
    updated_replicas: Int32 = 0
    available_replicas: Int32 = 0
    current_revision: str = ""
    update_revision: str = ""
    collision_count: Int32 | None = None
    conditions: tuple[Condition, ...] = ()
    current_revision_template: PodTemplateSpec | None = attrs.field(
        default=None, metadata={"fingerprint": "omit-if-default", MODEL_ONLY: True})
    """Model-only (never encoded): the pod template of the revision `current_revision` names,
    while that is not the set's own template — what upstream reads from that revision's
    ControllerRevision. The API server maintains it (`kubeprop.model.api.revisions`)."""


@attrs.frozen(cache_hash=True)
class StatefulSet:
    """A StatefulSet: pods with stable identities `<name>-<ordinal>` and per-pod volumes."""

    INFO: ClassVar[KindInfo] = KindInfo("apps", "v1", "StatefulSet", "statefulsets", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: StatefulSetSpec = StatefulSetSpec()
    status: StatefulSetStatus = StatefulSetStatus()


@attrs.frozen
class RollingUpdateDaemonSet:
    """maxUnavailable / maxSurge of a DaemonSet's rolling update: an absolute number of nodes or a
    percentage string such as "10%" (`apps/v1 RollingUpdateDaemonSet`)."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


@attrs.frozen
class DaemonSetUpdateStrategy:
    """RollingUpdate (default) or OnDelete (`apps/v1 DaemonSetUpdateStrategy`)."""

    type: str = ""
    rolling_update: RollingUpdateDaemonSet | None = None


@attrs.frozen(cache_hash=True)
class DaemonSetSpec:
    """DaemonSet spec (`apps/v1 DaemonSetSpec`)."""

    selector: LabelSelector | None = None
    template: PodTemplateSpec = PodTemplateSpec()
    update_strategy: DaemonSetUpdateStrategy = DaemonSetUpdateStrategy()
    min_ready_seconds: Int32 = 0
    revision_history_limit: Int32 | None = None


@attrs.frozen
class DaemonSetStatus:
    """DaemonSet status written by the DaemonSet controller (`apps/v1 DaemonSetStatus`)."""

    current_number_scheduled: Int32 = 0
    number_misscheduled: Int32 = 0
    desired_number_scheduled: Int32 = 0
    number_ready: Int32 = 0
    observed_generation: Int64 = 0
    updated_number_scheduled: Int32 = 0
    number_available: Int32 = 0
    number_unavailable: Int32 = 0
    collision_count: Int32 | None = None
    conditions: tuple[Condition, ...] = ()


@attrs.frozen(cache_hash=True)
class DaemonSet:
    """A DaemonSet: one pod on every node its template's placement rules admit."""

    INFO: ClassVar[KindInfo] = KindInfo("apps", "v1", "DaemonSet", "daemonsets", namespaced=True)

    metadata: ObjectMeta = ObjectMeta()
    spec: DaemonSetSpec = DaemonSetSpec()
    status: DaemonSetStatus = DaemonSetStatus()
