"""Loading a scenario: the object limit (`MAX_OBJECTS`) and the checks of its workload steps
against what its manifests define (the `apply` steps' manifests read with the scenario's, the
targets of the other steps, the resource types `delete`/`wait` name). Split from `load`, which
re-exports `MAX_OBJECTS` and `declared_count`."""

from __future__ import annotations

import os
from pathlib import Path

from kubeprop.model.api.manifests import ManifestError, ManifestObject, Problem, load_manifests
from kubeprop.model.api.objects import ApiObject, CustomResourceDefinition
from kubeprop.model.api.server import resolve_type
from kubeprop.model.api.yamlsource import YamlDocument
from kubeprop.model.scenario.apply_steps import apply_ref, crds_of
from kubeprop.model.scenario.check_addons import node_step_problems
from kubeprop.model.scenario.checks import check_workload_targets
from kubeprop.model.scenario.code_refs import problem_at as _problem
from kubeprop.model.scenario.nodes import manifest_nodes
from kubeprop.model.scenario.schema import ScenarioFile

MAX_OBJECTS = 5_000
"""The most objects a scenario may define: its manifests and `apply` steps together, with its
topology's nodes, its users and their role bindings (`declared_count`). Every state of the model
holds them all, and applying them is quadratic in their number (20,000 ConfigMaps, 20,000 nodes
or 20,000 users each took minutes to bootstrap); real scenarios define tens."""


def declared_count(spec: ScenarioFile) -> int:
    """The objects a scenario defines besides its manifests: a node per `topology.nodes` entry, and
    per user the user and a binding per role (the API server holds them all)."""
    return len(spec.topology.nodes) + sum(1 + len(u.cluster_roles) + len(u.roles) for u in spec.users)


def workload_problems(spec: ScenarioFile, doc: YamlDocument | None, base: Path,
                       objects: list[ManifestObject], declared: int = 0) -> list[Problem]:
    """The manifests of the workload's `apply` steps (read now, so their problems are reported with
    the scenario's; each with the CRDs of the manifests and earlier steps, `apply_steps`), then
    every `scale`/`setImage` step's target checked against what is defined; `declared` objects
    of the topology and users count towards `MAX_OBJECTS` too."""
    problems: list[Problem] = []
    applied: list[list[ApiObject]] = []
    total = len(objects) + declared
    crds = crds_of(o.obj for o in objects)  # a step's file is decoded with the CRDs the cluster has by then
    for i, step in enumerate(spec.workload):
        loaded: list[ApiObject] = []
        ref = apply_ref(step, base)
        if ref is not None:
            try:
                loaded = [m.obj for m in load_manifests([ref], crds=crds)]
                crds += crds_of(loaded)
            except ManifestError as err:
                problems += at_entries(err.problems, {str(ref): ("workload", i, "apply")}, doc)
            total += len(loaded)
            if total > MAX_OBJECTS:
                problems.append(_problem(doc, ("workload", i, "apply"), too_many(total, "the manifests and apply "
                                                                                        "steps")))
                return problems
        applied.append(loaded)
    if problems:
        return problems
    found = check_workload_targets(spec, [o.obj for o in objects], applied)
    nodes = [n.name for n in spec.topology.nodes] or list(manifest_nodes(tuple(objects)))
    found += node_step_problems(spec, nodes)
    problems = [_problem(doc, path, message) for path, message in found]
    return problems + delete_kind_problems(spec, doc, objects, applied)


def at_entries(problems: list[Problem], entries: dict[str, tuple[str | int, ...]],
                doc: YamlDocument | None) -> list[Problem]:
    """The manifest problems, those about a path the scenario names itself (missing, an empty
    folder, unreadable: no line of their own) reported at the scenario's entry, with the path as
    resolved (`scenario.yaml:4: manifests[0]: no such file or folder: /work/manifest`)."""
    out = []
    for problem in problems:
        field = entries.get(problem.file) if not problem.line and not problem.field else None
        if field is None or doc is None:
            out.append(problem)
        else:
            out.append(_problem(doc, field, f"{problem.message}: {os.path.abspath(problem.file)}"))
    return out


def too_many(count: int, what: str) -> str:
    """Why `count` objects are too many for a scenario (`what` defines them)."""
    return (f"{what} define {count:,} objects; a scenario may define at most {MAX_OBJECTS:,} (every state of the "
            "model holds them all: model a smaller cluster)")


def delete_kind_problems(spec: ScenarioFile, doc: YamlDocument | None, objects: list[ManifestObject],
                          applied: list[list[ApiObject]]) -> list[Problem]:
    """`delete` and `wait` steps must name a resource type the cluster will know: a built-in kind
    or one defined by a CRD among the manifests or the `apply` steps' manifests (kubectl: `the
    server doesn't have a resource type`)."""
    crds = [o.obj for o in objects if isinstance(o.obj, CustomResourceDefinition)]
    crds += [o for step in applied for o in step if isinstance(o, CustomResourceDefinition)]
    problems = []
    for i, step in enumerate(spec.workload):
        for field, target in (("delete", step.delete), ("wait", step.wait)):
            if target is not None and (target.kind or field == "delete") and resolve_type(target.kind, crds) is None:
                message = (f"the server doesn't have a resource type {target.kind!r}: not a built-in kind and "
                           "not defined by a CustomResourceDefinition of the scenario")
                problems.append(_problem(doc, ("workload", i, field, "kind"), message))
    return problems
