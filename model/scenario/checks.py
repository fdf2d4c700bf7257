"""The checks of a decoded scenario file that its types cannot express.

Every check returns a list of `(field path, message)` problems, so the loader reports them all in
one run, each at its line: the apiVersion and variant, each model parameter against its declared
range (`schema.parameter_problem`), the topology (unique node names, roles, non-negative
resources, etcd members on existing nodes), users, non-negative fault budgets and bounds, and the
workload steps (exactly one action each; a `scale` or `setImage` step must name a workload the
manifests or an earlier `apply` step define, since scaling nothing is always a mistake).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.codec import FieldPath, json_name
from kubeprop.model.api.objects import ApiObject, kind_info
from kubeprop.model.scenario.schema import (
    SCENARIO_API_VERSION,
    ScaleStep,
    ScenarioFile,
    SetImageStep,
    parameter_problem,
)
from kubeprop.model.scenario.variants import VARIANTS

Found = list[tuple[FieldPath, str]]

WORKLOAD_FIELDS = {"deployment": "Deployment", "statefulset": "StatefulSet", "replicaset": "ReplicaSet"}
"""Workload step target fields and the kind each names."""


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
    found += _non_negative(spec.faults, ("faults",))
    found += _bounds(spec)
    for i, step in enumerate(spec.workload):
        chosen = [f for f in ("apply", "scale", "set_image", "delete", "cordon", "drain", "uncordon")
                  if getattr(step, f)]
        if len(chosen) != 1:
            found.append((("workload", i), "exactly one of apply, scale, setImage, delete, cordon, drain, uncordon"))
        target = step.scale or step.set_image
        if target is not None and len(_targets(target)) != 1:
            field = "scale" if step.scale is not None else "setImage"
            found.append((("workload", i, field), f"exactly one of {', '.join(WORKLOAD_FIELDS)}"))
        if step.scale is not None and step.scale.replicas < 0:
            found.append((("workload", i, "scale", "replicas"), f"must be 0 or more, got {step.scale.replicas}"))
    return found


def _targets(step: ScaleStep | SetImageStep) -> list[tuple[str, str]]:
    """(field, reference) of each workload the step names."""
    return [(f, getattr(step, f)) for f in WORKLOAD_FIELDS if getattr(step, f, "")]


def _non_negative(section: Any, path: FieldPath) -> Found:
    found: Found = []
    for field in attrs.fields(type(section)):
        value = getattr(section, field.name)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            found.append(((*path, json_name(field)), f"must be 0 or more, got {value}"))
    return found


def _bounds(spec: ScenarioFile) -> Found:
    found = [f for f in _non_negative(spec.bounds, ("bounds",)) if f[0] != ("bounds", "tickSeconds")]
    if spec.bounds.tick_seconds <= 0:
        found.append((("bounds", "tickSeconds"), f"must be 1 or more, got {spec.bounds.tick_seconds}"))
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
                if quantity.sign() < 0:
                    found.append(((*at, section, resource), f"must not be negative, got {quantity}"))
    for i, member in enumerate(spec.topology.etcd):
        if member.node and member.node not in seen:
            found.append((("topology", "etcd", i, "node"), f"no node {member.node!r} in the topology"))
    return found


def check_workload_targets(spec: ScenarioFile, manifests: Iterable[ApiObject],
                           applied: Iterable[Iterable[ApiObject]]) -> Found:
    """Each `scale`/`setImage` step must name a workload defined by the manifests or by an
    `apply` step before it (`applied[i]`: the objects step i applies, empty for other steps).
    A reference is `name` or `namespace/name` (namespace `default` when omitted)."""
    defined = {_key(o) for o in manifests}
    found: Found = []
    for i, (step, objects) in enumerate(zip(spec.workload, applied, strict=True)):
        target = step.scale or step.set_image
        if target is not None:
            field = "scale" if step.scale is not None else "setImage"
            for name, ref in _targets(target):
                namespace, _, obj_name = ref.rpartition("/")
                if (WORKLOAD_FIELDS[name], namespace or "default", obj_name) not in defined:
                    known = sorted(f"{ns}/{n}" for k, ns, n in defined if k == WORKLOAD_FIELDS[name])
                    message = (f"no {WORKLOAD_FIELDS[name]} {ref!r} in the manifests or an earlier apply step; "
                               f"defined: {', '.join(known) or '(none)'}")
                    found.append((("workload", i, field, name), message))
        defined |= {_key(o) for o in objects}
    return found


def _key(obj: ApiObject) -> tuple[str, str, str]:
    return kind_info(obj).kind, obj.metadata.namespace or "default", obj.metadata.name
