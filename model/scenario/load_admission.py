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
nothing about the object as written (but a request above its limit is about one resource: kept
unless that resource was left out). The same happens when every object decodes but a Node
manifest cannot be a topology node (a negative size, a duplicate name: `nodes.nodes_as_topology`):
the other objects are sent without that Node. When every object decodes and the Nodes are sound
the loader does not bootstrap: `kubeprop validate` shows each object's outcome, `kubeprop check`
reports every rejection.

What depends on an object that did not decode: validation reads no other object (a pod's
`spec.nodeName` and an owner are not looked up), but the create needs the object's Namespace, and
admission reads a few more (a pod's ServiceAccount and PriorityClass, a binding's role for the
escalation check). Such an object is sent all the same and refused as kubectl's apply would be;
the refusal names what it missed. The common case, an object in a Namespace whose manifest did
not decode (404), says so (`_with_failed_namespaces`). A Namespace that decodes without a bad
field (a stand-in) is created, and its objects are validated as usual.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from kubeprop.model.api.manifests import ManifestObject, Problem, StandIn
from kubeprop.model.api.yamlsource import YamlError, format_path, load_yaml_documents

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
        out += [p for p in rejection_problems(scenario, o) if stand_in is None or _left_out(stand_in, p)]
    return _with_failed_namespaces(out, [m for m in scenario.objects if id(m) not in standing], files)


_NO_NAMESPACE = re.compile(r'404 NotFound: namespaces "([^"]*)" not found')


def _with_failed_namespaces(problems: list[Problem], decoded: Sequence[ManifestObject], files: tuple[str, ...]
                            ) -> list[Problem]:
    """The rejections, each `namespaces "N" not found` of an object whose Namespace manifest did not
    decode (its stand-in, if any, was not created either) saying so: the object depends on it. The
    API server answers 404, as it would to `kubectl apply -f` (the namespace is not there), and
    does not validate the object further; its own problems come once the Namespace decodes. A
    Namespace whose name cannot be read may be any one."""
    if not any(_NO_NAMESPACE.search(p.message) for p in problems):
        return problems
    failed = _failed_namespaces(files, {(m.file, m.line) for m in decoded})
    out = []
    for problem in problems:
        found = _NO_NAMESPACE.search(problem.message)
        named = None if found is None else failed.get(found.group(1))
        unnamed = None if found is None else failed.get("")
        which = (f"its Namespace manifest, {named}," if named is not None
                 else f"the Namespace manifest at {unnamed}, whose name cannot be read, may be it: it")
        out.append(problem if named is None and unnamed is None else attrs.evolve(problem, message=(
            f"{problem.message} ({which} did not decode; the object is validated once it does)")))
    return out


def _failed_namespaces(files: tuple[str, ...], decoded: set[tuple[str, int]]) -> dict[str, str]:
    """The Namespace manifests of `files` that did not decode (not at a `decoded` file and line):
    name ("" when it cannot be read) → `file:line`. A file that does not parse is skipped
    (its problem is reported already)."""
    failed: dict[str, str] = {}
    for file in files:
        try:
            documents = load_yaml_documents(Path(file))
        except YamlError:
            continue
        for doc in documents:
            line = doc.line_of(())
            if not isinstance(doc.data, dict) or doc.data.get("kind") != "Namespace" or (file, line) in decoded:
                continue
            metadata = doc.data.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            failed.setdefault(name if isinstance(name, str) else "", f"{file}:{line}")
    return failed


_OVER_LIMIT = re.compile(r"must be less than or equal to (\S+) limit of ")
"""A request above its limit: `pkg/apis/core/validation/validation.go` ValidateContainerResourceRequirements
puts it on the requests map (`field.Invalid(reqPath, …, "must be less than or equal to %s limit of %s")`),
naming the resource in the message."""


def _left_out(stand_in: StandIn, problem: Problem) -> bool:
    """Whether a stand-in's rejection may come from the fields it left out (`StandIn.covers`), with
    one refinement: a request above its limit is about one resource, so it is kept unless that
    resource's request or limit (or a field above them) was left out — a bad `cpu` request says
    nothing about a `memory` request above its limit, and the user sees both at once."""
    if not stand_in.covers(problem.field):
        return True
    found = _OVER_LIMIT.search(problem.message)
    if found is None or not problem.field.endswith(".requests"):
        return False
    resources = problem.field.removesuffix(".requests")
    about = (f"{resources}.requests.{found.group(1)}", f"{resources}.limits.{found.group(1)}")
    return not any(a == left or a.startswith(left + ".") or a.startswith(left + "[")
                   for a in about for left in map(format_path, stand_in.fields))


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
