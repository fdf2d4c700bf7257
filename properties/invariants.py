"""Built-in safety properties: each holds in every state of a correct cluster.

Each names the upstream rule it encodes. They read the API store (what `kubectl` would show) and,
where the promise is about what really runs, the kubelets' actual state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from kubeprop.model.api.objects import (
    ApiObject,
    Deployment,
    Endpoints,
    Node,
    ObjectKey,
    PersistentVolumeClaim,
    Pod,
    ReplicaSet,
    Service,
    Taint,
)
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.api.validation import validate_create
from kubeprop.model.cluster.workload_commands import describe as describe_step
from kubeprop.model.controllers.podutil import controller_of, is_pod_active, is_pod_ready
from kubeprop.model.memo import IdentityMemo
from kubeprop.model.scheduler.decide import build_node_infos, filter_node_affinity, filter_taint_toleration
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, is_up
from kubeprop.model.state.informer import InformerState, ResourceEvents, event_index
from kubeprop.properties.registry import CheckResult as Result
from kubeprop.properties.registry import derived_read, safety
from kubeprop.properties.scheduler_decisions import bound_at, fresh_binding, taints_at_binding


def _pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods") if isinstance(p, Pod)]


def _key(obj: ApiObject) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def _name(obj: ApiObject) -> str:
    kind = type(obj).__name__
    ns = obj.metadata.namespace
    return f"{kind} {ns}/{obj.metadata.name}" if ns else f"{kind} {obj.metadata.name}"


def _caught_up(model: ClusterModel, state: ClusterState, controller: str, key: str) -> bool:
    """True when `controller` has processed everything about `key`: the controller manager is up,
    its caches have no undelivered events, and the key is not queued. Endpoints lag pods by design
    until then, so a promise about a controller's output is judged only in such states."""
    ctl = state.controllers.get(controller)
    return ctl is not None and key not in getattr(ctl, "queue", ()) and controller_manager_caught_up(state)


@derived_read("controller-manager-caught-up", ("store", "informers", "down"))
def controller_manager_caught_up(state: ClusterState) -> bool:
    """The controller manager is up and its caches have every event delivered (none is stale;
    with instant caches it has none, and nothing to catch up with)."""
    if not is_up(state, CONTROLLER_MANAGER):
        return False
    informer = state.informers.get(CONTROLLER_MANAGER)
    if informer is None:
        return True
    events = state.store.events
    for seen_informer, seen_events, answer in _CAUGHT_UP:
        if seen_informer is informer and seen_events is events:
            return answer
    answer = _delivered_all(informer, event_index(events))
    _CAUGHT_UP.insert(0, (informer, events, answer))
    del _CAUGHT_UP[4:]
    return answer


def _delivered_all(informer: InformerState, index: dict[str, ResourceEvents]) -> bool:
    """No cache of `informer` is stale or has an event of its resource to be delivered
    (`next_event` is None for each: the last revision of its resource in the indexed log is the
    cache's or older)."""
    for resource, cache in informer.resources.items():
        if cache.stale:
            return False
        found = index.get(resource)
        if found is not None and found[0][-1] > cache.revision:
            return False
    return True


_CAUGHT_UP: list[tuple[object, object, bool]] = []
"""The last few answers of `controller_manager_caught_up`, by identity of the caches and the event
log they were computed from (many states share both: a step elsewhere changes neither)."""


@safety("endpoints-ready-pods",
        "Once the endpoints controller has caught up with a Service, its ready endpoint addresses are pods that "
        "are Ready, not terminating, and match its selector.",
        "pkg/controller/endpoint/endpoints_controller.go; staging/src/k8s.io/endpointslice/util ShouldPodBeInEndpoints",
        reads=("objects", "controllers:endpoints", "controller-manager-caught-up"))
def endpoints_ready_pods(model: ClusterModel, state: ClusterState) -> Result:
    pods = {(p.metadata.namespace, p.metadata.name): p for p in _pods(state)}
    for svc in state.store.list("services"):
        if not isinstance(svc, Service) or svc.spec.selector is None or svc.spec.publish_not_ready_addresses:
            continue
        if not _caught_up(model, state, "endpoints", f"{svc.metadata.namespace}/{svc.metadata.name}"):
            continue
        ep = state.store.get(ObjectKey("endpoints", svc.metadata.namespace, svc.metadata.name))
        if not isinstance(ep, Endpoints):
            continue
        for subset in ep.subsets:
            for address in subset.addresses:
                ref = address.target_ref
                pod = pods.get((svc.metadata.namespace, ref.name)) if ref is not None else None
                problem = _endpoint_problem(svc, pod)
                if problem:
                    name = ref.name if ref is not None else address.ip
                    return (f"Endpoints {svc.metadata.namespace}/{svc.metadata.name} lists {name} as ready, but "
                            f"the pod {problem}", (_name(ep), f"Pod {svc.metadata.namespace}/{name}"))
    return None


def _endpoint_problem(svc: Service, pod: Pod | None) -> str:
    if pod is None:
        return "does not exist"
    if pod.metadata.deletion_timestamp is not None:
        return "is terminating"
    if not is_pod_ready(pod):
        return "is not Ready"
    if not selector_matches(LabelSelector(match_labels=svc.spec.selector or {}), pod.metadata.labels):
        return "does not match the selector"
    return ""


@safety("node-not-overcommitted",
        "On every node, the pods bound to it request no more than its allocatable resources and pod count.",
        "pkg/scheduler/framework/plugins/noderesources/fit.go", reads=("objects",))
def node_not_overcommitted(model: ClusterModel, state: ClusterState) -> Result:
    """Judged node by node, each verdict remembered by the identity of the node and its pods."""
    on: dict[str, list[Pod]] = defaultdict(list)
    for pod in _pods(state):
        on[pod.spec.node_name].append(pod)
    for node in sorted((n for n in state.store.list("nodes") if isinstance(n, Node)), key=_node_name):
        pods = on.get(node.metadata.name, ())
        found = _OVERCOMMITTED.get((node, *pods), overcommitted, node, pods)
        if found is not None:
            return found
    return None


_OVERCOMMITTED: IdentityMemo[Result] = IdentityMemo()


def _node_name(node: Node) -> str:
    return node.metadata.name


def overcommitted(node: Node, pods: Iterable[Pod]) -> Result:
    """Whether the pods bound to `node` request more than it has (as the scheduler's cache counts:
    terminal pods left out)."""
    info = build_node_infos((node,), pods)[0]
    for resource, used in sorted(info.requested.items()):
        limit = info.allocatable.get(resource)
        if limit is not None and used > limit:
            names = tuple(_name(p) for p in info.pods)
            return f"node {info.name}: pods request {used} {resource}, allocatable is {limit}", (
                f"Node {info.name}", *names)
    max_pods = info.allocatable.get("pods")
    if max_pods is not None and len(info.pods) > max_pods:
        return f"node {info.name}: {len(info.pods)} pods, allocatable pods is {max_pods}", (f"Node {info.name}",)
    return None


@safety("bindings-respect-hard-constraints",
        "Every pod bound by the scheduler tolerates the node's NoSchedule/NoExecute taints present when it was "
        "bound and matches its nodeSelector and required node affinity.",
        "pkg/scheduler/framework/plugins/tainttoleration, nodeaffinity", reads=("objects", "store-revision"))
def bindings_respect_hard_constraints(model: ClusterModel, state: ClusterState) -> Result:
    """Judged with the node as it was at the binding: all of it in the state the binding is
    written; later, only the taints known to predate it (`taints_at_binding`) and not the labels
    (required node affinity is IgnoredDuringExecution). Only bindings are judged: a pod created with
    spec.nodeName, whose PodScheduled=True its kubelet wrote, is not (`bound_at`). Each pod's
    verdict is remembered by the identity of the pod and its node, and whether the binding is fresh."""
    nodes = {n.metadata.name: n for n in state.store.list("nodes") if isinstance(n, Node)}
    for pod in _pods(state):
        node = nodes.get(pod.spec.node_name)
        if node is None:
            continue
        fresh = fresh_binding(state, pod)
        found = _MISBOUND[fresh].get((pod, node), _misbound, pod, node, fresh)
        if found is not None:
            return found
    return None


_MISBOUND: tuple[IdentityMemo[Result], IdentityMemo[Result]] = (IdentityMemo(), IdentityMemo())
"""`bindings-respect-hard-constraints` verdicts of pods bound earlier, and of fresh bindings."""


def _misbound(pod: Pod, node: Node, fresh: bool) -> Result:
    at = bound_at(pod)
    if at is None:
        return None
    info = build_node_infos((node,), ())[0]
    at_bind = build_node_infos([_with_taints(info.node, taints_at_binding(info.node, fresh, at))], ())[0]
    reason = filter_taint_toleration(pod, at_bind) or (filter_node_affinity(pod, at_bind) if fresh else None)
    if reason:
        return f"{_name(pod)} is bound to node {info.name}: {reason}", (_name(pod), f"Node {info.name}")
    return None


def _with_taints(node: Node, taints: tuple[Taint, ...]) -> Node:
    import attrs

    return attrs.evolve(node, spec=attrs.evolve(node.spec, taints=taints))


@safety("one-running-pod-per-identity",
        "At most one node runs containers of a pod with a given name (a StatefulSet identity, or any pod).",
        "pkg/controller/statefulset/stateful_set_control.go; kubernetes#59848", reads=("kubelets", "down"))
def one_running_pod_per_identity(model: ClusterModel, state: ClusterState) -> Result:
    where: dict[str, list[str]] = defaultdict(list)
    for node, kubelet in state.kubelets.sorted_items():
        if f"node/{node}" in state.down:
            continue
        for key, runtime in kubelet.pods.sorted_items():
            if runtime.any_running:
                where[key].append(node)
    for key, nodes in sorted(where.items()):
        if len(nodes) > 1:
            return f"pod {key} runs on {len(nodes)} nodes at once: {', '.join(nodes)}", (
                f"Pod {key}", *(f"Node {n}" for n in nodes))
    return None


@safety("read-write-once-volume-on-one-node",
        "A ReadWriteOnce claim is mounted by running containers on at most one node (ReadWriteOncePod: one pod).",
        "pkg/scheduler/framework/plugins/volumerestrictions/volume_restrictions.go (ReadWriteOncePod); "
        "pkg/controller/volume/attachdetach/reconciler/reconciler.go isMultiAttachForbidden (ReadWriteOnce); "
        "kubernetes docs 'Access Modes'", reads=("kubelets", "down", "objects"))
def rwo_volume_on_one_node(model: ClusterModel, state: ClusterState) -> Result:
    """What keeps the promise upstream: the scheduler's VolumeRestrictions for a ReadWriteOncePod claim
    (`kubeprop.model.scheduler.volumerestrictions`), the attach/detach controller for a ReadWriteOnce
    volume it attaches whose PV forbids multi-attach (the model's kubelet waits:
    `kubeprop.model.kubelet.volumes.multi_attach_error`). A volume nothing attaches (hostPath, local,
    NFS) on two nodes is real Kubernetes behaviour: the violation stands (two nodes write the volume)
    and is reported as upstream behaviour (`read-write-once-volume-not-attached`)."""
    users: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for node, kubelet in state.kubelets.sorted_items():
        if f"node/{node}" in state.down:
            continue
        for key, runtime in kubelet.pods.sorted_items():
            if runtime.any_running:
                for claim in runtime.claims:
                    users[claim].add((node, key))
    for claim, mounts in sorted(users.items()):
        namespace, _, name = claim.partition("/")
        pvc = state.store.get(ObjectKey("persistentvolumeclaims", namespace, name))
        modes = pvc.spec.access_modes if isinstance(pvc, PersistentVolumeClaim) else ("ReadWriteOnce",)
        nodes = sorted({n for n, _ in mounts})
        if "ReadWriteOncePod" in modes and len(mounts) > 1:
            return f"ReadWriteOncePod claim {claim} is used by {len(mounts)} running pods", (f"PVC {claim}",)
        if "ReadWriteOnce" in modes and len(nodes) > 1:
            return f"ReadWriteOnce claim {claim} is mounted on {len(nodes)} nodes: {', '.join(nodes)}", (
                f"PVC {claim}", *(f"Pod {k}" for _, k in sorted(mounts)))
    return None


@safety("replicaset-no-overcreation",
        "A ReplicaSet whose spec.replicas never changed owns at most spec.replicas active pods.",
        "pkg/controller/replicaset/replica_set.go manageReplicas (expectations)", reads=("objects",))
def replicaset_no_overcreation(model: ClusterModel, state: ClusterState) -> Result:
    owned: dict[str, int] = defaultdict(int)
    for pod in _pods(state):
        ref = controller_of(pod)
        if ref is not None and ref.kind == "ReplicaSet" and is_pod_active(pod):
            owned[ref.uid] += 1
    for rs in state.store.list("replicasets.apps"):
        if not isinstance(rs, ReplicaSet) or rs.metadata.generation != 1:
            continue
        count, want = owned.get(rs.metadata.uid, 0), rs.spec.replicas or 0
        if count > want:
            return f"{_name(rs)} owns {count} active pods, spec.replicas is {want}", (_name(rs),)
    return None


DESIRED = "deployment.kubernetes.io/desired-replicas"


@safety("rollout-surge-bound",
        "While a Deployment is not being resized, its ReplicaSets hold at most replicas + maxSurge pods: counting, "
        "for each ReplicaSet the controller has caught up with, its active pods, else its spec.replicas. Real "
        "Kubernetes breaks it when the Deployment controller's ReplicaSet cache lags (upstream behaviour "
        "deployment-stale-replicaset-lister, reported apart).",
        "pkg/controller/deployment/rolling.go; util/deployment_util.go ResolveFenceposts",
        reads=("objects", "controllers:replicaset", "controller-manager-caught-up"))
def rollout_surge_bound(model: ClusterModel, state: ClusterState) -> Result:
    """The surge bound of a rolling update, as a user reads it.

    Upstream does not keep it under lagging caches, and the model does the same on purpose: the
    Deployment controller lists ReplicaSets from its informer cache (`getReplicaSetsForDeployment`,
    `dc.rsLister`) and, unlike the ReplicaSet controller, keeps no expectations
    (pkg/controller/deployment/deployment_controller.go; kubernetes#22061 discussed adding them and
    was closed without). When a sync creates a ReplicaSet and the next sync — a rollout started right
    after, e.g. `kubectl set image` on a Deployment just created — runs before that ReplicaSet
    reached the cache, `getNewReplicaSet` (sync.go) finds no ReplicaSet, `NewRSNewReplicas`
    (util/deployment_util.go) counts 0 current replicas and creates the new ReplicaSet at full size:
    both ReplicaSets ask for `replicas` pods (the ReplicaSet controller creates them) until the
    cache catches up and `reconcileOldReplicaSets` scales the old one down. The correct model shows
    it in 4 steps on tests/model/data/variants/restore.yaml. A violation of this shape is recognized
    by `kubeprop.properties.upstream_behaviour` and reported as upstream behaviour; any other
    violation of this property is a real one."""
    from kubeprop.model.controllers.deployment_util import resolve_fenceposts

    sets = [r for r in state.store.list("replicasets.apps") if isinstance(r, ReplicaSet)]
    active: dict[str, int] = defaultdict(int)
    for pod in _pods(state):
        ref = controller_of(pod)
        if ref is not None and is_pod_active(pod):
            active[ref.uid] += 1
    for d in state.store.list("deployments.apps"):
        if not isinstance(d, Deployment) or d.spec.strategy.type != "RollingUpdate":
            continue
        mine = [r for r in sets if (ref := controller_of(r)) is not None and ref.uid == d.metadata.uid]
        replicas = d.spec.replicas or 0
        if not mine or any(r.metadata.annotations.get(DESIRED) != str(replicas) for r in mine):
            continue
        counted = [(r, _caught_up(model, state, "replicaset", _key(r))) for r in mine]
        counts = [active[r.metadata.uid] if caught else (r.spec.replicas or 0) for r, caught in counted]
        rolling = d.spec.strategy.rolling_update
        surge, _ = resolve_fenceposts(rolling.max_surge if rolling else None,
                                      rolling.max_unavailable if rolling else None, replicas)
        if sum(counts) > replicas + surge:
            return _surge_message(d, counted, counts, replicas, surge), (_name(d), *(_name(r) for r in mine))
    return None


def _surge_message(d: Deployment, counted: list[tuple[ReplicaSet, bool]], counts: list[int], replicas: int,
                   surge: int) -> str:
    """`Deployment default/web's ReplicaSets hold 2+2 = 4, more than replicas 2 + maxSurge 1: web-1
    2 active pods, web-2 spec.replicas 2 (…)`: what each ReplicaSet counts for — its active pods
    once the ReplicaSet controller has caught up with it, else its spec.replicas (pods may not
    exist for them yet: trial 8 read "holds 4 pods" where no pod existed)."""
    total = "+".join(map(str, counts)) + (f" = {sum(counts)}" if len(counts) > 1 else "")
    parts = [f"{r.metadata.name} {n} active pod{'s' if n != 1 else ''}" if caught else
             f"{r.metadata.name} spec.replicas {n}" for (r, caught), n in zip(counted, counts, strict=True)]
    why = ("" if all(caught for _, caught in counted) else
           " (a ReplicaSet the ReplicaSet controller has not caught up with counts its spec.replicas, not its pods)")
    return (f"{_name(d)}'s ReplicaSets hold {total}, more than replicas {replicas} + maxSurge {surge}: "
            f"{', '.join(parts)}{why}")


@lru_cache(maxsize=65536)
def _invalid(obj: ApiObject) -> str:
    """The first validation error of `obj` ("" when valid)."""
    errors = validate_create(obj)
    return str(errors[0]) if errors else ""


_VALIDITY: IdentityMemo[str] = IdentityMemo()


@safety("persisted-objects-valid",
        "Every object in the store passes the API server's validation.",
        "pkg/apis/*/validation/validation.go", reads=("objects",))
def persisted_objects_valid(model: ClusterModel, state: ClusterState) -> Result:
    """Each object's verdict remembered by its identity (a step writes one object; the others are
    the very same objects), then by value."""
    for _key, obj in state.store.objects.sorted_items():
        problem = _VALIDITY.get1(obj, _invalid, obj)
        if problem:
            return f"{_name(obj)} is invalid: {problem}", (_name(obj),)
    return None


@safety("resource-versions-monotonic",
        "No component's LIST returns an older resourceVersion than one it has already seen.",
        "staging/src/k8s.io/client-go/tools/cache/reflector.go; kubernetes#59848", reads=("time_travel",))
def resource_versions_monotonic(model: ClusterModel, state: ClusterState) -> Result:
    if not state.time_travel:
        return None
    where = sorted(state.time_travel)
    first, _, resource = where[0].partition("|")
    return (f"{first} listed {resource} at a resourceVersion older than one it had already seen",
            tuple(w.replace("|", " ") for w in where))


@safety("workload-steps-succeed",
        "Every kubectl command of the scenario's workload succeeds; a failed one (an apply conflict, a "
        "forbidden or invalid object, a missing object) is a scenario error.",
        "kubectl exits non-zero on an error Status (staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go CheckErr)",
        reads=("workload_errors",))
def workload_steps_succeed(model: ClusterModel, state: ClusterState) -> Result:
    for index, errors in state.workload_errors.sorted_items():
        step = model.scenario.spec.workload[index]
        return f"workload step {index + 1} ({describe_step(step)}) failed: {errors}", ()
    return None
