"""The API server's verdict on a scenario's manifests when some of them do not decode.

`kubectl apply -f` of a multi-document file decodes and sends each object on its own: an object
the API server cannot decode is refused (400), the others are created or refused (422 Invalid,
403, 404, ...) on their own, and kubectl reports every error (`staging/src/k8s.io/cli-runtime/pkg/
resource/visitor.go` StreamVisitor.Visit, ContinueOnErrorVisitor; `staging/src/k8s.io/kubectl/pkg/
cmd/apply/apply.go` Run aggregates them). The loader does the same (`load._resolve`): when a
manifest does not decode, the objects that did are created through the model's API server
(`bootstrap`), and each rejection is reported with the decoding problems, in file and line order
— "all problems of a file at once". An object that does not decode for fields it can do without is
sent as its stand-in (`manifests.StandIn`: decoded without them), so that its own 422 comes in the
same run; its rejections about the fields left out (or near them) are dropped, since they say
nothing about the object as written. When every object decodes the loader does not bootstrap:
`kubeprop validate` shows each object's outcome, `kubeprop check` reports every rejection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kubeprop.model.api.manifests import ManifestObject, Problem, StandIn

if TYPE_CHECKING:
    from kubeprop.model.scenario.load import Scenario


def admission_problems(scenario: Scenario | None, files: tuple[str, ...], stand_ins: Sequence[StandIn] = ()
                       ) -> list[Problem]:
    """Every rejection of the API server when `scenario`'s objects are created in order
    (`bootstrap.rejection_problems`: one problem per field error of a 422, at the field's line).
    Only the rejections of manifest objects (in `files`) are kept: the bootstrap objects of the
    scenario file's own fields (nodes, users' bindings) are checked once the manifests decode.
    A stand-in's rejections about its fields left out are dropped (`StandIn.covers`)."""
    from kubeprop.model.scenario.bootstrap import bootstrap, rejection_problems  # bootstrap imports load
    from kubeprop.model.scenario.load import MAX_OBJECTS, declared_count

    if scenario is None or len(scenario.objects) + declared_count(scenario.spec) > MAX_OBJECTS:
        return []
    known = set(files)
    standing = {id(s.obj): s for s in stand_ins}
    out = []
    for o in bootstrap(scenario).rejected:
        if o.source is None or o.source.file not in known:
            continue
        stand_in = standing.get(id(o.source))
        out += [p for p in rejection_problems(scenario, o) if stand_in is None or not stand_in.covers(p.field)]
    return out


def with_stand_ins(objects: Sequence[ManifestObject], stand_ins: Sequence[StandIn], files: tuple[str, ...]
                   ) -> list[ManifestObject]:
    """The objects that decoded and the stand-ins, in input order (file, document, line): the
    order they are created in, as kubectl sends them."""
    rank = {file: i for i, file in enumerate(files)}
    return sorted([*objects, *(s.obj for s in stand_ins)], key=lambda m: (rank.get(m.file, -1), m.document, m.line))


def merged(decoded: list[Problem], rejected: list[Problem], files: tuple[str, ...]) -> list[Problem]:
    """The decoding problems and the rejections in file and line order (the decoding problems of
    one object come in the codec's field order, and a rejection may be about an earlier line than
    a decoding problem of the object before it). A problem about no file read (a path given, an
    empty folder) counts as first."""
    rank = {file: i for i, file in enumerate(files)}

    def key(problem: Problem) -> tuple[int, int]:
        return (rank.get(problem.file, -1), problem.line)

    return sorted([*decoded, *rejected], key=key)  # stable: at one line, the decoding problem first
