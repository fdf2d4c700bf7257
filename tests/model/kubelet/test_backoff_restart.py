"""A kubelet process restart forgets the container restart back-off (`component.forget_backoffs`):
upstream `klet.backOff` is made in NewMainKubelet (`pkg/kubelet/kubelet.go`) and lives in memory
only, so after `RestartComponent` of the kubelet `doBackOff`
(`pkg/kubelet/kuberuntime/kuberuntime_manager.go`) finds no entry for an exited container and starts
it at once, with a fresh 10 s entry; the restart count, kept by the runtime, goes on. Before, the
model kept the entry: the container waited out the old back-off and then doubled it."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import make_model

from kubeprop.model.cluster.compose import actions, build_model, initial_state
from kubeprop.model.cluster.compose import step as model_step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.local import store
from kubeprop.model.kubelet.logs import crash_node
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, RestartComponent
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import NODE, POD, bound_state, run_ready, runtime, step

LIVENESS = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "liveness.yaml"


def _crashed(state: ClusterState, node: str, at: int) -> ClusterState:
    k = crash_container(kl.kubelet_state(state, node), POD, "app", at)
    assert k is not None
    return store(attrs.evolve(state, clock=at), node, k)


def _in_back_off() -> tuple[ClusterModel, ClusterState]:
    """The app crashed at 0 (restarted at once), crashed again at 5: in back-off until 15."""
    model = make_model()
    state = run_ready(model, bound_state(model))
    state = step(model, _crashed(state, NODE, 0), kl.RestartContainer(NODE, POD, "app"))
    assert runtime(state).containers[0].backoff == 10
    state = _crashed(state, NODE, 5)
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, state))
    assert kl.next_timer(model, state) == 15
    return model, state


def test_a_kubelet_restart_starts_the_back_off_afresh() -> None:
    model, state = _in_back_off()
    up = kl.reset(model, attrs.evolve(state, clock=8), f"kubelet/{NODE}")
    c = runtime(up).containers[0]
    assert not c.running and c.restart_count == 1 and (c.backoff, c.backoff_updated) == (0, 0)
    assert kl.RestartContainer(NODE, POD, "app") in list(kl.enabled(model, up))  # at 8, not at 15
    again = step(model, up, kl.RestartContainer(NODE, POD, "app"))
    c = runtime(again).containers[0]
    assert c.running and c.restart_count == 2  # the count goes on: the runtime's, not the kubelet's
    assert (c.backoff, c.backoff_updated) == (10, 8)  # a fresh entry, not 20


def test_the_next_crash_waits_the_fresh_entry_out() -> None:
    model, state = _in_back_off()
    state = kl.reset(model, attrs.evolve(state, clock=8), f"kubelet/{NODE}")
    state = step(model, state, kl.RestartContainer(NODE, POD, "app"))
    state = _crashed(state, NODE, 9)
    assert kl.RestartContainer(NODE, POD, "app") not in list(kl.enabled(model, state))
    assert kl.next_timer(model, state) == 19  # 10 s from the exit, as a first entry's


def test_without_a_restart_the_back_off_doubles() -> None:
    """The same run without the kubelet restart: the restart waits until 15 and doubles the entry."""
    model, state = _in_back_off()
    state = step(model, attrs.evolve(state, clock=15), kl.RestartContainer(NODE, POD, "app"))
    c = runtime(state).containers[0]
    assert c.restart_count == 2 and (c.backoff, c.backoff_updated) == (20, 15)


def test_a_restart_of_another_component_keeps_the_back_off() -> None:
    model, state = _in_back_off()
    assert kl.reset(model, state, "scheduler") is state
    assert kl.reset(model, state, "kubelet/elsewhere") is state


def test_restart_component_of_the_kubelet_forgets_it_in_the_cluster() -> None:
    """Through the cluster's `CrashComponent` / `RestartComponent` (its resetters): down, nothing
    restarts; back at 8, the container in back-off until 15 restarts at once."""
    model = build_model(load_scenario(LIVENESS))
    state = settle(model, initial_state(model), avoid=(kl.ProbeResult,), allow_ticks=False).state
    node, restart = "small", kl.RestartContainer("small", POD, "app")
    state = _crashed(state, node, 0)
    state = model_step(model, state, restart)
    state = _crashed(state, node, 5)
    assert restart not in actions(model, state)
    down = model_step(model, state, CrashComponent(f"kubelet/{node}"))
    assert restart not in actions(model, attrs.evolve(down, clock=8))
    up = model_step(model, attrs.evolve(down, clock=8), RestartComponent(f"kubelet/{node}"))
    assert restart in actions(model, up)
    c = kl.kubelet_state(model_step(model, up, restart), node).pods[POD].containers[0]
    assert c.running and c.restart_count == 2 and (c.backoff, c.backoff_updated) == (10, 8)


def test_a_node_reboot_readmits_without_back_off() -> None:
    """CrashNode then RestartNode: the kubelet forgets its pods (`logs.crash_node`) and re-admits them
    with new containers, none with a back-off entry; the restart count goes on from the logs."""
    model, state = _in_back_off()
    state = store(state, NODE, crash_node(kl.kubelet_state(state, NODE)))
    state = step(model, state, kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert c.running and c.restart_count == 2 and (c.backoff, c.backoff_updated) == (0, 0)
