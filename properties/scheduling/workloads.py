"""The pods a scenario asks for, and what the default scheduler does with them one at a time.

`desired_pods(store, api, scale)` builds, for every Deployment, StatefulSet and stand-alone
ReplicaSet in the scenario's initial store (its manifests as the API server admitted them),
`replicas` pods from the pod template — named `<workload>-<i>`, owned by the workload's
controller: a StatefulSet or ReplicaSet itself; for a Deployment the new ReplicaSet its controller
creates first (`pkg/controller/deployment/sync.go` getNewReplicaSet, the model's
`deployment_plan`: `<deployment>-<pod-template-hash>`, the hash label on its template, so on its
pods, and the Deployment as its controller), created through the API server like the pods — and
creates each through the model's own API server (`kubeprop.model.api.server.handle`, the
scenario's `ApiServerConfig`: `ClusterModel.api`) as the controller manager
(`system:kube-controller-manager`), exactly as the model's ReplicaSet and StatefulSet controllers
create theirs (`pkg/controller/replicaset/replica_set.go` manageReplicas, `controller_utils.go`
GetPodFromTemplate, `pkg/controller/statefulset/stateful_pod_control.go` CreateStatefulPod):
scheme defaults, then the admission chain
the scenario configures — DefaultTolerationSeconds with the scenario's `defaultTolerationSeconds`,
Priority (`plugin/pkg/admission/priority/admission.go`: `priorityClassName`, or the globalDefault
class, becomes `spec.priority` and `spec.preemptionPolicy`, which the scheduling queue sorts by,
`pkg/scheduler/framework/plugins/queuesort/priority_sort.go`, and preemption compares), the
ServiceAccount check, a scenario's ResourceQuota or own plug-ins — then validation. A create the
API server refuses is a pod that never exists (the controller's FailedCreate): it is listed in
`Desired.refused` with the server's message, not placed; so is each pod of a Deployment whose
ReplicaSet the API server refuses. With a scenario's own plug-ins (a
ResourceQuota) the pods are created one after the other into a scratch copy of the store, workload
by workload, so a quota counts the ones before; with the built-in chain alone, whose verdicts do
not read the stored pods, each is a dry run against the initial store.
Every DaemonSet adds one pod per node that should run it (`_daemon_pods`, as the model's DaemonSet
controller builds them), which only that node fits; every Job not suspended the pods its controller
runs at once, `min(parallelism, completions)` (`_job_pods`, `pkg/controller/job` manageJob; an
Indexed Job's the lowest indexes), and every CronJob not suspended those of one run of its Job.
RuntimeClass admission (pod overhead, nodeSelector, tolerations) is not modelled: the model
refuses `runtimeClassName` (`kubeprop.model.api.unmodelled`). No controller runs: the pods are
what the controllers would create, without generated name suffixes. Plus the scenario's bare pods,
as bootstrapped.

`greedy(nodes, pods)` replays the default scheduler: pods in its queue order (priority, then
creation, then name; `pending_queue`), each bound to the first of its top-scoring nodes
(`schedule_one`, VolumeBinding included when the caller hands in the pods' volumes), the next
pod seeing it placed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from kubeprop.model.api.admission import DEFAULT_PLUGINS
from kubeprop.model.api.apps import DaemonSet, Deployment, ReplicaSet, StatefulSet
from kubeprop.model.api.batch import Job, is_indexed
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.api.objects import ApiObject, Namespace, Node, kind_info
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.revisions import revision_name
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.cronjob_util import one_run
from kubeprop.model.controllers.daemonset_util import daemon_pod, node_should_run, template_hash
from kubeprop.model.controllers.deployment_plan import new_rs_object as new_replica_set
from kubeprop.model.controllers.job_util import job_pod
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, pod_template_object
from kubeprop.model.controllers.statefulset_pod import new_pod, start_ordinal
from kubeprop.model.errors import InputError
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.affinity import NamespaceLabels
from kubeprop.model.scheduler.decide import NodeInfo, SchedulerProfile, pod_key, pod_priority, schedule_one
from kubeprop.model.scheduler.framework import VolumeCheck
from kubeprop.properties.scheduling.deadline import Deadline

Reserve = Callable[[Mapping[str, VolumeCheck], str, Node], Mapping[str, VolumeCheck]]
"""What a pod's Reserve, placed on a node, makes of the pods' volume states for the next cycles."""

__all__ = ["Desired", "Greedy", "ScaleError", "desired_count", "desired_pods", "greedy", "workload_names"]

Workload = Deployment | StatefulSet | ReplicaSet


class ScaleError(InputError, ValueError):
    """A --scale name that matches no workload (the message lists the valid ones)."""


def _workloads(store: Store) -> list[Workload]:
    out: list[Workload] = []
    for resource in ("deployments.apps", "statefulsets.apps", "replicasets.apps"):
        for obj in store.list(resource):
            if isinstance(obj, Deployment | StatefulSet) or (
                    isinstance(obj, ReplicaSet) and obj.metadata.controller_ref() is None):
                out.append(obj)
    return out


def workload_names(store: Store) -> list[str]:
    """Every workload as "namespace/name"."""
    return [pod_key(w) for w in _workloads(store)]


def _resolve_scale(workloads: list[Workload], scale: Mapping[str, int]) -> dict[str, int]:
    """--scale keys ("name" or "namespace/name") to workload refs; ScaleError on a bad name, or on
    one workload named twice (as "name" and as "namespace/name")."""
    out: dict[str, int] = {}
    given: dict[str, str] = {}
    refs = [pod_key(w) for w in workloads]
    for name, replicas in scale.items():
        hits = [r for r in refs if r == name or r.split("/", 1)[1] == name]
        if len(hits) != 1:
            problem = "matches no workload" if not hits else f"is ambiguous ({', '.join(hits)})"
            raise ScaleError(f"--scale {name}={replicas}: {problem}; valid: {', '.join(refs) or '(none)'}")
        if hits[0] in out:
            raise ScaleError(f"--scale {name}={replicas}: {hits[0]} is already scaled to {out[hits[0]]} by "
                             f"--scale {given[hits[0]]}={out[hits[0]]}; give each workload once")
        out[hits[0]], given[hits[0]] = replicas, name
    return out


def _template_pod(w: Workload, owner: ApiObject, index: int) -> Pod:
    """The pod `w`'s controller `owner` (`w` itself, or a Deployment's ReplicaSet) sends to the API
    server: a StatefulSet's as the model's StatefulSet controller builds it (`statefulset_pod.new_pod`:
    ordinal from `spec.ordinals.start`, identity labels, hostname, claim volumes), else the
    owner's template's (`podutil.pod_template_object`, GetPodFromTemplate), named `<workload>-<index>`."""
    if isinstance(w, StatefulSet):
        return new_pod(w, start_ordinal(w) + index, revision_name(w))
    assert isinstance(owner, ReplicaSet)
    pod = pod_template_object(owner.spec.template, owner)
    return attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name=f"{w.metadata.name}-{index}", generate_name=""))


def _controller(store: Store, api: ApiServerConfig, w: Workload, replicas: int,
                now: int) -> tuple[Store, ApiObject | str]:
    """The object that creates `w`'s pods: `w` itself, or for a Deployment (of `replicas`) the new
    ReplicaSet its controller creates (the model's `deployment_plan`, revision 1: no ReplicaSet
    before it), created in `store`; the API server's refusal of that ReplicaSet instead."""
    if not isinstance(w, Deployment):
        return store, w
    scaled = attrs.evolve(w, spec=attrs.evolve(w.spec, replicas=replicas))
    # no older ReplicaSet, the controller's default fencepost rule, revision 1
    return _create(store, api, new_replica_set(scaled, (), True, 1), now, dry_run=False)


BUILTIN_ADMISSION = frozenset(plugin.name for plugin in DEFAULT_PLUGINS)
"""The built-in plug-ins: their verdict on a pod create reads namespaces, ServiceAccounts and
PriorityClasses, never the stored pods, so each pod may be admitted against the initial store."""


def _create(store: Store, api: ApiServerConfig, obj: ApiObject, now: int,
            dry_run: bool) -> tuple[Store, ApiObject | str]:
    """POST `obj` as the controller manager: (the store after, the admitted object or the refusal)."""
    request = Request(verb="create", user=CONTROLLER_MANAGER_USER, namespace=obj.metadata.namespace, obj=obj,
                      dry_run=dry_run)
    result = handle(store, request, api, now)
    created = result.response.obj
    if not result.response.ok or not isinstance(created, type(obj)):
        return store, f"{result.response.code} {result.response.reason}: {result.response.message}"
    return result.store, created


def _counts(store: Store, scale: Mapping[str, int]) -> list[tuple[Workload, int]]:
    workloads = _workloads(store)
    replicas = _resolve_scale(workloads, scale)
    return [(w, replicas.get(pod_key(w), w.spec.replicas if w.spec.replicas is not None else 1)) for w in workloads]


def _daemon_pods(store: Store) -> list[Pod]:
    """The pods the DaemonSet controller would create: for every DaemonSet, one on each stored node that
    should run it (`daemonset_util.node_should_run`), as `daemonset_util.daemon_pod` builds it (the daemon
    tolerations, its node's `matchFields` affinity, so only that node fits), named `<daemonset>-<node>`."""
    nodes = sorted((n for n in store.list("nodes") if isinstance(n, Node)), key=lambda n: n.metadata.name)
    out: list[Pod] = []
    for ds in store.list("daemonsets.apps"):
        if not isinstance(ds, DaemonSet):
            continue
        for node in nodes:
            if node_should_run(node, ds)[0]:
                pod = daemon_pod(ds, node.metadata.name, template_hash(ds))
                name = f"{ds.metadata.name}-{node.metadata.name}"
                out.append(attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name=name, generate_name="")))
    return out


def _job_pods(store: Store) -> list[Pod]:
    """The pods the Job controller runs at once for every Job not suspended: `min(parallelism,
    completions)` (parallelism alone without completions), as `job_util.job_pod` builds them (an
    Indexed Job's with the indexes 0, 1, …), named `<job>-<i>`; and for every CronJob not suspended,
    one run of its Job template (`cronjob_util.one_run`, named `<cronjob>-0`)."""
    out: list[Pod] = []
    cron_runs = [one_run(c) for c in store.list("cronjobs.batch") if isinstance(c, CronJob) and not c.spec.suspend]
    for job in (*store.list("jobs.batch"), *cron_runs):
        if not isinstance(job, Job) or job.spec.suspend:
            continue
        parallelism = job.spec.parallelism or 0
        count = parallelism if job.spec.completions is None else min(parallelism, job.spec.completions)
        for i in range(count):
            pod = job_pod(job, i if is_indexed(job) else None)
            out.append(attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name=f"{job.metadata.name}-{i}",
                                                               generate_name="")))
    return out


def _bare(store: Store) -> list[Pod]:
    return [p for p in store.list("pods") if isinstance(p, Pod) and p.metadata.controller_ref() is None]


def desired_count(store: Store, scale: Mapping[str, int] = FrozenMap()) -> int:
    """How many pending pods `desired_pods` would return, without building them (so a caller can
    refuse a size before paying for it)."""
    return (sum(count for _, count in _counts(store, scale)) + sum(1 for p in _bare(store) if not p.spec.node_name)
            + len(_daemon_pods(store)) + len(_job_pods(store)))


@attrs.frozen
class Desired:
    """The pods a scenario asks for: bound bare pods, pending pods (as the API server admitted
    them), the controllers' creates the API server refuses (pod key -> status message), and the
    Deployment each ReplicaSet made for one stands for."""

    bound: tuple[Pod, ...]
    pending: tuple[Pod, ...]
    refused: FrozenMap[str, str] = FrozenMap()
    workloads: FrozenMap[str, str] = FrozenMap()
    """By the UID of a Deployment's ReplicaSet, the Deployment (`Problem.workloads`)."""
    namespaces: NamespaceLabels | None = None
    """The stored namespaces' labels: the scheduler's namespace view (`Problem.namespaces`)."""


def desired_pods(store: Store, api: ApiServerConfig, scale: Mapping[str, int] = FrozenMap(), now: int = 0,
                 deadline: Deadline | None = None) -> Desired:
    """The pods the scenario asks for; `scale` overrides replicas by workload. Each workload pod is
    created through the API server `api` (the model's: `ClusterModel.api`) at model time `now`: as a
    dry run against `store` when every admission plug-in is a built-in one (none reads the stored
    pods, so the answer is the same, and the cost linear: the store copies on write), else stored
    one after the other, so that a scenario's ResourceQuota or own plug-in sees the pods before.
    With `deadline` (`kubeprop schedule --budget`), each create counts as progress and BudgetSpent
    ends the work once the budget has passed."""
    scratch = store
    pending: list[Pod] = []
    refused: dict[str, str] = {}
    workloads: dict[str, str] = {}
    dry_run = all(plugin.name in BUILTIN_ADMISSION for plugin in api.admission)
    for w, count in _counts(store, scale):
        scratch, owner = _controller(scratch, api, w, count, now)
        if isinstance(owner, str):
            refused.update((f"{pod_key(w)}-{i}", f"its ReplicaSet is refused: {owner}") for i in range(count))
            continue
        if owner is not w:
            workloads[owner.metadata.uid] = f"{kind_info(w).kind} {pod_key(w)}"
        for i in range(count):
            if deadline is not None:
                deadline.tick()
            pod = _template_pod(w, owner, i)
            scratch, created = _create(scratch, api, pod, now, dry_run)
            if isinstance(created, Pod):
                pending.append(created)
            else:
                refused[pod_key(pod)] = str(created)
    for pod in (*_daemon_pods(store), *_job_pods(store)):
        if deadline is not None:
            deadline.tick()
        scratch, created = _create(scratch, api, pod, now, dry_run)
        if isinstance(created, Pod):
            pending.append(created)
        else:
            refused[pod_key(pod)] = str(created)
    bare = _bare(store)
    bound = tuple(p for p in bare if p.spec.node_name)
    return Desired(bound, (*pending, *(p for p in bare if not p.spec.node_name)), FrozenMap(refused),
                   FrozenMap(workloads), stored_namespaces(store))


def stored_namespaces(store: Store) -> NamespaceLabels:
    """The labels of every stored Namespace, by name: what the scheduler's namespace informer holds
    once synced (InterPodAffinity's namespace lister, `kubeprop.model.scheduler.affinity`)."""
    return FrozenMap({n.metadata.name: n.metadata.labels for n in store.list("namespaces") if isinstance(n, Namespace)})


@attrs.frozen
class Greedy:
    """The one-at-a-time result: pod key -> node, and the FitError message of each pod left Pending."""

    placement: FrozenMap[str, str]
    pending: FrozenMap[str, str]


def _bind(nodes: Sequence[NodeInfo], pod: Pod, node: str) -> list[NodeInfo]:
    bound = attrs.evolve(pod, spec=attrs.evolve(pod.spec, node_name=node))
    return [ni.with_pods(added=[bound]) if ni.name == node else ni for ni in nodes]


def greedy(nodes: Sequence[NodeInfo], pods: Iterable[Pod], profile: SchedulerProfile = SchedulerProfile(),
           volumes: Mapping[str, VolumeCheck] = FrozenMap(), deadline: Deadline | None = None,
           reserve: Reserve | None = None, namespaces: NamespaceLabels | None = None) -> Greedy:
    """Schedule `pods` one by one in queue order, each onto its first top-scoring node; `volumes`
    holds, by pod key, VolumeBinding's state for the pod's claims (`kubeprop.properties.scheduling.
    volumes`: the same verdicts the Z3 problem is given), which the cycle's PreFilter and Filter use,
    and `reserve` what a placed pod's Reserve makes of it for the next cycles (VolumeBinding's
    assume cache: `volumes.assumed`). With `deadline`, each pod counts as progress and BudgetSpent
    ends the work once it has passed. `namespaces`: the namespace view namespaceSelectors read
    (`Problem.namespaces`; None: the profile's)."""
    if namespaces is not None:
        profile = attrs.evolve(profile, namespace_labels=namespaces)
    order = sorted(pods, key=lambda p: (-pod_priority(p), p.metadata.creation_timestamp or 0, pod_key(p)))
    infos = list(nodes)
    placement: dict[str, str] = {}
    pending: dict[str, str] = {}
    for pod in order:
        if deadline is not None:
            deadline.tick()
        result = schedule_one(pod, infos, profile, volumes=volumes.get(pod_key(pod)))
        if result.best:
            placement[pod_key(pod)] = result.best[0]
            if reserve is not None:
                volumes = reserve(volumes, pod_key(pod), next(ni.node for ni in infos if ni.name == result.best[0]))
            infos = _bind(infos, pod, result.best[0])
        else:
            pending[pod_key(pod)] = result.message
    return Greedy(FrozenMap(placement), FrozenMap(pending))
