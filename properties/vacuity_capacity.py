"""Whether two schedulers racing can overcommit a node: the need of the `dual-scheduler` variant.

`dual-scheduler` runs two scheduler instances without leader election, each with its own assume
cache (kubernetes#136782): each binds a pod where it fits the pods *it* knows of, so a node can be
given more than it has — `node-not-overcommitted` (Σ requests ≤ allocatable, pods ≤ the pods
allocatable; `pkg/scheduler/framework/plugins/noderesources/fit.go`) or, for spreading, inter-pod
affinity, host ports and volumes, `scheduler-decisions-sound`. It changes only *where* pods go,
never how many there are, so it cannot show where no node can ever be given too much: where the
pods that can coexist, all on one node, fit it (`can_overcommit`). That needs an upper bound on
the pods that can exist at once, which a scenario has only when nothing makes pods without a
bound, judged statically and over-approximated (anything not understood here counts as "may
show"):

- code of the user's (controllers, admission), environment rules or `environment:` usage, a
  descheduler, node-pressure budgets, an HPA, a Job or CronJob, a LimitRange or RuntimeClass
  (requests the templates do not show), priorities (preemption), claims, any fault budget but
  `containerCrash` and `watchDrop` (a lost node's pods stay Terminating while they are replaced, a
  timed-out create is made again: `replicaset-create-timeout`, a timed-out binding forgotten:
  `scheduler-bind-timeout`), a NoExecute taint (pods evicted after their tolerationSeconds are
  replaced where they may go back), and pods that spread, have inter-pod (anti-)affinity, host
  ports or claims (two pods are enough there) all mean "may show";
- otherwise, at one time: a bare Pod at most once per name, a ReplicaSet its largest replicas, a
  StatefulSet its largest replicas (a replacement waits for its predecessor to go), a
  DaemonSet two per node (one, and one surging), a Deployment twice its largest replicas and its
  largest surge (a new ReplicaSet created at full size before the controller's cache saw the
  first: `deployment-stale-replicaset-lister`); "largest" over the manifests, `apply` steps and
  `scale` steps. Each workload step but cordon, uncordon, rolloutStatus and wait may leave one
  more generation of pods Terminating (a kubelet may be slow to finish them while the user goes
  on), so the sum is multiplied by one plus their count;
- a node needs, to be overcommitted, more pods than its pods allocatable or than the most of the
  largest request of any resource it limits that fit it (`NodeInfo.allocatable`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kubeprop.model.api.apps import DaemonSet, Deployment, ReplicaSet, RollingUpdateDeployment, StatefulSet
from kubeprop.model.api.objects import ApiObject, Node, Pod
from kubeprop.model.api.pod import PodSpec
from kubeprop.model.controllers.deployment_util import resolve_fenceposts
from kubeprop.model.kubelet.pressure import BUDGETS as PRESSURE_BUDGETS
from kubeprop.model.scenario.bootstrap import node_object
from kubeprop.model.scenario.schema_addons import EnvironmentDecl
from kubeprop.model.scheduler.nodeinfo import NodeInfo, pod_requests
from kubeprop.model.state.cluster import ClusterModel

__all__ = ["BOUNDED_FAULTS", "can_overcommit", "coexisting_pods", "pods_to_overcommit"]

BOUNDED_FAULTS = frozenset({"container_crash", "watch_drop"})
"""The fault kinds that make no pod beyond those counted: a container restarts in its pod (or the
pod fails: a terminal pod holds nothing), a dropped watch is relisted."""

UNBOUNDED_RESOURCES = ("horizontalpodautoscalers.autoscaling", "jobs.batch", "cronjobs.batch", "limitranges",
                       "runtimeclasses.node.k8s.io", "priorityclasses.scheduling.k8s.io", "persistentvolumeclaims")
"""Kinds this bound does not count with: an HPA scales up and down again, a Job replaces failed
pods and a CronJob starts Jobs for as long as the run lasts; a LimitRange gives pods requests
their templates do not have, a RuntimeClass overhead (admission); a PriorityClass lets pods
preempt others, which are replaced (again and again); a claim may conflict between two pods
(VolumeRestrictions), as a StatefulSet's claim templates make them."""

QUIET_STEPS = ("cordon", "uncordon", "rollout_status", "wait")
"""Workload steps that delete and replace no pod."""


def can_overcommit(model: ClusterModel) -> bool:
    """Whether some run may give a node more than it has (see the module): True unless the pods
    that can coexist are bounded and fewer than any node needs to be overcommitted."""
    from kubeprop.properties.vacuity import own_controllers, possible_resources

    spec = model.scenario.spec
    if own_controllers(model) or model.scenario.environment_rules or spec.environment != EnvironmentDecl():
        return True
    if spec.admission:  # admission of the user's may change what pods request
        return True
    if spec.descheduler is not None or any(model.parameter(b) for b in PRESSURE_BUDGETS.values()):
        return True
    if any(getattr(model.budget, kind, 0) for kind in _fault_kinds(model) if kind not in BOUNDED_FAULTS):
        return True
    possible = possible_resources(model)
    if possible is None or any(r in possible for r in UNBOUNDED_RESOURCES):
        return True
    objects = _objects(model)
    if any(isinstance(o, Node) and _no_execute(o) for o in objects) or any(
            t.effect == "NoExecute" for n in spec.topology.nodes for t in n.taints):
        return True
    if any(_two_are_enough(pod_spec) or pod_spec.priority_class_name or pod_spec.priority is not None
           for _, pod_spec in _pod_specs(objects)):
        return True
    bound = coexisting_pods(model, objects)
    return bound is None or bound >= pods_to_overcommit(model, objects)


def coexisting_pods(model: ClusterModel, objects: list[ApiObject]) -> int | None:
    """An upper bound on the pods that can exist at once (None: no bound is known here)."""
    spec = model.scenario.spec
    scaled: dict[tuple[str, str], int] = {}
    for step in spec.workload:
        if step.scale is not None:
            for field in ("deployment", "statefulset", "replicaset"):
                ref = getattr(step.scale, field)
                if ref:
                    namespace, _, name = ref.rpartition("/")
                    key = (namespace or "default", name)
                    scaled[key] = max(scaled.get(key, 0), step.scale.replicas)
    counts: dict[tuple[str, str, str], int] = {}
    for obj in objects:
        count = _pods_of(obj, scaled, len({n.metadata.name for n in _nodes(model, objects)}))
        if count is None:
            return None
        ident = (type(obj).__name__, obj.metadata.namespace or "default", obj.metadata.name)
        counts[ident] = max(counts.get(ident, 0), count)
    generations = 1 + sum(1 for step in spec.workload if not any(getattr(step, f) for f in QUIET_STEPS))
    return generations * sum(counts.values())


def pods_to_overcommit(model: ClusterModel, objects: list[ApiObject]) -> int:
    """The fewest pods one node must hold to be overcommitted, over the nodes: more than its pods
    allocatable, or than the largest request of a resource it limits fits into it (a node with
    no limit a pod asks for can never be overcommitted: a large number)."""
    largest: dict[str, int] = {}
    for _, pod_spec in _pod_specs(objects):
        for resource, value in pod_requests(Pod(spec=pod_spec)).items():
            largest[resource] = max(largest.get(resource, 0), value)
    fewest = 2**62
    for node in _nodes(model, objects):
        allocatable = NodeInfo.of(node).allocatable
        for resource, limit in allocatable.items():
            if resource == "pods":
                fewest = min(fewest, limit + 1)
            elif largest.get(resource, 0) > 0:
                fewest = min(fewest, limit // largest[resource] + 1)
    return fewest


def _pods_of(obj: ApiObject, scaled: dict[tuple[str, str], int], nodes: int) -> int | None:
    """The most pods `obj` can have at once (0 for an object that makes none; None: unknown)."""
    key = (obj.metadata.namespace or "default", obj.metadata.name)
    if isinstance(obj, Pod):
        return 1
    if isinstance(obj, DaemonSet):
        return 2 * nodes
    if not isinstance(obj, Deployment | ReplicaSet | StatefulSet):
        return 0
    replicas = max(1 if obj.spec.replicas is None else obj.spec.replicas, scaled.get(key, 0))
    if not isinstance(obj, Deployment):
        return replicas
    surge = 0
    if obj.spec.strategy.type in ("", "RollingUpdate"):
        rolling = obj.spec.strategy.rolling_update or RollingUpdateDeployment()
        max_surge = "25%" if rolling.max_surge is None else rolling.max_surge
        max_unavailable = "25%" if rolling.max_unavailable is None else rolling.max_unavailable
        surge = max(resolve_fenceposts(max_surge, max_unavailable, n)[0] for n in range(1, max(replicas, 1) + 1))
    return 2 * replicas + surge


def _objects(model: ClusterModel) -> list[ApiObject]:
    """The manifests' objects and those of every `apply` step."""
    return [*(m.obj for m in model.scenario.objects), *(o for objects in model.workload_objects for o in objects)]


def _pod_specs(objects: Iterable[ApiObject]) -> Iterator[tuple[ApiObject, PodSpec]]:
    """Every pod spec the objects carry: a bare Pod's, a workload's template."""
    for obj in objects:
        if isinstance(obj, Pod):
            yield obj, obj.spec
        template = getattr(getattr(obj, "spec", None), "template", None)
        if template is not None and isinstance(getattr(template, "spec", None), PodSpec):
            yield obj, template.spec


def _two_are_enough(spec: PodSpec) -> bool:
    """Whether two pods of this spec may already conflict on a node: spreading, inter-pod
    (anti-)affinity, a host port, a claim (`scheduler-decisions-sound` judges them all)."""
    affinity = spec.affinity
    if spec.topology_spread_constraints or (affinity is not None and (
            affinity.pod_affinity is not None or affinity.pod_anti_affinity is not None)):
        return True
    if any(p.host_port for c in (*spec.init_containers, *spec.containers) for p in c.ports):
        return True
    return any(v.persistent_volume_claim is not None or getattr(v, "ephemeral", None) is not None
               for v in spec.volumes)


def _nodes(model: ClusterModel, objects: list[ApiObject]) -> list[Node]:
    """The topology's nodes and every Node an `apply` step writes (a Node manifest is a topology
    node; a node written again may be given less: each version counts)."""
    return [*(node_object(d) for d in model.scenario.spec.topology.nodes), *(o for o in objects if isinstance(o, Node))]


def _no_execute(node: Node) -> bool:
    return any(t.effect == "NoExecute" for t in node.spec.taints)


def _fault_kinds(model: ClusterModel) -> list[str]:
    from kubeprop.model.fault_kinds import FAULT_KINDS

    return list(FAULT_KINDS)
