"""The controller manager's controllers, configured from the model parameters.

Each knob that a bug-catalogue variant turns is an ordinary parameter here (docs/variants.md):

| parameter | default | variant that changes it |
|---|---|---|
| `expectationsTimeoutSeconds` | 300 | — |
| `replicaSetExpectations` | true | rs-no-expectations |
| `daemonSetExpectations` | true | ds-no-expectations |
| `jobTrackingWithFinalizers` | true | job-legacy-tracking |
| `cronJobNameLock` | true | cronjob-no-name-lock |
| `rolloutUnavailableOneWhenBothZero` | true | rollout-fencepost |
| `statefulSetReplaceTerminatingPods` | false | sts-split-brain |
| `maxUnavailableStatefulSet` | false (v1.33; true from v1.35) | — (a release: docs/release.md) |
| `statefulSetResyncSeconds` | 0 (v1.15 and later; 30 in v1.14 and before) | — (a release: docs/release.md) |
| `endpointsIncludeTerminating` | false | endpoints-terminating |
| `endpointsReadinessSource` | ready-condition | endpoints-liveness (`containers-running`) |
| `endpointsStaleCacheTracking` | true (v1.31+) | endpoints-stale-cache (`false`: v1.30 and before) |
| `maxEndpointsPerSlice` | 100 | — |
| `terminatedPodGCThreshold` | 12500 | — |

Users can replace a built-in controller by registering one with the same `name`
(`with_controllers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeprop.model.controllers.clusterrole_aggregation import ClusterRoleAggregationController
from kubeprop.model.controllers.cronjob import CronJobController
from kubeprop.model.controllers.daemonset import DaemonSetController
from kubeprop.model.controllers.deployment import DeploymentController
from kubeprop.model.controllers.disruption import DisruptionController
from kubeprop.model.controllers.endpoints import EndpointsController
from kubeprop.model.controllers.endpointslice import EndpointSliceController
from kubeprop.model.controllers.gc import CRDS, DEFAULT_WATCHES, GarbageCollector
from kubeprop.model.controllers.job import JobController
from kubeprop.model.controllers.namespace import NamespaceController
from kubeprop.model.controllers.persistentvolume import PersistentVolumeController
from kubeprop.model.controllers.podgc import PodGCController
from kubeprop.model.controllers.replicaset import ReplicaSetController
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.controllers.ttlafterfinished import TTLAfterFinishedController
from kubeprop.model.controllers.volume_protection import PVCProtectionController, PVProtectionController
from kubeprop.model.errors import InputError
from kubeprop.model.state.component import namespaces_problem


def default_controllers(parameters: Mapping[str, Any], custom_resources: Iterable[str] = ()) -> tuple[Any, ...]:
    """The built-in controllers, in a fixed order, configured from `parameters`. The garbage
    collector also watches `custom_resources` (the scenario's further resources,
    `gc.collected_resources`: CRD-defined and stored-only kinds among them) and CRDs."""
    readiness = parameters["endpointsReadinessSource"]
    include_terminating = bool(parameters["endpointsIncludeTerminating"])
    controllers: list[Any] = [
        DeploymentController(unavailable_one_when_both_zero=bool(parameters["rolloutUnavailableOneWhenBothZero"])),
        ReplicaSetController(
            expectations_timeout_seconds=int(parameters["expectationsTimeoutSeconds"]),
            use_expectations=bool(parameters["replicaSetExpectations"]),
            requeue_at_next_availability=bool(parameters["replicaSetRequeueAtNextAvailability"]),
        ),
        StatefulSetController(replace_terminating_pods=bool(parameters["statefulSetReplaceTerminatingPods"]),
                              max_unavailable_gate=bool(parameters["maxUnavailableStatefulSet"]),
                              resync_period=int(parameters["statefulSetResyncSeconds"])),
        EndpointsController(include_terminating=include_terminating, readiness_source=readiness,
                            track_stale=bool(parameters["endpointsStaleCacheTracking"])),
        EndpointSliceController(
            max_endpoints_per_slice=int(parameters["maxEndpointsPerSlice"]),
            include_terminating=include_terminating, readiness_source=readiness,
            max_retries=int(parameters["endpointSliceMaxRetries"]),
        ),
        GarbageCollector(watches=(*DEFAULT_WATCHES, *sorted(set(custom_resources)), CRDS)),
        PodGCController(terminated_pod_threshold=int(parameters["terminatedPodGCThreshold"])),
    ]
    return tuple(controllers)


ADDON_CONTROLLERS: tuple[type[Any], ...] = (ClusterRoleAggregationController, CronJobController, DaemonSetController,
                                            DisruptionController, JobController, NamespaceController,
                                            PersistentVolumeController, PVCProtectionController,
                                            PVProtectionController, TTLAfterFinishedController)
"""Built-in controllers the model runs only where a scenario needs them: the DaemonSet controller
(`pkg/controller/daemon`) when a DaemonSet can exist, the Job controller (`pkg/controller/job`)
when a Job can exist, the TTL-after-finished controller (`pkg/controller/ttlafterfinished`) when a
Job with `ttlSecondsAfterFinished` can exist, the CronJob controller (`pkg/controller/cronjob`) when
a CronJob can exist, the disruption controller
(`pkg/controller/disruption/disruption.go`, part of kube-controller-manager) when a
PodDisruptionBudget can exist, the PersistentVolume controller (`pkg/controller/volume/persistentvolume`)
and the PVC and PV protection controllers (`pkg/controller/volume/pvcprotection`, `pvprotection`)
when a claim or volume can exist, the clusterrole-aggregation controller
(`pkg/controller/clusterroleaggregation`) when a ClusterRole can exist, the namespace controller
(`pkg/controller/namespace`) when a namespace can be deleted (`kubeprop.model.cluster.compose`;
elsewhere it would never act, and its idle state would change every recorded trace's
fingerprints). Built-in all the same: not a user's own controller (`kubeprop.properties.vacuity.own_controllers`)."""


def builtin_controller_types(parameters: Mapping[str, Any]) -> frozenset[type[Any]]:
    """The types of every built-in controller, those always run and the add-ons."""
    return frozenset({type(c) for c in default_controllers(parameters)} | set(ADDON_CONTROLLERS))


def with_controllers(builtin: Iterable[Any], extra: Iterable[Any]) -> tuple[Any, ...]:
    """`builtin` with every controller of `extra` added, replacing a built-in one of the same name.
    A controller of `extra` whose `namespaces` is malformed is an `InputError` naming it
    (`namespaces_problem`; a scenario's `controllers:` are checked when it loads, at their line)."""
    extra = tuple(extra)
    for controller in extra:
        problem = namespaces_problem(controller)
        if problem is not None:
            raise InputError(problem)
    replaced = {c.name: c for c in extra}
    out = [replaced.pop(c.name, c) for c in builtin]
    return (*out, *replaced.values())
