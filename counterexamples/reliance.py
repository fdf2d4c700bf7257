"""What a counterexample relies on besides the control plane's own work: the line `kubeprop check`
prints under each violation and `kubeprop replay` under the violation it replays.

A finding that needs no fault, no user step that destroys or takes away part of the cluster, no
misbehaving application and no waiting on the application is the control plane's own doing.
Otherwise the line names, computed from the trace (never per property: one rule for every
property):

- the faults and environment choices the run takes (`kubeprop.model.cluster.drive.is_progress`
  false: the scenario's fault budget, usage changes, memory pressure…), with kind, target and step;
- the user's workload steps that are environment choices or destroy something, with their kubectl
  command and step (`USER_CHOICES`: `kubectl delete` — a Node whose machine still runs, a pod, any
  object —, `kubectl drain` and `kubectl cordon`, which take a node's capacity away); the other
  steps (apply, scale, set image, rollout status, wait, uncordon) are the scenario's workload itself;
- the application's behaviour: failing probes by kind and count, containers exiting with an error;
- model time passing (`Tick`) while the application's own progress was due and did not come
  (`kubeprop.model.cluster.drive.ENVIRONMENT_TIMED` actions enabled in the state the tick was taken
  in: an init container that could have finished, a readiness probe that could have passed, a
  crashed process its supervisor could have restarted). How long an application takes is the
  environment's choice in the model, faithfully (a real migration can take five minutes), so a
  deadline that passes while it is still at work may be the application's timing, not a bug. When
  the violating action is a `kubectl rollout status` / `kubectl wait` returning on its `--timeout`
  (`kubeprop.model.cluster.workload_wait.CommandWait`), only the time that command waited counts,
  and only the progress it waits on: its object's own pods (the object itself, or the pods it
  controls, through controller references: Deployment → ReplicaSet → Pod) and progress of no pod
  (a component's restart, a volume's provisioning). If none of that was due while it waited, the
  line says so: nothing the application did or could do would have made the command return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from kubeprop.counterexamples.steps import FAULTS, lane_of
from kubeprop.model.api.objects import ObjectKey, known_kinds, object_key, qualified_resource
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.aggregation_pending import NOTE as AGGREGATION_NOTE
from kubeprop.model.cluster.compose import actions as enabled_actions
from kubeprop.model.cluster.compose import initial_state, step
from kubeprop.model.cluster.drive import is_environment_timed, is_progress
from kubeprop.model.cluster.maintenance import Drain, FinishDrain, maintenance_state
from kubeprop.model.cluster.workload_commands import describe as describe_step
from kubeprop.model.cluster.workload_wait import CommandWait, command_wait
from kubeprop.model.scenario.schema import WorkloadStep
from kubeprop.model.state.actions import Action, Quiesce, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["LABEL", "Reliance", "reliance", "reliance_line", "trace_reliance"]

LABEL = "relies on"
"""The label of the line (`relies on: …`)."""
SHOWN = 3
"""Entries of one kind the line names before it says how many more there are."""
APP = ("ProbeResult", "ContainerExit", "StopGracefully")
"""The kubelet's actions that stand for the application's behaviour (a failing one is listed as such;
`StopGracefully`: the pod's containers exiting on SIGTERM with the code the process chose)."""
USER_CHOICES = ("delete", "drain", "cordon")
"""The workload steps the line names: they destroy something (`kubectl delete`: a Node deleted while
its machine and kubelet still run, a pod's processes killed, any object and what it owned) or take a
node's capacity away (`kubectl drain`, `kubectl cordon`) — choices of the user and their environment,
which a finding may need as it may need a fault."""
OWNER_DEPTH = 3
"""Controller references followed from a pod to the object a command waits on (Pod → ReplicaSet →
Deployment is two)."""


@attrs.frozen
class Reliance:
    """The parts of the line: faults and environment choices, the user's destructive or environment
    steps, the application's behaviour, and time waited out on the application (each a phrase, most
    telling first); `notes`: what the line adds without being a reliance (a command that timed out
    with none of its progress due)."""

    faults: tuple[str, ...] = ()
    app: tuple[str, ...] = ()
    waits: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def none(self) -> bool:
        """True when the run needs nothing but the control plane (and the scenario's workload)."""
        return not (self.faults or self.steps or self.app or self.waits)


def reliance_line(found: Reliance) -> str:
    """`relies on: …`, or that the run relies on the control plane alone; then the notes."""
    if found.none:
        line = (f"{LABEL}: the control plane alone (no fault, no failing probe or container, "
                "no time waited out on the application)")
    else:
        parts = [*found.faults, *found.steps, *found.app, *found.waits]
        if not found.faults:
            parts.insert(0, "no fault")
        line = f"{LABEL}: " + "; ".join(parts)
    return "; ".join((line, *found.notes))


def trace_reliance(model: ClusterModel, trace: Sequence[Action]) -> Reliance:
    """`reliance` of a trace from the model's initial state (as `kubeprop check` has it)."""
    states = [initial_state(model)]
    for act in trace:
        states.append(step(model, states[-1], act))
    return reliance(model, states, trace)


def reliance(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action]) -> Reliance:
    """What the run (`states[k]`: the state after `trace[:k]`, as far as replayed) relies on."""
    taken = list(trace[: max(len(states) - 1, 0)])
    waits, notes = _waits(model, states, taken)
    notes += _aggregation(states, taken)
    return Reliance(_faults(taken), _app(taken), waits, _user_steps(model, taken), notes)


def _aggregation(states: Sequence[ClusterState], taken: Sequence[Action]) -> tuple[str, ...]:
    """A note when the run ends with a workload step refused because the clusterrole-aggregation
    controller had not yet run (`aggregation_pending.pending_note`): a race upstream has too, which
    no fault and no waiting brings about."""
    last = taken[-1] if taken else None
    if not isinstance(last, UserStep) or len(states) <= len(taken):
        return ()
    failure = states[len(taken)].workload_errors.get(last.index, "")
    if AGGREGATION_NOTE not in failure:
        return ()
    what = failure.partition(AGGREGATION_NOTE)[2].split(";")[0].rstrip(")").strip()
    return (f"the step ran before the clusterrole-aggregation controller aggregated {what}: an interleaving "
            "upstream has too (the controller acts after its informer sees the ClusterRole); docs/scenario.md "
            "\"Aggregated ClusterRoles\" says how to write the scenario",)


def _target(act: Action) -> str:
    """What an action acts on: a pod's container, a pod, a component, a node, or its fields."""
    pod, container = getattr(act, "pod", None), getattr(act, "container", None)
    if isinstance(pod, str) and isinstance(container, str):
        return f"container {container} of pod {pod}"
    if isinstance(pod, str):
        return f"pod {pod}"
    code = getattr(act, "code", None)
    for field in ("component", "node", "drained", "claim", "volume"):
        value = getattr(act, field, None)
        if isinstance(value, str):
            return value + (f" ({code})" if isinstance(code, int) else "")
    text = str(act)
    return text[text.find("(") + 1: -1] if "(" in text else ""


def _faults(trace: Sequence[Action]) -> tuple[str, ...]:
    """`fault CrashComponent controller-manager at step 40`, one phrase per kind and target."""
    steps: dict[tuple[str, str, str], list[int]] = {}
    for index, act in enumerate(trace, 1):
        if is_progress(act) or isinstance(act, UserStep | Quiesce) or type(act).__name__ in APP:
            continue
        label = "fault" if lane_of(act) == FAULTS else "environment"
        steps.setdefault((label, type(act).__name__, _target(act)), []).append(index)
    out = []
    for (label, kind, target), at in steps.items():
        where = f"at step {at[0]}" if len(at) == 1 else f"{len(at)} times, at steps {_some(map(str, at))}"
        out.append(f"{label} {kind} {target} {where}".replace("  ", " "))
    return _capped(out, "other faults")


def _app(trace: Sequence[Action]) -> tuple[str, ...]:
    """`15 failing liveness probes (container shop of pods default/a, default/b)`, and containers
    exiting with an error."""
    groups: dict[str, list[Action]] = {}
    for act in trace:
        if getattr(act, "success", True) is not False:
            continue
        name = type(act).__name__
        if name == "ProbeResult":
            groups.setdefault(f"failing {getattr(act, 'probe', '')} probe", []).append(act)
        elif name in ("ContainerExit", "StopGracefully"):  # exit 1 is the model's plain failure; another code is named
            code = getattr(act, "exit_code", 1)
            what = "container exit" if name == "ContainerExit" else "exit on SIGTERM"
            groups.setdefault(f"{what} with an error" if code == 1 else f"{what} with code {code}", []).append(act)
    out = []
    for what, acts in groups.items():
        pods: dict[str, list[str]] = {}
        for a in acts:
            pods.setdefault(str(getattr(a, "container", "")), []).append(str(getattr(a, "pod", "")))
        where = "; ".join(f"container {c} of {_subjects(list(dict.fromkeys(p)))}" if c
                          else _subjects(list(dict.fromkeys(p))) for c, p in pods.items())
        plural = what.replace("probe", "probes").replace("exit ", "exits ") if len(acts) != 1 else what
        out.append(f"{len(acts)} {plural} ({where})")
    return tuple(out)


def _user_steps(model: ClusterModel, trace: Sequence[Action]) -> tuple[str, ...]:
    """`user step 4 (kubectl delete node w3) at step 300`: the `USER_CHOICES` steps taken, each
    at the first action of its step (a command that waits returns with a second one)."""
    workload = model.scenario.spec.workload
    first: dict[int, int] = {}
    for index, act in enumerate(trace, 1):
        if isinstance(act, UserStep) and 0 <= act.index < len(workload) and _user_choice(workload[act.index]):
            first.setdefault(act.index, index)
    out = [f"user step {i + 1} ({describe_step(workload[i])}) at step {at}" for i, at in first.items()]
    return _capped(out, "other user steps")


def _user_choice(workload_step: WorkloadStep) -> bool:
    return any(getattr(workload_step, field) is not None for field in USER_CHOICES)


def _waits(model: ClusterModel, states: Sequence[ClusterState],
           trace: Sequence[Action]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(`300 s pass while init container migrate of pod default/x has not finished`: for each piece
    of the application's progress that was due (enabled) when a `Tick` was taken instead, the
    seconds that passed so; pieces alike that waited as long are named together; the notes). When
    the trace ends with a command returning on its timeout (`_timed_out`), only its wait counts."""
    if not any(isinstance(act, Tick) for act in trace):
        return (), ()
    timed_out = _timed_out(states, trace)
    drain = _drain_timed_out(states, trace) if timed_out is None else None
    waited: dict[tuple[str, str], int] = {}
    for index, act in enumerate(trace):
        if not isinstance(act, Tick):
            continue
        before = states[index]
        if timed_out is not None and command_wait(before) != timed_out:
            continue
        if drain is not None and _drain_of(before, drain) is None:
            continue
        for due in enabled_actions(model, before):
            if is_environment_timed(due) and is_progress(due) and (
                    timed_out is None or _waited_on(before.store, due, timed_out)) and (
                    drain is None or _drain_waits_on(before, drain, due)):
                key = _pending(before, due)
                waited[key] = waited.get(key, 0) + act.seconds
    together: dict[tuple[str, int], list[str]] = {}
    for (phrase, subject), seconds in waited.items():
        together.setdefault((phrase, seconds), []).append(subject)
    ranked = sorted(together.items(), key=lambda kv: (-kv[0][1], kv[0][0]))
    out = [f"{seconds} s pass while {phrase.format(_subjects(subjects), has='has' if len(subjects) == 1 else 'have')}"
           for (phrase, seconds), subjects in ranked]
    notes: tuple[str, ...] = ()
    if not out and timed_out is not None:
        notes = (_nothing_due(model, timed_out.step),)
    elif not out and drain is not None:
        notes = (_nothing_due(model, drain.step, "the pods it evicts"),)
    return _capped(out, "other waits", 2), notes


@attrs.frozen
class _DrainTimeout:
    """A user's `kubectl drain` that returned on its `--timeout` (the trace's last action, a
    `FinishDrain`): its node, when it started and its workload step."""

    node: str
    started_at: int
    step: int


def _drain_timed_out(states: Sequence[ClusterState], trace: Sequence[Action]) -> _DrainTimeout | None:
    """The user's drain the trace's last action ends on its `--timeout`, if it does: only the time it
    waited counts, and only progress of the pods it evicts or waits for (`_drain_waits_on`) — a
    probe of a pod on another node cannot make it return (trial18)."""
    last, before = trace[-1], states[len(trace) - 1]
    if not isinstance(last, FinishDrain):
        return None
    drain = maintenance_state(before).draining.get(last.drained)
    if drain is None or drain.by != "user" or not drain.timed_out(before.clock):
        return None
    return _DrainTimeout(last.drained, drain.started_at, before.workload_next - 1)


def _drain_of(state: ClusterState, timeout: _DrainTimeout) -> Drain | None:
    """The drain of `timeout` as `state` has it, if it was running then."""
    drain = maintenance_state(state).draining.get(timeout.node)
    return drain if drain is not None and drain.started_at == timeout.started_at else None


def _drain_waits_on(state: ClusterState, timeout: _DrainTimeout, due: Action) -> bool:
    """Whether progress `due` is some the drain waits on: progress of no pod, or of a pod it has still
    to evict or waits to be gone."""
    pod = getattr(due, "pod", None)
    drain = _drain_of(state, timeout)
    return not isinstance(pod, str) or (drain is not None and (pod in drain.pending or pod in drain.waiting))


def _timed_out(states: Sequence[ClusterState], trace: Sequence[Action]) -> CommandWait | None:
    """The command the trace's last action returns on its `--timeout`, if it does: the action is
    the command's `UserStep`, taken once the command's deadline has passed."""
    last, before = trace[-1], states[len(trace) - 1]
    waiting = command_wait(before)
    if not isinstance(last, UserStep) or waiting is None or waiting.step != last.index:
        return None
    return waiting if waiting.timed_out(before.clock) else None


def _waited_on(store: Store, due: Action, waiting: CommandWait) -> bool:
    """Whether progress `due` is some the command waits on: progress of no pod, or of a pod that is
    the command's object or is controlled by it (controller references, by kind and name: kubectl
    follows the object's name)."""
    pod = getattr(due, "pod", None)
    if not isinstance(pod, str):
        return True
    namespace, _, name = pod.partition("/")
    obj = store.get(ObjectKey("pods", namespace, name))
    kinds = known_kinds()
    for _ in range(OWNER_DEPTH + 1):
        if obj is None:
            return False
        if object_key(obj) == waiting.key:
            return True
        ref = obj.metadata.controller_ref()
        info = kinds.get((ref.api_version, ref.kind)) if ref is not None else None
        if ref is None or info is None:
            return False
        owner = store.get(ObjectKey(qualified_resource(info), namespace, ref.name))
        obj = owner if owner is not None and owner.metadata.uid == ref.uid else None
    return False


def _nothing_due(model: ClusterModel, step_index: int, what: str = "the application it waits on") -> str:
    """The note for a command that timed out with none of the progress it waits on due."""
    command = describe_step(model.scenario.spec.workload[step_index])
    return (f"user step {step_index + 1} ({command}) timed out, and no progress of {what} "
            "was due: nothing the application did would have made it return")


def _pending(state: ClusterState, due: Action) -> tuple[str, str]:
    """A phrase with `{}` for its subject, and the subject, of progress due and not yet taken."""
    name = type(due).__name__
    pod, container = str(getattr(due, "pod", "")), str(getattr(due, "container", ""))
    if name == "ContainerExit":
        init = container in _init_containers(state, pod)
        return ((f"init container {container} of {{}} {{has}} not finished" if init
                 else f"container {container} of {{}} {{has}} not exited"), pod)
    if name == "ProbeResult":
        probe = str(getattr(due, "probe", ""))
        return f"the {probe} probe of container {container} of {{}} {{has}} not passed", pod
    if name == "RestartContainer":
        return f"container {container} of {{}} {{has}} not restarted (its back-off over)", pod
    if name == "StopGracefully":
        return "{} {has} not exited on SIGTERM", pod
    if name == "MountVolumes":
        return "{} {has} not started: a volume not mounted yet (FailedMount)", pod
    if name == "RestartComponent":
        return "{} {has} not been restarted", _target(due)
    if name == "ProvisionVolume":
        return "the volume of claim {} {has} not been provisioned", _target(due)
    if name == "DeleteVolume":
        return "volume {} {has} not been deleted", _target(due)
    return f"{name} ({{}}) {{has}} not happened", _target(due)


def _init_containers(state: ClusterState, pod: str) -> tuple[str, ...]:
    namespace, _, name = pod.partition("/")
    obj = state.store.get(ObjectKey("pods", namespace, name))
    spec = getattr(obj, "spec", None)
    return tuple(c.name for c in getattr(spec, "init_containers", ()))


def _subjects(subjects: list[str]) -> str:
    """`pod default/a`, `pods default/a, default/b`, `4 pods (default/a, default/b, default/c, …)`."""
    pods = all("/" in s for s in subjects)
    if len(subjects) == 1:
        return f"pod {subjects[0]}" if pods else subjects[0]
    return f"{'pods ' if pods else ''}{_some(subjects)}"


def _some(items: Iterable[str]) -> str:
    shown = list(items)
    if len(shown) <= SHOWN:
        return ", ".join(shown)
    return ", ".join(shown[:SHOWN]) + f" and {len(shown) - SHOWN} more"


def _capped(phrases: list[str], other: str, keep: int = SHOWN) -> tuple[str, ...]:
    if len(phrases) <= keep + 1:
        return tuple(phrases)
    return (*phrases[:keep], f"{len(phrases) - keep} {other}")
