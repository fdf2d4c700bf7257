"""Convergence: eventually-stable reconciliation once faults stop.

After `Quiesce`, if every enabled component keeps getting turns (weak fairness), the cluster
must reach — within a bound — a quiet state where these hold. `settled_violation` checks them on
the state a fair, fault-free continuation (`kubeprop.model.cluster.drive.settle`, which gives every
component a turn and ticks the clock only when nothing else can happen) settles in.

Fairness is the control plane's, not the environment's: a partition may never heal and a crashed
node may never boot. Every property is judged on the continuation where they do; a property
declared `needs_recovery=False` (the control plane alone must bring it about, e.g. marking the
pods of an unreachable node not Ready) also on the one where they never do
(`kubeprop.model.cluster.drive.continuations`).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from kubeprop.model.api.objects import Deployment, Endpoints, Node, ObjectKey, Pod, ReplicaSet, Service, StatefulSet
from kubeprop.model.api.pod import pod_ready_condition
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import FairPolicy, continuations
from kubeprop.model.cluster.maintenance import blocking
from kubeprop.model.cluster.workload import delete_wait
from kubeprop.model.cluster.workload_commands import describe as describe_step
from kubeprop.model.cluster.workload_wait import is_wait_step
from kubeprop.model.controllers.endpoints import find_port
from kubeprop.model.controllers.podutil import is_pod_ready, is_pod_terminal
from kubeprop.model.kubelet.status import READINESS_GATES_NOT_READY
from kubeprop.model.scheduler.decide import build_node_infos, schedule_one
from kubeprop.model.scheduler.namespaces import profile_with_namespaces
from kubeprop.model.scheduler.queue import is_gated
from kubeprop.model.scheduler.served import served, unserved_note
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState, etcd_available
from kubeprop.properties import fair_memo
from kubeprop.properties.calls import remembered
from kubeprop.properties.registry import CheckResult as Result
from kubeprop.properties.registry import Property, Violation, convergence, first_violation
from kubeprop.properties.scheduling.volumes import stored_volumes


@convergence("deployments-complete",
             "Every Deployment's rollout completes: updated = available = replicas, observedGeneration = generation.",
             "pkg/controller/deployment/util/deployment_util.go DeploymentComplete")
def deployments_complete(model: ClusterModel, state: ClusterState) -> Result:
    for d in state.store.list("deployments.apps"):
        if not isinstance(d, Deployment) or d.spec.paused:
            continue
        want, s = d.spec.replicas or 0, d.status
        if (s.updated_replicas, s.replicas, s.available_replicas) != (want, want, want) or (
                s.observed_generation < d.metadata.generation):
            return (f"Deployment {d.metadata.namespace}/{d.metadata.name}: updated {s.updated_replicas}, total "
                    f"{s.replicas}, available {s.available_replicas} of {want} (observedGeneration "
                    f"{s.observed_generation}, generation {d.metadata.generation})"
                    + stuck_pod_hint(state, d.metadata.namespace, d.spec.selector),
                    (f"Deployment {d.metadata.namespace}/{d.metadata.name}",))
    return None


def stuck_pod_hint(state: ClusterState, namespace: str, selector: LabelSelector | None) -> str:
    """'; <why>' naming the first selected, non-terminating pod that waits for something no
    component of the scenario does, else ''. Two such waits, problems of the manifests the bare
    counts do not explain:

    - the kubelet keeps the pod not Ready for its readiness gates (Ready reason
      ReadinessGatesNotReady, `pkg/kubelet/status/generate.go`): upstream nothing sets a gate's
      condition but the controller it is for;
    - the pod names a `schedulerName` no scheduler of the scenario serves (`kubeprop.model.scheduler.served`):
      upstream it stays Pending unless that scheduler runs (`pkg/scheduler/eventhandlers.go`
      responsibleForPod), and kubeprop does not model one.

    Without that component the rollout waits for ever, which is true of a cluster without it: the
    violation stands, and says why (docs/properties.md)."""
    if selector is None:
        return ""
    for pod in state.store.list("pods", namespace):
        if not isinstance(pod, Pod) or pod.metadata.deletion_timestamp is not None \
                or not selector_matches(selector, pod.metadata.labels):
            continue
        ready = pod_ready_condition(pod)
        if ready is not None and ready.reason == READINESS_GATES_NOT_READY:
            return (f"; Pod {namespace}/{pod.metadata.name} is not Ready: {ready.message} (a readiness gate's "
                    f"condition is set by the controller the gate is for, with a status update of the pod; no "
                    f"built-in controller sets one)")
        if not pod.spec.node_name and not served(pod):
            return f"; Pod {namespace}/{pod.metadata.name} is Pending: its {unserved_note(pod.spec.scheduler_name)}"
    return ""


@convergence("workloads-ready",
             "Every ReplicaSet and StatefulSet has readyReplicas = spec.replicas and observedGeneration = generation.",
             "pkg/controller/replicaset/replica_set.go; pkg/controller/statefulset/stateful_set_control.go")
def workloads_ready(model: ClusterModel, state: ClusterState) -> Result:
    for resource in ("replicasets.apps", "statefulsets.apps"):
        for obj in state.store.list(resource):
            if not isinstance(obj, ReplicaSet | StatefulSet):
                continue
            want = obj.spec.replicas or 0
            if obj.status.ready_replicas != want or obj.status.observed_generation < obj.metadata.generation:
                name = f"{type(obj).__name__} {obj.metadata.namespace}/{obj.metadata.name}"
                hint = stuck_pod_hint(state, obj.metadata.namespace, obj.spec.selector)
                return f"{name}: {obj.status.ready_replicas} ready of {want}{hint}", (name,)
    return None


def _listed_as_ready(svc: Service, pod: Pod) -> bool:
    """Whether the Endpoints controller lists the pod among the Service's ready addresses: it has
    an IP and is not terminal, and it is Ready and not terminating — or, when the Service publishes
    not-ready addresses, whatever its readiness, terminating too (`ShouldPodBeInEndpoints(pod,
    service.Spec.PublishNotReadyAddresses)`, `addEndpointSubset`'s tolerateUnreadyEndpoints) —
    and it serves the Service: one of its ports resolves on the pod (`podutil.FindPort`; a pod
    naming no such port is skipped), or the Service is headless without ports (syncService,
    `pkg/controller/endpoint/endpoints_controller.go`)."""
    if is_pod_terminal(pod) or not pod.status.pod_ip:
        return False
    if not (svc.spec.publish_not_ready_addresses or (is_pod_ready(pod) and pod.metadata.deletion_timestamp is None)):
        return False
    if not svc.spec.ports:
        return svc.spec.cluster_ip == "None"
    return any(find_port(pod, port) is not None for port in svc.spec.ports)


@convergence("endpoints-match-ready-pods",
             "Every selector Service's Endpoints list exactly its Ready, non-terminating, matching pods that "
             "serve one of its ports (every such pod with an IP when the Service publishes not-ready addresses); "
             "ExternalName Services have none.",
             "pkg/controller/endpoint/endpoints_controller.go syncService; "
             "staging/src/k8s.io/endpointslice/util/controller_utils.go ShouldPodBeInEndpoints",
             needs_recovery=False)
def endpoints_match_ready_pods(model: ClusterModel, state: ClusterState) -> Result:
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    for svc in state.store.list("services"):
        if not isinstance(svc, Service) or svc.spec.selector is None or svc.spec.type == "ExternalName":
            continue  # syncService writes no Endpoints for these (issues.k8s.io/105986 for ExternalName)
        selector = LabelSelector(match_labels=svc.spec.selector)
        want = {
            p.metadata.name for p in pods
            if p.metadata.namespace == svc.metadata.namespace and selector_matches(selector, p.metadata.labels)
            and _listed_as_ready(svc, p)
        }
        ep = state.store.get(ObjectKey("endpoints", svc.metadata.namespace, svc.metadata.name))
        have = {a.target_ref.name for s in ep.subsets for a in s.addresses if a.target_ref} if isinstance(
            ep, Endpoints) else set()
        if want != have:
            which = "published pods" if svc.spec.publish_not_ready_addresses else "Ready pods"
            return (f"Service {svc.metadata.namespace}/{svc.metadata.name}: endpoints {sorted(have)}, {which} "
                    f"{sorted(want)}", (f"Endpoints {svc.metadata.namespace}/{svc.metadata.name}",))
    return None


@convergence("schedulable-pods-bound",
             "No pod a scheduler of the scenario serves stays Pending while some node could take it.",
             "pkg/scheduler/schedule_one.go; pkg/scheduler/eventhandlers.go responsibleForPod; "
             "pkg/scheduler/framework/plugins/volumebinding/volume_binding.go PreFilter, Filter")
def schedulable_pods_bound(model: ClusterModel, state: ClusterState) -> Result:
    """A pending pod is judged by the model's scheduler cycle on the settled state, VolumeBinding
    included (`stored_volumes`: the stored claims, volumes and StorageClasses): a pod whose claim is
    unbound and Immediate (PreFilter, `binder.go` GetPodVolumeClaims) or bound to a volume whose
    nodeAffinity matches no node that takes it (Filter, `binder.go` FindPodVolumes
    checkBoundClaims) is refused there, as upstream, and is no violation."""
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    infos = build_node_infos(nodes, pods)
    for pod in pods:
        if pod.spec.node_name or pod.metadata.deletion_timestamp is not None or is_gated(pod) or not served(pod):
            continue  # a gated pod is never tried (the SchedulingGates PreEnqueue plugin), nor one no scheduler serves
        result = schedule_one(pod, infos, profile_with_namespaces(model, state.store),
                              volumes=stored_volumes(model, state.store, pod))
        if result.feasible:
            name = f"Pod {pod.metadata.namespace}/{pod.metadata.name}"
            return f"{name} is Pending although {', '.join(result.feasible)} could take it", (name,)
    return None


@convergence("pods-on-unknown-nodes-not-ready",
             "Once a node's Ready condition is Unknown, the pods bound to it are marked not Ready.",
             "pkg/controller/nodelifecycle/node_lifecycle_controller.go MarkPodsNotReady", needs_recovery=False)
def pods_on_unknown_nodes_not_ready(model: ClusterModel, state: ClusterState) -> Result:
    unknown = {
        n.metadata.name for n in state.store.list("nodes")
        if isinstance(n, Node) and any(c.type == "Ready" and c.status == "Unknown" for c in n.status.conditions)
    }
    for pod in state.store.list("pods"):
        if isinstance(pod, Pod) and pod.spec.node_name in unknown and is_pod_ready(pod):
            name = f"Pod {pod.metadata.namespace}/{pod.metadata.name}"
            return f"{name} is still Ready on node {pod.spec.node_name}, whose Ready condition is Unknown", (
                name, f"Node {pod.spec.node_name}")
    return None


def settled_violation(model: ClusterModel, state: ClusterState, properties: Iterable[Property],
                      avoid: tuple[type[Action], ...] = (), max_steps: int = 5000, max_ticks: int = 100,
                      deadline: float | None = None, memo: bool = True, remember_runs: bool = False
                      ) -> Violation | None:
    """Run the fair, fault-free continuations from `state` and check `properties` where they settle:
    all of them where the environment recovers, those with `needs_recovery=False` also where it
    never does. One where the environment never recovers proves nothing where the environment
    stopped the control plane (`stopped_by_environment`: etcd without a quorum, or only retries
    of requests that fail); one cut by the `time.perf_counter()` `deadline` proves nothing (None).

    Settling means what the cycle property `settles` means (`kubeprop.properties.oscillation`: no
    fair cycle keeps writing to the API). A continuation still writing when it runs out of
    `max_steps` is a livelock, a violation of `settles` (recorded as the lasso its fair run
    closes). One that is quiet in effect is judged where it stands: retries that change nothing
    are set aside as the controllers back off (`kubeprop.model.cluster.drive.follow`), so it ends
    where only they are left; and one out of steps that wrote nothing for its second half
    (`Settled.keeps_writing`) goes round without writing. There a request refused for good (a
    quota, a webhook, a namespace kept Terminating) shows as the property it keeps from holding
    (`deployments-complete`, …), not as a livelock with nothing to record.

    The continuations are deterministic, so a verdict is remembered (`VERDICTS`) and a state
    judged again — the same end reached by two walks, the fair run's quiet states judged by two
    searches, a candidate of shrinking that ends where another did — is answered at once, with
    the very same violation. `memo=False` judges afresh (and remembers nothing).

    With `remember_runs`, the continuations take their steps from the states that earlier ones
    (with `remember_runs` too) reached, where they can (`fair_memo`: the same runs, the fair choice
    made again at each state): for a caller whose judged states often lie on each other's
    continuations — a breadth-first search's do (half the steps of an HPA scenario's), the ends of
    the runs around the fair run seldom do (255 of 6,600 steps in FeastFlow's first 10,000), and
    remembering a state costs hashing it."""
    return settled_judgement(model, state, properties, avoid, max_steps, max_ticks, deadline, memo, remember_runs)[0]


def settled_judgement(model: ClusterModel, state: ClusterState, properties: Iterable[Property],
                      avoid: tuple[type[Action], ...] = (), max_steps: int = 5000, max_ticks: int = 100,
                      deadline: float | None = None, memo: bool = True, remember_runs: bool = False
                      ) -> tuple[Violation | None, int]:
    """`settled_violation`, and the steps its continuations took: where the second continuation
    resumes the first (`drive.continuations`), the steps they share count once. A remembered
    verdict comes with the steps it took when it was judged, so the count of a judgement does not
    depend on what was judged before in the process (shrinking's bound counts them:
    `shrink_clock.ShrinkClock`)."""
    props = tuple(properties)
    key = None if not memo or model.hooks.on_response else VERDICTS.key(model, state, props, avoid, max_steps,
                                                                          max_ticks)
    if key is not None:
        known, verdict, steps = VERDICTS.get(key, model, props)
        if known:
            remembered(_judged_before(props, verdict))
            return verdict, steps
    remember = remember_runs and memo and not model.hooks.on_response
    verdict, complete, steps = _judge(model, state, props, avoid, max_steps, max_ticks, deadline, remember)
    if key is not None and complete:
        VERDICTS.put(key, model, props, verdict, steps)
    return verdict, steps


def _judged_before(props: tuple[Property, ...], verdict: Violation | None) -> list[str]:
    """The properties a remembered verdict judged: all of them, those up to the one it found
    violated (`first_violation` asks them in order), or none (the cluster did not settle)."""
    names = [p.name for p in props]
    if verdict is None:
        return names
    return names[:names.index(verdict.property) + 1] if verdict.property in names else []


def _judge(model: ClusterModel, state: ClusterState, props: tuple[Property, ...], avoid: tuple[type[Action], ...],
           max_steps: int, max_ticks: int, deadline: float | None, remember: bool = False
           ) -> tuple[Violation | None, bool, int]:
    """`settled_judgement` without the memo of verdicts: the verdict, False when a continuation was
    cut by the deadline before one was found (then nothing is concluded), and the steps taken. With
    `remember`, the continuations' steps are taken from the states earlier judgements' continuations
    reached where they can be (`fair_memo`: the same runs)."""
    unrecovered = tuple(p for p in props if not p.needs_recovery)
    if not props:
        return None, True, 0
    steps = 0
    before: tuple[Action, ...] = ()
    follow = fair_memo.continuations if remember else continuations
    for recovers, run in follow(model, state, max_steps=max_steps, max_ticks=max_ticks, avoid=avoid, deadline=deadline):
        steps += len(run.trace) - _shared(before, run.trace)
        before = run.trace
        if run.interrupted:
            return None, False, steps
        judged = props if recovers else unrecovered
        if not recovers and stopped_by_environment(model, run.state, run.exhausted):
            continue  # the environment stopped the control plane: nothing it must bring about is judged
        if run.keeps_writing:
            return Violation("settles", f"the cluster did not settle within {max_steps} steps"), True, steps
        found = first_violation(model, run.state, judged)
        if found is not None:
            left = _workload_left(model, run.state)
            notes = ([] if recovers else [f"while {_unrecovered(state)}"]) + ([left] if left else [])
            shown = attrs.evolve(found, message=f"{found.message} ({'; '.join(notes)})") if notes else found
            return shown, True, steps
        if not unrecovered:
            break  # nothing is judged where the environment never recovers: that run is not needed
    return None, True, steps


def _shared(first: tuple[Action, ...], second: tuple[Action, ...]) -> int:
    """How many actions `second` shares with `first` from the start (the continuation without
    recoveries resumes the one with them where that took its first recovery: those were taken once)."""
    if first is second:
        return len(first)
    at, most = 0, min(len(first), len(second))
    while at < most and first[at] == second[at]:
        at += 1
    return at


def stopped_by_environment(model: ClusterModel, state: ClusterState, exhausted: bool) -> bool:
    """True when a continuation without recoveries that ended in `state` (`exhausted`: out of
    steps) proves nothing, because the environment stopped the control plane:

    - etcd has no quorum: no write can commit (a Raft leader needs a majority,
      `etcd-io/raft quorum/majority.go`), so every request the control plane makes fails and
      nothing it must bring about can happen. Its components may still cycle — the scheduler
      assumes a pod, the binding fails, it forgets the pod and tries again
      (`pkg/scheduler/schedule_one.go` handleBindingCycleError, ForgetPod; upstream the pod goes
      back to the queue with backoff while time passes) — and that is no livelock, since it
      writes nothing; nor is a pod still Ready on an Unknown node a fault of the node lifecycle
      controller, which cannot write the change.
    - the run is out of steps and every move the fair run may take is a retry that leaves the
      state unchanged (`stutters`)."""
    return not etcd_available(model, state) or (exhausted and stutters(model, state))


def stutters(model: ClusterModel, state: ClusterState) -> bool:
    """True when every move the fair run may take from `state` leaves it unchanged: each is a
    retry of a request that fails (etcd without a quorum, say) and writes nothing.

    Upstream a failed sync is requeued rate-limited (`AddRateLimited`: per key 5 ms doubling up to
    1000 s, `staging/src/k8s.io/client-go/util/workqueue/default_rate_limiters.go`
    DefaultTypedControllerRateLimiter), so the controllers wait while time passes; the fair run
    sets such retries aside (`kubeprop.model.cluster.drive.follow`) and goes on as if they
    waited, so it no longer runs out of steps on them alone. Kept for a run that still does
    (`stopped_by_environment`)."""
    policy = FairPolicy(recover=False)
    moves = [act for act in actions(model, state) if policy.default(act)]
    return bool(moves) and all(step(model, state, act) == state for act in moves)


VerdictKey = tuple[int, tuple[int, ...], ClusterState, tuple[type[Action], ...], int, int]


class Verdicts:
    """Remembered `settled_violation` verdicts, by (model, properties, state, bounds), in this
    process only. Models and properties are told apart by identity (a `Property` compares by name
    and statement, not by its check), and each entry keeps them alive, so an identity is never
    reused while its entry exists. At most `limit` entries (each keeps its state alive): when
    full, it starts over."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self.entries: dict[VerdictKey, tuple[ClusterModel, tuple[Property, ...], Violation | None, int]] = {}
        self.hits = 0

    def key(self, model: ClusterModel, state: ClusterState, props: tuple[Property, ...],
            avoid: tuple[type[Action], ...], max_steps: int, max_ticks: int) -> VerdictKey:
        """The entry of a judgement."""
        return id(model), tuple(map(id, props)), state, avoid, max_steps, max_ticks

    def get(self, key: VerdictKey, model: ClusterModel, props: tuple[Property, ...]
            ) -> tuple[bool, Violation | None, int]:
        """(True, the remembered verdict, the steps judging it took), or (False, None, 0) when
        there is none."""
        entry = self.entries.get(key)
        if entry is None or entry[0] is not model or any(a is not b for a, b in zip(entry[1], props, strict=True)):
            return False, None, 0
        self.hits += 1
        return True, entry[2], entry[3]

    def put(self, key: VerdictKey, model: ClusterModel, props: tuple[Property, ...],
            verdict: Violation | None, steps: int = 0) -> None:
        """Remember a verdict and the steps judging it took (starting over when full)."""
        if len(self.entries) >= self.limit:
            self.entries.clear()
        self.entries[key] = model, props, verdict, steps

    def clear(self) -> None:
        """Forget every verdict (the states they keep alive are freed)."""
        self.entries.clear()


VERDICTS = Verdicts()
"""The process's remembered convergence verdicts (`settled_violation`)."""


def _workload_left(model: ClusterModel, state: ClusterState) -> str:
    """The scenario's workload steps a run judged in `state` has not taken, in words ("" if none).

    Convergence is judged wherever a run settles, also between two of the user's steps: the
    verdict then says what happens if the user stops there (a rollout stalled while a node is
    drained is real Kubernetes behaviour, and the user may never get to the `uncordon`), and the
    message says so, since the scenario's later steps might have changed it. When that step is a
    `kubectl rollout status` or `kubectl wait` that has not returned, the user is waiting in it
    (a rollout that never finishes holds the script there, as upstream); so is a `kubectl drain`
    that has not returned."""
    steps = model.scenario.spec.workload
    if blocking(state):  # a `kubectl drain` that has not returned: its step is the last one taken
        at = state.workload_next - 1
        more = len(steps) - at - 1
        return (f"judged with the user waiting in workload step {at + 1} of {len(steps)}: {describe_step(steps[at])}"
                + (f", and {more} more" if more else ""))
    if state.workload_next >= len(steps):
        waiting = delete_wait(state)  # the last command, a `kubectl delete`, has not returned
        return "" if waiting is None else (f"judged with the user's last command still waiting for the object "
                                           f"to go: {describe_step(steps[waiting.step])}")
    more = len(steps) - state.workload_next - 1
    rest = f", and {more} more" if more else ""
    where = "waiting in" if is_wait_step(steps[state.workload_next]) else "stopped before"
    return (f"judged with the user {where} workload step {state.workload_next + 1} of {len(steps)}: "
            f"{describe_step(steps[state.workload_next])}{rest}")


def _unrecovered(state: ClusterState) -> str:
    """What never recovers in the continuation without recoveries, in words."""
    parts = [f"node {n} stays partitioned" for n in sorted(state.partitioned)]
    parts += [f"node {d.removeprefix('node/')} stays down" for d in sorted(state.down) if d.startswith("node/")]
    return ", ".join(parts)
