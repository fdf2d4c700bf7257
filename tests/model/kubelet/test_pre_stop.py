"""`lifecycle.preStop` (`pkg/kubelet/kuberuntime/kuberuntime_container.go` killContainer,
executePreStopHook): the hook runs before SIGTERM and its time counts against the grace period;
a hook that runs the whole grace period is cut there and the container still gets 2 s after
SIGTERM. The model makes the hook's length an environment choice (`PreStopOverrun`), offered only
for pods with a hook."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.codec import decode, encode
from kubeprop.model.api.objects import Container, Pod
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.kubelet import component as kl
from kubeprop.model.state.actions import action_from_json, to_json
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import NODE, POD, bound_state, delete_web, runtime, step, web_pod

SLEEP = FrozenMap({"preStop": FrozenMap({"sleep": FrozenMap({"seconds": 20})})})


def hook_pod(grace: int = 30) -> Pod:
    pod = web_pod()
    app = attrs.evolve(pod.spec.containers[0], lifecycle=SLEEP)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, containers=(app,), termination_grace_period_seconds=grace))


def deleted(model: ClusterModel, pod: Pod, grace: int | None = None) -> ClusterState:
    state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    return step(model, delete_web(model, state, grace), kl.KillPod(NODE, POD))


def overrun_actions(model: ClusterModel, state: ClusterState) -> list[kl.Action]:
    return [a for a in kl.enabled(model, state) if isinstance(a, kl.PreStopOverrun)]


def test_without_a_hook_nothing_changes() -> None:
    model = make_model()
    state = deleted(model, web_pod())
    assert runtime(state).kill_deadline == 30 and runtime(state).hook_grace is None
    assert overrun_actions(model, state) == []


def test_a_hook_that_ends_in_time_keeps_the_grace_period_deadline() -> None:
    model = make_model()
    state = deleted(model, hook_pod())
    assert runtime(state).pre_stop and runtime(state).kill_deadline == 30
    assert overrun_actions(model, state) == []  # chosen at the deadline, not before
    assert kl.StopGracefully(NODE, POD, 0) in list(kl.enabled(model, state))
    late = attrs.evolve(state, clock=30)
    assert kl.SigKillPod(NODE, POD) in list(kl.enabled(model, late))
    assert overrun_actions(model, late) == [kl.PreStopOverrun(NODE, POD)]


def test_a_hook_that_runs_the_grace_period_out_delays_sigkill_by_two_seconds() -> None:
    model = make_model()
    state = attrs.evolve(deleted(model, hook_pod()), clock=30)
    state = step(model, state, kl.PreStopOverrun(NODE, POD))
    assert runtime(state).kill_deadline == 32 and overrun_actions(model, state) == []
    assert kl.next_timer(model, state) == 32
    assert kl.SigKillPod(NODE, POD) not in list(kl.enabled(model, state))
    assert kl.StopGracefully(NODE, POD, 0) in list(kl.enabled(model, state))  # the 2 s after SIGTERM
    state = step(model, attrs.evolve(state, clock=32), kl.SigKillPod(NODE, POD))
    assert runtime(state).containers[0].exit_code == 137


def test_a_short_or_zero_grace_period() -> None:
    """Grace 1: the hook may use 1 s, SIGKILL at 3 (not at the 2 s minimum); grace 0: no hook runs
    (`gracePeriod > 0`). An orphan (force-deleted) is stopped with its admitted spec's grace period,
    hooks included."""
    model = make_model()
    state = attrs.evolve(deleted(model, hook_pod(), grace=1), clock=2)
    state = step(model, state, kl.PreStopOverrun(NODE, POD))
    assert runtime(state).kill_deadline == 3
    state = step(model, bound_state(model, hook_pod(grace=0)), kl.StartPod(NODE, POD))
    state = step(model, delete_web(model, state, 0), kl.CleanupOrphan(NODE, POD))  # force-deleted: an orphan
    assert runtime(state).kill_deadline == 2 and overrun_actions(model, attrs.evolve(state, clock=2)) == []
    state = step(model, delete_web(model, step(model, bound_state(model, hook_pod()), kl.StartPod(NODE, POD)), 0),
                 kl.CleanupOrphan(NODE, POD))
    assert runtime(state).kill_deadline == 30
    assert overrun_actions(model, attrs.evolve(state, clock=30)) == [kl.PreStopOverrun(NODE, POD)]


def test_the_field_decodes_and_absent_leaves_fingerprints_alone() -> None:
    c = decode(Container, {"name": "a", "image": "b", "lifecycle": {"preStop": {"exec": {"command": ["x"]}}}}, ())
    assert encode(c)["lifecycle"] == {"preStop": {"exec": {"command": ["x"]}}}
    plain = Container(name="a", image="b")
    assert "lifecycle" not in encode(plain)
    assert fingerprint(plain) == fingerprint(attrs.evolve(plain, lifecycle=None))
    act = kl.PreStopOverrun(NODE, POD)
    assert action_from_json(to_json(act)) == act
