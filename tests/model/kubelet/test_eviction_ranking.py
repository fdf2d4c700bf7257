"""The eviction manager's memory ranking: which active pods it ranks, and by which request.

Upstream: `pkg/kubelet/eviction/eviction_manager.go` synchronize (ranks `GetActivePods`),
`kubelet_pods.go` filterOutInactivePods, `helpers.go` rankMemoryPressure / exceedMemoryRequests,
`pkg/api/v1/resource/helpers.go` GetResourceRequestQuantity, `pkg/kubelet/cm/helpers_linux.go`
ResourceConfigForPod (the pod cgroup's memory limit)."""

from __future__ import annotations

from pathlib import Path

from cluster_harness import api_seen, settled

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.eviction import memory_bounds, memory_request
from kubeprop.model.scenario.load import ADMIN
from kubeprop.model.state.cluster import ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "kubelet" / "pressure"
NODE = "worker-1"
BATCH = "default/batch"


def _victims(model: ClusterModel, state: ClusterState) -> set[tuple[str, bool]]:
    return {(a.pod, a.over_request) for a in actions(model, state) if isinstance(a, kl.MemoryPressure)}


def _memory(request: str | None = None, limit: str | None = None) -> ResourceRequirements:
    return ResourceRequirements(requests={} if request is None else {"memory": Quantity.parse(request)},
                                limits={} if limit is None else {"memory": Quantity.parse(limit)})


def _pod(app: ResourceRequirements, *inits: tuple[ResourceRequirements, str],
         overhead: str | None = None) -> Pod:
    """A pod with one app container and init containers given as (resources, restartPolicy)."""
    init_containers = tuple(Container(name=f"i{n}", image="x:1", resources=r, restart_policy=policy)
                            for n, (r, policy) in enumerate(inits))
    spec = PodSpec(containers=(Container(name="c", image="x:1", resources=app),), init_containers=init_containers,
                   overhead={} if overhead is None else {"memory": Quantity.parse(overhead)})
    return Pod(metadata=ObjectMeta(name="p", namespace="default"), spec=spec)


def test_a_terminating_pod_still_running_is_ranked() -> None:
    """audit11's evict-terminating: batch (no memory request, so its usage exceeds it) is deleted
    with a 600 s grace period and still runs; web is Guaranteed for memory (never exceeds). Upstream
    ranks batch (GetActivePods keeps a pod whose termination was requested) and evicts it, never web;
    the old model left terminating pods out and evicted web."""
    model, state = settled(DATA / "terminating.yaml")
    state = api_seen(state, model, Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                           name="batch"))
    state = settle(model, state, allow_ticks=False, avoid=(kl.StopGracefully, kl.SigKillPod)).state
    batch = kl.kubelet_state(state, NODE).pods[BATCH]
    assert batch.terminating and batch.any_running
    assert _victims(model, state) == {(BATCH, True)}
    state = step(model, state, kl.MemoryPressure(NODE, BATCH, True))
    batch = kl.kubelet_state(state, NODE).pods[BATCH]
    assert batch.evicted and not batch.any_running  # killed now: the 1 s override cuts the 600 s short
    web = [r for key, r in kl.kubelet_state(state, NODE).pods.items() if key.startswith("default/web-")]
    assert len(web) == 1 and web[0].any_running and not web[0].evicted
    state = settle(model, state, allow_ticks=False).state
    assert BATCH not in kl.kubelet_state(state, NODE).pods  # terminal status written, pod deleted


def test_request_is_get_resource_request_quantity() -> None:
    """Init containers and sidecars count as in PodRequests; the overhead only onto a non-zero total."""
    assert memory_request(_pod(_memory(), (_memory("256Mi", "256Mi"), ""))) == Quantity.parse("256Mi")
    assert memory_request(_pod(_memory("128Mi"), (_memory("64Mi"), "Always"))) == Quantity.parse("192Mi")
    assert memory_request(_pod(_memory("128Mi"), overhead="32Mi")) == Quantity.parse("160Mi")
    assert memory_request(_pod(_memory(), overhead="32Mi")).is_zero()


def test_bounds_follow_the_pod_request_and_the_pod_cgroup_limit() -> None:
    """An init container's request counts: no container request yet a 256Mi init one does not have to
    exceed (the old model said it must). A sidecar without a memory limit leaves the pod cgroup
    unlimited (ResourceConfigForPod memoryLimitsDeclared), so the pod may exceed its request even
    when the app container's limit equals its own (the old model looked at app containers only)."""
    assert memory_bounds(_pod(_memory(), (_memory("256Mi", "256Mi"), ""))) == (False, True)
    assert memory_bounds(_pod(_memory("128Mi", "128Mi"), (_memory("64Mi"), "Always"))) == (False, True)
    assert memory_bounds(_pod(_memory("128Mi", "128Mi"), (_memory("64Mi", "64Mi"), "Always"))) == (False, False)
    assert memory_bounds(_pod(_memory("128Mi", "128Mi"), overhead="32Mi")) == (False, False)
    assert memory_bounds(_pod(_memory("128Mi", "256Mi"))) == (False, True)
    assert memory_bounds(_pod(_memory())) == (True, True)
    # a regular init container with no limit after a sidecar with one: PodLimits' ContainerFn sees
    # its own limits plus the sidecar's, not zero, so the pod cgroup is limited
    sidecar_then_init = _pod(_memory("128Mi", "128Mi"), (_memory("64Mi", "64Mi"), "Always"), (_memory(), ""))
    assert memory_bounds(sidecar_then_init) == (False, False)


def test_a_pod_without_stats_is_evicted_first() -> None:
    """A pod with no container running (here: batch's container exited and waits out its restart
    back-off) has no stats in the summary (the CRI stats provider builds them from running containers)
    and `exceedMemoryRequests` ranks it first: it is the only victim. The old model left it out and
    offered web (Guaranteed for memory, the lowest priority of the pods it ranked)."""
    model, state = settled(DATA / "terminating.yaml")
    batch = kl.kubelet_state(state, NODE).pods[BATCH]
    assert batch.any_running and (BATCH, True) in _victims(model, state)
    k = kl.kubelet_state(state, NODE)
    k = kl.crash_container(k, BATCH, "batch", now=state.clock)
    assert k is not None and not k.pods[BATCH].any_running
    state = kl.store(state, NODE, k)
    assert _victims(model, state) == {(BATCH, False)}
    state = step(model, state, kl.MemoryPressure(NODE, BATCH, False))
    assert kl.kubelet_state(state, NODE).pods[BATCH].evicted
    assert not any(isinstance(a, kl.RestartContainer) and a.pod == BATCH for a in actions(model, state))
