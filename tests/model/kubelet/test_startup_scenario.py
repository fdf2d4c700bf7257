"""The startup-probe scenario (`tests/model/data/kubelet/startup`): a Deployment of 2 whose container
has a startupProbe, behind a Service and a PodDisruptionBudget. A pod counts as Ready — an endpoint
address, an available replica, a healthy pod of the budget — only once its startup probe passed
(`pkg/kubelet/prober/prober_manager.go` UpdatePodStatus); a probe that never passes keeps the pods
out, restarting them with back-off (`kuberuntime_manager.go` computePodActions)."""

from __future__ import annotations

import random
from pathlib import Path

from cluster_harness import fair_states, settled, stored

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Deployment, Endpoints, ObjectKey, Pod, PodDisruptionBudget
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.kubelet import component as kl
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import deployments_complete, endpoints_match_ready_pods, workloads_ready

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "startup" / "scenario.yaml"
DEPLOYMENT = ObjectKey("deployments.apps", "default", "slow")


def _pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]


def _ready(pod: Pod) -> bool:
    cond = find_condition(pod.status.conditions, "Ready")
    return cond is not None and cond.status == "True"


def _ready_addresses(state: ClusterState) -> list[str]:
    endpoints = state.store.get(ObjectKey("endpoints", "default", "slow"))
    if not isinstance(endpoints, Endpoints):
        return []
    return sorted(a.target_ref.name for s in endpoints.subsets for a in s.addresses if a.target_ref)


def _startup_passed(act: Action) -> str | None:
    """The pod key whose startup probe `act` passes, or None."""
    if isinstance(act, kl.ProbeResult) and act.probe == "startup" and act.success:
        return act.pod
    return None


def test_the_scenario_settles_with_every_pod_ready_once_started() -> None:
    model, state = settled(SCENARIO)
    pods = _pods(state)
    assert len(pods) == 2 and all(_ready(p) and p.status.container_statuses[0].started for p in pods)
    assert _ready_addresses(state) == sorted(p.metadata.name for p in pods)
    assert stored(state, DEPLOYMENT, Deployment).status.available_replicas == 2
    budget = stored(state, ObjectKey("poddisruptionbudgets.policy", "default", "slow"), PodDisruptionBudget)
    assert (budget.status.current_healthy, budget.status.disruptions_allowed) == (2, 1)
    for check in (workloads_ready, deployments_complete, endpoints_match_ready_pods):
        assert check(model, state) is None, check


def test_in_the_fair_run_no_pod_is_ready_nor_counted_before_its_startup_probe_passed() -> None:
    """The fair run (with the rollout) takes each startup success in its turn: until then the pod
    is Running but not Ready, not a ready endpoint address, and not an available replica."""
    states, trace = fair_states(build_model(load_scenario(SCENARIO)))
    passed: set[str] = set()
    running_unstarted = 0
    for i, state in enumerate(states):
        if i > 0 and (key := _startup_passed(trace[i - 1])) is not None:
            passed.add(key)
        for pod in _pods(state):
            key = f"default/{pod.metadata.name}"
            if _ready(pod) or pod.metadata.name in _ready_addresses(state):
                assert key in passed, (i, key)
            elif pod.status.phase == "Running" and key not in passed:
                running_unstarted += 1
        available = stored(state, DEPLOYMENT, Deployment).status.available_replicas if i else 0
        assert available <= len(passed), i
    assert len(passed) == 4  # two pods, then two of the new image
    assert running_unstarted > 0  # the API did show pods Running and not yet Ready


def _never_passing(model: ClusterModel, steps: int) -> tuple[ClusterState, int, bool]:
    """The fair run, but every startup probe fails whenever it can and never passes: the final
    state, the restarts taken, and whether a pod was ever Ready."""
    policy = FairPolicy(max_ticks=200)
    state, restarts, ever_ready = initial_state(model), 0, False
    for _ in range(steps):
        enabled = [a for a in actions(model, state) if _startup_passed(a) is None]
        act = next((a for a in enabled if isinstance(a, kl.ProbeResult) and a.probe == "startup"), None)
        act = act or policy.choose(enabled)
        if act is None:
            break
        policy.taken(act)
        restarts += isinstance(act, kl.RestartContainer)
        state = step(model, state, act)
        ever_ready = ever_ready or any(_ready(p) for p in _pods(state)) or bool(_ready_addresses(state))
    return state, restarts, ever_ready


def test_a_startup_probe_that_never_passes_keeps_the_pods_out_and_crash_looping() -> None:
    model = build_model(load_scenario(SCENARIO))
    state, restarts, ever_ready = _never_passing(model, 1500)
    assert not ever_ready
    assert restarts >= 6
    pods = _pods(state)
    assert pods and all(not p.status.container_statuses or not p.status.container_statuses[0].started for p in pods)
    waiting = [c.state.get("waiting", {}).get("reason") for p in pods for c in p.status.container_statuses]
    assert "CrashLoopBackOff" in waiting, waiting
    assert stored(state, DEPLOYMENT, Deployment).status.available_replicas == 0
    budget = stored(state, ObjectKey("poddisruptionbudgets.policy", "default", "slow"), PodDisruptionBudget)
    assert (budget.status.current_healthy, budget.status.disruptions_allowed) == (0, 0)
    assert workloads_ready(model, state) is not None


def test_random_runs_write_ready_only_for_a_container_run_whose_startup_passed() -> None:
    """Random runs (probe failures, crashes and the rollout included): whenever the kubelet writes
    Ready=True for a pod, its container's current run passed its startup probe — counted from the
    trace's actions, not from the model's own flags."""
    model = build_model(load_scenario(SCENARIO))
    rng, checked = random.Random(5), 0
    for _ in range(12):
        state, passed = initial_state(model), set[str]()
        for _ in range(250):
            enabled = actions(model, state)
            if not enabled:
                break
            act = rng.choice(enabled)
            state = step(model, state, act)
            if isinstance(act, (kl.StartPod, kl.RestartContainer)):
                passed.discard(act.pod)
            elif (key := _startup_passed(act)) is not None:
                passed.add(key)
            elif isinstance(act, kl.SyncPodStatus):
                pod = state.store.get(ObjectKey("pods", *act.pod.split("/")))
                if isinstance(pod, Pod) and _ready(pod):
                    assert act.pod in passed, act
                    checked += 1
    assert checked > 0
