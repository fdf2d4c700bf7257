"""Checks of the scenario sections for the environment, the descheduler and maintenance that their
types cannot express: each problem is a (field path, message) pair, reported by `load` with the
file and line (docs/hpa.md, docs/descheduler.md, docs/disruption.md)."""

from __future__ import annotations

from collections.abc import Iterator

from kubeprop.model.scenario.schema import ScenarioFile

FieldPath = tuple[str | int, ...]
RESOURCES = ("cpu", "memory", "pods")


def addon_problems(spec: ScenarioFile) -> Iterator[tuple[FieldPath, str]]:
    """Every problem of the add-on sections."""
    yield from _usage(spec)
    yield from _descheduler(spec)
    yield from _node_steps(spec)


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
        if not entry.pods:
            yield (*path, "pods"), "Required value: the labels of the pods this usage applies to"


def _descheduler(spec: ScenarioFile) -> Iterator[tuple[FieldPath, str]]:
    decl = spec.descheduler
    if decl is None:
        return
    if decl.interval_seconds <= 0:
        yield ("descheduler", "intervalSeconds"), "must be positive (the model runs the descheduler periodically)"
    if decl.max_pods_to_evict_per_node is not None and decl.max_pods_to_evict_per_node < 0:
        yield ("descheduler", "maxPodsToEvictPerNode"), "must not be negative"
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
        if set(low.thresholds) != set(low.target_thresholds):
            yield base, "thresholds and targetThresholds must name the same resources"
        for resource, percent in low.thresholds.items():
            if percent > low.target_thresholds.get(resource, 100):
                yield (*base, "thresholds", resource), "must not exceed its targetThresholds value"


def _node_steps(spec: ScenarioFile) -> Iterator[tuple[FieldPath, str]]:
    nodes = {n.name for n in spec.topology.nodes}
    for i, step in enumerate(spec.workload):
        for field, value in (("cordon", step.cordon), ("drain", step.drain), ("uncordon", step.uncordon)):
            if value is not None and value.node not in nodes:
                yield ("workload", i, field, "node"), f"no node {value.node!r} in the topology"
