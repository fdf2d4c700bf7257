"""Restart counts across a node reboot: the kubelet counts on from the log directory the reboot left
in /var/log/pods (`kuberuntime_container.go` startContainer → calcRestartCountByLogDir)."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.model.api.objects import Container
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.local import store
from kubeprop.model.kubelet.logs import crash_node
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import NODE, POD, api_pod, bound_state, runtime, step, web_pod


def _crash_and_restart(model: ClusterModel, state: ClusterState, times: int) -> ClusterState:
    for _ in range(times):
        crashed = crash_container(kl.kubelet_state(state, NODE), POD, "app", now=state.clock)
        assert crashed is not None
        state = store(state, NODE, crashed)
        state = attrs.evolve(state, clock=state.clock + 300)  # past any back-off
        state = step(model, state, kl.RestartContainer(NODE, POD, "app"))
    return state


def _reboot(state: ClusterState) -> ClusterState:
    return store(state, NODE, crash_node(kl.kubelet_state(state, NODE)))


def test_restart_count_goes_on_after_a_node_reboot() -> None:
    model = make_model()
    state = step(model, bound_state(model), kl.StartPod(NODE, POD))
    state = _crash_and_restart(model, state, 2)
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    assert api_pod(state).status.container_statuses[0].restart_count == 2  # type: ignore[union-attr]
    state = _reboot(state)
    assert kl.kubelet_state(state, NODE).logs[POD].counts == {"app": 2}
    state = step(model, state, kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert c.running and c.restart_count == 3 and not c.logged  # 2.log left: the new one writes 3.log
    assert POD not in kl.kubelet_state(state, NODE).logs  # read: the kubelet counts on by itself
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    assert api_pod(state).status.container_statuses[0].restart_count == 3  # type: ignore[union-attr]
    state = _crash_and_restart(model, state, 1)
    assert runtime(state).containers[0].restart_count == 4


def test_a_container_that_never_restarted_counts_one_after_a_reboot() -> None:
    """0.log is left: the first container after the reboot is restart 1; a fresh pod starts at 0."""
    model = make_model()
    state = step(model, bound_state(model), kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].restart_count == 0
    state = step(model, _reboot(state), kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].restart_count == 1


def test_a_container_not_started_since_the_reboot_keeps_its_count() -> None:
    """Waiting for its init container after the reboot, the container shows the last instance's count;
    a second reboot before it starts keeps the log; a kubelet restart changes nothing."""
    model = make_model()
    pod = web_pod()
    pod = attrs.evolve(pod, spec=attrs.evolve(pod.spec, init_containers=(Container(name="setup", image="s:1"),)))
    state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    state = step(model, state, kl.ContainerExit(NODE, POD, "setup", 0))
    state = _crash_and_restart(model, state, 1)
    state = _reboot(state)
    state = step(model, state, kl.StartPod(NODE, POD))
    assert runtime(state).init_containers[0].running and runtime(state).init_containers[0].restart_count == 1
    app = runtime(state).containers[0]
    assert not app.running and app.restart_count == 1 and app.logged
    state = step(model, _reboot(state), kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].restart_count == 1
    state = kl.reset(model, state, f"kubelet/{NODE}")  # a kubelet process restart
    state = step(model, state, kl.ContainerExit(NODE, POD, "setup", 0))
    assert runtime(state).containers[0].restart_count == 2


def test_a_new_pod_under_the_same_name_starts_at_zero() -> None:
    """The log directory is the uid's: a pod recreated under the name (a new uid) does not read it."""
    model = make_model()
    state = step(model, bound_state(model), kl.StartPod(NODE, POD))
    state = _crash_and_restart(model, state, 1)
    state = _reboot(state)
    k = kl.kubelet_state(state, NODE)
    record = k.logs[POD]
    state = store(state, NODE, attrs.evolve(k, logs=k.logs.set(POD, attrs.evolve(record, uid="another"))))
    state = step(model, state, kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].restart_count == 0
    assert POD not in kl.kubelet_state(state, NODE).logs
