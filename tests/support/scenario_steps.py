"""The workload steps of a generated scenario: what the user does once the manifests are applied
(`scenario_strategy.draw_scenario` calls `workload_steps`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from scenario_strategy import Chooser, Node, Workload

Doc = dict[str, Any]

MEMORY_REQUESTS_MI = (16, 64, 128)
"""A container's memory requests, in MiB."""


def _choice(c: Chooser, options: Sequence[Any]) -> Any:
    return options[c.integer(0, len(options) - 1)]


def _image_step(c: Chooser, w: Workload, features: set[str], version: int) -> Doc:
    features.add("setImage")
    return {"setImage": {w.kind.lower(): w.ref, "container": _choice(c, w.containers),
                         "image": f"{w.name}:{version}"}}


def _apply_step(c: Chooser, w: Workload, features: set[str], index: int, extra: dict[str, list[Doc]]) -> Doc:
    """An `apply` of a changed copy of the workload's manifest (image, replicas or requests)."""
    doc = yaml.safe_load(yaml.safe_dump(w.doc))
    container = doc["spec"]["template"]["spec"]["containers"][0]
    change = c.integer(0, 2)
    if change == 0:
        container["image"] = f"{w.name}:{10 + index}"
    elif change == 1:
        doc["spec"]["replicas"] = c.integer(0, 3)
        w.peak = max(w.peak, doc["spec"]["replicas"])
    else:
        memory = _choice(c, MEMORY_REQUESTS_MI)
        container["resources"]["requests"]["memory"] = f"{memory}Mi"
        limits = container["resources"].get("limits")
        if limits is not None:  # a first apply deletes no field (kubectl: no last-applied configuration),
            # so the limit stays and must stay at least the request (else pods are refused)
            limits["memory"] = f"{max(memory, int(limits['memory'].removesuffix('Mi')))}Mi"
        w.memory_mi = max(w.memory_mi, sum(
            int(k["resources"]["requests"]["memory"].removesuffix("Mi"))
            for k in doc["spec"]["template"]["spec"]["containers"]))
    folder = f"update-{index}"
    extra[f"{folder}/{w.name}.yaml"] = [doc]
    if c.flag(0.4):
        features.add("apply --server-side")
        return {"apply": {"path": folder, "serverSide": True, "force": True}}
    features.add("apply")
    return {"apply": folder}


def workload_steps(c: Chooser, nodes: Sequence[Node], workloads: Sequence[Workload], extra: dict[str, list[Doc]],
                    has_pdb: bool, features: set[str]) -> list[Doc]:
    """0–4 user actions; a cordon or drain is undone later, a delete of a workload comes last."""
    steps: list[Doc] = []
    current = {w.name: w.replicas for w in workloads}
    controllers = [w for w in workloads if w.kind != "Pod"]
    undo: list[Doc] = []
    for index in range(c.integer(0, 4)):
        kind = c.integer(0, 6)
        if controllers and kind <= 1:
            w = _choice(c, controllers)
            features.add("scale")
            current[w.name] = c.integer(0, 4)
            w.peak = max(w.peak, current[w.name])
            steps.append({"scale": {w.kind.lower(): w.ref, "replicas": current[w.name]}})
        elif controllers and kind == 2:
            steps.append(_image_step(c, _choice(c, controllers), features, index + 2))
        elif controllers and kind == 3:
            steps.append(_apply_step(c, _choice(c, controllers), features, index, extra))
        elif kind == 4 and len(nodes) > 1 and not undo:
            node = _choice(c, nodes).name
            if c.flag(0.5):
                features.add("cordon")
                steps.append({"cordon": {"node": node}})
            else:
                features.add("drain")
                drain: Doc = {"node": node, "deleteEmptydirData": True}
                if any(w.kind == "Pod" for w in workloads):
                    drain["force"] = True  # kubectl drain refuses a bare Pod without it (and the step fails)
                if has_pdb and c.flag(0.5):
                    drain["disableEviction"] = True
                steps.append({"drain": drain})
            undo.append({"uncordon": {"node": node}})
        elif kind == 5:
            stateful = [w for w in workloads if w.kind == "StatefulSet" and current[w.name] > 0]
            if stateful:
                features.add("delete Pod")
                w = _choice(c, stateful)
                ordinal = c.integer(0, current[w.name] - 1)
                steps.append({"delete": {"kind": "Pod", "name": f"{w.name}-{ordinal}", "namespace": w.namespace}})
        elif undo:
            steps.append(undo.pop())
    steps.extend(undo)
    if controllers and c.flag(0.1):
        w = _choice(c, controllers)
        features.add("delete workload")
        delete: Doc = {"kind": w.kind, "name": w.name, "namespace": w.namespace}
        if c.flag(0.5):
            delete["propagationPolicy"] = _choice(c, ("Foreground", "Background", "Orphan"))
        steps.append({"delete": delete})
    return steps
