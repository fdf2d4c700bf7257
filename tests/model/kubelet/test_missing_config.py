"""A container whose ConfigMaps or Secrets do not resolve is not created (`kubeprop.model.kubelet.config`):
it waits with CreateContainerConfigError (`pkg/kubelet/kubelet_pods.go` makeEnvironmentVariables,
`kuberuntime_container.go` startContainer) and starts on a later pod sync once the object exists
(`tests/model/data/kubelet/missing-config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cluster_harness import fair_states, settled, stored

from kubeprop.model.api.objects import ConfigMap, Deployment, ObjectKey, Pod, Secret, decode_object
from kubeprop.model.api.pod import Container
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.kubelet.config import config_error
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.convergence import deployments_complete, workloads_ready

DATA = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "missing-config"
DEPLOYMENT = ObjectKey("deployments.apps", "default", "web")
CONFIG = ObjectKey("configmaps", "default", "app-config")


def _pods(state: ClusterState) -> list[Pod]:
    return [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]


def _waiting(pod: Pod) -> tuple[str, str] | None:
    """(reason, message) of the pod's container while it waits, else None."""
    statuses = pod.status.container_statuses
    waiting = statuses[0].state.get("waiting") if statuses else None
    return None if waiting is None else (waiting.get("reason"), waiting.get("message"))


def test_the_container_waits_for_the_config_map_and_starts_once_it_is_applied() -> None:
    """The fair run: the pod is bound and its kubelet reports CreateContainerConfigError (the pod
    Pending, not Ready) until the workload step creates the ConfigMap; then it runs and the rollout
    completes. The Secret key resolves and the optional reference to a missing ConfigMap is skipped."""
    states, _ = fair_states(build_model(load_scenario(DATA / "scenario.yaml")))
    reported = False
    for state in states:
        for pod in _pods(state):
            if state.store.get(CONFIG) is None:
                assert pod.status.phase in ("", "Pending"), pod.status
                assert not any(s.ready or "running" in s.state for s in pod.status.container_statuses)
                if _waiting(pod) is not None:
                    assert _waiting(pod) == ("CreateContainerConfigError", 'configmap "app-config" not found')
                    reported = True
    assert reported
    last = states[-1]
    assert [p.status.phase for p in _pods(last)] == ["Running"]
    assert stored(last, DEPLOYMENT, Deployment).status.available_replicas == 1
    model = build_model(load_scenario(DATA / "scenario.yaml"))
    assert deployments_complete(model, last) is None and workloads_ready(model, last) is None


def test_without_the_config_map_the_pod_never_runs_and_the_rollout_never_completes() -> None:
    model, state = settled(DATA / "never.yaml")
    [pod] = _pods(state)
    assert pod.status.phase == "Pending"
    assert _waiting(pod) == ("CreateContainerConfigError", 'configmap "app-config" not found')
    assert deployments_complete(model, state) is not None
    assert workloads_ready(model, state) is not None


class _View:
    """A read-only view of a few objects (what `config_error` reads of the kubelet's caches)."""

    def __init__(self, *objects: Any) -> None:
        self.objects = {ObjectKey(r, o.metadata.namespace, o.metadata.name): o for r, o in objects}

    def get(self, key: ObjectKey) -> Any:
        return self.objects.get(key)


def _container(**fields: Any) -> Container:
    pod = decode_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
                         "spec": {"containers": [{"name": "c", "image": "i", **fields}]}})
    assert isinstance(pod, Pod)
    return pod.spec.containers[0]


def _config_map(name: str, **data: str) -> tuple[str, ConfigMap]:
    obj = decode_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"},
                         "data": data})
    assert isinstance(obj, ConfigMap)
    return "configmaps", obj


def _secret(name: str, **data: str) -> tuple[str, Secret]:
    obj = decode_object({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ns"},
                         "data": data})
    assert isinstance(obj, Secret)
    return "secrets", obj


def _key_ref(kind: str, name: str, key: str, **more: Any) -> dict[str, Any]:
    return {"name": "V", "valueFrom": {kind: {"name": name, "key": key, **more}}}


def test_the_errors_and_their_order_are_upstreams() -> None:
    view: Any = _View(_config_map("cm", a="1"), _secret("s", b="Mg=="))
    assert config_error(view, "ns", _container(envFrom=[{"secretRef": {"name": "nope"}}])) == 'secret "nope" not found'
    assert config_error(view, "ns", _container(envFrom=[{"secretRef": {"name": "nope", "optional": True}}])) is None
    assert config_error(view, "ns", _container(env=[_key_ref("configMapKeyRef", "cm", "x")])) \
        == "couldn't find key x in ConfigMap ns/cm"
    assert config_error(view, "ns", _container(env=[_key_ref("secretKeyRef", "s", "x")])) \
        == "couldn't find key x in Secret ns/s"
    assert config_error(view, "ns", _container(env=[_key_ref("secretKeyRef", "s", "x", optional=True)])) is None
    assert config_error(view, "ns", _container(env=[_key_ref("configMapKeyRef", "cm", "a"),
                                                    _key_ref("secretKeyRef", "s", "b")])) is None
    # envFrom is resolved before env, whatever the order in the manifest
    both = _container(env=[_key_ref("configMapKeyRef", "gone", "a")], envFrom=[{"configMapRef": {"name": "other"}}])
    assert config_error(view, "ns", both) == 'configmap "other" not found'
    # a value wins over valueFrom (`runtimeVal != ""`)
    assert config_error(view, "ns", _container(env=[{**_key_ref("configMapKeyRef", "gone", "a"), "value": "v"}])) \
        is None
