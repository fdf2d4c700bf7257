"""Node maintenance: `kubectl cordon`, `drain` and `uncordon`, as workload steps and as a fault kind.

Upstream: `staging/src/k8s.io/kubectl/pkg/drain/` (v1.33) — `cordon.go` (spec.unschedulable by
patch), `filters.go` (GetPodsForDeletion: DaemonSet pods are skipped with
`--ignore-daemonsets`, mirror pods always, pods with emptyDir volumes need
`--delete-emptydir-data`, pods without a controller need `--force`; any refusal fails the drain
after the cordon) and `drain.go` (evictPods: every pod is evicted concurrently through the
Eviction API; 429 — a disruption budget says no — is retried after 5 s, `drainRetrySeconds`;
404 means the pod is gone; any other error fails the drain; then waitForDelete until every
evicted pod is gone). `--disable-eviction` deletes instead of evicting.

`--timeout` (the step's `timeoutSeconds`; kubectl's default 0 waits for ever, `math.MaxInt64`) is
a context deadline on the model's clock (`Drain.deadline`): a pod whose eviction is retried at or
after it fails with `error when evicting pods/"NAME" -n "NS": global timeout reached: 1m0s` (the
retry loop looks at the context before each attempt), a pod still being waited for with `error
when waiting for pod "NAME" in namespace "NS" to terminate: global timeout reached: 1m0s`
(waitForDelete polls every second), or — with `--disable-eviction`, whose deletePods waits with
`wait.PollImmediate(1s, timeout)` — `timed out waiting for the condition`. The command returns once
every pod's goroutine has (`FinishDrain`), the node left cordoned, and fails as `RunDrain` does:
`unable to drain node "NODE" due to error: ERR` with the pods' errors aggregated as
`utilerrors.NewAggregate` prints them (one alone, else `[a, b]`; the model orders them by pod, the
goroutines' order being a race upstream); `workload-steps-succeed` reports it.

A `drain` workload step cordons the node and starts the drain; the workload waits for it (kubectl
blocks) — the drain's actions (`EvictForDrain`, `FinishDrain`) are the user's kubectl at work and
are progress actions, so they continue after `Quiesce`. A *maintenance* (fault kind
`maintenance`, budget `faults.maintenance`) is an operator taking one node at a time out: it
starts (`StartMaintenance`, a choice of the environment, before `Quiesce`) only when the cluster
is stable — no pod waiting to be scheduled, every workload at its ready count, no other
maintenance — cordons and drains the node with `--ignore-daemonsets --delete-emptydir-data`, and
uncordons it once drained.

A maintenance whose drain fails — a pod kubectl refuses to delete (a bare pod: `--force` is not
passed), or an eviction refused for good — leaves the node cordoned, as `kubectl drain` does (RunDrain
in `staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go` cordons first and returns the error, "unable
to drain node ... due to error: ..."). The maintenance is then *failed*: kubectl's message is kept
(`MaintenanceState.failed`, shown in a trace as `cluster maintenance[node]`), and the node stays
cordoned until the operator ends the maintenance (`EndMaintenance`: `kubectl uncordon`). The operator
is the environment, so ending it is a *recovery* (`drive.RECOVERIES`, like a partition healing): it
may or may not happen. Convergence is judged on the fair continuation where it happens (every
convergence property) and on the one where it never does (the properties the control plane alone
must bring about, `needs_recovery=False`).

The drains in progress and the failed maintenances are `MaintenanceState` in `state.addons["maintenance"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.objects import Deployment, Node, ObjectKey, Pod, ReplicaSet, StatefulSet
from kubeprop.model.api.pod import MIRROR_POD_ANNOTATION
from kubeprop.model.api.server import Request, Response, handle
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scenario.schema_addons import DrainStep
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import USER_COMPONENT, ClusterModel, ClusterState, send

KEY = "maintenance"
OPERATOR = "maintenance"
"""The component name an operator's maintenance sends requests as (it has no armed failures)."""


_LATER = {"fingerprint": "omit-if-default"}
"""Fields added later: left out of fingerprints while they hold their default."""


@attrs.frozen(cache_hash=True)
class Drain:
    """One drain in progress: pods still to evict (pod key → the time a retry is due), evicted
    pods to wait for (pod key → uid), who runs it (`user`: a workload step; `maintenance`: the
    fault kind, which uncordons at the end), and its flags."""

    node: str
    pending: FrozenMap[str, int] = EMPTY
    waiting: FrozenMap[str, str] = EMPTY
    by: str = "user"
    disable_eviction: bool = False
    started_at: int = 0
    deadline: int | None = attrs.field(default=None, metadata=_LATER)
    """The model time kubectl's `--timeout` passes (None: never, kubectl's default)."""
    failed: FrozenMap[str, str] = attrs.field(default=EMPTY, metadata=_LATER)
    """Pods whose eviction timed out: pod key → kubectl's error for it."""
    acting_as: str = attrs.field(default="", metadata=_LATER)
    """`kubectl drain --as USER` (a workload step's `as`): its evictions impersonate USER."""

    def timed_out(self, clock: int) -> bool:
        """True once the drain's `--timeout` has passed."""
        return self.deadline is not None and clock >= self.deadline


@attrs.frozen(cache_hash=True)
class MaintenanceState:
    """Drains in progress by node, and the maintenances whose drain failed (node → kubectl's
    message): their nodes stay cordoned until `EndMaintenance`."""

    draining: FrozenMap[str, Drain] = EMPTY
    failed: FrozenMap[str, str] = EMPTY


@attrs.frozen(order=True)
class EvictForDrain(Action):
    """kubectl evicts (or deletes) one pod of the node it drains."""

    LANE = "user"

    drained: str
    pod: str


@attrs.frozen(order=True)
class FinishDrain(Action):
    """Every evicted pod is gone: the drain returns (a maintenance also uncordons the node)."""

    LANE = "user"

    drained: str


@attrs.frozen(order=True)
class StartMaintenance(Action):
    """An operator starts maintenance of a node: cordon, then drain (a fault kind)."""

    LANE = "faults"

    PROGRESS = False

    drained: str


@attrs.frozen(order=True)
class EndMaintenance(Action):
    """The operator ends a maintenance whose drain failed: `kubectl uncordon` (a recovery of the
    environment, which may or may not happen)."""

    LANE = "faults"

    node: str


def maintenance_state(state: ClusterState) -> MaintenanceState:
    """The drains in progress."""
    found = state.addons.get(KEY)
    return found if isinstance(found, MaintenanceState) else MaintenanceState()


def _store(state: ClusterState, ms: MaintenanceState) -> ClusterState:
    addons = state.addons.delete(KEY) if not ms.draining and not ms.failed else state.addons.set(KEY, ms)
    return evolve(state, addons=addons)


def blocking(state: ClusterState) -> bool:
    """Whether a user's drain is running (the workload waits for it, as kubectl blocks)."""
    return any(d.by == "user" for d in maintenance_state(state).draining.values())


def cordon(model: ClusterModel, state: ClusterState, user: str, node: str, unschedulable: bool, component: str,
           acting_as: str = "") -> tuple[ClusterState, Response]:
    """`kubectl cordon|uncordon NODE [--as acting_as]`, and the cordon `kubectl drain` starts with:
    kubectl's resource builder GETs the node (`staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go`
    Complete: `ResourceNames("nodes", …)`; a 404 or 403 there is the command's error, before any
    write), then RunCordonOrUncordon PATCHes `spec.unschedulable` only when it differs
    (`staging/src/k8s.io/kubectl/pkg/drain/cordon.go` UpdateIfRequired; else kubectl prints
    `node/NAME already cordoned` and sends nothing). The GET is sent when it is all kubectl sends
    (it fails, or the node is already as wanted: its answer is the command's); before a PATCH it is
    left out, a read that changes nothing, as for `scale` (`kubeprop.model.cluster.workload`).
    Returns the last response: the PATCH's, or the GET's."""
    get = Request(verb="get", user=user, resource="nodes", name=node, impersonate=acting_as)
    answer = handle(state.store, get, model.api, state.clock).response
    if not answer.ok or (isinstance(answer.obj, Node) and answer.obj.spec.unschedulable == unschedulable):
        return send(model, state, user, get, component)
    return send(model, state, user, cordon_request(user, node, unschedulable, acting_as), component)


def cordon_request(user: str, node: str, unschedulable: bool, acting_as: str = "") -> Request:
    """`kubectl cordon|uncordon [--as acting_as]`: a patch of spec.unschedulable."""
    return Request(verb="patch", user=user, resource="nodes", name=node,
                   patch={"spec": {"unschedulable": True if unschedulable else None}}, impersonate=acting_as)


def pods_for_deletion(state: ClusterState, node: str, flags: DrainStep) -> tuple[list[Pod], list[str]]:
    """GetPodsForDeletion: (pods to evict, refusals); a DaemonSet pod's owner is looked up in the store
    (daemonSetFilter's GET)."""
    daemon_sets = frozenset((d.metadata.namespace, d.metadata.name) for d in state.store.list("daemonsets.apps"))
    return drain_filter((p for p in state.store.list("pods") if isinstance(p, Pod)), node, flags, daemon_sets)


def drain_filter(pods: Iterable[Pod], node: str, flags: DrainStep,
                 daemon_sets: frozenset[tuple[str, str]] | None = None) -> tuple[list[Pod], list[str]]:
    """GetPodsForDeletion (`staging/src/k8s.io/kubectl/pkg/drain/filters.go`) over `pods`: of
    those bound to `node`, (pods to evict, refusals). Mirror pods stay; so do DaemonSet pods
    (daemonSetFilter with `--ignore-daemonsets`, which the model's drains always pass) unless they
    are finished (Succeeded or Failed: evicted like any pod) or their DaemonSet is gone
    (`daemon_sets`: the (namespace, name) of those that exist; None: all do) — then `--force`
    evicts them and without it the drain is refused."""
    out, errors = [], []
    for pod in pods:
        if pod.spec.node_name != node:
            continue
        owner = next((r for r in pod.metadata.owner_references if r.controller), None)
        finished = pod.status.phase in ("Succeeded", "Failed")
        if owner is not None and owner.kind == "DaemonSet" and not finished:
            if daemon_sets is None or (pod.metadata.namespace, owner.name) in daemon_sets:
                continue  # --ignore-daemonsets
            if not flags.force:
                errors.append(f'daemonsets.apps "{owner.name}" not found: {pod.metadata.namespace}/'
                              f"{pod.metadata.name}")
                continue
        if MIRROR_POD_ANNOTATION in pod.metadata.annotations:
            continue
        if any(v.empty_dir is not None for v in pod.spec.volumes) and not flags.delete_emptydir_data and not finished:
            errors.append(f"cannot delete Pods with local storage (use --delete-emptydir-data to override): "
                          f"{pod.metadata.namespace}/{pod.metadata.name}")
            continue
        if owner is None and not flags.force and not finished:
            errors.append(f"cannot delete Pods that declare no controller (use --force to override): "
                          f"{pod.metadata.namespace}/{pod.metadata.name}")
            continue
        out.append(pod)
    return out, errors


def start_drain(model: ClusterModel, state: ClusterState, node: str, flags: DrainStep, user: str, by: str,
                component: str, acting_as: str = "") -> tuple[ClusterState, Response | str | None]:
    """Cordon the node and, unless a pod is refused, start draining it. Also returns why `kubectl
    drain` failed, if it did: the cordon's refused response, or its refusals of pods
    (`staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go` RunDrain: the node stays cordoned, the command
    exits 1 with "unable to drain node"), else None. `acting_as`: `kubectl drain --as`."""
    state, response = cordon(model, state, user, node, True, component, acting_as)
    if not response.ok:
        return state, response
    pods, errors = pods_for_deletion(state, node, flags)
    if errors:
        return state, _unable(node, refusals(errors))
    pending = FrozenMap({f"{p.metadata.namespace}/{p.metadata.name}": state.clock for p in pods})
    deadline = state.clock + flags.timeout_seconds if flags.timeout_seconds > 0 else None
    drain = Drain(node, pending, EMPTY, by, flags.disable_eviction, state.clock, deadline, acting_as=acting_as)
    ms = maintenance_state(state)
    return _store(state, evolve(ms, draining=ms.draining.set(node, drain))), None


def _unable(node: str, why: str) -> str:
    """RunDrain's message for a drain that failed (`staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go`)."""
    return f'unable to drain node "{node}" due to error: {why}'


def refusals(errors: Sequence[str]) -> str:
    """`drain_filter`'s refusals as kubectl prints them: one line per reason, its pods joined
    (`staging/src/k8s.io/kubectl/pkg/drain/filters.go` podDeleteList.errors)."""
    pods: dict[str, list[str]] = {}
    for error in errors:
        reason, _, pod = error.rpartition(": ")
        pods.setdefault(reason, []).append(pod)
    return "; ".join(f"{reason}: {', '.join(names)}" for reason, names in pods.items())


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Evictions due, finished drains, failed maintenances the operator may end, and maintenances
    that may start (one at a time: none while another is draining or failed)."""
    ms = maintenance_state(state)
    for node, drain in ms.draining.sorted_items():
        due = [pod for pod, at in drain.pending.sorted_items() if at <= state.clock]
        yield from (EvictForDrain(node, pod) for pod in due)
        if not drain.pending and (drain.timed_out(state.clock)
                                  or all(pod_gone(state, pod, uid) for pod, uid in drain.waiting.items())):
            yield FinishDrain(node)
    yield from (EndMaintenance(node) for node in sorted(ms.failed))
    if (not state.quiesced and not ms.draining and not ms.failed and state.faults.allows(model.budget, "maintenance")
            and _stable(state)):
        for node in model.nodes:
            found = state.store.get(ObjectKey("nodes", "", node))
            if isinstance(found, Node) and not found.spec.unschedulable and f"node/{node}" not in state.down:
                yield StartMaintenance(node)


def drain_holds_clock(model: ClusterModel, state: ClusterState) -> bool:
    """True while a drain has an eviction due (a tick guard, `Hooks.tick_guards`): no `Tick` until
    kubectl has sent it.

    Upstream `evictPods` (`staging/src/k8s.io/kubectl/pkg/drain/drain.go`) starts one goroutine per
    pod at once, and each sends its eviction (or, with `--disable-eviction`, its DELETE) before
    anything waits: the first wait is the 5 s back-off after a 429, and the `--timeout` is looked at
    only before a retry. The model's `EvictForDrain` is one such request, enabled from the moment it
    is due; a tick taken while it is due would stand for kubectl sitting on a request for 10 s, and
    enough of them let a `--timeout` pass before kubectl sent its first eviction ("global timeout
    reached" where upstream evicts within milliseconds). A retry that is not yet due is a timer
    (`next_timer`), as before. Reads the drains (`state.addons`) and the clock, which `Tick`'s
    footprint and the enabled-actions cache's `_tick` key already hold."""
    return any(at <= state.clock for d in maintenance_state(state).draining.values() for at in d.pending.values())


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The next eviction retry, or the `--timeout` of a drain waiting for pods to go."""
    drains = maintenance_state(state).draining.values()
    times = [at for d in drains for at in d.pending.values() if at > state.clock]
    times += [d.deadline for d in drains if d.waiting and d.deadline is not None and d.deadline > state.clock]
    return min(times) if times else None


def pod_gone(state: ClusterState, pod_key: str, uid: str) -> bool:
    namespace, _, name = pod_key.partition("/")
    pod = state.store.get(ObjectKey("pods", namespace, name))
    return pod is None or pod.metadata.uid != uid


def _stable(state: ClusterState) -> bool:
    """No pod waits to be scheduled and every workload has its ready count."""
    for obj in state.store.objects.values():
        if isinstance(obj, Pod) and not obj.spec.node_name and obj.metadata.deletion_timestamp is None:
            return False
        if isinstance(obj, ReplicaSet | StatefulSet) and obj.status.ready_replicas != (obj.spec.replicas or 0):
            return False
        if isinstance(obj, Deployment) and obj.status.available_replicas != (obj.spec.replicas or 0):
            return False
    return True


def _identity(model: ClusterModel, drain: Drain) -> tuple[str, str]:
    return (model.scenario.apply_as, USER_COMPONENT) if drain.by == "user" else (model.scenario.apply_as, OPERATOR)


def _evict(model: ClusterModel, state: ClusterState, act: EvictForDrain) -> ClusterState:
    ms = maintenance_state(state)
    drain = ms.draining[act.drained]
    user, component = _identity(model, drain)
    namespace, _, name = act.pod.partition("/")
    if drain.timed_out(state.clock):  # the retry loop sees the context done before it evicts
        error = (WAIT_TIMEOUT if drain.disable_eviction else
                 f'error when evicting pods/"{name}" -n "{namespace}": {global_timeout(drain)}')
        timed_out = evolve(drain, pending=drain.pending.delete(act.pod), failed=drain.failed.set(act.pod, error))
        return _store(state, evolve(ms, draining=ms.draining.set(act.drained, timed_out)))
    current = state.store.get(ObjectKey("pods", namespace, name))
    request = Request(verb="delete" if drain.disable_eviction else "evict", user=user, resource="pods",
                      namespace=namespace, name=name, impersonate=drain.acting_as)
    state, response = send(model, state, user, request, component)
    after = _after_eviction(model, state, drain, act.pod, current, response)
    if after is None:  # any other error: kubectl drain fails (the node stays cordoned)
        why = f'error when evicting pods/"{name}" -n "{namespace}": {response.message}'
        if drain.by == "user":  # evictPods: this pod's goroutine returns its error, the others go on
            failed = evolve(drain, pending=drain.pending.delete(act.pod), failed=drain.failed.set(act.pod, why))
            return _store(state, evolve(ms, draining=ms.draining.set(act.drained, failed)))
        ms = evolve(ms, draining=ms.draining.delete(act.drained))
        if drain.by == OPERATOR:
            ms = evolve(ms, failed=ms.failed.set(act.drained, _unable(act.drained, why)))
        return _store(state, ms)
    return _store(state, evolve(ms, draining=ms.draining.set(act.drained, after)))


def _after_eviction(model: ClusterModel, state: ClusterState, drain: Drain, pod: str, current: Any,
                    response: Response) -> Drain | None:
    """evictPods' answer to one eviction (`staging/src/k8s.io/kubectl/pkg/drain/drain.go`): done,
    wait for the pod; 404, nothing to wait for; 429, retry; NamespaceLifecycle's 403 (the pod's
    namespace is Terminating): wait for the pod if it is being deleted, else retry ("error when
    evicting pod … from terminating namespace … (will retry after 5s)") — kubectl looks at the pod
    it listed, the model at the pod as it is when evicted; None for any other error."""
    if response.ok:
        uid = current.metadata.uid if current is not None else ""
        return evolve(drain, pending=drain.pending.delete(pod), waiting=drain.waiting.set(pod, uid))
    if response.code == 404:
        return evolve(drain, pending=drain.pending.delete(pod))
    terminating = namespace_terminating(response.code, response.message)
    if terminating and current is not None and current.metadata.deletion_timestamp is not None:
        return evolve(drain, pending=drain.pending.delete(pod), waiting=drain.waiting.set(pod, current.metadata.uid))
    if response.code == 429 or terminating:
        retry = state.clock + int(model.parameter("drainRetrySeconds"))
        return evolve(drain, pending=drain.pending.set(pod, retry))
    return None


def go_duration(seconds: int) -> str:
    """A whole number of seconds as Go's `time.Duration.String` prints it (`30s`, `1m0s`, `1h0m0s`)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def global_timeout(drain: Drain) -> str:
    """`global timeout reached: <--timeout>` (`evictPods`, `waitForDelete`)."""
    return f"global timeout reached: {go_duration((drain.deadline or 0) - drain.started_at)}"


WAIT_TIMEOUT = "timed out waiting for the condition"
"""`--disable-eviction`'s timeout: `deletePods` waits with `wait.PollImmediate`, whose timeout is
`wait.ErrWaitTimeout` (`staging/src/k8s.io/apimachinery/pkg/util/wait`), returned unwrapped."""


def drain_errors(state: ClusterState, drain: Drain) -> list[str]:
    """kubectl's errors of a drain that returns: the pods whose eviction timed out, then (once its
    `--timeout` has passed) those still being waited for, by pod."""
    errors = dict(drain.failed.items())
    if drain.timed_out(state.clock):
        for pod, uid in drain.waiting.items():
            if not pod_gone(state, pod, uid):
                namespace, _, name = pod.partition("/")
                errors[pod] = WAIT_TIMEOUT if drain.disable_eviction else (
                    f'error when waiting for pod "{name}" in namespace "{namespace}" to terminate: '
                    f"{global_timeout(drain)}")
    return [errors[pod] for pod in sorted(errors)]


def aggregate(errors: Sequence[str]) -> str:
    """`utilerrors.NewAggregate(errs).Error()`: one error alone, else the distinct ones in brackets
    (`staging/src/k8s.io/apimachinery/pkg/util/errors/errors.go`)."""
    distinct = list(dict.fromkeys(errors))
    return distinct[0] if len(distinct) == 1 else f"[{', '.join(distinct)}]"


def _finish(model: ClusterModel, state: ClusterState, act: FinishDrain) -> ClusterState:
    ms = maintenance_state(state)
    drain = ms.draining[act.drained]
    errors = drain_errors(state, drain)
    state = _store(state, evolve(ms, draining=ms.draining.delete(act.drained)))
    if errors and drain.by == "user":  # RunDrain: the node stays cordoned and kubectl exits 1
        # the drain's step: the workload's next one waits for it (`blocking`)
        failure = f'unable to drain node "{act.drained}" due to error: {aggregate(errors)}'
        return evolve(state, workload_errors=state.workload_errors.set(state.workload_next - 1, failure))
    if drain.by == OPERATOR:
        user, component = _identity(model, drain)
        state, _ = cordon(model, state, user, act.drained, False, component)
    return state


def _start_maintenance(model: ClusterModel, state: ClusterState, act: StartMaintenance) -> ClusterState:
    """Cordon and drain. A refused cordon leaves nothing to undo; a refused drain leaves the node
    cordoned and the maintenance failed, with kubectl's message, until `EndMaintenance`."""
    state = evolve(state, faults=state.faults.spend("maintenance"))
    state, failure = start_drain(model, state, act.drained,
                                 DrainStep(node=act.drained, delete_emptydir_data=True),
                                 model.scenario.apply_as, OPERATOR, OPERATOR)
    if isinstance(failure, str):
        ms = maintenance_state(state)
        state = _store(state, evolve(ms, failed=ms.failed.set(act.drained, failure)))
    return state


def _end_maintenance(model: ClusterModel, state: ClusterState, act: EndMaintenance) -> ClusterState:
    """`kubectl uncordon` by the operator. While the API server cannot answer, the maintenance stays."""
    user = model.scenario.apply_as
    state, response = cordon(model, state, user, act.node, False, OPERATOR)
    if not response.ok and response.code != 404:
        return state
    ms = maintenance_state(state)
    return _store(state, evolve(ms, failed=ms.failed.delete(act.node)))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    EvictForDrain: _evict,
    FinishDrain: _finish,
    StartMaintenance: _start_maintenance,
    EndMaintenance: _end_maintenance,
}
