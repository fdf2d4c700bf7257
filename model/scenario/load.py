"""Scenarios: manifests + topology + users + workload + fault budget + bounds + model variant.

A scenario is loaded from a scenario file (`kind: Scenario`, see docs/scenario.md), from a
folder holding `scenario.yaml`, or from a bare manifest folder (which gets the default topology
described in `default_scenario_file`). `FEASTFLOW` is the built-in default from the seed.

Loading is the only I/O in the model; everything after it is pure. Every problem is reported as
`file:line: field: message` through `ScenarioError` (a `ManifestError`).
"""

from __future__ import annotations

import hashlib
import importlib
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.admission import DEFAULT_PLUGINS, AdmissionPlugin
from kubeprop.model.api.codec import DecodeError, decode_attrs, format_path
from kubeprop.model.api.manifests import ManifestError, ManifestObject, Problem, load_manifests
from kubeprop.model.api.rbac import UserInfo
from kubeprop.model.api.yamlsource import YamlDocument, YamlError, load_yaml_documents, read_text
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.check_addons import addon_problems
from kubeprop.model.scenario.schema import (
    PARAMETERS,
    SCENARIO_API_VERSION,
    NodeDecl,
    ScenarioFile,
    TopologyDecl,
    UserDecl,
)
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.model.state.component import Controller

SCENARIO_FILE_NAME = "scenario.yaml"
KNOWN_VARIANTS: tuple[str, ...] = tuple(VARIANTS)
"""Model variants a scenario may name (`kubeprop.model.scenario.variants`)."""


class ScenarioError(ManifestError):
    """A scenario (or the manifests it names) could not be loaded."""


@attrs.frozen
class Scenario:
    """A loaded, checked scenario: the file as written plus its decoded manifests.

    `content_hash` is the SHA-256 of the scenario file and every manifest file, in load order;
    counterexample files use it to notice that a scenario changed.
    """

    name: str
    path: str
    spec: ScenarioFile
    objects: tuple[ManifestObject, ...]
    content_hash: str
    admission: tuple[AdmissionPlugin, ...] = attrs.field(eq=False, repr=False)
    controllers: tuple[Any, ...] = attrs.field(default=(), eq=False, repr=False)
    """User-supplied controllers (`controllers:` import paths), added to or replacing built-ins."""
    environment_rules: tuple[Any, ...] = attrs.field(default=(), eq=False, repr=False)
    """User environment rules (`environment.rules:` import paths, `kubeprop.model.cluster.environment`)."""

    @property
    def users(self) -> FrozenMap[str, UserInfo]:
        """Every identity the API server authenticates: the scenario's users plus the internal ones."""
        users = {u.name: UserInfo(u.name, tuple(u.groups)) for u in self.spec.users}
        users.update(internal_users(self.spec.topology))
        return FrozenMap(users)

    @property
    def apply_as(self) -> str:
        """The user that applies the manifests and the workload steps."""
        return self.spec.apply_as or (self.spec.users[0].name if self.spec.users else ADMIN)

    def parameter(self, name: str) -> Any:
        """A model parameter: the scenario's value or the upstream default."""
        return self.spec.parameters.get(name, PARAMETERS[name])


ADMIN = "system:admin"
DESCHEDULER_USER = "system:serviceaccount:kube-system:descheduler"
"""The internal identity that creates nodes, system namespaces and user bindings (system:masters)."""


def internal_users(topology: TopologyDecl) -> dict[str, UserInfo]:
    """Control-plane identities: the bootstrap admin, the scheduler, the controller manager and one
    `system:node:<name>` per node (group `system:nodes`)."""
    users = {
        ADMIN: UserInfo(ADMIN, ("system:masters", "system:authenticated")),
        "system:kube-scheduler": UserInfo("system:kube-scheduler", ("system:authenticated",)),
        # Upstream runs each controller as its own service account with a bootstrap role
        # (`--use-service-account-credentials`); the model trusts the controller manager instead.
        "system:kube-controller-manager": UserInfo(
            "system:kube-controller-manager", ("system:masters", "system:authenticated")
        ),
    }
    # The descheduler runs as its own service account; upstream's chart binds it a ClusterRole with
    # pods/eviction create, nodes and pods list/watch (the model trusts it, as the controller manager).
    users[DESCHEDULER_USER] = UserInfo(DESCHEDULER_USER, ("system:masters", "system:authenticated"))
    for node in topology.nodes:
        name = f"system:node:{node.name}"
        users[name] = UserInfo(name, ("system:nodes", "system:authenticated"))
    return users


def default_scenario_file(manifest_dir: str) -> ScenarioFile:
    """The scenario used for a bare manifest folder: three workers (2 CPU, 4Gi, 110 pods) in two
    zones, one user `admin` bound to cluster-admin who applies the manifests."""
    nodes = tuple(
        decode_attrs(NodeDecl, {
            "name": f"worker-{i}", "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "labels": {"topology.kubernetes.io/zone": zone},
        })
        for i, zone in ((1, "zone-a"), (2, "zone-a"), (3, "zone-b"))
    )
    return ScenarioFile(
        api_version=SCENARIO_API_VERSION, kind="Scenario", manifests=(manifest_dir,),
        topology=TopologyDecl(nodes=nodes), users=(UserDecl(name="admin", cluster_roles=("cluster-admin",)),),
        apply_as="admin",
    )


def feastflow_path() -> Path:
    """The built-in FeastFlow scenario file."""
    return Path(str(resources.files("kubeprop.model.scenario") / "feastflow" / SCENARIO_FILE_NAME))


def load_scenario(path: Path | str | None = None) -> Scenario:
    """Load a scenario file, a folder with scenario.yaml, or a bare manifest folder/file.
    None means the built-in FeastFlow scenario."""
    path = Path(path) if path is not None else feastflow_path()
    if path.is_dir() and (path / SCENARIO_FILE_NAME).is_file():
        path = path / SCENARIO_FILE_NAME
    if not path.exists():
        raise ScenarioError([Problem(str(path), 0, "", "no such file or folder")])
    doc = _scenario_document(path) if path.is_file() else None
    if doc is None:
        spec = default_scenario_file(str(path))
        return _resolve(spec, path.resolve().name, str(path), base=path.parent, doc=None, texts=[])
    spec = _decode_scenario(doc)
    return _resolve(spec, spec.metadata.name or path.stem, str(path), base=path.parent, doc=doc,
                    texts=[read_text(path)])


def _scenario_document(path: Path) -> YamlDocument | None:
    """The file's scenario document, or None if the file is a plain manifest file."""
    try:
        docs = load_yaml_documents(path)
    except YamlError as err:
        raise ScenarioError([Problem.from_yaml_error(err)]) from None
    for doc in docs:
        if isinstance(doc.data, dict) and doc.data.get("kind") == "Scenario":
            if len(docs) > 1:
                raise ScenarioError([Problem(doc.file, doc.line, "", "a scenario file holds one document")])
            return doc
    return None


def _decode_scenario(doc: YamlDocument) -> ScenarioFile:
    try:
        spec: ScenarioFile = decode_attrs(ScenarioFile, doc.data)
    except DecodeError as err:
        raise ScenarioError([Problem(doc.file, doc.line_of(err.path), format_path(err.path), err.message)]) from None
    return spec


def _resolve(spec: ScenarioFile, name: str, where: str, base: Path, doc: YamlDocument | None,
             texts: list[str]) -> Scenario:
    problems = check_scenario(spec, doc)
    admission = _admission_plugins(spec, doc, problems)
    controllers = _user_controllers(spec, doc, problems)
    rules = _environment_rules(spec, doc, problems)
    if problems:
        raise ScenarioError(problems)
    paths = [Path(p) if Path(p).is_absolute() else base / p for p in spec.manifests]
    objects: list[ManifestObject] = []
    if paths:
        objects = load_manifests(paths)
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
    for file in sorted({o.file for o in objects}, key=[o.file for o in objects].index):
        digest.update(read_text(Path(file)).encode())
    return Scenario(name, where, spec, tuple(objects), digest.hexdigest(), admission, controllers, rules)


def _problem(doc: YamlDocument | None, path: tuple[str | int, ...], message: str, where: str = "") -> Problem:
    if doc is None:
        return Problem(where or "<default scenario>", 0, format_path(path), message)
    return Problem(doc.file, doc.line_of(path), format_path(path), message)


def check_scenario(spec: ScenarioFile, doc: YamlDocument | None) -> list[Problem]:
    """Problems of a decoded scenario file that its types cannot express."""
    problems: list[Problem] = []
    if spec.api_version != SCENARIO_API_VERSION:
        problems.append(_problem(doc, ("apiVersion",), f"must be {SCENARIO_API_VERSION}"))
    if spec.variant not in KNOWN_VARIANTS:
        problems.append(_problem(doc, ("variant",), f"unknown variant; valid: {', '.join(KNOWN_VARIANTS)}"))
    for key in spec.parameters:
        if key not in PARAMETERS:
            problems.append(_problem(doc, ("parameters", key), f"unknown parameter; valid: {', '.join(PARAMETERS)}"))
    problems += _check_topology(spec, doc)
    names = [u.name for u in spec.users]
    if spec.apply_as and spec.apply_as not in names:
        problems.append(_problem(doc, ("applyAs",), f"no user {spec.apply_as!r}; users: {', '.join(names)}"))
    problems += [_problem(doc, path, message) for path, message in addon_problems(spec)]
    for i, step in enumerate(spec.workload):
        chosen = [f for f in ("apply", "scale", "set_image", "delete", "cordon", "drain", "uncordon")
                  if getattr(step, f)]
        if len(chosen) != 1:
            problems.append(_problem(doc, ("workload", i),
                                     "exactly one of apply, scale, setImage, delete, cordon, drain, uncordon"))
    return problems


def _check_topology(spec: ScenarioFile, doc: YamlDocument | None) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, node in enumerate(spec.topology.nodes):
        if not node.name:
            problems.append(_problem(doc, ("topology", "nodes", i, "name"), "Required value"))
        elif node.name in seen:
            problems.append(_problem(doc, ("topology", "nodes", i, "name"), f"duplicate node {node.name!r}"))
        seen.add(node.name)
        if node.role not in ("worker", "control-plane"):
            problems.append(_problem(doc, ("topology", "nodes", i, "role"), "must be worker or control-plane"))
        if not node.allocatable and not node.capacity:
            message = "needs capacity or allocatable (cpu, memory, pods)"
            problems.append(_problem(doc, ("topology", "nodes", i), message))
    for i, member in enumerate(spec.topology.etcd):
        if member.node and member.node not in seen:
            problems.append(_problem(doc, ("topology", "etcd", i, "node"), f"no node {member.node!r} in the topology"))
    return problems


def _admission_plugins(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem]) -> tuple[
        AdmissionPlugin, ...]:
    """DEFAULT_PLUGINS plus the scenario's, imported from `module:attribute` paths."""
    plugins = list(DEFAULT_PLUGINS)
    for i, ref in enumerate(spec.admission):
        module_name, _, attr = ref.partition(":")
        try:
            value = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError) as err:
            problems.append(_problem(doc, ("admission", i), f"cannot import {ref!r} (module:attribute): {err}"))
            continue
        if callable(value) and not isinstance(value, AdmissionPlugin):
            value = value()
        if not isinstance(value, AdmissionPlugin):
            problems.append(_problem(doc, ("admission", i), f"{ref!r} is not an AdmissionPlugin"))
            continue
        plugins.append(value)
    return tuple(plugins)


def _import(ref: str) -> Any:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ValueError("expected module:attribute")
    return getattr(importlib.import_module(module_name), attr)


def _environment_rules(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem]) -> tuple[Any, ...]:
    """Environment rules named by import path: a value with a `name` and `usage` or
    `targets`+`apply`, or a class/function returning one (docs/hpa.md, "the environment")."""
    out = []
    names: set[str] = set()
    for i, ref in enumerate(spec.environment.rules):
        path = ("environment", "rules", i)
        try:
            value = _import(ref)
        except (ImportError, AttributeError, ValueError) as err:
            problems.append(_problem(doc, path, f"cannot import {ref!r} (module:attribute): {err}"))
            continue
        if isinstance(value, type) or (callable(value) and not hasattr(value, "name")):
            value = value()
        acts = callable(getattr(value, "targets", None)) and callable(getattr(value, "apply", None))
        if not isinstance(getattr(value, "name", None), str) or not (acts or callable(getattr(value, "usage", None))):
            problems.append(_problem(doc, path, f"{ref!r} is not an environment rule (a `name` and `usage`, or "
                                                "`targets` and `apply`)"))
            continue
        if value.name in names:
            problems.append(_problem(doc, path, f"duplicate environment rule {value.name!r}"))
        names.add(value.name)
        out.append(value)
    return tuple(out)


def _user_controllers(spec: ScenarioFile, doc: YamlDocument | None, problems: list[Problem]) -> tuple[Any, ...]:
    """Controllers named by import path: a Controller value, or a function/class returning one."""
    out = []
    for i, ref in enumerate(spec.controllers):
        try:
            value = _import(ref)
        except (ImportError, AttributeError, ValueError) as err:
            problems.append(_problem(doc, ("controllers", i), f"cannot import {ref!r} (module:attribute): {err}"))
            continue
        if isinstance(value, type) or (not isinstance(value, Controller) and callable(value)):
            value = value()
        if not isinstance(value, Controller):
            message = f"{ref!r} is not a Controller (name, watches, identity, reconcile, keys_for, …)"
            problems.append(_problem(doc, ("controllers", i), message))
            continue
        out.append(value)
    return tuple(out)
