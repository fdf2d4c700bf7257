"""Checks of the scenario sections for the environment, the descheduler and maintenance that their
types cannot express: each problem is a (field path, message) pair, reported by `load` with the
file and line (docs/hpa.md, docs/descheduler.md, docs/disruption.md)."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from kubeprop.model.api.names import is_dns1123_label, is_qualified_name, is_valid_label_value
from kubeprop.model.api.quantity import MAX_INT64
from kubeprop.model.scenario.checks import MAX_INT32
from kubeprop.model.scenario.schema import DAY_SECONDS, ScenarioFile, cut

FieldPath = tuple[str | int, ...]
RESOURCES = ("cpu", "memory", "pods")
# `MAX_INT32` bounds the descheduler's priority threshold (sigs.k8s.io/descheduler pkg/api/types.go
# PriorityThreshold.Value *int32, a pod priority) and its counts (`MaxNoOfPodsToEvictPerNode *int`,
# pkg/api/v1alpha2/types.go; compared with pod counts, so any larger value means the same).


def addon_problems(spec: ScenarioFile, raw: object = None) -> Iterator[tuple[FieldPath, str]]:
    """Every problem of the add-on sections; `raw`, the scenario document as read (None: not
    known), for the values a decoding problem left out of `spec` (`_raw_codes`)."""
    yield from _usage(spec)
    yield from _exits(spec, raw)
    yield from _descheduler(spec)


def _usage(spec: ScenarioFile) -> Iterator[tuple[FieldPath, str]]:
    for i, entry in enumerate(spec.environment.usage):
        path: FieldPath = ("environment", "usage", i)
        if bool(entry.levels) == bool(entry.load):
            yield path, "exactly one of levels (per-pod usage) and load (shared by the Ready pods)"
        if entry.resource not in ("cpu", "memory"):
            yield (*path, "resource"), f"unsupported resource {entry.resource!r}; valid: cpu, memory"
        for name, values in (("levels", entry.levels), ("load", entry.load)):
            for k, value in enumerate(values):
                if value.sign() < 0:
                    yield (*path, name, k), "must not be negative"
                elif value.milli_value() > MAX_INT64:  # the HPA reads metrics in milli-units, an int64
                    yield ((*path, name, k), f"must be at most {MAX_INT64}m (pkg/controller/podautoscaler/metrics/"
                                             "client.go reads usage as an int64 of milli-units)")
        if not entry.pods:
            yield (*path, "pods"), "Required value: the labels of the pods this usage applies to"


MAX_EXIT_CODE = 255
"""A process's exit status is one byte (the runtime reports it as `exitCode` 0–255)."""


def _exits(spec: ScenarioFile, raw: object = None) -> Iterator[tuple[FieldPath, str]]:
    """`environment.exits` (docs/scenario.md): a valid namespace, selector and container name, exit
    codes 0–255 (when given, at least one, and 0 among them: `kubeprop.model.kubelet.exit_rules`), a
    positive `withinSeconds` of at most a day."""
    for i, entry in enumerate(spec.environment.exits):
        if entry.codes is None:  # (a code that is not an integer left the list out: judge the others too)
            yield from _raw_codes(("environment", "exits", i, "codes"), raw)
        path: FieldPath = ("environment", "exits", i)
        if not entry.pods:
            yield (*path, "pods"), "Required value: the labels of the pods whose containers this rule covers"
        for key, value in entry.pods.sorted_items():
            yield from (((*path, "pods", key), f"invalid label key: {m}") for m in is_qualified_name(key))
            yield from (((*path, "pods", key), f"invalid label value '{cut(value)}': {m}")
                        for m in is_valid_label_value(value))
        yield from (((*path, "namespace"), m) for m in is_dns1123_label(entry.namespace))
        if entry.container:
            yield from (((*path, "container"), m) for m in is_dns1123_label(entry.container))
        if entry.codes == ():
            yield (*path, "codes"), "must list at least one exit code (leave codes out for 0 or non-zero)"
        for k, code in enumerate(entry.codes or ()):
            if not 0 <= code <= MAX_EXIT_CODE:
                yield (*path, "codes", k), f"must be an exit code from 0 to {MAX_EXIT_CODE}, got {cut(code)}"
        if entry.codes and 0 not in entry.codes:
            yield ((*path, "codes"), "must include 0: the run a user expects ends a container with an exit 0 (a "
                   "failing exit is the environment's bad luck, which only the searches take), so a rule that "
                   "only lets it fail is not supported; leave codes out for 0 or non-zero")
        if entry.within_seconds is not None and not 1 <= entry.within_seconds <= DAY_SECONDS:
            yield ((*path, "withinSeconds"), f"must be between 1 and {DAY_SECONDS:,} (seconds after the container "
                   f"started), got {cut(entry.within_seconds)}")


def _raw_codes(path: FieldPath, raw: object) -> Iterator[tuple[FieldPath, str]]:
    """The range problem of each integer at `path` in the document as read, when the decoded list is
    missing because another entry is no integer (`[0, 256, 1.5]`: that problem is the decoder's, and
    256's is reported with it, all at once)."""
    value = raw
    for key in path:
        if isinstance(key, int) and isinstance(value, list) and key < len(value):
            value = value[key]
        elif isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        else:
            return
    for k, code in enumerate(value if isinstance(value, list) else ()):
        if isinstance(code, int) and not isinstance(code, bool) and not 0 <= code <= MAX_EXIT_CODE:
            yield (*path, k), f"must be an exit code from 0 to {MAX_EXIT_CODE}, got {cut(code)}"


def _descheduler(spec: ScenarioFile) -> Iterator[tuple[FieldPath, str]]:
    decl = spec.descheduler
    if decl is None:
        return
    if not 1 <= decl.interval_seconds <= DAY_SECONDS:
        yield (("descheduler", "intervalSeconds"), f"must be between 1 and {DAY_SECONDS:,} (the model runs the "
               f"descheduler periodically), got {cut(decl.interval_seconds)}")
    if decl.max_pods_to_evict_per_node is not None and not 0 <= decl.max_pods_to_evict_per_node <= MAX_INT32:
        yield (("descheduler", "maxPodsToEvictPerNode"),
               f"must be between 0 and {MAX_INT32:,}, got {cut(decl.max_pods_to_evict_per_node)}")
    threshold = decl.evictor.priority_threshold
    if threshold is not None and not -MAX_INT32 - 1 <= threshold <= MAX_INT32:
        yield (("descheduler", "evictor", "priorityThreshold"),
               f"must be a pod priority, between {-MAX_INT32 - 1:,} and {MAX_INT32:,}, got {cut(threshold)}")
    spread = decl.plugins.remove_pods_violating_topology_spread_constraint
    if spread is not None:
        for k, value in enumerate(spread.constraints):
            if value not in ("DoNotSchedule", "ScheduleAnyway"):
                yield (("descheduler", "plugins", "removePodsViolatingTopologySpreadConstraint", "constraints", k),
                       f"unsupported value {value!r}; valid: DoNotSchedule, ScheduleAnyway")
    low = decl.plugins.low_node_utilization
    if low is not None:
        base: FieldPath = ("descheduler", "plugins", "lowNodeUtilization")
        for name, values in (("thresholds", low.thresholds), ("targetThresholds", low.target_thresholds)):
            for resource, percent in values.items():
                if resource not in RESOURCES:
                    yield (*base, name, resource), f"unsupported resource; valid: {', '.join(RESOURCES)}"
                elif not 0 <= percent <= 100:
                    yield (*base, name, resource), "must be a percentage from 0 to 100"
        if not 0 <= low.number_of_nodes <= MAX_INT32:
            yield (*base, "numberOfNodes"), f"must be between 0 and {MAX_INT32:,}, got {cut(low.number_of_nodes)}"
        if set(low.thresholds) != set(low.target_thresholds):
            yield base, "thresholds and targetThresholds must name the same resources"
        for resource, percent in low.thresholds.items():
            if percent > low.target_thresholds.get(resource, 100):
                yield (*base, "thresholds", resource), "must not exceed its targetThresholds value"


def node_step_problems(spec: ScenarioFile, nodes: Collection[str]) -> Iterator[tuple[FieldPath, str]]:
    """`cordon`, `drain` and `uncordon` steps must name a node of the cluster: `nodes`, those of
    `topology.nodes` or, when the manifests hold Node objects, theirs (known once they are read)."""
    for i, step in enumerate(spec.workload):
        for field, value in (("cordon", step.cordon), ("drain", step.drain), ("uncordon", step.uncordon)):
            if value is not None and value.node not in nodes:
                yield (("workload", i, field, "node"),
                       f"no node {value.node!r} in the cluster; its nodes: {', '.join(sorted(nodes)) or '(none)'}")
