"""Scenarios: manifests + topology + users + workload + fault budget + bounds + model variant.

A scenario is loaded from a scenario file (`kind: Scenario`, see docs/scenario.md), from a
folder holding `scenario.yaml`, or from a bare manifest folder (which gets the default topology
described in `default_scenario_file` unless it holds Node objects: then those are the topology,
`kubeprop.model.scenario.nodes`). `FEASTFLOW` is the built-in default from the seed.

Loading is the only I/O in the model; everything after it is pure. Every problem is reported as
`file:line: field: message` through `ScenarioError` (a `ManifestError`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from kubeprop.model.api.admission import AdmissionPlugin
from kubeprop.model.api.codec import decode_attrs
from kubeprop.model.api.core import Node
from kubeprop.model.api.manifests import (
    ManifestError,
    ManifestObject,
    Problem,
    Skipped,
    StandIn,
    read_manifests,
)
from kubeprop.model.api.objects import ApiObject, is_stored_only, kind_info
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.yamlsource import (
    YamlDocument,
    YamlError,
    format_path,
    load_yaml_documents,
    read_text,
    stat_path,
)
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario import helm_hooks
from kubeprop.model.scenario.check_addons import addon_problems
from kubeprop.model.scenario.checks import check_spec
from kubeprop.model.scenario.code_refs import (
    PropertyCheck,
    admission_plugins,
    environment_rules,
    property_problems,
    property_ref_problems,
    user_controllers,
)
from kubeprop.model.scenario.code_refs import problem_at as _problem
from kubeprop.model.scenario.decode import Found, decode_all
from kubeprop.model.scenario.imports import AllowImports
from kubeprop.model.scenario.load_admission import admission_problems, merged, with_stand_ins
from kubeprop.model.scenario.load_workload import MAX_OBJECTS as MAX_OBJECTS  # (re-exported: its old home)
from kubeprop.model.scenario.load_workload import at_entries, too_many, workload_problems
from kubeprop.model.scenario.load_workload import declared_count as declared_count  # (re-exported: its old home)
from kubeprop.model.scenario.nodes import node_manifest_problems, nodes_as_topology
from kubeprop.model.scenario.schema import (
    PARAMETERS,
    SCENARIO_API_VERSION,
    ApplyStep,
    NodeDecl,
    ScenarioFile,
    TopologyDecl,
    UserDecl,
    WorkloadStep,
    boolean_word_problem,
)
from kubeprop.model.scenario.variants import VARIANTS

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
    property_lines: tuple[int, ...] = attrs.field(default=(), eq=False, repr=False)
    """The line of each `properties:` entry in the scenario file (0 when unknown)."""

    def property_origin(self, index: int) -> tuple[str, int]:
        """(file, line) of the scenario's `properties[index]` entry, for error messages."""
        line = self.property_lines[index] if index < len(self.property_lines) else 0
        return self.path, line
    environment_rules: tuple[Any, ...] = attrs.field(default=(), eq=False, repr=False)
    """User environment rules (`environment.rules:` import paths, `kubeprop.model.cluster.environment`)."""
    skipped: tuple[Skipped, ...] = attrs.field(default=(), eq=False, repr=False)
    """The manifests' objects left out at load: helm hooks `helm install` does not create
    (`kubeprop.model.scenario.helm_hooks`)."""

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

    @property
    def stored_only(self) -> tuple[str, ...]:
        """The manifests' objects the API server keeps but no modelled component but the garbage
        collector reads or is affected by (`kubeprop.model.api.networking`), as `Ingress
        default/web`, in input order (`stored_only_labels` adds the workload steps' ones)."""
        return stored_only_labels(m.obj for m in self.objects)

    def parameter(self, name: str) -> Any:
        """A model parameter: the scenario's value or the upstream default."""
        return self.spec.parameters.get(name, PARAMETERS[name])


def stored_only_label(obj: ApiObject) -> str:
    """`Kind namespace/name` (or `Kind name` for a cluster-scoped object), for the stored-only note.
    A namespaced manifest without a namespace is created in `default` (kubectl's namespace when
    the kubeconfig context names none; bootstrap does the same), so it is named there, as
    `kubeprop validate` names it (`bootstrap.object_label`)."""
    where = f"{obj.metadata.namespace or 'default'}/" if kind_info(obj).namespaced else ""
    return f"{kind_info(obj).kind} {where}{obj.metadata.name}"


def stored_only_labels(objects: Iterable[ApiObject]) -> tuple[str, ...]:
    """The labels of the stored-only objects among `objects` (a scenario's manifests, then its
    workload steps' objects), in input order, each once (a step may apply a manifest again)."""
    return tuple(dict.fromkeys(stored_only_label(o) for o in objects if is_stored_only(o)))


def stored_only_note(labels: tuple[str, ...]) -> str | None:
    """The one line a check prints about stored-only objects (None when there are none)."""
    if not labels:
        return None
    return ("stored only (kept by the API server, read by no modelled component but the garbage collector): "
            f"{', '.join(labels)}")


ADMIN = "system:admin"
"""The internal identity that creates nodes, system namespaces and user bindings (system:masters)."""
DESCHEDULER_USER = "system:serviceaccount:kube-system:descheduler"
"""The descheduler's service account: the identity its evictions are sent as."""
PROVISIONER_USER = "system:serviceaccount:kube-system:storage-provisioner"
"""The dynamic provisioner's service account: the identity it creates volumes as."""


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
    # The cluster's dynamic provisioner (kubeprop.model.cluster.provisioner) creates volumes.
    users[PROVISIONER_USER] = UserInfo(PROVISIONER_USER, ("system:masters", "system:authenticated"))
    for node in topology.nodes:
        name = f"system:node:{node.name}"
        users[name] = UserInfo(name, ("system:nodes", "system:authenticated"))
    return users


DEFAULT_WORKER_ALLOCATABLE: dict[str, str] = {"cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "18Gi"}
"""Each default worker's allocatable. `ephemeral-storage`: every real kubelet reports its root
filesystem's size (`pkg/kubelet/nodestatus/setters.go` MachineInfo, LocalStorageCapacityIsolation
GA), less the default hard eviction threshold `nodefs.available<10%` (`pkg/kubelet/eviction/
defaults_linux.go` DefaultEvictionHard, subtracted by `pkg/kubelet/cm/node_container_manager_linux.go`
hardEvictionReservation): 18Gi of a 20 GiB root disk, the default disk size of an EKS managed
node group for Linux (CreateNodegroup `diskSize`). Without it a pod requesting ephemeral-storage
(Bitnami charts' `resourcesPreset` do) would never fit, which no real node causes."""


def default_scenario_file(manifest_dir: str) -> ScenarioFile:
    """The scenario used for a bare manifest folder: three workers (2 CPU, 4Gi, 110 pods, 18Gi of
    ephemeral storage: `DEFAULT_WORKER_ALLOCATABLE`) in two zones, one user `admin` bound to
    cluster-admin who applies the manifests. When the folder holds Node objects, they replace the
    three workers (`_nodes_from_manifests`)."""
    nodes = tuple(
        decode_attrs(NodeDecl, {
            "name": f"worker-{i}", "allocatable": dict(DEFAULT_WORKER_ALLOCATABLE),
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


def load_scenario(path: Path | str | None = None, *, allow_imports: AllowImports = None,
                  confine: Path | None = None, properties: PropertyCheck | None = None) -> Scenario:
    """Load a scenario file, a folder with scenario.yaml, or a bare manifest folder/file.
    None means the built-in FeastFlow scenario. `allow_imports` (see `kubeprop.model.scenario.imports`):
    None imports whatever `admission:`/`controllers:` name (the user's own file); a collection of module
    names allows only those (a scenario inside a file under review). With `confine`, the scenario may
    read no file outside that folder (a scenario unpacked from a counterexample file: its `manifests:`
    and `apply:` paths may not reach the machine's other files). `properties` judges each
    `properties:` entry with the scenario's other problems (`code_refs.property_problems`; the
    CLI's `kubeprop.properties.modules.load_own_scenario`); without it they are judged when the
    properties load."""
    path = Path(path) if path is not None else feastflow_path()
    info = _stat(path)
    if info is not None and stat.S_ISDIR(info.st_mode):
        inner = _stat(path / SCENARIO_FILE_NAME)
        if inner is not None and stat.S_ISREG(inner.st_mode):
            path, info = path / SCENARIO_FILE_NAME, inner
    if info is None:
        raise ScenarioError([Problem(str(path), 0, "", "no such file or folder")])
    doc = None if stat.S_ISDIR(info.st_mode) else _scenario_document(path)
    if doc is None:
        # A bare manifest file or folder: named as given, so relative paths are from the working folder.
        spec = default_scenario_file(str(path))
        return _resolve(spec, path.resolve().name, str(path), base=Path(), doc=None, texts=[], found=[],
                        allow=allow_imports, confine=confine)
    found: Found = []
    decoded = decode_all(ScenarioFile, doc.data, (), found)
    spec = decoded if decoded is not None else ScenarioFile()
    return _resolve(spec, spec.metadata.name or path.stem, str(path), base=path.parent, doc=doc,
                    texts=[read_text(path)], found=found, allow=allow_imports, confine=confine,
                    properties=properties)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return stat_path(path)
    except YamlError as err:
        raise ScenarioError([Problem.from_yaml_error(err)]) from None


def _scenario_document(path: Path) -> YamlDocument | None:
    """The file's scenario document, or None if the file is a plain manifest file."""
    try:
        docs = load_yaml_documents(path, keep_duplicates=True)
    except YamlError as err:
        raise ScenarioError([Problem.from_yaml_error(err)]) from None
    for doc in docs:
        if isinstance(doc.data, dict) and doc.data.get("kind") == "Scenario":
            if len(docs) > 1:
                raise ScenarioError([Problem(doc.file, doc.line, "", "a scenario file holds one document")])
            return doc
    return None


def _resolve(spec: ScenarioFile, name: str, where: str, base: Path, doc: YamlDocument | None,
             texts: list[str], found: Found, allow: AllowImports, confine: Path | None = None,
             properties: PropertyCheck | None = None) -> Scenario:
    """The Scenario of a decoded scenario file: its problems (decoding, shape, its manifests and
    workload, its code references) all raised at once as a ScenarioError, sorted by line; else
    its objects read, its nodes taken from them if it has no topology, and its content digest."""
    decode_problems = [_problem(doc, path, message, where) for path, message in found]
    decode_problems += [Problem.from_yaml_error(err) for err in (doc.duplicates if doc is not None else ())]
    problems = _unless_covered(check_scenario(spec, doc), decode_problems)
    problems += _boolean_words(spec, doc)
    outside = [] if confine is None else _outside_problems(spec, doc, base, confine)
    decode_problems += outside
    admission = admission_plugins(spec, doc, problems, allow)
    controllers = user_controllers(spec, doc, problems, allow)
    objects: list[ManifestObject] = []
    manifests_ok = not outside and not any(p.field == "manifests" or p.field.startswith("manifests[")
                                           for p in decode_problems)
    declared = declared_count(spec)
    if declared > MAX_OBJECTS:
        users = declared - len(spec.topology.nodes)
        problems.append(_problem(doc, ("users",) if users > len(spec.topology.nodes) else ("topology", "nodes"),
                                 too_many(declared, "the topology's nodes and the users with their bindings"), where))
        manifests_ok = False
    skipped: tuple[Skipped, ...] = ()
    if spec.manifests and manifests_ok:
        objects, skipped, manifests_ok = _read_scenario_manifests(
            spec, name, where, base, doc, declared, decode_problems, problems, (admission, controllers))
    if manifests_ok:
        problems += workload_problems(spec, doc, base, objects, declared)
    rules = environment_rules(spec, doc, problems, allow)
    property_problems(spec, doc, problems, allow, properties)
    own = [p for p in decode_problems + problems if p.file == where]
    problems = sorted(own, key=lambda p: p.line) + [p for p in decode_problems + problems if p.file != where]
    if problems:
        raise ScenarioError(problems)
    spec = _nodes_from_manifests(spec, objects, doc)
    lines = tuple(doc.line_of(("properties", i)) if doc is not None else 0 for i in range(len(spec.properties)))
    return Scenario(name, where, spec, tuple(objects), _content_digest(texts, objects), admission, controllers,
                    property_lines=lines, environment_rules=rules, skipped=skipped)


def _read_scenario_manifests(spec: ScenarioFile, name: str, where: str, base: Path, doc: YamlDocument | None,
                             declared: int, decode_problems: list[Problem], problems: list[Problem],
                             code: tuple[tuple[AdmissionPlugin, ...], tuple[Any, ...]]
                             ) -> tuple[list[ManifestObject], tuple[Skipped, ...], bool]:
    """Read the scenario's `manifests:` (Helm hooks skipped): the objects, the ones skipped, and
    whether they are fit for the workload checks (all decoded, within `MAX_OBJECTS` with the
    `declared` ones). Their problems are appended to `problems`; an object that decoded beside one
    that did not goes through the API server (with the scenario's admission plugins and controllers,
    `code`) unless the scenario has problems already, so its validation errors come with them."""
    paths = [Path(p) if Path(p).is_absolute() else base / p for p in spec.manifests]
    read = read_manifests(paths, skip=helm_hooks.skip_reason)
    objects = list(read.objects)
    over = len(objects) + declared > MAX_OBJECTS
    if over:
        what = "the manifests" + (" with the topology and the users" if declared else "")
        first = objects[max(MAX_OBJECTS - declared, 0)]  # the first object past the limit: where to cut
        problems.append(_problem(doc, ("manifests",), too_many(len(objects) + declared, what)
                                 + f"; the first object past the limit is at {first.file}:{first.line}", where))
    sent = with_stand_ins(objects, read.stand_ins, read.files)
    nodes = _node_problems(spec, sent, doc, read.stand_ins)
    if read.problems or nodes:
        # Each object on its own, as kubectl sends them: the ones that decoded go through the API server,
        # so the file's validation errors (422) are reported with its decoding errors and its Nodes'
        # problems as topology (`admission_problems`; a Node with a problem is not sent, `_partial`).
        rejected = [] if over or decode_problems or problems else admission_problems(
            _partial(spec, name, where, sent, *code, doc), read.files, read.stand_ins)
        problems += at_entries(merged([*read.problems, *nodes], rejected, read.files),
                               {str(p): ("manifests", i) for i, p in enumerate(paths)}, doc)
    return objects, read.skipped, not over and not read.problems


def _content_digest(texts: list[str], objects: list[ManifestObject]) -> str:
    """The SHA-256 of the scenario's texts and of its manifest files (each once, in the order of
    their first object): what a counterexample records to tell whether the scenario changed."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
    for file in sorted({o.file for o in objects}, key=[o.file for o in objects].index):
        digest.update(read_text(Path(file)).encode())
    return digest.hexdigest()


def _partial(spec: ScenarioFile, name: str, where: str, objects: list[ManifestObject],
             admission: tuple[AdmissionPlugin, ...], controllers: tuple[Any, ...],
             doc: YamlDocument | None) -> Scenario | None:
    """The scenario of the manifests' objects that decoded, to send them to the API server while
    the others are reported. A Node manifest with a problem as topology (`_node_problems`) is left
    out — every Node manifest when the scenario declares `topology.nodes` too — and nothing else
    with it: the API server's validation of an object does not look at the nodes (a pod's
    `spec.nodeName` is not checked against them; scheduling comes later). None if the rest still
    does not make a topology."""
    conflict = _declared_nodes(spec, doc) is not None
    names: set[str] = set()
    kept = []
    for m in objects:
        if isinstance(m.obj, Node):
            if conflict or node_manifest_problems(m) or m.obj.metadata.name in names:
                continue
            names.add(m.obj.metadata.name)
        kept.append(m)
    try:
        spec = _nodes_from_manifests(spec, kept, doc)
    except ScenarioError:
        return None
    return Scenario(name, where, spec, tuple(kept), "", admission, controllers)


def _node_problems(spec: ScenarioFile, objects: list[ManifestObject], doc: YamlDocument | None,
                   stand_ins: Iterable[StandIn]) -> list[Problem]:
    """The problems of the manifests' Nodes as the topology (`nodes.nodes_as_topology`: a size it
    cannot hold, a duplicate name, `topology.nodes` declared too), checked on the Nodes that
    decoded and on the stand-ins of those that did not, so that they come with the decoding
    problems. Each resource is checked on its own, so a stand-in's problem is dropped only when it
    is about a field the stand-in left out or one above it (`status.allocatable` missing because
    its only entry did not decode), not about a sibling (`pods: "-5"` beside a bad `memory`)."""
    _, problems = nodes_as_topology(spec, tuple(objects), _declared_nodes(spec, doc))
    left_out = {(s.obj.file, s.obj.line): [format_path(f) for f in s.fields] for s in stand_ins}

    def covered(problem: Problem) -> bool:
        return any(field == problem.field or field.startswith(problem.field + ".")
                   for field in left_out.get((problem.file, problem.line), ()))

    return [p for p in problems if not covered(p)]


def _declared_nodes(spec: ScenarioFile, doc: YamlDocument | None) -> tuple[str, int] | None:
    """Where the scenario file declares `topology.nodes` (file, line), or None."""
    return (doc.file, doc.line_of(("topology", "nodes"))) if doc is not None and spec.topology.nodes else None


def _boolean_words(spec: ScenarioFile, doc: YamlDocument | None) -> list[Problem]:
    """Boolean parameters written as YAML 1.1's other words (`instantCaches: yes`)."""
    if doc is None:
        return []
    found = ((name, boolean_word_problem(name, value, doc.written(("parameters", name))))
             for name, value in spec.parameters.items())
    return [_problem(doc, ("parameters", name), problem) for name, problem in found if problem]


def _outside_problems(spec: ScenarioFile, doc: YamlDocument | None, base: Path, root: Path) -> list[Problem]:
    """Every `manifests:` and `apply:` path that leads out of folder `root` (absolute, `..`, or
    through a link), as a problem at its field."""
    top = os.path.realpath(root)
    refs: list[tuple[tuple[str | int, ...], str]] = [(("manifests", i), m) for i, m in enumerate(spec.manifests)]
    refs += [(("workload", i, "apply"), s.apply_path) for i, s in enumerate(spec.workload) if s.apply_path]
    problems = []
    for field, ref in refs:
        target = os.path.realpath(ref if os.path.isabs(ref) else base / ref)
        if os.path.commonpath([top, target]) != top:
            problems.append(_problem(doc, field, f"{ref!r} is outside the inline scenario: a scenario packed in a "
                                                 "counterexample file reads only the files packed with it"))
    return problems


def _nodes_from_manifests(spec: ScenarioFile, objects: list[ManifestObject], doc: YamlDocument | None
                          ) -> ScenarioFile:
    """Node manifests become the topology (`kubeprop.model.scenario.nodes`); the scenario's own
    `topology.nodes` may not be given too."""
    declared = _declared_nodes(spec, doc)
    if doc is None and any(isinstance(m.obj, Node) for m in objects):
        spec = evolve(spec, topology=TopologyDecl())  # a bare folder's Nodes replace the default nodes
    spec, problems = nodes_as_topology(spec, tuple(objects), declared)
    if problems:
        raise ScenarioError(problems)
    return spec


def _unless_covered(problems: list[Problem], decoded: list[Problem]) -> list[Problem]:
    """The check problems not about a field that already has a decoding problem (above or below
    it): a field left at its default because it was bad says nothing new."""
    def related(a: str, b: str) -> bool:
        return a == b or any(a.startswith(b + sep) or b.startswith(a + sep) for sep in (".", "["))
    return [p for p in problems if not any(related(p.field, d.field) for d in decoded)]


def check_scenario(spec: ScenarioFile, doc: YamlDocument | None) -> list[Problem]:
    """Problems of a decoded scenario file that its types cannot express (`checks.check_spec`)."""
    problems = [_problem(doc, path, message) for path, message in check_spec(spec)]
    problems += [_problem(doc, path, message) for path, message in addon_problems(spec, doc and doc.data)]
    for i, step in enumerate(spec.workload):
        problems += _check_step(step, i, doc)
    return problems + property_ref_problems(spec, doc)


def _check_step(step: WorkloadStep, i: int, doc: YamlDocument | None) -> list[Problem]:
    """The shape of one workload step beyond its types."""
    problems: list[Problem] = []
    options = step.apply_options
    if isinstance(step.apply, ApplyStep) and not step.apply.path:
        problems.append(_problem(doc, ("workload", i, "apply", "path"), "Required value"))
    if options is not None and options.force and not options.server_side:
        problems.append(_problem(doc, ("workload", i, "apply", "force"), "only with serverSide: true"))
    policy = step.delete.propagation_policy if step.delete is not None else ""
    if policy not in ("", "Orphan", "Background", "Foreground"):
        problems.append(_problem(doc, ("workload", i, "delete", "propagationPolicy"),
                                 "must be Orphan, Background or Foreground"))
    return problems
