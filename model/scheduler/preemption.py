"""DefaultPreemption: which lower-priority pods the scheduler would evict to make room for a pod.

Sources (repo `kubernetes/kubernetes`, master ~v1.35):

* `pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`: PostFilter
  prefixes the evaluator's message with "preemption: "; PodEligibleToPreemptOthers
  ("not eligible due to preemptionPolicy=Never.", "not eligible due to a terminating pod on
  the nominated node."); SelectVictimsOnNode: remove every pod of lower priority, fail if none
  ("No preemption victims found for incoming pod", unresolvable) or if the pod still does not
  fit (that filter's status); then split the potential victims, most important first (priority,
  then earlier start time), into those whose eviction would violate a PodDisruptionBudget and
  the others (filterPodsWithPDBViolation, `kubeprop.model.scheduler.pdbs`), and reprieve them
  while the pod still fits: the violating ones first, then the others, each group from the most
  important down. A violating pod that cannot be reprieved is still a victim (PDBs are a
  preference, not a guarantee) and counts as one PDB violation of the candidate.
* `pkg/scheduler/framework/preemption/preemption.go`: Preempt; nodesWherePreemptionMightHelp
  (only nodes whose failure is Unschedulable, not UnschedulableAndUnresolvable: the others get
  "Preemption is not helpful for scheduling"); findCandidates lists the PDBs from the
  scheduler's informer (getPodDisruptionBudgets); no candidate -> a FitError over those
  statuses; pickOneNodeForPreemption: fewest PDB violations, lowest highest-victim priority,
  lowest Σ(priority + 2^31) over victims, fewest victims, latest start of the highest-priority
  victims, then the first candidate.
* `pkg/scheduler/util/utils.go` MoreImportantPod / GetPodStartTime (unset start time = now).

Model choices: the PDBs are those of the scheduler's cache (`pdbs.cached_pdbs`; watched only in
scenarios that create one, `pdbs.sees_pdbs`), with the status the disruption controller last
wrote; with fewer than 100 nodes every potential node is dry-run (minCandidateNodesAbsolute =
100), so the candidate set is exact, but upstream walks the nodes from a random offset and keeps
the *first* of equally good candidates: `best_preemption_candidates` returns all of them (a
nondeterministic choice), `pick_preemption` the first by node name. Start times are the model's
integer clock; an unset start time counts as later than any set one. The victims get the
DisruptionTarget condition (PreemptionByScheduler) and are deleted by `kubeprop.model.scheduler.prepare`,
so a preemptor whose victims still terminate on its nominated node is not eligible again
(`_ineligible`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.api.pod import Pod
from kubeprop.model.api.policy import PodDisruptionBudget
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.filters import FilterStatus
from kubeprop.model.scheduler.framework import (
    DEFAULT_PROFILE,
    Diagnosis,
    FilterFn,
    SchedulerProfile,
    diagnose,
    replace_node,
    run_filters_with_nominated,
)
from kubeprop.model.scheduler.message import fit_error_message
from kubeprop.model.scheduler.nodeinfo import NodeInfo, pod_key, pod_priority
from kubeprop.model.scheduler.pdbs import filter_pods_with_pdb_violation

__all__ = [
    "NOT_HELPFUL",
    "NO_VICTIMS",
    "PreemptionCandidate",
    "PreemptionOutcome",
    "best_preemption_candidates",
    "pick_preemption",
    "preempt",
    "preemption_candidates",
    "select_victims_on_node",
]

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
_INT32_OFFSET = 2**31  # math.MaxInt32 + 1
_NOW = float("inf")


@attrs.frozen
class PreemptionCandidate:
    """A node where evicting `victims` (pod keys, most important first) lets the pod fit;
    `pdb_violations` of them would violate a PodDisruptionBudget."""

    node: str
    victims: tuple[str, ...]
    victim_priorities: tuple[int, ...] = ()
    victim_start_times: tuple[float, ...] = ()
    pdb_violations: int = 0


@attrs.frozen
class PreemptionOutcome:
    """The PostFilter result: the chosen candidate, or the "preemption: ..." message;
    `clear_nomination`: no candidate was found, so the result's NominatingInfo clears the pod's
    nomination (`NewPostFilterResultWithNominatedNode("")`); an ineligible pod gets no result."""

    candidate: PreemptionCandidate | None
    message: str
    clear_nomination: bool = False


def _start(pod: Pod) -> float:
    return _NOW if pod.status.start_time is None else float(pod.status.start_time)


def _importance(pod: Pod) -> tuple[int, float, str]:
    """Sort key: most important first (MoreImportantPod; pod key as the final tie-break)."""
    return (-pod_priority(pod), _start(pod), pod_key(pod))


def select_victims_on_node(
    pod: Pod, ni: NodeInfo, nodes: Sequence[NodeInfo], profile: SchedulerProfile,
    pdbs: Sequence[PodDisruptionBudget] = (), volumes: FilterFn | None = None,
) -> PreemptionCandidate | FilterStatus:
    """SelectVictimsOnNode: the candidate, or why preemption cannot help on `ni`. `volumes` is the
    pod's volume Filter (`framework.volume_filter`: VolumeRestrictions, whose RemovePod lets the
    removal of a ReadWriteOncePod claim's user help, and VolumeBinding)."""
    prio = pod_priority(pod)
    potential = sorted((p for p in ni.pods if pod_priority(p) < prio), key=_importance)
    if not potential:
        return FilterStatus("DefaultPreemption", (NO_VICTIMS,), True)
    current = ni.with_pods(removed=frozenset(pod_key(p) for p in potential))
    status = run_filters_with_nominated(pod, current, replace_node(nodes, current), profile, volumes)
    if status is not None:
        return status
    violating, others = filter_pods_with_pdb_violation(potential, pdbs)
    violators = {pod_key(p) for p in violating}
    victims: list[Pod] = []
    violations = 0
    for p in (*violating, *others):
        trial = current.with_pods(added=[p])
        if run_filters_with_nominated(pod, trial, replace_node(nodes, trial), profile, volumes) is None:
            current = trial
        else:
            victims.append(p)
            violations += pod_key(p) in violators
    if not victims:
        return FilterStatus("DefaultPreemption", (f'expected at least one victim pod on node "{ni.name}"',), False)
    victims.sort(key=_importance)  # a no-op unless both groups were non-empty, as upstream
    return PreemptionCandidate(
        ni.name,
        tuple(pod_key(v) for v in victims),
        tuple(pod_priority(v) for v in victims),
        tuple(_start(v) for v in victims),
        violations,
    )


def _ineligible(pod: Pod, nodes: Sequence[NodeInfo], diagnosis: Diagnosis) -> str | None:
    """PodEligibleToPreemptOthers: the reason the pod may not preempt, or None."""
    if pod.spec.preemption_policy == "Never":
        return "not eligible due to preemptionPolicy=Never."
    nominated = pod.status.nominated_node_name
    status = diagnosis.statuses.get(nominated)
    if not nominated or (status is not None and status.unresolvable):
        return None
    for ni in nodes:
        if ni.name == nominated and any(
            pod_priority(p) < pod_priority(pod) and _terminating_by_preemption(p) for p in ni.pods
        ):
            return "not eligible due to a terminating pod on the nominated node."
    return None


def _terminating_by_preemption(p: Pod) -> bool:
    if p.metadata.deletion_timestamp is None:
        return False
    for c in p.status.conditions:
        if c.type == "DisruptionTarget":
            return c.status == "True" and c.reason == "PreemptionByScheduler"
    return False


def _dry_run(
    pod: Pod, nodes: Sequence[NodeInfo], profile: SchedulerProfile, diagnosis: Diagnosis,
    pdbs: Sequence[PodDisruptionBudget], volumes: FilterFn | None = None,
) -> tuple[list[PreemptionCandidate], dict[str, FilterStatus]]:
    """findCandidates + DryRunPreemption over the nodes where preemption might help."""
    candidates: list[PreemptionCandidate] = []
    statuses: dict[str, FilterStatus] = {}
    for ni in nodes:
        status = diagnosis.statuses.get(ni.name)
        if status is None or status.unresolvable:
            statuses[ni.name] = FilterStatus("DefaultPreemption", (NOT_HELPFUL,), True)
            continue
        outcome = select_victims_on_node(pod, ni, nodes, profile, pdbs, volumes)
        if isinstance(outcome, PreemptionCandidate):
            candidates.append(outcome)
        else:
            statuses[ni.name] = outcome
    return candidates, statuses


def preemption_candidates(
    pod: Pod, node_infos: Sequence[NodeInfo], profile: SchedulerProfile = DEFAULT_PROFILE,
    pdbs: Sequence[PodDisruptionBudget] = (),
) -> tuple[PreemptionCandidate, ...]:
    """Every node where preemption would let `pod` fit, with its victims (node-name order) and
    how many of them would violate one of `pdbs`.

    Empty if the pod may not preempt (preemptionPolicy Never, or victims of an earlier
    preemption still terminating on its nominated node).
    """
    nodes = tuple(sorted(node_infos, key=lambda n: n.name))
    diagnosis = diagnose(pod, nodes, profile)
    if _ineligible(pod, nodes, diagnosis):
        return ()
    return tuple(_dry_run(pod, nodes, profile, diagnosis, pdbs)[0])


def _earliest_top_start(c: PreemptionCandidate) -> float:
    top = max(c.victim_priorities)
    return min(s for p, s in zip(c.victim_priorities, c.victim_start_times, strict=True) if p == top)


def _rank(c: PreemptionCandidate) -> tuple[int, int, int, int, float]:
    """pickOneNodeForPreemption's criteria as a sort key (smaller is better)."""
    return (
        c.pdb_violations,
        max(c.victim_priorities),
        sum(p + _INT32_OFFSET for p in c.victim_priorities),
        len(c.victims),
        -_earliest_top_start(c),
    )


def best_preemption_candidates(candidates: Sequence[PreemptionCandidate]) -> tuple[PreemptionCandidate, ...]:
    """All candidates pickOneNodeForPreemption might return (tied on every criterion)."""
    if not candidates:
        return ()
    best = min(_rank(c) for c in candidates)
    return tuple(sorted((c for c in candidates if _rank(c) == best), key=lambda c: c.node))


def pick_preemption(
    pod: Pod, node_infos: Sequence[NodeInfo], profile: SchedulerProfile = DEFAULT_PROFILE,
    pdbs: Sequence[PodDisruptionBudget] = (),
) -> PreemptionCandidate | None:
    """The candidate the model picks (the first tied one by node name), or None."""
    best = best_preemption_candidates(preemption_candidates(pod, node_infos, profile, pdbs))
    return best[0] if best else None


def preempt(pod: Pod, nodes: Sequence[NodeInfo], profile: SchedulerProfile, diagnosis: Diagnosis,
            pdbs: Sequence[PodDisruptionBudget] = (), volumes: FilterFn | None = None) -> PreemptionOutcome:
    """Evaluator.Preempt after a failed cycle: the chosen candidate or the PostFilter message
    (`volumes`: the pod's volume Filter, `select_victims_on_node`)."""
    reason = _ineligible(pod, nodes, diagnosis)
    if reason:
        return PreemptionOutcome(None, "preemption: " + reason)
    candidates, statuses = _dry_run(pod, nodes, profile, diagnosis, pdbs, volumes)
    best = best_preemption_candidates(candidates)
    if best:
        return PreemptionOutcome(best[0], "")
    return PreemptionOutcome(None, "preemption: " + fit_error_message(len(nodes), FrozenMap(statuses)), True)
