"""The checks of a decoded scenario file that its types cannot express.

Every check returns a list of `(field path, message)` problems, so the loader reports them all in
one run, each at its line: the apiVersion and variant, each model parameter against its declared
range (`schema.parameter_problem`), the topology (unique node names, roles, non-negative
resources, etcd members on existing nodes), users, fault budgets and bounds within their ranges
(`MAX_FAULTS`, `BOUND_RANGES`: a huge value is always a mistake and never cheap), and the
workload steps (exactly one action each; a `scale`, `setImage`, `rolloutStatus` or `rolloutRestart`
step must name a workload the manifests or an earlier `apply` step define, since scaling nothing is
always a mistake).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.codec import FieldPath, json_name
from kubeprop.model.api.objects import ApiObject, kind_info
from kubeprop.model.api.quantity import MAX_INT64, Quantity
from kubeprop.model.scenario.schema import (
    DAY_SECONDS,
    KUBECTL_WEEK_SECONDS,
    SCENARIO_API_VERSION,
    RolloutRestartStep,
    RolloutStatusStep,
    ScaleStep,
    ScenarioFile,
    SetImageStep,
    WorkloadStep,
    cut,
    parameter_problem,
    parse_for,
)
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.scenario.wait_for import parse_jsonpath

Found = list[tuple[FieldPath, str]]

MAX_INT32 = 2**31 - 1
"""The largest `replicas` (staging/src/k8s.io/api/autoscaling/v1/types.go ScaleSpec.Replicas, the
int32 that `kubectl scale --replicas` sends; pkg/apis/autoscaling/validation ValidateScale: not
negative)."""

MAX_FAULTS = 1_000
"""The most faults of one kind a scenario may budget: each one multiplies the interleavings, so a
search spends nothing of a larger budget before its time is up."""

BOUND_RANGES: dict[str, tuple[int, int]] = {
    "maxDepth": (1, 1_000_000),  # the range of `kubeprop check --max-depth`, which it is the default of
    "maxStates": (1, 1_000_000),  # of `--max-states`: the bound exists for memory (docs/cli.md)
    "tickSeconds": (1, DAY_SECONDS),  # the clock's step; every timer of the model is shorter than a day
    "timeLimitSeconds": (1, 10_000_000),  # of `--budget` (whole seconds here)
}
"""The valid values of each `bounds:` field: maxDepth, maxStates and timeLimitSeconds are the
defaults of `kubeprop check --max-depth`, `--max-states` and `--budget`
(`kubeprop.counterexamples.check_bounds`), and have those flags' ranges."""

WORKLOAD_FIELDS = {"deployment": "Deployment", "statefulset": "StatefulSet", "replicaset": "ReplicaSet"}
"""Workload step target fields and the kind each names."""
TARGET_KINDS = {**WORKLOAD_FIELDS, "daemonset": "DaemonSet"}
"""Every step's target fields (`rolloutStatus` may also name a DaemonSet) and the kind each names."""


def check_spec(spec: ScenarioFile) -> Found:
    """Every problem of `spec` that does not need its manifests."""
    found: Found = []
    if spec.api_version != SCENARIO_API_VERSION:
        found.append((("apiVersion",), f"must be {SCENARIO_API_VERSION}"))
    if spec.variant not in VARIANTS:
        found.append((("variant",), f"unknown variant; valid: {', '.join(VARIANTS)}"))
    for key, value in spec.parameters.items():
        problem = parameter_problem(key, value)
        if problem is not None:
            found.append((("parameters", key), problem))
    found += _topology(spec)
    names = [u.name for u in spec.users]
    if spec.apply_as and spec.apply_as not in names:
        found.append((("applyAs",), f"no user {spec.apply_as!r}; users: {', '.join(names) or '(none)'}"))
    found += [(("workload", i, "as"), f"no user {step.as_!r}; users: {', '.join(names) or '(none)'} (kubectl --as: "
                                      "a user of the scenario's users:)")
              for i, step in enumerate(spec.workload) if step.as_ and step.as_ not in names]
    found += _in_range(spec.faults, ("faults",), 0, MAX_FAULTS)
    found += _bounds(spec)
    for i, step in enumerate(spec.workload):
        chosen = [f for f in STEP_FIELDS if getattr(step, f)]
        if len(chosen) != 1:
            found.append((("workload", i), f"exactly one of {', '.join(json_names(STEP_FIELDS))}"))
        target = _target_step(step)
        if target is not None and len(_targets(target)) != 1:
            field, kinds = _target_field(step)
            found.append((("workload", i, field), f"exactly one of {', '.join(kinds)}"))
        if step.scale is not None:
            found += scale_step_problems(step.scale, ("workload", i, "scale"))
        found += wait_step_problems(step, ("workload", i))
    return found


STEP_FIELDS = ("apply", "scale", "set_image", "delete", "cordon", "drain", "uncordon", "rollout_status",
               "rollout_restart", "wait")
"""The fields of a workload step, one of which each step sets."""
ROLLOUT_FIELDS = ("deployment", "statefulset", "daemonset")
"""`rolloutStatus` and `rolloutRestart` target fields (kubectl's status viewers the model has a kind for;
the kinds `kubectl rollout restart` restarts)."""
WAIT_FOR = "condition=NAME[=VALUE], jsonpath=EXPRESSION[=VALUE] or delete"
"""The `wait` step's valid `for` values."""


def json_names(fields: Iterable[str]) -> list[str]:
    """The scenario file's (camelCase) names of schema fields."""
    return [head + "".join(p[:1].upper() + p[1:] for p in rest) for head, *rest in (f.split("_") for f in fields)]


TargetStep = ScaleStep | SetImageStep | RolloutStatusStep | RolloutRestartStep
"""A step that names one workload by a target field."""


def _target_step(step: WorkloadStep) -> TargetStep | None:
    return step.scale or step.set_image or step.rollout_status or step.rollout_restart


def _target_field(step: WorkloadStep) -> tuple[str, tuple[str, ...]]:
    """The step's field naming a workload, and the target fields it may use."""
    if step.scale is not None or step.set_image is not None:
        return ("scale", tuple(WORKLOAD_FIELDS)) if step.scale is not None else ("setImage", tuple(TARGET_KINDS))
    return ("rolloutRestart" if step.rollout_restart is not None else "rolloutStatus"), ROLLOUT_FIELDS


def scale_step_problems(scale: ScaleStep, at: FieldPath) -> Found:
    """A `scale` step's replicas and its preconditions (`staging/src/k8s.io/kubectl/pkg/cmd/scale/
    scale.go` Validate: `--current-replicas` -1 or more; `staging/src/k8s.io/kubectl/pkg/scale/
    scale.go` ScalePrecondition.validate compares it with the Scale's int32 `spec.replicas`, and
    `--resource-version` as text with the Scale's resourceVersion, which the API server issues as a
    decimal revision: a value past int32 or another text can never hold, so it is refused)."""
    found: Found = []
    if not 0 <= scale.replicas <= MAX_INT32:
        found.append(((*at, "replicas"), _range_message(0, MAX_INT32, scale.replicas)))
    if not -1 <= scale.current_replicas <= MAX_INT32:
        found.append(((*at, "currentReplicas"), f"{_range_message(-1, MAX_INT32, scale.current_replicas)} "
                                                "(kubectl --current-replicas; -1, its default: no precondition)"))
    version = scale.resource_version
    if version and not (version.isascii() and version.isdigit() and not version.startswith("0")):
        found.append(((*at, "resourceVersion"), f"must be a resourceVersion as the API server issues them, a "
                                                f'positive whole number written as a string such as "42", got '
                                                f"{cut(version)!r} (kubectl --resource-version compares it as text: "
                                                "any other value never holds)"))
    return found


def wait_step_problems(step: WorkloadStep, at: FieldPath) -> Found:
    """A `rolloutStatus`, `wait` or `drain` step's timeout, and a `wait` step's target and `for`."""
    found: Found = []
    for field, waiting in (("rolloutStatus", step.rollout_status), ("drain", step.drain)):
        if waiting is not None and not 0 <= waiting.timeout_seconds <= KUBECTL_WEEK_SECONDS:
            found.append(((*at, field, "timeoutSeconds"),
                          f"{_range_message(0, KUBECTL_WEEK_SECONDS, waiting.timeout_seconds)} "
                          "(0: wait for ever, kubectl's default)"))
    wait = step.wait
    if wait is None:
        return found
    base = (*at, "wait")
    if not -1 <= wait.timeout_seconds <= KUBECTL_WEEK_SECONDS:
        found.append(((*base, "timeoutSeconds"), f"{_range_message(-1, KUBECTL_WEEK_SECONDS, wait.timeout_seconds)} "
                                                 "(-1: wait for ever; 0: check once; kubectl's default is 30)"))
    for field in ("kind", "name"):
        if not getattr(wait, field):
            found.append(((*base, field), "Required value"))
    if not wait.for_:
        found.append(((*base, "for"), f"Required value: {WAIT_FOR}"))
    elif parse_for(wait.for_) is None:
        what = wait.for_.partition("=")[0]
        why = (f"kubectl wait --for={what} is not modelled" if what.lower() == "create"
               else f"{parse_jsonpath(wait.for_[len('jsonpath='):])}" if what == "jsonpath"
               else f"unrecognized condition {cut(wait.for_)!r}")
        found.append(((*base, "for"), f"{why}; valid: {WAIT_FOR}"))
    return found


def _targets(step: TargetStep) -> list[tuple[str, str]]:
    """(field, reference) of each workload the step names."""
    return [(f, getattr(step, f)) for f in TARGET_KINDS if getattr(step, f, "")]


def node_resource_problem(resource: str, quantity: Quantity) -> str | None:
    """Why a node's capacity or allocatable of `resource` is not valid (None if it is): negative, or
    beyond the int64 the scheduler reads it as — millicores for cpu, units for the rest
    (pkg/scheduler/framework/types.go `Resource.Add`: `MilliCPU += rQuant.MilliValue()`, `Memory +=
    rQuant.Value()`, …); upstream a larger value overflows, and the model's scoring failed on it."""
    if quantity.sign() < 0:
        return f"must not be negative, got {quantity}"
    scaled = quantity.milli_value() if resource == "cpu" else quantity.value()
    if scaled > MAX_INT64:
        most = f"{MAX_INT64}m" if resource == "cpu" else str(MAX_INT64)
        return f"must be at most {most} (the scheduler's int64), got {cut(quantity)}"
    return None


def _range_message(low: int, high: int, value: int) -> str:
    return f"must be between {low:,} and {high:,}, got {cut(value)}"


def _in_range(section: Any, path: FieldPath, low: int, high: int) -> Found:
    """Every integer field of `section` outside low..high."""
    found: Found = []
    for field in attrs.fields(type(section)):
        value = getattr(section, field.name)
        if isinstance(value, int) and not isinstance(value, bool) and not low <= value <= high:
            found.append(((*path, json_name(field)), _range_message(low, high, value)))
    return found


def _bounds(spec: ScenarioFile) -> Found:
    found: Found = []
    for field in attrs.fields(type(spec.bounds)):
        name, value = json_name(field), getattr(spec.bounds, field.name)
        low, high = BOUND_RANGES[name]
        if value is not None and not low <= value <= high:
            found.append((("bounds", name), _range_message(low, high, value)))
    return found


def _topology(spec: ScenarioFile) -> Found:
    found: Found = []
    seen: set[str] = set()
    for i, node in enumerate(spec.topology.nodes):
        at: FieldPath = ("topology", "nodes", i)
        if not node.name:
            found.append(((*at, "name"), "Required value"))
        elif node.name in seen:
            found.append(((*at, "name"), f"duplicate node {node.name!r}"))
        seen.add(node.name)
        if node.role not in ("worker", "control-plane"):
            found.append(((*at, "role"), "must be worker or control-plane"))
        if not node.allocatable and not node.capacity:
            found.append((at, "needs capacity or allocatable (cpu, memory, pods)"))
        for section in ("capacity", "allocatable"):
            for resource, quantity in getattr(node, section).items():
                problem = node_resource_problem(resource, quantity)
                if problem is not None:
                    found.append(((*at, section, resource), problem))
    for i, member in enumerate(spec.topology.etcd):
        if member.node and member.node not in seen:
            found.append((("topology", "etcd", i, "node"), f"no node {member.node!r} in the topology"))
    return found


def check_workload_targets(spec: ScenarioFile, manifests: Iterable[ApiObject],
                           applied: Iterable[Iterable[ApiObject]]) -> Found:
    """Each `scale`/`setImage`/`rolloutStatus`/`rolloutRestart` step must name a workload defined by the
    manifests or by an `apply` step before it (`applied[i]`: the objects step i applies, empty for other steps).
    A reference is `name` or `namespace/name` (namespace `default` when omitted)."""
    defined = {_key(o) for o in manifests}
    found: Found = []
    for i, (step, objects) in enumerate(zip(spec.workload, applied, strict=True)):
        target = _target_step(step)
        if target is not None:
            field = _target_field(step)[0]
            for name, ref in _targets(target):
                namespace, _, obj_name = ref.rpartition("/")
                if (TARGET_KINDS[name], namespace or "default", obj_name) not in defined:
                    known = sorted(f"{ns}/{n}" for k, ns, n in defined if k == TARGET_KINDS[name])
                    message = (f"no {TARGET_KINDS[name]} {ref!r} in the manifests or an earlier apply step; "
                               f"defined: {', '.join(known) or '(none)'}")
                    found.append((("workload", i, field, name), message))
        defined |= {_key(o) for o in objects}
    return found


def _key(obj: ApiObject) -> tuple[str, str, str]:
    return kind_info(obj).kind, obj.metadata.namespace or "default", obj.metadata.name
