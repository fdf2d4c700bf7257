"""The manifests of a scenario's workload `apply` steps, each decoded as `kubectl apply -f` decodes
it when the step runs: a custom resource's kind is known when its CustomResourceDefinition is in the
same file or folder, among the scenario's manifests, or applied by an earlier step — the cluster then
serves the kind, and kubectl's discovery finds it (`staging/src/k8s.io/kubectl/pkg/cmd/apply/apply.go`
GetObjects: the builder maps each object's kind through the server's RESTMapper). A CRD applied only
by a later step is not known yet: kubectl refuses such an object (`no matches for kind`), so does the
scenario.

May import the API's manifest reader and objects, and the scenario schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kubeprop.model.api.manifests import ManifestObject, load_manifests
from kubeprop.model.api.objects import ApiObject, CustomResourceDefinition
from kubeprop.model.scenario.schema import WorkloadStep

__all__ = ["apply_ref", "apply_step_manifests", "crds_of"]


def crds_of(objects: Iterable[ApiObject]) -> list[CustomResourceDefinition]:
    """The CustomResourceDefinitions among `objects`, in their order."""
    return [o for o in objects if isinstance(o, CustomResourceDefinition)]


def apply_ref(step: WorkloadStep, base: Path) -> Path | None:
    """The file or folder an `apply` step reads (relative paths from the scenario's folder); None
    for another step."""
    if not step.apply_path:
        return None
    return Path(step.apply_path) if Path(step.apply_path).is_absolute() else base / step.apply_path


def scenario_holds(scenario: Any, kind: type) -> bool:
    """Whether the scenario's manifests or its workload steps' hold an object of `kind` (the opt-in
    properties' `register_opt_in_when` test: a DaemonSet, a Job)."""
    if any(isinstance(m.obj, kind) for m in scenario.objects):
        return True
    steps = apply_step_manifests(scenario.spec.workload, Path(scenario.path).parent, (m.obj for m in scenario.objects))
    return any(isinstance(m.obj, kind) for loaded in steps for m in loaded)


def apply_step_manifests(workload: Sequence[WorkloadStep], base: Path, manifests: Iterable[ApiObject]
                         ) -> list[list[ManifestObject]]:
    """Each workload step's manifests ([] for a step that applies nothing), decoded with the CRDs of
    `manifests` (the scenario's) and of every earlier `apply` step known; ManifestError as
    `load_manifests` raises it."""
    crds = crds_of(manifests)
    out: list[list[ManifestObject]] = []
    for step in workload:
        ref = apply_ref(step, base)
        loaded = [] if ref is None else load_manifests([ref], crds=crds)
        crds += crds_of(m.obj for m in loaded)
        out.append(loaded)
    return out
