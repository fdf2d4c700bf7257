"""The records of a scheduling problem and of its Z3 encoding: the `Problem` (a scheduler snapshot
and the pods to place), the `Encoding` that `kubeprop.properties.scheduling.encode.encode` builds
(its SMT-LIB text, the candidate nodes and static verdicts, its work budget), the `Track` each
tracking literal stands for and the `Domain` an explanation names, and `EncodingTooLarge`.

Imports: `kubeprop.model` and `deadline` only (no other module of this package), so every module of the package — the
encoder, the ordering helpers, the solver, the explanations — may import it. `encode` re-exports
every name, the place the rest of kubeprop imports them from.
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.pod import Pod
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.affinity import NamespaceLabels, implied_namespaces
from kubeprop.model.scheduler.decide import NodeInfo
from kubeprop.properties.scheduling.deadline import Deadline


class EncodingTooLarge(RuntimeError):
    """Building the encoding would take more work than its budget allows (`encode(max_work=...)`)."""

    def __init__(self, work: int, budget: int) -> None:
        super().__init__(f"the encoding needs more than {budget:,} units of work (at least {work:,} counted)")
        self.work, self.budget = work, budget


@attrs.frozen
class SharedClaim:
    """An unbound WaitForFirstConsumer claim that several pending pods (`pods`, keys) name, with no
    selected node yet: it gets one volume, bound or provisioned for the node of the first of them
    the scheduler assumes (VolumeBinding's Reserve; the assume cache then holds the others to that
    node, and once bound the volume's node affinity does), so all of them end up where that one
    volume reaches. `domains`: (the nodes the first pod may be assumed onto, the nodes the volume
    it gets there reaches), anchors grouped by reach; `detail` names the claim."""

    detail: str
    pods: tuple[str, ...]
    domains: tuple[tuple[frozenset[str], frozenset[str]], ...]


@attrs.frozen
class Problem:
    """Bound pods stay on `nodes` (their NodeInfos); `pending` pods are to be placed.

    `volumes` holds, by pending pod key, the nodes VolumeBinding refuses the pod (node name →
    reason): a static filter like the others, but one that reads claims, volumes and StorageClasses
    besides the pod and the node, so the caller computes it (with the model's own plug-in,
    `kubeprop.model.scheduler.volumebinding`, as the other static filters are) and hands it in.

    `workloads` names, by a controller's UID, the workload the user declared that its pods come
    from, as explanations name it (`Deployment shop/web` for the pods of the Deployment's
    ReplicaSet); a controller not in it is named itself."""

    nodes: tuple[NodeInfo, ...]
    pending: tuple[Pod, ...]
    volumes: FrozenMap[str, FrozenMap[str, str]] = EMPTY
    workloads: FrozenMap[str, str] = EMPTY
    shared_claims: tuple[SharedClaim, ...] = ()
    """The unbound WaitForFirstConsumer claims several pending pods share (`SharedClaim`)."""
    namespaces: NamespaceLabels | None = None
    """The namespaces' labels, as the scheduler's namespace lister holds them, that pod
    (anti-)affinity namespaceSelectors read (`kubeprop.model.scheduler.affinity`); None: the
    namespaces of the pods, labelled `kubernetes.io/metadata.name` only (`implied_namespaces`)."""

    def namespace_view(self) -> NamespaceLabels:
        """`namespaces`, or the view implied by the bound and pending pods."""
        if self.namespaces is not None:
            return self.namespaces
        return implied_namespaces([*self.pending, *(p for ni in self.nodes for p in ni.pods)])


@attrs.frozen
class Domain:
    """A topology domain (`key`=`value`, on `nodes`) that a spread constraint counts, holding
    `count` matching bound pods, although no pending pod the constraint counts can go there (a
    drained node's zone, say: the explanation says why it still counts)."""

    key: str
    value: str
    nodes: tuple[int, ...]
    count: int
    policies: str


@attrs.frozen
class FewDomains:
    """A spread constraint with minDomains above 1, as an explanation reads it: its `key`,
    `max_skew`, `min_domains` and the eligible `domains` (value, node indices). Upstream, with fewer
    eligible domains than minDomains the global minimum counts as 0 (`podtopologyspread/
    filtering.go` minMatchNum), so no domain may hold more than maxSkew matching pods."""

    key: str
    max_skew: int
    min_domains: int
    domains: tuple[tuple[str, tuple[int, ...]], ...]


@attrs.frozen
class Track:
    """What a tracking literal stands for: kind is place | resource | spread | anti | existing-anti |
    affinity | ports | volume | down; `pods` / `nodes` index the problem; `detail` a resource name or a
    rendered constraint; `closed` the domains of a spread constraint no pod can enter; `few` a
    spread constraint's minDomains and domains (`FewDomains`). A place track's `nodes` holds the
    node a DaemonSet made the pod for (required only while that node is up)."""

    kind: str
    pods: tuple[int, ...] = ()
    nodes: tuple[int, ...] = ()
    detail: str = ""
    closed: tuple[Domain, ...] = ()
    few: FewDomains | None = None


@attrs.define
class Encoding:
    """The SMT-LIB text of a problem plus what its names mean."""

    problem: Problem
    candidates: list[list[int]]
    excluded: dict[tuple[int, int], str]
    tracks: dict[str, Track]
    lines: list[str] = attrs.field(factory=list)
    cand_sets: list[frozenset[int]] = attrs.field(factory=list)
    max_work: int | None = None
    work: int = 0
    """Units of work spent so far: one per (pod, node) pair considered and per term emitted."""
    deadline: Deadline | None = None
    """The wall-clock budget (`kubeprop schedule --budget`), checked with the work: BudgetSpent."""

    def spend(self, units: int) -> None:
        """Count `units` of work; EncodingTooLarge once past `max_work`, BudgetSpent once past the
        deadline."""
        self.work += units
        if self.max_work is not None and self.work > self.max_work:
            raise EncodingTooLarge(self.work, self.max_work)
        if self.deadline is not None:
            self.deadline.check()

    def var(self, i: int, j: int) -> str:
        """The SMT name of "pending pod i is placed on node j"."""
        return f"x{i}_{j}"

    def text(self) -> str:
        """The whole problem as SMT-LIB."""
        return "\n".join(self.lines)
