"""Read Kubernetes manifests the way `kubectl apply -f PATH` does, into decoded API objects.

A path is a file (any name; `.yaml`, `.yml` and `.json` alike, since JSON is YAML) or a folder,
whose files ending in `.yaml`, `.yml` or `.json` are read in name order (subfolders only with
`recursive=True`, like `kubectl -R`). A file may hold several `---`-separated documents, and a
`kind: List` document (apiVersion v1) stands for its `items`.

Decoding takes two passes, as applying a folder to a real cluster effectively does: first every
CustomResourceDefinition in the whole input, then everything else with those CRDs known, so a
custom resource is accepted only if its CRD is part of the same input.

All problems of all files are collected before anything is reported: a `ManifestError` lists
each as `file:line: field: message`, in input order (within an object, by line). An object that does
not decode because of fields it can do without (an unknown field, a bad quantity) also gets a
*stand-in*: the object decoded without those fields (`StandIn`), which the scenario loader sends to
the API server with the objects that decoded, so that the object's validation errors (422) come in
the same run as its decoding problems (trial 12: "`selector` does not match template `labels`" showed
only once the decoding problems were fixed). A stand-in is never an object of the input.
"""

from __future__ import annotations

import copy
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.codec import DecodeError, recording_dropped
from kubeprop.model.api.objects import ApiObject, CustomResourceDefinition, decode_object
from kubeprop.model.api.yamlsource import (
    FieldPath,
    YamlDocument,
    YamlError,
    format_path,
    load_yaml_documents,
    located,
    parse_yaml_documents,
    stat_path,
)
from kubeprop.model.errors import InputError, describe_kind, describe_value

EXTENSIONS = (".json", ".yaml", ".yml")
"""File name endings read from a folder (as kubectl's `FileExtensions`); case-sensitive."""

_CRD_API_VERSION = "apiextensions.k8s.io/v1"
_CRD_KIND = "CustomResourceDefinition"


@attrs.frozen
class Problem:
    """One thing wrong with the input; `line` is 1-based, or 0 when a whole file or folder is at fault."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return located(self.file, self.line, self.field, self.message)

    @classmethod
    def from_yaml_error(cls, err: YamlError) -> Problem:
        """The Problem for a file that could not be read or parsed."""
        return cls(err.file, err.line, err.field, err.message)


class ManifestError(InputError):
    """The manifests could not be loaded; `problems` lists every problem found, in input order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


@attrs.frozen
class ManifestObject:
    """A decoded API object and where it was written (file, 0-based document number, line)."""

    obj: ApiObject
    file: str
    document: int
    line: int
    source: YamlDocument = attrs.field(eq=False, repr=False)
    prefix: FieldPath = attrs.field(eq=False, repr=False, default=())
    """Path of the object inside its document: `()`, or `("items", i)` for a List item."""
    dropped: tuple[FieldPath, ...] = attrs.field(eq=False, repr=False, default=())
    """The fields the codec dropped (accepted, not modelled: `IGNORED_JSON_FIELDS`) that the
    manifest sets, as paths from the object's root (`codec.recording_dropped`: an object's own
    before those of the objects in its fields)."""

    def line_of(self, path: FieldPath) -> int:
        """The source line of a field of this object (or of its deepest existing ancestor)."""
        return self.source.line_of((*self.prefix, *path))

    def problem(self, path: FieldPath, message: str) -> Problem:
        """A Problem about a field of this object, for checks made after decoding."""
        full = (*self.prefix, *path)
        return Problem(self.file, self.source.line_of(full), format_path(full), message)


@attrs.frozen(eq=False)
class _Body:
    """One object's raw data, found in a document, waiting to be decoded."""

    source: YamlDocument
    prefix: FieldPath
    data: Mapping[str, Any]

    @property
    def is_crd(self) -> bool:
        """Whether this is a CustomResourceDefinition (decoded in the first pass)."""
        return self.data.get("apiVersion") == _CRD_API_VERSION and self.data.get("kind") == _CRD_KIND


_Entry = _Body | Problem


@attrs.frozen
class Skipped:
    """An object left out by `read_manifests`' `skip` (not decoded): where it is written, what it
    is (`Kind namespace/name`) and why (`skip`'s answer)."""

    file: str
    line: int
    label: str
    reason: str


@attrs.frozen
class StandIn:
    """An object that did not decode, decoded again without its bad fields: for the API server's
    validation only. `fields` are the fields left out (paths from the document's root, as the
    problems name them); a rejection about one of them, a field under one of them or under the
    same parent says nothing about the object as written (`StandIn.covers`)."""

    obj: ManifestObject
    fields: tuple[FieldPath, ...]

    def covers(self, field: str) -> bool:
        """Whether a problem at `field` (`spec.template.metadata.labels`) may come from leaving the
        fields out: at or above one of them, or under one's parent (`requests.cpu` left out: every
        problem under `requests`)."""
        for left_out in self.fields:
            near = format_path(left_out[:-1]) if len(left_out) > 1 else format_path(left_out)
            for other in (format_path(left_out), near):
                if field == other or any(field.startswith(other + sep) or other.startswith(field + sep)
                                         for sep in (".", "[")):
                    return True
        return False


@attrs.frozen
class Manifests:
    """What `read_manifests` found: every object that decoded, every problem (each object decoded
    on its own, as `kubectl apply -f` sends each on its own), and the objects `skip` left out, all
    in input order; `files` are the files read, in order."""

    objects: tuple[ManifestObject, ...]
    problems: tuple[Problem, ...]
    skipped: tuple[Skipped, ...] = ()
    files: tuple[str, ...] = ()
    stand_ins: tuple[StandIn, ...] = ()
    """The objects that did not decode, without their bad fields (`StandIn`), in input order."""


SkipRule = Callable[[Mapping[str, Any]], str | None]
"""Why an object (its raw data, apiVersion and kind checked) is left out undecoded, or None."""


def load_manifests(paths: Sequence[Path], recursive: bool = False,
                   crds: Sequence[CustomResourceDefinition] = ()) -> list[ManifestObject]:
    """Load and decode every object under `paths` (files or folders); ManifestError listing every
    problem of every object if any has one (`read_manifests`; `crds` as there)."""
    found = read_manifests(paths, recursive, crds=crds)
    if found.problems:
        raise ManifestError(found.problems)
    return list(found.objects)


def read_manifests(paths: Sequence[Path], recursive: bool = False, skip: SkipRule | None = None,
                   crds: Sequence[CustomResourceDefinition] = ()) -> Manifests:
    """Read and decode every object under `paths` (files or folders), each object on its own: one
    that cannot be decoded is a problem and the others are still decoded and returned, as
    kubectl's builder visits every document and aggregates the errors (`staging/src/k8s.io/
    cli-runtime/pkg/resource/visitor.go` StreamVisitor.Visit, ContinueOnErrorVisitor). A file that
    cannot be read or parsed as YAML is one problem, and none of its objects is returned (kubectl
    too stops reading a stream at its first syntax error). Objects for which `skip` gives a
    reason are left out undecoded (`Manifests.skipped`). `crds`: CustomResourceDefinitions the
    cluster already has (a workload `apply` step's: the scenario's and earlier steps'), known
    besides those of the input itself, as the API server's discovery knows them for kubectl."""
    entries: list[_Entry] = []
    files_read: list[str] = []
    read_folder = False
    for path in paths:
        files: list[Path] = []
        try:
            info = stat_path(path)
        except YamlError as err:
            entries.append(Problem.from_yaml_error(err))
            continue
        if info is not None and stat.S_ISDIR(info.st_mode):
            read_folder = True
            _folder_files(path, recursive, files, entries)
            if not files and not any(isinstance(e, Problem) and e.file == str(path) for e in entries):
                entries.append(Problem(str(path), 0, "", _empty_folder_message(path, recursive)))
        elif info is not None:
            files.append(path)
        else:
            entries.append(Problem(str(path), 0, "", "no such file or folder"))
        for file in files:
            files_read.append(str(file))
            try:
                documents = load_yaml_documents(file, keep_duplicates=True)
            except YamlError as err:
                entries.append(Problem.from_yaml_error(err))
                continue
            for document in documents:
                _expand_checked(document, entries)
    note = f" (files ending in {_extension_list()} are read from a folder)" if read_folder else ""
    found = _decode_all(entries, ", ".join(str(p) for p in paths) or "<no paths given>", note, skip, crds)
    return attrs.evolve(found, files=tuple(files_read))


def parse_manifests(text: str, file: str) -> list[ManifestObject]:
    """Decode every object in one YAML text; `file` names it in errors. ManifestError on any problem."""
    entries: list[_Entry] = []
    try:
        documents = parse_yaml_documents(text, file, keep_duplicates=True)
    except YamlError as err:
        raise ManifestError([Problem.from_yaml_error(err)]) from None
    for document in documents:
        _expand_checked(document, entries)
    found = _decode_all(entries, file, "", None)
    if found.problems:
        raise ManifestError(found.problems)
    return list(found.objects)


def _expand_checked(document: YamlDocument, entries: list[_Entry]) -> None:
    """A document's keys written twice (each a problem), then its objects: the duplicate is
    reported with the rest of the file's problems, not in place of them."""
    entries.extend(Problem.from_yaml_error(err) for err in document.duplicates)
    _expand(document, document.data, (), entries)


def _extension_list() -> str:
    """The extensions read from folders, for messages: `.json, .yaml or .yml`."""
    return ", ".join(EXTENSIONS[:-1]) + " or " + EXTENSIONS[-1]


def _empty_folder_message(folder: Path, recursive: bool) -> str:
    message = f"no manifests were found in this folder (files ending in {_extension_list()} are read"
    has_subfolders = any(entry.is_dir() for entry in _listing(folder))
    if has_subfolders and not recursive:
        message += "; subfolders are read only when loading recursively, like kubectl -R"
    return message + ")"


def _listing(folder: Path) -> list[Path]:
    """The entries of a folder sorted by name (byte order, like Go's filepath.Walk)."""
    return sorted(folder.iterdir(), key=lambda entry: entry.name)


def _folder_files(folder: Path, recursive: bool, files: list[Path], entries: list[_Entry]) -> None:
    """Append the manifest files of `folder` to `files`; a folder that cannot be listed is a Problem."""
    try:
        listing = _listing(folder)
    except OSError as err:
        entries.append(Problem(str(folder), 0, "", f"cannot list the folder: {err.strerror or err}"))
        return
    for entry in listing:
        if entry.is_dir():
            # Like filepath.Walk, symbolic links to folders are not followed.
            if recursive and not entry.is_symlink():
                _folder_files(entry, recursive, files, entries)
        elif entry.suffix in EXTENSIONS:
            files.append(entry)


def _expand(document: YamlDocument, data: Any, prefix: FieldPath, entries: list[_Entry]) -> None:
    """Append the object in `data` (or, for a v1 List, each of its items) or the problems with it."""
    file = document.file
    if not isinstance(data, Mapping):
        # named, never quoted: a file that is not a manifest may be anything (a key a folder links to)
        message = f"expected an object with apiVersion and kind, got {describe_kind(data)}"
        entries.append(Problem(file, document.line_of(prefix), format_path(prefix), message))
        return
    bad = False
    for key, example in (("apiVersion", "v1 or apps/v1"), ("kind", "Deployment")):
        value = data.get(key)
        if isinstance(value, str) and value:
            continue
        bad = True
        path = (*prefix, key)
        found = "it is missing" if key not in data else f"got {describe_kind(value)}"
        message = f"Required value: a non-empty string such as {example} ({found})"
        entries.append(Problem(file, document.line_of(path), format_path(path), message))
    if bad:
        return
    if data["apiVersion"] == "v1" and data["kind"] == "List":
        _expand_list(document, data, prefix, entries)
    else:
        entries.append(_Body(document, prefix, data))


def _expand_list(document: YamlDocument, data: Mapping[str, Any], prefix: FieldPath,
                 entries: list[_Entry]) -> None:
    """Expand a `kind: List` document into its items (an absent or null `items` is an empty List)."""
    items = data.get("items")
    if items is None:
        return
    if not isinstance(items, list):
        path = (*prefix, "items")
        message = f"expected a list of objects, got {describe_value(items)}"
        entries.append(Problem(document.file, document.line_of(path), format_path(path), message))
        return
    for i, item in enumerate(items):
        _expand(document, item, (*prefix, "items", i), entries)


def _decode(body: _Body, crds: Sequence[CustomResourceDefinition]) -> ManifestObject | list[Problem]:
    """Decode one object, or describe every reason it cannot be decoded."""
    document = body.source
    try:
        with recording_dropped() as dropped:
            obj = decode_object(body.data, crds)
    except DecodeError as err:
        fulls = [((*body.prefix, *path), message) for path, message in err.problems]
        problems = [Problem(document.file, document.line_of(full), format_path(full), message)
                    for full, message in fulls]
        return sorted(problems, key=lambda problem: problem.line)  # the codec's order is its fields'

    except ValueError as err:  # a validator without a field path: report it at the object
        return [Problem(document.file, document.line_of(body.prefix), format_path(body.prefix), str(err))]
    return ManifestObject(
        obj=obj,
        file=document.file,
        document=document.index,
        line=document.line_of(body.prefix),
        source=document,
        prefix=body.prefix,
        dropped=tuple(dropped),
    )


def _without(data: Mapping[str, Any], paths: Sequence[FieldPath]) -> Mapping[str, Any] | None:
    """`data` with the fields at `paths` left out, or None when one cannot be (a list item, whose
    removal would move the others, or a field that is not there: a required one missing)."""
    out: Any = copy.deepcopy(dict(data))
    for path in paths:
        if not path or not isinstance(path[-1], str):
            return None
        parent = out
        for key in path[:-1]:
            ok = (isinstance(parent, Mapping) and key in parent) or \
                (isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent))
            if not ok:
                return None
            parent = parent[key]
        if not isinstance(parent, dict) or path[-1] not in parent:
            return None
        del parent[path[-1]]
    return dict(out)


def _stand_in(body: _Body, crds: Sequence[CustomResourceDefinition]) -> StandIn | None:
    """The object of `body` decoded without the fields it failed on (`StandIn`), or None when it
    still does not decode without them or they cannot be left out."""
    try:
        decode_object(body.data, crds)
        return None
    except DecodeError as err:
        paths = [tuple(path) for path, _ in err.problems]
    except ValueError:
        return None
    data = _without(body.data, paths)
    if data is None:
        return None
    stripped = _decode(_Body(body.source, body.prefix, data), crds)
    if not isinstance(stripped, ManifestObject):
        return None
    return StandIn(stripped, tuple((*body.prefix, *path) for path in paths))


def _decode_all(entries: Sequence[_Entry], where: str, note: str, skip: SkipRule | None,
                known: Sequence[CustomResourceDefinition] = ()) -> Manifests:
    """Decode CRDs first, then the rest with them (and the `known` ones after them) known; objects
    and problems in input order.

    `where` names the input and `note` adds to the problem if no object at all was found.
    """
    results: dict[int, ManifestObject | list[Problem] | Skipped] = {}
    for i, entry in enumerate(entries):
        reason = skip(entry.data) if skip is not None and isinstance(entry, _Body) else None
        if reason is not None and isinstance(entry, _Body):
            results[i] = Skipped(entry.source.file, entry.source.line_of(entry.prefix), _raw_label(entry.data), reason)
    crds: list[CustomResourceDefinition] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, _Body) and entry.is_crd and i not in results:
            result = _decode(entry, ())
            results[i] = result
            if isinstance(result, ManifestObject) and isinstance(result.obj, CustomResourceDefinition):
                crds.append(result.obj)
    crds += known
    for i, entry in enumerate(entries):
        if isinstance(entry, _Body) and i not in results:
            results[i] = _decode(entry, crds)
    objects: list[ManifestObject] = []
    problems: list[Problem] = []
    skipped: list[Skipped] = []
    stand_ins: list[StandIn] = []
    for i, entry in enumerate(entries):
        outcome = results.get(i, entry)
        if isinstance(outcome, ManifestObject):
            objects.append(outcome)
        elif isinstance(outcome, Skipped):
            skipped.append(outcome)
        elif isinstance(outcome, Problem):
            problems.append(outcome)
        elif isinstance(outcome, list):
            problems += outcome
            stand_in = _stand_in(entry, crds) if isinstance(entry, _Body) else None
            if stand_in is not None:
                stand_ins.append(stand_in)
    if not objects and not problems and not skipped:
        problems.append(Problem(where, 0, "", f"no manifests were found{note}"))
    return Manifests(tuple(objects), tuple(problems), tuple(skipped), stand_ins=tuple(stand_ins))


def _raw_label(data: Mapping[str, Any]) -> str:
    """`Kind namespace/name` of an undecoded object (`Kind name` without a namespace), for notes."""
    meta = data.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name, namespace = meta.get("name") or meta.get("generateName"), meta.get("namespace")
    where = f"{namespace}/" if isinstance(namespace, str) and namespace else ""
    return f"{data.get('kind')} {where}{name if isinstance(name, str) else '?'}"
