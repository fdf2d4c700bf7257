"""When a readiness probe can flip a container's readiness (`kubeprop.model.kubelet.probes`): Ready
from its first probe on, after initialDelaySeconds (`pkg/kubelet/prober/worker.go` doProbe; a NotReady
container is probed at every pod sync, `prober_manager.go` UpdatePodStatus), and NotReady only after
failureThreshold failed probes in a row, periodSeconds apart, counted from the success that turned it
Ready. Before, a readiness result flipped at any moment: each test here failed then."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Container, ObjectKey, Pod, Probe
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.component import reset
from kubeprop.model.kubelet.probes import ProbeTiming
from kubeprop.model.kubelet.status import pod_status
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import HTTP, NODE, POD, bound_state, runtime, step, web_pod


def pod_with(readiness: Probe) -> Pod:
    """`web` whose container `app` has only the readiness probe given."""
    pod = web_pod()
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, containers=(
        Container(name="app", image="web:1", readiness_probe=readiness),)))


def flips(model: ClusterModel, state: ClusterState, clock: int) -> set[bool]:
    """The readiness results of `app` enabled once the clock reads `clock`."""
    return {a.success for a in kl.enabled(model, attrs.evolve(state, clock=clock))
            if isinstance(a, kl.ProbeResult) and a.probe == "readiness"}


def started(model: ClusterModel, probe: Probe) -> ClusterState:
    return step(model, bound_state(model, pod_with(probe)), kl.StartPod(NODE, POD))


def test_ready_no_sooner_than_the_initial_delay() -> None:
    model = make_model()
    state = started(model, Probe(http_get=HTTP, initial_delay_seconds=15))
    assert runtime(state).containers[0].readiness_timing == ProbeTiming(15, 10, 3)
    assert flips(model, state, 14) == set()
    assert kl.next_timer(model, state) == 15
    assert flips(model, state, 15) == flips(model, state, 60) == {True}


def test_not_ready_only_after_the_failure_threshold_counted_from_the_success() -> None:
    model = make_model()
    state = started(model, Probe(http_get=HTTP))
    ready = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert runtime(ready).containers[0].readiness_from is None  # its first probe: nothing to record
    assert kl.next_timer(model, ready) == 20  # 3 failures, 10 s apart, the first at once
    assert flips(model, ready, 19) == set() and flips(model, ready, 20) == {False}
    late = step(model, attrs.evolve(state, clock=7), kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert runtime(late).containers[0].readiness_from == 7
    assert flips(model, late, 26) == set() and flips(model, late, 27) == {False}
    # NotReady: a pod sync follows and probes it at once, so it may turn Ready again straight away
    unready = step(model, attrs.evolve(late, clock=27), kl.ProbeResult(NODE, POD, "app", "readiness", False))
    assert runtime(unready).containers[0].readiness_from is None
    assert flips(model, unready, 27) == {True}


def test_the_probe_fields_are_honoured_and_a_threshold_of_one_flips_at_once() -> None:
    model = make_model()
    state = started(model, Probe(http_get=HTTP, period_seconds=5, failure_threshold=5))
    ready = step(model, attrs.evolve(state, clock=3), kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert flips(model, ready, 22) == set() and flips(model, ready, 23) == {False}
    once = started(model, Probe(http_get=HTTP, failure_threshold=1))
    once = step(model, attrs.evolve(once, clock=3), kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert flips(model, once, 3) == {False}


def test_a_restarted_kubelet_reports_a_ready_container_not_ready_until_probed() -> None:
    """A restarted kubelet's new readiness worker starts from Failure (`worker.go` newWorker), so the
    container reads NotReady — the pod's Ready condition False, ContainersNotReady — until its first
    probe succeeds, which may come at once (`prober_manager.go` UpdatePodStatus; kubernetes#100277).
    Before, the model kept it Ready across the restart."""
    model = make_model()
    state = started(model, Probe(http_get=HTTP))
    state = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    state = reset(model, attrs.evolve(state, clock=50), f"kubelet/{NODE}")
    c = runtime(state).containers[0]
    assert not c.ready and c.readiness_from is None
    ready = find_condition(pod_status(state.store.get(ObjectKey("pods", "default", "web")), runtime(state), 50)
                           .conditions, "Ready")
    assert ready is not None and (ready.status, ready.reason) == ("False", "ContainersNotReady")
    assert flips(model, state, 50) == {True}  # probed at once, or later (the application may fail)
    again = step(model, state, kl.ProbeResult(NODE, POD, "app", "readiness", True))
    assert runtime(again).containers[0].readiness_from == 50
    assert flips(model, again, 69) == set() and flips(model, again, 70) == {False}


def test_default_readiness_timing_leaves_fingerprints_as_they_were() -> None:
    model = make_model()
    state = step(model, bound_state(model), kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert (c.readiness_timing, c.readiness_from) == (ProbeTiming(), None)
    assert fingerprint(attrs.evolve(c, readiness_timing=ProbeTiming(0, 10, 3))) == fingerprint(c)
    assert fingerprint(attrs.evolve(c, readiness_from=4)) != fingerprint(c)
