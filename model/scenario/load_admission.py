"""The API server's verdict on a scenario's manifests when some of them do not decode.

`kubectl apply -f` of a multi-document file decodes and sends each object on its own: an object
the API server cannot decode is refused (400), the others are created or refused (422 Invalid,
403, 404, ...) on their own, and kubectl reports every error (`staging/src/k8s.io/cli-runtime/pkg/
resource/visitor.go` StreamVisitor.Visit, ContinueOnErrorVisitor; `staging/src/k8s.io/kubectl/pkg/
cmd/apply/apply.go` Run aggregates them). The loader does the same (`load._resolve`): when a
manifest does not decode, the objects that did are created through the model's API server
(`bootstrap`), and each rejection is reported with the decoding problems, in file and line order
— "all problems of a file at once". When every object decodes the loader does not bootstrap:
`kubeprop validate` shows each object's outcome, `kubeprop check` reports every rejection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeprop.model.api.manifests import Problem

if TYPE_CHECKING:
    from kubeprop.model.scenario.load import Scenario


def admission_problems(scenario: Scenario | None, files: tuple[str, ...]) -> list[Problem]:
    """Every rejection of the API server when `scenario`'s objects are created in order
    (`bootstrap.rejection_problems`: one problem per field error of a 422, at the field's line).
    Only the rejections of manifest objects (in `files`) are kept: the bootstrap objects of the
    scenario file's own fields (nodes, users' bindings) are checked once the manifests decode."""
    from kubeprop.model.scenario.bootstrap import bootstrap, rejection_problems  # bootstrap imports load
    from kubeprop.model.scenario.load import MAX_OBJECTS, declared_count

    if scenario is None or len(scenario.objects) + declared_count(scenario.spec) > MAX_OBJECTS:
        return []
    known = set(files)
    return [p for o in bootstrap(scenario).rejected if o.source is not None and o.source.file in known
            for p in rejection_problems(scenario, o)]


def merged(decoded: list[Problem], rejected: list[Problem], files: tuple[str, ...]) -> list[Problem]:
    """The decoding problems in their order, each rejection (in creation order, which is input
    order) placed before the first decoding problem of a later file or line. A problem about no
    file read (a path given, an empty folder) counts as first."""
    rank = {file: i for i, file in enumerate(files)}

    def key(problem: Problem) -> tuple[int, int]:
        return (rank.get(problem.file, -1), problem.line)

    out: list[Problem] = []
    waiting = list(rejected)
    for problem in decoded:
        while waiting and key(waiting[0]) < key(problem):
            out.append(waiting.pop(0))
        out.append(problem)
    return out + waiting
