"""The disruption controller: keeps each PodDisruptionBudget's status.

Upstream: `pkg/controller/disruption/disruption.go` (v1.33): trySync, getExpectedPodCount,
getExpectedScale (a pod's controller, found by the finders in turn: getPodDeployment — a
ReplicaSet's Deployment —, getPodReplicaSet — a ReplicaSet no Deployment controls —,
getPodStatefulSet, getScaleController — the scale subresource of whatever the controllerRef names,
so a ReplicaSet whose Deployment is gone counts with its own replicas; their `spec.replicas` summed
once per controller; a pod without a controllerRef is left out; a pod none of them resolves — its
ReplicaSet deleted by a cascade deletion or by revisionHistoryLimit 0 while it terminates — or whose
controller has no scale subresource is an error), failSafe (on that error: disruptionsAllowed 0 and
DisruptionAllowed False with reason SyncFailed, so every eviction gets 429 until a sync succeeds),
buildDisruptedPodMap (a pod the eviction subresource recorded in `disruptedPods` counts as disrupted
for `DeletionTimeout`, 2 minutes, unless it is already terminating), countHealthyPods (Ready, not
terminating, not disrupted), updatePdbStatus (disruptionsAllowed = currentHealthy − desiredHealthy,
at least 0, and 0 when no pods are expected; the DisruptionAllowed condition; observedGeneration)
and the event handlers (a PDB enqueues itself, a pod the PDBs selecting it; a workload's changes
enqueue nothing). A disrupted entry expiring wakes the PDB up again (`enqueuePdbForRecheck`).

Run only in scenarios that create a PodDisruptionBudget (`uses_pdbs`): with none there is
nothing for it to do, and leaving it out keeps other scenarios' states unchanged.

getScaleController's GET of the scale subresource is live upstream (`dc.scaleNamespacer.Scales(ns).Get`,
where the other finders read listers): in the model it is a GET through the API server, a request
like the others (partitions, crashes, injected failures and overload affect it), as the PV
controller's live claim GET (`kubeprop.model.controllers.persistentvolume`). A reconcile decides
from the cache and its memory alone, so a sync that needs a scale sends the GET and is requeued; the
answer is kept in the controller's memory (`ScaleMemory`, lost on a crash) and the next sync of the
PDB uses it (one GET per reconcile, a PDB with two such controllers takes three). The answers are
used up when the sync ends. A GET that fails ends the sync in failSafe at once (`after_failure`):
404 as "found no controllers for pod" (getScaleController returns nil for a workload gone, then
getExpectedScale's error), another failure with its message; the key is forgotten when the failSafe
write succeeds (sync returns failSafe's nil), requeued when it fails. The GET is the API server's
GET of the scale subresource (verb `get-scale`, `kubeprop.model.api.scale` ScaleREST.Get), so RBAC
asks for `get` on `<resource>/scale` (upstream's disruption-controller role grants `get` on `*/scale`,
`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/controller_policy.go`), and the answer is the
Scale (`Response.scale`: its UID and spec.replicas). A kind without a scale subresource fails
without a GET (upstream: the GET's 404, then the discovery check `implementsScale`).

Left out: events, and the stale-disruption condition on pods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from kubeprop.model.api.meta import Condition, OwnerReference, set_condition
from kubeprop.model.api.objects import ApiObject, Deployment, ObjectKey, Pod, ReplicaSet, StatefulSet
from kubeprop.model.api.policy import PodDisruptionBudget, PodDisruptionBudgetStatus
from kubeprop.model.api.scale import SCALABLE
from kubeprop.model.api.selectors import selector_matches
from kubeprop.model.api.server import Request, Response
from kubeprop.model.controllers.deployment_util import scaled_value
from kubeprop.model.controllers.gc import owner_object_key
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER, is_pod_ready
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.state.component import Reconciliation
from kubeprop.model.state.informer import ObjectView

RESOURCE = "poddisruptionbudgets.policy"


def uses_pdbs(objects: Iterable[Any]) -> bool:
    """Whether any of the scenario's objects is a PodDisruptionBudget."""
    return any(isinstance(o, PodDisruptionBudget) for o in objects)


def _pods(view: ObjectView, pdb: PodDisruptionBudget) -> list[Pod]:
    return [p for p in view.list("pods", pdb.metadata.namespace)
            if isinstance(p, Pod) and selector_matches(pdb.spec.selector, p.metadata.labels)]


@attrs.frozen(cache_hash=True)
class LiveScale:
    """A live scale GET's answer: `uid`, the controllerRef's UID asked about; `replicas`, the Scale's
    spec.replicas when the API server holds a workload of that name with that UID, else None
    (getScaleController's nil: another UID)."""

    uid: str
    replicas: int | None


@attrs.frozen(cache_hash=True)
class ScaleMemory:
    """The live scale answers of syncs not yet finished, by PDB key; `asking`, the PDB whose GET is
    under way. The controller's memory is None while both are empty (its memory before the live read
    was modelled: the states of syncs that need no GET are unchanged)."""

    answers: FrozenMap[str, tuple[LiveScale, ...]] = EMPTY
    asking: str = ""


def _memory(answers: FrozenMap[str, tuple[LiveScale, ...]], asking: str = "") -> ScaleMemory | None:
    return ScaleMemory(answers, asking) if answers or asking else None


@attrs.frozen
class ScaleGet:
    """A sync that needs getScaleController's live GET: of `resource` `namespace/name`, the controllerRef
    of pod `pod` with UID `uid`."""

    resource: str
    namespace: str
    name: str
    uid: str
    pod: str

    def request(self, user: str) -> Request:
        """The GET of the scale subresource (`precondition_uid` carries the UID asked about to `observe`)."""
        return Request(verb="get-scale", user=user, resource=self.resource, namespace=self.namespace, name=self.name,
                       precondition_uid=self.uid)


Answers = tuple[LiveScale, ...]
ScaleOrError = tuple[str, int] | str | ScaleGet
"""A pod controller's (uid, spec.replicas), the error message getExpectedScale fails with, or the
live GET it needs first."""


def _replicas(obj: Deployment | ReplicaSet | StatefulSet) -> tuple[str, int]:
    return obj.metadata.uid, 1 if obj.spec.replicas is None else obj.spec.replicas


_WORKLOADS: dict[str, type[Deployment] | type[ReplicaSet] | type[StatefulSet]] = {
    "Deployment": Deployment, "ReplicaSet": ReplicaSet, "StatefulSet": StatefulSet}
"""The kinds of `SCALABLE` → their classes."""
_UNSCALABLE: dict[tuple[str, str], str] = {
    ("apps/v1", "DaemonSet"): "daemonsets.apps", ("batch/v1", "Job"): "jobs.batch",
    ("batch/v1", "CronJob"): "cronjobs.batch"}
"""Built-in kinds that own pods and have no scale subresource: getScaleController fails for their
pods with "<resource> does not implement the scale subresource" (a DaemonSet's pods among them: the
DaemonSet is modelled and found by `owner_object_key` too, with the same answer; a CRD's kinds are
found by `owner_object_key`)."""


def _listed(view: ObjectView, resource: str, namespace: str, ref: OwnerReference,
            kind: type[Deployment] | type[ReplicaSet] | type[StatefulSet]) -> Any:
    """A lister's Get of the reference's name: the object if its uid is the reference's."""
    obj = view.get(ObjectKey(resource, namespace, ref.name))
    return obj if isinstance(obj, kind) and obj.metadata.uid == ref.uid else None


def _deployment_or_replicaset(view: ObjectView, ref: OwnerReference, namespace: str) -> tuple[str, int] | None:
    """getPodDeployment, then getPodReplicaSet: a ReplicaSet controlled by a Deployment counts as the
    Deployment (None if that Deployment is gone), one without as itself."""
    rs = _listed(view, "replicasets.apps", namespace, ref, ReplicaSet)
    if rs is None:
        return None
    owner = next((r for r in rs.metadata.owner_references if r.controller), None)
    if owner is None or owner.kind != "Deployment":
        return _replicas(rs)
    d = _listed(view, "deployments.apps", namespace, owner, Deployment)
    return None if d is None else _replicas(d)


def _scale_controller(view: ObjectView, ref: OwnerReference, pod: Pod, answers: Answers
                      ) -> tuple[str, int] | str | ScaleGet | None:
    """getScaleController: the scale subresource of the referenced workload, whatever its kind — a
    ReplicaSet whose Deployment is gone counts with its own replicas — read live: the answer in
    `answers`, or the GET (`ScaleGet`) when there is none yet (module docstring). Another uid: None; a
    kind without a scale subresource: the error upstream's `implementsScale` check returns."""
    resource = SCALABLE.get(ref.kind)
    if resource is not None:
        answer = next((a for a in answers if a.uid == ref.uid), None)
        if answer is None:
            return ScaleGet(resource, pod.metadata.namespace, ref.name, ref.uid, pod.metadata.name)
        return None if answer.replicas is None else (ref.uid, answer.replicas)
    key = owner_object_key(ref, pod, view)
    resource = key.resource if key is not None else _UNSCALABLE.get((ref.api_version, ref.kind))
    if resource is None:
        return f'no matches for kind "{ref.kind}" in version "{ref.api_version}"'
    return f"{resource} does not implement the scale subresource"


def _controller_scale(view: ObjectView, pod: Pod, ref: OwnerReference, answers: Answers) -> ScaleOrError:
    """The finders of `pkg/controller/disruption/disruption.go` in their order (getPodDeployment,
    getPodReplicaSet, getPodStatefulSet — listers —, getScaleController — live) for the pod's
    controllerRef: the first found, else `found no controllers for pod "NAME"` (getExpectedScale)."""
    found: tuple[str, int] | str | ScaleGet | None = None
    if ref.kind == "ReplicaSet":
        found = _deployment_or_replicaset(view, ref, pod.metadata.namespace)
    elif ref.kind == "StatefulSet":
        sts = _listed(view, "statefulsets.apps", pod.metadata.namespace, ref, StatefulSet)
        found = None if sts is None else _replicas(sts)
    if found is None:
        found = _scale_controller(view, ref, pod, answers)
    return no_controllers(pod.metadata.name) if found is None else found


def no_controllers(pod: str) -> str:
    """getExpectedScale's error for a pod none of the finders resolves."""
    return f'found no controllers for pod "{pod}"'


def expected_scale(view: ObjectView, pods: Iterable[Pod], answers: Answers = ()) -> int | str | ScaleGet:
    """getExpectedScale: Σ spec.replicas of the pods' controllers, each counted once; pods without a
    controllerRef are left out (unmanaged). A pod whose controller no finder resolves — its ReplicaSet
    deleted (a cascade deletion, revisionHistoryLimit 0) — is an error, its message returned: the
    sync then fails safe (`fail_safe`). A controller only getScaleController can resolve, with no
    answer in `answers` yet: the GET it needs (`ScaleGet`)."""
    seen: dict[str, int] = {}
    for pod in pods:
        ref = next((r for r in pod.metadata.owner_references if r.controller), None)
        if ref is None or ref.uid in seen:
            continue
        found = _controller_scale(view, pod, ref, answers)
        if isinstance(found, str | ScaleGet):
            return found
        seen[found[0]] = found[1]
    return sum(seen.values())


def expected_and_desired(view: ObjectView, pdb: PodDisruptionBudget, pods: list[Pod], answers: Answers = ()
                         ) -> tuple[int, int] | str | ScaleGet:
    """getExpectedPodCount: (expectedCount, desiredHealthy), getExpectedScale's error, or the live GET
    it needs first."""
    spec = pdb.spec
    if spec.max_unavailable is not None:
        expected = expected_scale(view, pods, answers)
        if isinstance(expected, str | ScaleGet):
            return expected
        return expected, max(0, expected - scaled_value(spec.max_unavailable, expected, True))
    if spec.min_available is not None:
        if isinstance(spec.min_available, int):
            return len(pods), spec.min_available
        expected = expected_scale(view, pods, answers)
        if isinstance(expected, str | ScaleGet):
            return expected
        return expected, scaled_value(spec.min_available, expected, True)
    return 0, 0


def fail_safe(pdb: PodDisruptionBudget, error: str, now: int) -> PodDisruptionBudgetStatus:
    """failSafe: the PDB's status as it was but disruptionsAllowed 0 and DisruptionAllowed False with
    reason SyncFailed and the error as its message (observedGeneration: the status's, unchanged), so
    the eviction subresource refuses every eviction (429) until a sync succeeds."""
    cond = Condition(type="DisruptionAllowed", status="False", reason="SyncFailed", message=error,
                     last_transition_time=now, observed_generation=pdb.status.observed_generation)
    return evolve(pdb.status, disruptions_allowed=0, conditions=set_condition(pdb.status.conditions, cond))


def disrupted_pods(pdb: PodDisruptionBudget, pods: list[Pod], now: int, timeout: int
                   ) -> tuple[dict[str, int], int | None]:
    """buildDisruptedPodMap: the entries still counting, and when the next one expires."""
    kept: dict[str, int] = {}
    recheck: int | None = None
    for pod in pods:
        if pod.metadata.deletion_timestamp is not None:
            continue
        at = pdb.status.disrupted_pods.get(pod.metadata.name)
        if at is None:
            continue
        expires = at + timeout
        if expires < now:
            continue
        kept[pod.metadata.name] = at
        recheck = expires if recheck is None else min(recheck, expires)
    return kept, recheck


def healthy(pods: list[Pod], disrupted: dict[str, int], now: int, timeout: int) -> int:
    """countHealthyPods: Ready pods not terminating, a disrupted one left out only while its entry's
    expiry (`at + timeout`) is after `now` — at the very second it expires buildDisruptedPodMap
    still keeps the entry (it drops those whose expiry is Before now) but the pod counts again."""
    return sum(1 for p in pods if p.metadata.deletion_timestamp is None
               and not (p.metadata.name in disrupted and disrupted[p.metadata.name] + timeout > now)
               and is_pod_ready(p))


@attrs.frozen
class DisruptionController:
    """The disruption controller as a `Controller`; its memory, the live scale answers (`ScaleMemory`)."""

    deletion_timeout_seconds: int = 120
    name: str = "disruption"
    watches: tuple[str, ...] = (RESOURCE, "pods", "replicasets.apps", "deployments.apps", "statefulsets.apps")
    identity: str = CONTROLLER_MANAGER_USER

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """addDb/updateDb/removeDb: the PDB; addPod/updatePod/deletePod: the PDBs selecting the pod — the
        same for every kind of event (no `keys_for_change`): upstream's updatePod and updateDb do not
        compare the old object with the new, and the ReplicaSet, Deployment and StatefulSet informers
        have listers only (NewDisruptionControllerInternal registers no handler on them). Upstream's
        getPdbForPod takes the first of several matching PDBs; the model enqueues them all."""
        if isinstance(obj, PodDisruptionBudget):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        if isinstance(obj, Pod):
            return tuple(sorted(f"{b.metadata.namespace}/{b.metadata.name}"
                                for b in view.list(RESOURCE, obj.metadata.namespace)
                                if isinstance(b, PodDisruptionBudget)
                                and selector_matches(b.spec.selector, obj.metadata.labels)))
        return ()

    def initial_memory(self) -> Any:
        """No live answer at start (and after a crash)."""
        return None

    def observe(self, memory: Any, request: Request, response: Response) -> Any:
        """The live scale GET's answer, for the PDB asking: the workload's spec.replicas if it has the
        UID asked about, else None; a failure (404 included) forgets the sync's answers (it ends in
        failSafe: `reconcile`)."""
        if not isinstance(memory, ScaleMemory) or not memory.asking or request.verb != "get-scale":
            return memory
        asking = memory.asking
        scale = response.scale
        if not response.ok or scale is None:
            return _memory(memory.answers.delete(asking))
        uid = request.precondition_uid or ""
        answer = LiveScale(uid, scale.spec_replicas if scale.uid == uid else None)
        return _memory(memory.answers.set(asking, (*memory.answers.get(asking, ()), answer)))

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """trySync + updatePdbStatus (a status write only when something changed); failSafe when the
        expected count cannot be computed (upstream's failSafe always writes; a write of an unchanged
        status changes nothing); getScaleController's live GET first when the sync needs one
        (`_live_get`). A finished sync uses up its answers."""
        namespace, _, name = key.partition("/")
        answers: FrozenMap[str, Answers] = memory.answers if isinstance(memory, ScaleMemory) else EMPTY
        rest = _memory(answers.delete(key)) if key in answers else memory
        pdb = view.get(ObjectKey(RESOURCE, namespace, name))
        if not isinstance(pdb, PodDisruptionBudget):
            return Reconciliation(memory=rest)
        pods = _pods(view, pdb)
        counts = expected_and_desired(view, pdb, pods, answers.get(key, ()))
        if isinstance(counts, ScaleGet):
            return self._live_get(pdb, key, counts, answers, now)
        status = fail_safe(pdb, counts, now) if isinstance(counts, str) else self._status(pdb, pods, counts, now)
        if status == pdb.status:
            return Reconciliation(memory=rest)
        request = Request(verb="update-status", user=self.identity, obj=evolve(pdb, status=status))
        return Reconciliation((request,), rest)

    def _live_get(self, pdb: PodDisruptionBudget, key: str, get: ScaleGet, answers: FrozenMap[str, Answers],
                  now: int) -> Reconciliation:
        """The live scale GET, the key requeued for the sync that uses its answer. A failed GET is
        getScaleController's error: failSafe in the same sync (`after_failure`: 404 is a workload gone,
        "found no controllers for pod"), and the key forgotten (`tolerate`), as sync's nil after a
        successful failSafe write; a failSafe write that fails requeues it."""

        def fail(request: Request, response: Response) -> tuple[Request, ...]:
            error = no_controllers(get.pod) if response.code == 404 else response.message
            status = fail_safe(pdb, error, now)
            if status == pdb.status:
                return ()
            return (Request(verb="update-status", user=self.identity, obj=evolve(pdb, status=status)),)

        def tolerate(request: Request, response: Response) -> Literal["forget"] | None:
            return "forget" if request.verb == "get-scale" else None

        return Reconciliation((get.request(self.identity),), _memory(answers, asking=key), requeue=True,
                              after_failure=fail, tolerate=tolerate)

    def _status(self, pdb: PodDisruptionBudget, pods: list[Pod], counts: tuple[int, int], now: int
                ) -> PodDisruptionBudgetStatus:
        """updatePdbStatus's new status."""
        expected, desired = counts
        disrupted, _ = disrupted_pods(pdb, pods, now, self.deletion_timeout_seconds)
        current = healthy(pods, disrupted, now, self.deletion_timeout_seconds)
        allowed = current - desired
        if expected <= 0 or allowed <= 0:
            allowed = 0
        allowed_cond = Condition(type="DisruptionAllowed", status="True" if allowed > 0 else "False",
                                 reason="SufficientPods" if allowed > 0 else "InsufficientPods",
                                 last_transition_time=now, observed_generation=pdb.metadata.generation)
        return evolve(
            pdb.status, current_healthy=current, desired_healthy=desired, expected_pods=expected,
            disruptions_allowed=allowed, disrupted_pods=disrupted, observed_generation=pdb.metadata.generation,
            conditions=set_condition(pdb.status.conditions, allowed_cond))

    def wakeup_at(self, view: ObjectView, key: str, now: int) -> int | None:
        """enqueuePdbForRecheck: when the next disrupted-pod entry expires."""
        namespace, _, name = key.partition("/")
        pdb = view.get(ObjectKey(RESOURCE, namespace, name))
        if not isinstance(pdb, PodDisruptionBudget):
            return None
        _, recheck = disrupted_pods(pdb, _pods(view, pdb), now, self.deletion_timeout_seconds)
        return None if recheck is None else recheck + 1
