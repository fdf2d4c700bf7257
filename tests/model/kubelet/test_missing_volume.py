"""A pod whose `configMap`, `secret` or `projected` volume names a missing object (or key), not
`optional: true`, does not start (`kubeprop.model.kubelet.volumes`): upstream the volume manager cannot
mount it (FailedMount, `pkg/volume/configmap/configmap.go` SetUpAt) and SyncPod creates no container
(`pkg/kubelet/volumemanager/volume_manager.go` WaitForAttachAndMount); the pod stays Pending,
ContainerCreating, and starts on a mount retry once the object exists
(`tests/model/data/kubelet/missing-volume`). Before, the kubelet started it as if the volume were
there: the first two tests failed then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from cluster_harness import api_seen, fair_states, settled, stored

from kubeprop.model.api.objects import ConfigMap, Deployment, ObjectKey, Pod, Secret, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions as enabled
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.volumes import retry_offsets, volume_errors
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.convergence import deployments_complete, workloads_ready

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "missing-volume"
DEPLOYMENT = ObjectKey("deployments.apps", "default", "web")
CONFIG = ObjectKey("configmaps", "default", "app-config")


def _pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]


def test_the_pod_waits_for_its_volume_and_starts_once_the_config_map_is_applied() -> None:
    """The fair run: the pod is bound and admitted, but no container starts (Pending, ContainerCreating)
    until the workload step creates the ConfigMap; then a mount retry starts it and the rollout
    completes. The Secret's key, the optional volume and the projected kube-root-ca.crt resolve."""
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    states, trace = fair_states(model)
    admitted_before = False
    for state in states:
        runtime = next(iter(kl.kubelet_state(state, "worker-1").pods.values()), None)
        if state.store.get(CONFIG) is None:
            assert runtime is None or (runtime.mount_pending and not runtime.any_running)
            admitted_before |= runtime is not None
            for pod in _pods(state):
                assert pod.status.phase in ("", "Pending"), pod.status
                for status in pod.status.container_statuses:
                    assert status.state.get("waiting") == {"reason": "ContainerCreating"}
    assert admitted_before
    assert any(isinstance(a, kl.MountVolumes) for a in trace)
    last = states[-1]
    assert [p.status.phase for p in _pods(last)] == ["Running"]
    assert stored(last, DEPLOYMENT, Deployment).status.available_replicas == 1
    assert deployments_complete(model, last) is None and workloads_ready(model, last) is None


def test_without_the_config_map_the_pod_never_starts_and_the_rollout_never_completes() -> None:
    model, state = settled(DATA / "never.yaml")
    [pod] = _pods(state)
    assert pod.status.phase == "Pending"
    assert [s.state for s in pod.status.container_statuses] == [{"waiting": {"reason": "ContainerCreating"}}]
    [runtime] = kl.kubelet_state(state, "worker-1").pods.values()
    assert runtime.mount_pending and not runtime.any_running
    assert not any(isinstance(a, kl.MountVolumes) for a in enabled(model, state))
    assert deployments_complete(model, state) is not None
    assert workloads_ready(model, state) is not None


def test_the_retry_waits_for_the_first_back_off_and_the_kubelets_cache() -> None:
    """`MountVolumes` is enabled from 1 s after the admission (500 ms upstream: a timer), and only once
    the kubelet's cache holds the ConfigMap: the store alone is not enough."""
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    states, trace = fair_states(model)
    j = next(j for j, a in enumerate(trace) if isinstance(a, kl.MountVolumes))
    ready = states[j]  # the ConfigMap is in the kubelet's cache
    [runtime] = kl.kubelet_state(ready, "worker-1").pods.values()
    assert ready.clock >= runtime.admitted_at + 1

    def mounts(state: ClusterState) -> bool:
        return any(isinstance(a, kl.MountVolumes) for a in kl.enabled(model, state))

    assert not mounts(attrs.evolve(ready, clock=runtime.admitted_at))
    assert mounts(attrs.evolve(ready, clock=runtime.admitted_at + 1))
    i = next(i for i, s in enumerate(states) if kl.kubelet_state(s, "worker-1").pods)
    admitted = states[i]
    assert kl.next_timer(model, admitted) == runtime.admitted_at + 1
    config = decode_object({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "app-config", "namespace": "default"}})
    in_store = attrs.evolve(admitted, store=attrs.evolve(admitted.store,
                                                         objects=admitted.store.objects.set(CONFIG, config)))
    assert not mounts(attrs.evolve(in_store, clock=runtime.admitted_at + 5))  # not in its cache yet


class _View:
    """A read-only view of a few objects (what `volume_errors` reads of the kubelet's caches)."""

    def __init__(self, *objects: Any) -> None:
        self.objects = {ObjectKey(r, o.metadata.namespace, o.metadata.name): o for r, o in objects}

    def get(self, key: ObjectKey) -> Any:
        return self.objects.get(key)


def _pod(*volumes: dict[str, Any]) -> Pod:
    pod = decode_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
                         "spec": {"containers": [{"name": "c", "image": "i"}], "volumes": list(volumes)}})
    assert isinstance(pod, Pod)
    return pod


def _object(kind: str, name: str, **fields: Any) -> tuple[str, Any]:
    obj = decode_object({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ns"}, **fields})
    assert isinstance(obj, (ConfigMap, Secret))
    return ("configmaps" if kind == "ConfigMap" else "secrets"), obj


def test_the_messages_are_upstreams() -> None:
    view: Any = _View(_object("ConfigMap", "cm", data={"a": "1"}, binaryData={"b": "Mg=="}),
                      _object("Secret", "s", data={"k": "Mg=="}))
    prefix = 'MountVolume.SetUp failed for volume "v" : '
    assert volume_errors(view, _pod({"name": "v", "configMap": {"name": "gone"}})) \
        == (prefix + 'configmap "gone" not found',)
    assert volume_errors(view, _pod({"name": "v", "secret": {"secretName": "gone"}})) \
        == (prefix + 'secret "gone" not found',)
    assert volume_errors(view, _pod({"name": "v", "configMap": {"name": "gone", "optional": True}})) == ()
    assert volume_errors(view, _pod({"name": "v", "configMap": {"name": "cm", "items": [
        {"key": "a", "path": "a"}, {"key": "b", "path": "b"}]}})) == ()  # binaryData counts
    missing = [{"key": "x", "path": "x"}]
    assert volume_errors(view, _pod({"name": "v", "configMap": {"name": "cm", "items": missing}})) \
        == (prefix + "configmap references non-existent config key: x",)
    assert volume_errors(view, _pod({"name": "v", "secret": {"secretName": "s", "items": missing}})) \
        == (prefix + "references non-existent secret key: x",)
    projected = {"name": "v", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token"}}, {"configMap": {"name": "kube-root-ca.crt"}},
        {"secret": {"name": "s"}}, {"secret": {"name": "gone"}}]}}
    assert volume_errors(view, _pod(projected)) == (prefix + 'secret "gone" not found',)
    assert volume_errors(view, _pod({"name": "v", "emptyDir": {}}, {"name": "w", "configMap": {"name": "cm"}})) == ()


def test_the_mount_retries_back_off_so_a_config_map_applied_late_waits_for_the_next_retry() -> None:
    """The volume manager's back-off grows (`exponential_backoff.go`: 500 ms doubling to 2 min 2 s):
    retries 1, 2, 4, 8, 16, 32, 64, 128, 250 s after the failed mount (rounded up), then every 122 s.
    A ConfigMap applied 45 s after the admission is mounted at the retry at 64 s — the tick ending at
    70 s —, not at once; a kubelet restart starts the back-off afresh. Before, the mount came at any
    time from 1 s on."""
    assert retry_offsets(11) == (1, 2, 4, 8, 16, 32, 64, 128, 250, 372, 494)
    model = build_model(load_scenario(DATA / "scenario.yaml"), parameters={"instantCaches": True})
    state = settle(model, initial_state(model), max_steps=200, allow_ticks=False).state  # admitted at 0
    [key] = kl.kubelet_state(state, "worker-1").pods
    assert kl.kubelet_state(state, "worker-1").pods[key].mount_pending and state.clock == 0
    [step_] = model.workload_objects
    state = api_seen(attrs.evolve(state, clock=45), model, Request(verb="create", user=ADMIN, obj=step_[0]))

    def mounts_at(clock: int, at: ClusterState = state) -> bool:
        return kl.MountVolumes("worker-1", key) in kl.enabled(model, attrs.evolve(at, clock=clock))

    assert [c for c in (45, 50, 60, 63, 64, 70, 73, 74, 80) if mounts_at(c)] == [64, 70, 73]
    assert kl.next_timer(model, state) == 64
    restarted = kl.reset(model, attrs.evolve(state, clock=65), "kubelet/worker-1")
    assert [c for c in (65, 66, 70, 80, 81, 90, 91) if mounts_at(c, restarted)] == [66, 70, 80, 81, 90]
