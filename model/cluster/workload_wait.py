"""kubectl's waiting commands as workload steps: `kubectl rollout status` and `kubectl wait`.

A user's script or CD pipeline does not run `kubectl set image` the moment `kubectl apply`
returns: it runs `kubectl rollout status deployment/web` (or `kubectl wait --for=condition=Ready
pod/db-0`) in between, and the next command runs when that one returns. This module holds what
those commands decide, as pure functions of the object kubectl reads, and the state of a command
still waiting; `kubeprop.model.cluster.workload` runs them as steps.

**What "done" means** is kubectl's, rule for rule:

- `rolloutStatus` — the status viewers of `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/
  rollout_status.go` (`deployment_status`, `statefulset_status`, `daemonset_status`), as `kubectl rollout status`
  (`staging/src/k8s.io/kubectl/pkg/cmd/rollout/rollout_status.go`) applies them to every watch
  event of the object: a Deployment is done once its controller observed its generation and
  every replica is updated, no old one is left and every updated one is available; one whose
  `Progressing` condition says `ProgressDeadlineExceeded` fails the command. A StatefulSet is done
  once observed and `readyReplicas` reached `spec.replicas` and, with a `rollingUpdate` (the API
  server's defaults give it one with partition 0), `updatedReplicas` reached `replicas -
  partition`; without one, once `currentRevision` is the `updateRevision`; an `OnDelete` set fails
  the command ("rollout status is only available for RollingUpdate strategy type"). The object
  deleted while kubectl watches fails it ("object has been deleted"). A DaemonSet is done once
  observed and `updatedNumberScheduled`, then `numberAvailable`, reached `desiredNumberScheduled`;
  an `OnDelete` one fails the command as a StatefulSet's does.
- `wait` with `for: condition=NAME[=VALUE]` — `staging/src/k8s.io/kubectl/pkg/cmd/wait/
  condition.go` `checkCondition` (`condition_met`): the first `status.conditions` entry whose type
  equals NAME (case folded) decides; a condition (or, without its own, the status) whose
  `observedGeneration` is older than `metadata.generation` is not met yet; the status must equal
  VALUE (default `true`, case folded). kubectl follows the name: an object deleted and made again
  (a StatefulSet's pod) is waited for again.
- `wait` with `for: jsonpath=EXPRESSION[=VALUE]` — `staging/src/k8s.io/kubectl/pkg/cmd/wait/json.go`
  (`kubeprop.model.scenario.wait_for`, simple field paths): met once the field has a value (with
  VALUE: once its text equals VALUE); one that leads to an object or a list with a VALUE fails the
  command. kubectl runs it through the same `getObjAndCheckCondition` as `condition=`, so its GET,
  watch, RBAC and timeouts are the same.
- `wait` with `for: delete` — `staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go` `IsDeleted`: done
  at once when the object is not found, else when the object kubectl found (its UID) is gone.

**Timeouts** are kubectl's `--timeout`, measured on the model's clock: `rollout status` waits for
ever by default (`timeoutSeconds: 0`, `watchtools.ContextWithOptionalTimeout`) and fails with
`error: timed out waiting for the condition` (`wait.ErrWaitTimeout`) when its timeout passes;
`kubectl wait` waits 30 s by default, checks once and fails at once with 0 (`condition not met
for pods/db-0`), waits a week — for ever, in the model — with a negative timeout, and fails with
`error: timed out waiting for the condition on pods/db-0` (`extendErrWaitTimeout`).

**What kubectl reads.** Both commands GET the object first (the resource builder's `Latest()`;
`kubectl wait --timeout=0` only GETs: `getObjAndCheckCondition`, `IsDeleted`), then watch it through
`watchtools.UntilWithSync` (`staging/src/k8s.io/client-go/tools/watch/until.go`) with a ListWatch
whose LIST and WATCH carry the field selector `metadata.name=NAME`: RBAC asks for `list` and
`watch` on the resource in the namespace, the name in the attributes (`requestinfo.go` sets it
from the selector, so a Role's `resourceNames` can allow it). The model's GET stands for what the
watch delivers. A user who may GET the object but not LIST it never sees it through the watch
(`list_refusal`): the informer's reflector logs the refused LIST (`failed to list
*unstructured.Unstructured: deployments.apps "web" is forbidden: …`) and retries it after a back-off
for as long as the command runs (`cache/reflector.go`: ListAndWatch's error, `BackoffUntil`), so the
command returns only at its timeout — `rollout status` (no precondition: UntilWithoutRetry on a
watcher that never delivers) with `error: timed out waiting for the condition`, `wait` (its
precondition waits for the cache to sync: `UntilWithSync: unable to sync caches: %w` wraps
`context.DeadlineExceeded`, which `getObjAndCheckCondition` and `IsDeleted` turn into
`errWaitTimeoutWithName`) with `error: timed out waiting for the condition on deployments/web` —
and without a timeout never (`rollout status`'s default; `wait` with a negative one). The step's
failure is the reflector's line, then kubectl's error. A refused WATCH alone does not stop it: the
LIST already synced the cache and delivered the object, and the reflector LISTs again after each
refused WATCH (the error is not retriable: `isWatchErrorRetriable`), so the command still sees the
object's changes, up to a back-off late; the model, which takes the step at any state, checks the
LIST only. The LIST is authorized afresh whenever the model evaluates the command, as the reflector
retries it (a Role granted later lets the next retry through).

**A command that waits is explicit in the trace.** A command that can only succeed by waiting for
ever (`timed` is False) is one action, `UserStep(i)`, taken when the command returns: nothing of
the cluster depends on when it started. A command with a deadline, or one that waits for one
object's deletion (its UID), starts with `UserStep(i)`, which records a `CommandWait` (its
deadline, the UID) in `state.addons["workload"]`, and returns with a second `UserStep(i)`,
enabled once the outcome is decided; the workload's next step waits until then. The deadline is a
timer (`next_timer`), so time passes (`Tick`) up to it even when nothing else waits, and the step
then fails: no run waits for a timeout that cannot come. A rollout that never finishes under a
command without a timeout leaves the step not taken, as the user's script hangs: the run settles
there and the convergence properties judge the stuck rollout itself.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.apps import DaemonSet, Deployment, StatefulSet
from kubeprop.model.api.objects import ApiObject, ObjectKey, encode_object
from kubeprop.model.api.server import Request, Response, handle
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.deployment_util import TIMED_OUT_REASON
from kubeprop.model.scenario.schema import RolloutStatusStep, WaitStep, WorkloadStep, parse_for
from kubeprop.model.scenario.wait_for import jsonpath_met
from kubeprop.model.state.cluster import ClusterModel, ClusterState

KEY = "workload"
"""The workload's entry in `state.addons` (shared with `workload.DeleteWait`)."""
ROLLOUT_RESOURCES = {"deployment": "deployments.apps", "statefulset": "statefulsets.apps",
                     "daemonset": "daemonsets.apps"}
"""`rolloutStatus` target field → the resource it names."""
TIMED_OUT = "timed out waiting for the condition"
"""`wait.ErrWaitTimeout`'s text (`staging/src/k8s.io/apimachinery/pkg/util/wait`)."""
DELETED = "object has been deleted"
"""`kubectl rollout status` when the watch delivers the object's deletion."""
WATCHED_TYPE = "*unstructured.Unstructured"
"""The reflector's type description of kubectl's ListWatch (an unstructured object: `until.go`
NewIndexerInformerWatcher), in its `failed to list` error."""


@attrs.frozen
class Verdict:
    """What a status viewer or a condition says of one object: `done`, the status line kubectl
    prints, and `error` when the command fails on it (kubectl prints `error: <error>`, exit 1)."""

    done: bool
    status: str = ""
    error: str = ""


def _waiting(status: str) -> Verdict:
    return Verdict(False, status)


def deployment_status(d: Deployment) -> Verdict:
    """`DeploymentStatusViewer.Status` (revision 0: the latest rollout)."""
    name, spec, status = d.metadata.name, d.spec, d.status
    if d.metadata.generation > status.observed_generation:
        return _waiting("Waiting for deployment spec update to be observed...")
    progressing = next((c for c in status.conditions if c.type == "Progressing"), None)
    if progressing is not None and progressing.reason == TIMED_OUT_REASON:
        return Verdict(False, "", f'deployment "{name}" exceeded its progress deadline')
    prefix = f'Waiting for deployment "{name}" rollout to finish: '
    if spec.replicas is not None and status.updated_replicas < spec.replicas:
        return _waiting(f"{prefix}{status.updated_replicas} out of {spec.replicas} new replicas have been updated...")
    if status.replicas > status.updated_replicas:
        return _waiting(f"{prefix}{status.replicas - status.updated_replicas} old replicas are pending termination...")
    if status.available_replicas < status.updated_replicas:
        return _waiting(f"{prefix}{status.available_replicas} of {status.updated_replicas} updated replicas are "
                        "available...")
    return Verdict(True, f'deployment "{name}" successfully rolled out')


def statefulset_status(s: StatefulSet) -> Verdict:
    """`StatefulSetStatusViewer.Status`: observed, ready, then the partition (or the revisions)."""
    spec, status = s.spec, s.status
    strategy = spec.update_strategy
    if strategy.type != "RollingUpdate":
        return Verdict(False, "", "rollout status is only available for RollingUpdate strategy type")
    if status.observed_generation == 0 or s.metadata.generation > status.observed_generation:
        return _waiting("Waiting for statefulset spec update to be observed...")
    if spec.replicas is not None and status.ready_replicas < spec.replicas:
        return _waiting(f"Waiting for {spec.replicas - status.ready_replicas} pods to be ready...")
    rolling = strategy.rolling_update
    if rolling is not None:
        if spec.replicas is not None and rolling.partition is not None \
                and status.updated_replicas < spec.replicas - rolling.partition:
            return _waiting(f"Waiting for partitioned roll out to finish: {status.updated_replicas} out of "
                            f"{spec.replicas - rolling.partition} new pods have been updated...")
        return Verdict(True, f"partitioned roll out complete: {status.updated_replicas} new pods have been updated...")
    if status.update_revision != status.current_revision:
        return _waiting(f"waiting for statefulset rolling update to complete {status.updated_replicas} pods at "
                        f"revision {status.update_revision}...")
    return Verdict(True, f"statefulset rolling update complete {status.current_replicas} pods at revision "
                         f"{status.current_revision}...")


def daemonset_status(d: DaemonSet) -> Verdict:
    """`DaemonSetStatusViewer.Status`: a RollingUpdate set, observed, every desired pod updated, then
    available."""
    name, status = d.metadata.name, d.status
    if d.spec.update_strategy.type != "RollingUpdate":
        return Verdict(False, "", "rollout status is only available for RollingUpdate strategy type")
    if d.metadata.generation > status.observed_generation:
        return _waiting("Waiting for daemon set spec update to be observed...")
    prefix = f'Waiting for daemon set "{name}" rollout to finish: '
    desired = status.desired_number_scheduled
    if status.updated_number_scheduled < desired:
        return _waiting(f"{prefix}{status.updated_number_scheduled} out of {desired} new pods have been updated...")
    if status.number_available < desired:
        return _waiting(f"{prefix}{status.number_available} of {desired} updated pods are available...")
    return Verdict(True, f'daemon set "{name}" successfully rolled out')


def rollout_verdict(obj: ApiObject) -> Verdict:
    """The status viewer of the object's kind (`StatusViewerFor`)."""
    if isinstance(obj, Deployment):
        return deployment_status(obj)
    if isinstance(obj, StatefulSet):
        return statefulset_status(obj)
    if isinstance(obj, DaemonSet):
        return daemonset_status(obj)
    return Verdict(False, "", f"no status viewer has been implemented for {type(obj).__name__}")


def _equal_fold(a: str, b: str) -> bool:
    """Go's `strings.EqualFold` (rune by rune simple case folding), for the model's strings."""
    return len(a) == len(b) and all(x == y or x.lower() == y.lower() or x.upper() == y.upper()
                                    for x, y in zip(a, b, strict=True))


def condition_met(obj: ApiObject, name: str, value: str) -> bool:
    """`ConditionalWait.checkCondition` on the object as kubectl decodes it (its JSON)."""
    body = encode_object(obj)
    status = body.get("status")
    if not isinstance(status, dict):
        return False
    conditions = status.get("conditions")
    if not isinstance(conditions, list):
        return False
    generation = body.get("metadata", {}).get("generation")
    for condition in conditions:
        if not isinstance(condition, dict):
            return False
        kind, current = condition.get("type"), condition.get("status")
        if not isinstance(kind, str) or not _equal_fold(kind, name) or not isinstance(current, str):
            continue
        if isinstance(generation, int):
            observed = condition.get("observedGeneration", status.get("observedGeneration"))
            if isinstance(observed, int) and observed < generation:
                return False
        return _equal_fold(current, value)
    return False


def rollout_target(step: RolloutStatusStep) -> tuple[str, str, str]:
    """(resource, namespace, name) of a `rolloutStatus` step (namespace `default` when omitted)."""
    for field, resource in ROLLOUT_RESOURCES.items():
        ref = getattr(step, field)
        if ref:
            namespace, _, name = ref.rpartition("/")
            return resource, namespace or "default", name
    return "", "", ""


def is_wait_step(step: WorkloadStep) -> bool:
    """Whether the step is one of kubectl's waiting commands."""
    return step.rollout_status is not None or step.wait is not None


def timed(step: WorkloadStep) -> bool:
    """Whether the command starts a `CommandWait` when it cannot return at once: it has a deadline
    (a positive timeout), or it waits for one object's deletion (by UID)."""
    if step.rollout_status is not None:
        return step.rollout_status.timeout_seconds > 0
    assert step.wait is not None
    return step.wait.timeout_seconds > 0 or wait_kind(step.wait) == "delete"


def wait_kind(step: WaitStep) -> str:
    """`delete`, `condition` or `jsonpath` (the schema refused anything else)."""
    parsed = parse_for(step.for_)
    return parsed[0] if parsed is not None else ""


def timeout_flag(step: WorkloadStep) -> str:
    """The `--timeout` flag as the user wrote it ("" for kubectl's default)."""
    if step.rollout_status is not None:
        seconds = step.rollout_status.timeout_seconds
        return f" --timeout={seconds}s" if seconds else ""
    assert step.wait is not None
    seconds = step.wait.timeout_seconds
    return "" if seconds == WaitStep().timeout_seconds else f" --timeout={seconds}s"


@attrs.frozen(cache_hash=True)
class CommandWait:
    """A `rollout status` or `wait` command still running: its step, the object it watches (its UID
    when it started) and the model time its `--timeout` passes (None: never)."""

    step: int
    resource: str
    namespace: str
    name: str
    uid: str
    deadline: int | None

    @property
    def key(self) -> ObjectKey:
        """The key of the object the command watches."""
        return ObjectKey(self.resource, self.namespace, self.name)

    def timed_out(self, clock: int) -> bool:
        """True once the command's timeout has passed."""
        return self.deadline is not None and clock >= self.deadline

    def same_object(self, store: Store) -> Any:
        """The object the command started on, if it is still there (same UID), else None."""
        found = store.get(self.key)
        return found if found is not None and found.metadata.uid == self.uid else None


def command_wait(state: ClusterState) -> CommandWait | None:
    """The waiting command the user's workload is in, if any."""
    found = state.addons.get(KEY)
    return found if isinstance(found, CommandWait) else None


def next_timer(model: ClusterModel, state: ClusterState) -> int | None:
    """The deadline of the waiting command, while it is ahead (a timer: time may pass up to it)."""
    waiting = command_wait(state)
    if waiting is None or waiting.deadline is None or waiting.deadline <= state.clock:
        return None
    return waiting.deadline


def has_timeouts(model: ClusterModel) -> bool:
    """Whether some step of the scenario can start a `CommandWait` with a deadline (the workload's
    enabled steps then depend on the clock)."""
    return any(is_wait_step(s) and timed(s) for s in model.scenario.spec.workload)


def _resource_name(key: ObjectKey) -> str:
    """`<resource>/<name>` as kubectl names the object in its wait errors (`info.ObjectName()`)."""
    return f"{key.resource.partition('.')[0]}/{key.name}"


def watch_list_request(user: str, key: ObjectKey, acting_as: str = "") -> Request:
    """The LIST of kubectl's ListWatch: `fieldSelector=metadata.name=NAME` in the object's namespace
    (the model's `list` with a name), `--as acting_as`."""
    return Request(verb="list", user=user, resource=key.resource, namespace=key.namespace, name=key.name,
                   impersonate=acting_as)


def list_refusal(model: ClusterModel, state: ClusterState, step: WorkloadStep, key: ObjectKey) -> str:
    """The reflector's error when the API server refuses the LIST of the command's watch now (403),
    as it logs it (`failed to list *unstructured.Unstructured: <the 403's message>`); "" when the
    LIST is allowed (any other failure is the API server's, which the GET meets too)."""
    request = watch_list_request(model.scenario.apply_as, key, step.as_)
    response = handle(state.store, request, model.api, state.clock).response
    return f"failed to list {WATCHED_TYPE}: {response.message}" if response.code == 403 else ""


def outcome(step: WorkloadStep, key: ObjectKey, response: Response, waiting: CommandWait | None,
            clock: int, unlisted: str = "") -> str | None:
    """How the command of `step` ends, given kubectl's GET of the object (`response`), the command's
    wait so far (None: it has not started one) and the refusal of its watch's LIST (`unlisted`,
    `list_refusal`; "" when allowed): None while it still waits, "" when it returns successfully,
    else its failure as the user sees it."""
    failed = None if response.ok else f"{response.code} {response.reason}: {response.message}"
    obj = response.obj
    if unlisted and _watches(step, waiting, failed):
        # the watch never sees the object: the command waits for its timeout (module docstring)
        return _still(waiting, clock, f"{unlisted}; {_timeout_error(step, key)}")
    if step.rollout_status is not None:
        if waiting is not None and (response.code == 404 or (obj is not None and obj.metadata.uid != waiting.uid)):
            return f"error: {DELETED}"
        if failed is not None or obj is None:
            return failed or ""
        verdict = rollout_verdict(obj)
        if verdict.error:
            return f"error: {verdict.error}"
        return "" if verdict.done else _still(waiting, clock, f"error: {TIMED_OUT}")
    assert step.wait is not None
    timeout = _timeout_error(step, key)
    not_met = f"error: condition not met for {_resource_name(key)}"
    if wait_kind(step.wait) == "delete":
        if response.code == 404 or (waiting is not None and obj is not None and obj.metadata.uid != waiting.uid):
            return ""
        if failed is not None:
            return failed
        return not_met if step.wait.timeout_seconds == 0 else _still(waiting, clock, timeout)
    if failed is not None:
        # kubectl's builder GETs the object first; once watching, a deleted object is waited for again
        return failed if waiting is None or response.code != 404 else _still(waiting, clock, timeout)
    met = wait_met(obj, step.wait)
    if isinstance(met, str):  # kubectl's check failed on the object: the command fails at once
        return f"error: {met}"
    if met:
        return ""
    return not_met if step.wait.timeout_seconds == 0 else _still(waiting, clock, timeout)


def wait_met(obj: ApiObject | None, step: WaitStep) -> bool | str:
    """Whether the object meets a `wait` step's `condition=` or `jsonpath=` (`wait_for.jsonpath_met`),
    or the error kubectl's check fails the command with."""
    parsed = parse_for(step.for_)
    assert parsed is not None and obj is not None
    if parsed[0] == "jsonpath":
        return jsonpath_met(encode_object(obj), (parsed[1], parsed[2]))
    return condition_met(obj, parsed[1], parsed[2])


def _timeout_error(step: WorkloadStep, key: ObjectKey) -> str:
    """kubectl's error when the command's timeout passes: `wait.ErrWaitTimeout`, which `kubectl wait`
    names the object in (`extendErrWaitTimeout`)."""
    return f"error: {TIMED_OUT}" if step.rollout_status is not None else \
        f"error: {TIMED_OUT} on {_resource_name(key)}"


def _watches(step: WorkloadStep, waiting: CommandWait | None, failed: str | None) -> bool:
    """Whether the command is at (or past) its watch: watching already, or its first GET succeeded
    and it goes on to watch — every `rollout status`; a `wait` with a timeout (not 0, which GETs
    only), for a condition at once (`getObjAndCheckCondition` does not check the GET's object), for
    a deletion only after its own GET found the object (`IsDeleted`: handled in `outcome`)."""
    if waiting is not None:
        return True
    if failed is not None:
        return False
    if step.rollout_status is not None:
        return True
    assert step.wait is not None
    return step.wait.timeout_seconds != 0 and wait_kind(step.wait) != "delete"


def _still(waiting: CommandWait | None, clock: int, timeout: str) -> str | None:
    """None while the command waits; its timeout failure once its deadline has passed."""
    return timeout if waiting is not None and waiting.timed_out(clock) else None


def start(step: WorkloadStep, index: int, key: ObjectKey, obj: ApiObject, clock: int) -> CommandWait:
    """The wait a command starts on `obj` at model time `clock`."""
    seconds = step.rollout_status.timeout_seconds if step.rollout_status is not None else \
        step.wait.timeout_seconds if step.wait is not None else 0
    return CommandWait(index, key.resource, key.namespace, key.name, obj.metadata.uid,
                       clock + seconds if seconds > 0 else None)


def describe(step: WorkloadStep, key: tuple[str, str, str]) -> str:
    """The kubectl command of a `rolloutStatus` or `wait` step; `key`: (kind as typed, namespace, name)."""
    kind, namespace, name = key
    command = f"wait --for={step.wait.for_}" if step.wait is not None else "rollout status"
    return f"kubectl {command} {kind}/{name} -n {namespace}{timeout_flag(step)}"


def refused(model: ClusterModel, state: ClusterState, get: Request) -> bool:
    """Whether kubectl's GET of an object that exists (its resource builder's, before `scale` or `set
    image` writes) is refused, 403: the step then sends that GET and stops, as kubectl does."""
    return handle(state.store, get, model.api, state.clock).response.code == 403
