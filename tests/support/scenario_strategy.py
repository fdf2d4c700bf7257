"""Random *valid* scenarios as a user writes them: a scenario file and its manifests folder.

The generative false-alarm campaign (`benchmarks/bench_generated.py`, `tests/properties/test_generated.py`)
runs the correct model on scenarios drawn here: 1–4 nodes (allocatable, zone and disk labels,
taints), Deployments (replicas, RollingUpdate with maxSurge/maxUnavailable or Recreate,
minReadySeconds, containers with requests and limits, readiness and liveness probes, init
containers), StatefulSets (volume claim templates, OrderedReady or Parallel, RollingUpdate with a
partition or OnDelete, minReadySeconds), bare Pods, Services, in `default` and sometimes in a
second namespace; PodDisruptionBudgets (maxUnavailable or minAvailable, unhealthyPodEvictionPolicy),
HorizontalPodAutoscalers (with the environment's CPU usage), node selectors, node affinity, pod
anti-affinity (preferred or required, by hostname or zone), tolerations, topology spread
constraints, built-in priority classes, ConfigMaps; workload steps (scale, setImage, apply client-
and server-side, delete, cordon/uncordon, drain); a fault budget of at most one of each kind (etcd
restores with or without the documented procedure, API server floods under APF or max-in-flight);
a Kubernetes release as the model parameters that name release differences; sometimes a
descheduler profile (`scenario_extras` draws the policies, faults, release and descheduler).

Every draw goes through a `Chooser`, so the same code draws from Hypothesis (`hypothesis_chooser`:
shrinking) or from a seeded `random.Random` (`SeededChooser`: the campaign, the same cases for the
same seed). Drawn scenarios are valid by construction: every workload has a node it may run on,
and in a *roomy* draw every node has room for twice the scenario's peak demand (replicas after
every step and at the HPA's maximum, plus surge), so pods that stay Pending are the model's doing;
a *tight* draw has small nodes, and Pending pods there are the user's (the campaign classifies
them with the scheduler's own filters).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import attrs
import scenario_extras as extras
import yaml
from scenario_steps import MEMORY_REQUESTS_MI, workload_steps

T = TypeVar("T")
Doc = dict[str, Any]

CPU_REQUESTS_M = (10, 50, 100, 250)
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
SURGES: tuple[int | str, ...] = (0, 1, "25%", "50%")
"""maxSurge and maxUnavailable values (never both 0: the API server refuses that)."""
GENERAL_FAULTS = extras.GENERAL_FAULTS
SECOND_NAMESPACE = "team-a"
"""The namespace some drawn workloads live in (created by the scenario's first manifest)."""


class Chooser(Protocol):
    """Where every random choice of a draw comes from."""

    def integer(self, lo: int, hi: int) -> int:
        """An integer in lo..hi (shrinks towards lo)."""

    def flag(self, p: float) -> bool:
        """True with probability about `p` (shrinks towards False)."""


def choice(chooser: Chooser, options: Sequence[T]) -> T:
    """One of `options` (shrinks towards the first)."""
    return options[chooser.integer(0, len(options) - 1)]


@attrs.define
class SeededChooser:
    """Choices from `random.Random(seed)`: the same seed, the same scenario."""

    rng: random.Random

    @classmethod
    def of(cls, seed: int) -> SeededChooser:
        """A chooser seeded with `seed` (never Python's salted hash)."""
        return cls(random.Random(seed))

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def flag(self, p: float) -> bool:
        return self.rng.random() < p


@attrs.define
class DrawChooser:
    """Choices from a Hypothesis `draw` function (see `hypothesis_chooser`)."""

    draw: Callable[[Any], Any]

    def integer(self, lo: int, hi: int) -> int:
        from hypothesis import strategies as st
        return int(self.draw(st.integers(lo, hi)))

    def flag(self, p: float) -> bool:
        from hypothesis import strategies as st
        return int(self.draw(st.integers(0, 99))) >= round(100 * (1 - p))


@attrs.define
class Node:
    """A drawn node (allocatable is set once the demand is known)."""

    name: str
    zone: str
    ssd: bool
    taint: Doc | None
    cpu_m: int = 0
    memory_mi: int = 0
    pods: int = 110

    def labels(self) -> dict[str, str]:
        labels = {"topology.kubernetes.io/zone": self.zone, "kubernetes.io/hostname": self.name}
        if self.ssd:
            labels["disk"] = "ssd"
        return labels


@attrs.define
class Workload:
    """A drawn Deployment or StatefulSet (or bare Pod), and what the steps do to it."""

    kind: str
    name: str
    replicas: int
    pod: Doc
    cpu_m: int
    memory_mi: int
    containers: list[str]
    surge: int = 0
    peak: int = 0
    hpa_max: int = 0
    doc: Doc = attrs.Factory(dict)
    namespace: str = "default"

    @property
    def ref(self) -> str:
        """`namespace/name`, as a workload step names it."""
        return f"{self.namespace}/{self.name}"


@attrs.define
class Drawn:
    """A drawn scenario: the scenario document, its manifest files, extra folders for `apply`
    steps, whether its nodes are roomy, and the features it uses (for the campaign's reach)."""

    scenario: Doc
    manifests: dict[str, list[Doc]]
    extra: dict[str, list[Doc]]
    roomy: bool
    features: set[str]

    def write(self, folder: Path) -> Path:
        """Writes the scenario under `folder` (created) and returns the scenario file."""
        folder.mkdir(parents=True, exist_ok=True)
        for relative, docs in (*self.manifests.items(), *self.extra.items()):
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
        target = folder / "scenario.yaml"
        target.write_text(yaml.safe_dump(self.scenario, sort_keys=False), encoding="utf-8")
        return target


def _meta(name: str, namespace: str = "default") -> Doc:
    return {"name": name, "namespace": namespace}


def _probe(c: Chooser) -> Doc:
    handler = choice(c, ({"httpGet": {"path": "/ready", "port": 8080}}, {"tcpSocket": {"port": 8080}},
                         {"exec": {"command": ["true"]}}))
    probe: Doc = dict(handler)
    if c.flag(0.3):
        probe["initialDelaySeconds"] = choice(c, (5, 10, 30))
    if c.flag(0.3):
        probe["periodSeconds"] = choice(c, (5, 10))
    if c.flag(0.2):
        probe["failureThreshold"] = choice(c, (1, 3))
    return probe


def _container(c: Chooser, name: str, image: str) -> tuple[Doc, int, int]:
    cpu, mem = choice(c, CPU_REQUESTS_M), choice(c, MEMORY_REQUESTS_MI)
    resources: Doc = {"requests": {"cpu": f"{cpu}m", "memory": f"{mem}Mi"}}
    if c.flag(0.4):
        resources["limits"] = {"cpu": f"{cpu * choice(c, (1, 2, 4))}m", "memory": f"{mem * choice(c, (1, 2))}Mi"}
    doc: Doc = {"name": name, "image": image, "resources": resources}
    if c.flag(0.3):
        doc["ports"] = [{"containerPort": 8080}]
    if c.flag(0.5):
        doc["readinessProbe"] = _probe(c)
    if c.flag(0.3):
        doc["livenessProbe"] = _probe(c)
    return doc, cpu, mem


def _pod_spec(c: Chooser, app: str, nodes: Sequence[Node], features: set[str]) -> tuple[Doc, int, int, list[str]]:
    """A pod template's spec: containers, and scheduling constraints that leave it a node."""
    containers, cpu, mem = [], 0, 0
    for i in range(c.integer(1, 2)):
        doc, ccpu, cmem = _container(c, f"{app}-c{i}" if i else app, f"{app}:1")
        containers.append(doc)
        cpu, mem = cpu + ccpu, mem + cmem
    spec: Doc = {"containers": containers}
    if c.flag(0.1):
        features.add("initContainers")
        spec["initContainers"] = [{"name": "init", "image": "busybox:1", "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"}}}]
    if c.flag(0.2):
        features.add("nodeSelector")
        node = choice(c, nodes)
        spec["nodeSelector"] = {"disk": "ssd"} if node.ssd and c.flag(0.5) else {
            "topology.kubernetes.io/zone": node.zone}
    if c.flag(0.2):
        features.add("nodeAffinity")
        zones = sorted({n.zone for n in nodes})
        term = {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                                      "values": [choice(c, zones)]}]}
        spec["affinity"] = ({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [term]}}} if c.flag(0.5) else
            {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "preference": term}]}})
    if c.flag(0.2):
        spec.setdefault("affinity", {})["podAntiAffinity"] = _anti_affinity(c, app, features)
    if c.flag(0.15):
        features.add("topologySpreadConstraints")
        spec["topologySpreadConstraints"] = [{
            "maxSkew": 1, "topologyKey": choice(c, ("kubernetes.io/hostname", "topology.kubernetes.io/zone")),
            "whenUnsatisfiable": choice(c, ("ScheduleAnyway", "DoNotSchedule")),
            "labelSelector": {"matchLabels": {"app": app}}}]
    tainted = [n for n in nodes if n.taint is not None]
    if tainted and c.flag(0.4):
        features.add("tolerations")
        taint = choice(c, tainted).taint
        assert taint is not None
        spec["tolerations"] = [{"key": taint["key"], "operator": "Equal", "value": taint["value"],
                                "effect": taint["effect"]}]
    if c.flag(0.1):
        features.add("priorityClassName")
        spec["priorityClassName"] = "system-cluster-critical"
    if c.flag(0.1):
        features.add("terminationGracePeriodSeconds")
        spec["terminationGracePeriodSeconds"] = choice(c, (0, 5, 60))
    _ensure_a_node(spec, nodes)
    return spec, cpu, mem, [d["name"] for d in containers]


def _anti_affinity(c: Chooser, app: str, features: set[str]) -> Doc:
    """Pod anti-affinity against the pod's own replicas, by hostname or zone; preferred, or
    required (replicas beyond the domains then stay Pending: the campaign calls them unfit)."""
    key = choice(c, ("kubernetes.io/hostname", "topology.kubernetes.io/zone"))
    term = {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}
    if c.flag(0.3):
        features.add("podAntiAffinity required")
        return {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
    features.add("podAntiAffinity" if key == "kubernetes.io/hostname" else "podAntiAffinity zone")
    return {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}


def _admits(spec: Doc, node: Node) -> bool:
    """The node passes the pod's node selector, required node affinity and hard taints."""
    labels = node.labels()
    if any(labels.get(k) != v for k, v in spec.get("nodeSelector", {}).items()):
        return False
    required = spec.get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required:
        expr = required["nodeSelectorTerms"][0]["matchExpressions"][0]
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    taint = node.taint
    if taint is None or taint["effect"] == "PreferNoSchedule":
        return True
    return any(t["key"] == taint["key"] and t["value"] == taint["value"] and t["effect"] == taint["effect"]
               for t in spec.get("tolerations", ()))


def _ensure_a_node(spec: Doc, nodes: Sequence[Node]) -> None:
    """Drops constraints until some node admits the pod (a user's pods are meant to run)."""
    for drop in ("nodeSelector", "affinity", "tolerations"):
        if any(_admits(spec, n) for n in nodes):
            return
        if drop == "tolerations":
            taint = next(n.taint for n in nodes if n.taint is not None)
            assert taint is not None
            spec["tolerations"] = [{"key": taint["key"], "operator": "Exists"}]
        else:
            spec.pop(drop, None)


def _resolve(value: int | str, replicas: int, up: bool) -> int:
    if isinstance(value, int):
        return value
    share = int(value.rstrip("%")) * replicas / 100
    return math.ceil(share) if up else math.floor(share)


def _deployment(c: Chooser, name: str, nodes: Sequence[Node], features: set[str], namespace: str) -> Workload:
    spec, cpu, mem, containers = _pod_spec(c, name, nodes, features)
    replicas = c.integer(0, 3)
    body: Doc = {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}
    surge: int | str = 0
    if c.flag(0.15):
        features.add("Recreate")
        body["strategy"] = {"type": "Recreate"}
    elif c.flag(0.6):
        features.add("rollingUpdate")
        surge = choice(c, SURGES)
        unavailable = choice(c, SURGES[1:] if surge == 0 else SURGES)
        body["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge,
                                                                       "maxUnavailable": unavailable}}
    else:
        surge = "25%"
    if c.flag(0.15):
        features.add("minReadySeconds")
        body["minReadySeconds"] = choice(c, (5, 10))
    if c.flag(0.1):
        features.add("revisionHistoryLimit")
        body["revisionHistoryLimit"] = choice(c, (0, 1))
    if c.flag(0.1):
        features.add("progressDeadlineSeconds")
        body["progressDeadlineSeconds"] = choice(c, (60, 600))
    doc = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, namespace), "spec": body}
    w = Workload("Deployment", name, replicas, spec, cpu, mem, containers, doc=doc, namespace=namespace)
    w.surge = surge if isinstance(surge, int) else -int(surge.rstrip("%"))
    return w


def _statefulset_strategy(c: Chooser, replicas: int, body: Doc, features: set[str]) -> None:
    """A StatefulSet's update strategy: the default, a partition, or OnDelete; minReadySeconds."""
    if c.flag(0.15):
        features.add("StatefulSet OnDelete")
        body["updateStrategy"] = {"type": "OnDelete"}
    elif c.flag(0.2):
        features.add("StatefulSet partition")
        partition = c.integer(1, max(1, replicas))
        body["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}
    if c.flag(0.1):
        features.add("StatefulSet minReadySeconds")
        body["minReadySeconds"] = choice(c, (5, 10))


def _statefulset(c: Chooser, name: str, nodes: Sequence[Node], features: set[str], namespace: str) -> Workload:
    spec, cpu, mem, containers = _pod_spec(c, name, nodes, features)
    replicas = c.integer(0, 3)
    body: Doc = {"serviceName": name, "replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}
    if c.flag(0.3):
        features.add("podManagementPolicy: Parallel")
        body["podManagementPolicy"] = "Parallel"
    if c.flag(0.5):
        features.add("volumeClaimTemplates")
        body["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    _statefulset_strategy(c, replicas, body, features)
    doc = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(name, namespace), "spec": body}
    return Workload("StatefulSet", name, replicas, spec, cpu, mem, containers, doc=doc, namespace=namespace)


def _nodes(c: Chooser, features: set[str]) -> list[Node]:
    count = c.integer(1, 4)
    nodes = []
    for i in range(count):
        taint = None
        if i > 0 and c.flag(0.3):
            features.add("taints")
            taint = {"key": "dedicated", "value": choice(c, ("db", "batch")), "effect": choice(c, TAINT_EFFECTS)}
        nodes.append(Node(f"worker-{i + 1}", choice(c, ("zone-a", "zone-b")), c.flag(0.3), taint))
    return nodes


def _size(c: Chooser, nodes: Sequence[Node], workloads: Sequence[Workload], roomy: bool) -> None:
    """Every node's allocatable: twice the peak demand when roomy, else small."""
    if roomy:
        cpu = mem = pods = 0
        for w in workloads:
            peak = max(w.peak, w.replicas, w.hpa_max)
            surge = w.surge if w.surge >= 0 else math.ceil(-w.surge * peak / 100)
            cpu += (peak + surge) * w.cpu_m
            mem += (peak + surge) * w.memory_mi
            pods += peak + surge
        for n in nodes:
            n.cpu_m = max(500, 100 * math.ceil(2 * cpu / 100))
            n.memory_mi = max(512, 256 * math.ceil(2 * mem / 256))
            n.pods = max(10, 2 * pods)
        return
    for n in nodes:
        n.cpu_m, n.memory_mi, n.pods = choice(c, (250, 500, 1000)), choice(c, (256, 512, 1024)), choice(c, (4, 10))


def _topology(nodes: Sequence[Node]) -> list[Doc]:
    out = []
    for n in nodes:
        doc: Doc = {"name": n.name, "allocatable": {"cpu": f"{n.cpu_m}m", "memory": f"{n.memory_mi}Mi",
                                                    "pods": str(n.pods)}}
        labels = {k: v for k, v in n.labels().items() if k != "kubernetes.io/hostname"}
        doc["labels"] = labels
        if n.taint is not None:
            doc["taints"] = [n.taint]
        out.append(doc)
    return out


def _workloads(c: Chooser, nodes: Sequence[Node], features: set[str]) -> list[Workload]:
    """1–3 Deployments or StatefulSets, in `default` or (when the draw uses one) a second
    namespace, and sometimes a bare Pod."""
    namespaces = ("default", SECOND_NAMESPACE) if c.flag(0.25) else ("default",)
    workloads: list[Workload] = []
    for i in range(c.integer(1, 3)):
        make = _statefulset if c.flag(0.3) else _deployment
        workloads.append(make(c, f"app{i + 1}", nodes, features, choice(c, namespaces)))
    if c.flag(0.15):
        features.add("Pod")
        spec, cpu, mem, containers = _pod_spec(c, "solo", nodes, features)
        namespace = choice(c, namespaces)
        pod = Workload("Pod", "solo", 1, spec, cpu, mem, containers, namespace=namespace)
        pod.doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {**_meta("solo", namespace),
                                                                     "labels": {"app": "solo"}}, "spec": spec}
        workloads.append(pod)
    features.update(w.kind for w in workloads)
    return workloads


def _users(c: Chooser) -> list[Doc]:
    """The admin who applies everything, sometimes a developer with view in `default` (a user's
    RoleBindings are bound before the manifests create a second namespace)."""
    users: list[Doc] = [{"name": "admin", "clusterRoles": ["cluster-admin"]}]
    if c.flag(0.2):
        users.append({"name": "developer", "roles": [{"namespace": "default", "clusterRole": "view"}]})
    return users


def draw_scenario(c: Chooser) -> Drawn:
    """One valid scenario (see the module docstring)."""
    features: set[str] = set()
    nodes = _nodes(c, features)
    workloads = _workloads(c, nodes, features)
    namespaces = sorted({w.namespace for w in workloads} | {"default"})
    docs: list[Doc] = []
    if SECOND_NAMESPACE in namespaces:
        features.add("second namespace")
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SECOND_NAMESPACE}})
    docs += [w.doc for w in workloads]
    if c.flag(0.2):
        features.add("ConfigMap")
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("settings"),
                     "data": {"mode": "production"}})
    docs += extras.services(c, workloads, features)
    policies, usage = extras.policies(c, workloads, features)
    docs += policies
    extra: dict[str, list[Doc]] = {}
    has_pdb = any(d["kind"] == "PodDisruptionBudget" for d in policies)
    steps = workload_steps(c, nodes, workloads, extra, has_pdb, features)
    faults, params = extras.faults(c, usage, features)
    params.update(extras.release(c, features))
    features.update(f"parameter {k}" for k in params)
    roomy = c.flag(0.8)
    features.add("roomy" if roomy else "tight")
    _size(c, nodes, workloads, roomy)
    scenario: Doc = {"apiVersion": "kubeprop.dev/v1alpha1", "kind": "Scenario", "metadata": {"name": "generated"},
                     "manifests": ["manifests"], "topology": {"nodes": _topology(nodes)},
                     "users": _users(c), "applyAs": "admin"}
    for key, value in (("workload", steps), ("faults", faults), ("parameters", params),
                       ("environment", {"usage": usage} if usage else {})):
        if value:
            scenario[key] = value
    if c.flag(0.1):
        scenario["descheduler"] = extras.descheduler(c, features)
    return Drawn(scenario, {"manifests/app.yaml": docs}, extra, roomy, features)


def seeded_scenario(seed: int, case: int) -> Drawn:
    """Case `case` of the campaign with seed `seed`: the same pair, the same scenario."""
    return draw_scenario(SeededChooser.of(seed * 1_000_003 + case))


def hypothesis_scenarios() -> Any:
    """A Hypothesis strategy of `Drawn` scenarios (shrinks towards one small node and one Deployment)."""
    from hypothesis import strategies as st

    @st.composite
    def drawn(draw: Callable[[Any], Any]) -> Drawn:
        return draw_scenario(DrawChooser(draw))

    return drawn()
