"""When the prober can kill (`kubeprop.model.kubelet.probes`): a liveness or startup failure needs
failureThreshold failed probes in a row, periodSeconds apart, after initialDelaySeconds
(`pkg/kubelet/prober/worker.go` doProbe; defaults `pkg/apis/core/v1/defaults.go`: 10 s, 3). Before,
the model killed a container at any moment after its start: each test here failed then."""

from __future__ import annotations

from pathlib import Path

import attrs
from cluster_harness import make_model

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.objects import Container, Pod, Probe
from kubeprop.model.cluster.compose import actions as enabled
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.compose import step as model_step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.kubelet import component as kl
from kubeprop.model.kubelet.local import store
from kubeprop.model.kubelet.probes import ProbeTiming
from kubeprop.model.kubelet.runtime import crash_container
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, RestartComponent, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

from .test_kubelet import HTTP, NODE, POD, bound_state, delete_web, runtime, step, web_pod

LIVENESS = Path(__file__).resolve().parents[1] / "data" / "kubelet" / "liveness.yaml"


def pod_with(*, startup: Probe | None = None, liveness: Probe | None = None) -> Pod:
    """`web` whose container `app` has the probes given (no readiness probe)."""
    pod = web_pod()
    container = Container(name="app", image="web:1", startup_probe=startup, liveness_probe=liveness)
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, containers=(container,)))


def kills(model: ClusterModel, state: ClusterState, clock: int) -> set[tuple[str, bool]]:
    """The probe results of `app` enabled once the clock reads `clock`: (probe, success)."""
    return {(a.probe, a.success) for a in kl.enabled(model, attrs.evolve(state, clock=clock))
            if isinstance(a, kl.ProbeResult) and a.container == "app" and a.probe != "readiness"}


def test_a_liveness_failure_needs_the_threshold_of_failed_probes() -> None:
    model = make_model()
    state = step(model, bound_state(model, pod_with(liveness=Probe(http_get=HTTP))), kl.StartPod(NODE, POD))
    assert kl.next_timer(model, state) == 20  # 3 probes, 10 s apart: the first at once
    assert kills(model, state, 19) == set()
    assert kills(model, state, 20) == kills(model, state, 95) == {("liveness", False)}


def test_the_probes_fields_are_honoured() -> None:
    model = make_model()
    probe = Probe(http_get=HTTP, initial_delay_seconds=15, period_seconds=5, failure_threshold=4)
    state = step(model, bound_state(model, pod_with(liveness=probe)), kl.StartPod(NODE, POD))
    assert runtime(state).containers[0].liveness_timing == ProbeTiming(15, 5, 4)
    assert kl.next_timer(model, state) == 30  # 15 s of initial delay, then 4 probes 5 s apart
    assert kills(model, state, 29) == set() and kills(model, state, 30) == {("liveness", False)}


def test_a_startup_failure_needs_the_threshold_and_its_success_the_initial_delay() -> None:
    model = make_model()
    probe = Probe(http_get=HTTP, initial_delay_seconds=10, failure_threshold=5)
    state = step(model, bound_state(model, pod_with(startup=probe)), kl.StartPod(NODE, POD))
    assert kl.next_timer(model, state) == 10
    assert kills(model, state, 9) == set()
    assert kills(model, state, 10) == {("startup", True)}
    assert kl.next_timer(model, attrs.evolve(state, clock=10)) == 50
    assert kills(model, state, 50) == {("startup", True), ("startup", False)}


def test_liveness_probing_begins_when_the_startup_probe_passes() -> None:
    """doProbe runs no liveness probe before the container started: a startup success at 50 puts the
    first liveness failure at 70; one within the liveness probe's initial delay changes nothing, and
    is not recorded (the states stay one)."""
    model = make_model()
    pod = pod_with(startup=Probe(http_get=HTTP, failure_threshold=30), liveness=Probe(http_get=HTTP))
    started = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    late = step(model, attrs.evolve(started, clock=50), kl.ProbeResult(NODE, POD, "app", "startup", True))
    assert runtime(late).containers[0].probes_from == 50
    assert kl.next_timer(model, late) == 70
    assert kills(model, late, 69) == set() and kills(model, late, 70) == {("liveness", False)}
    early = step(model, started, kl.ProbeResult(NODE, POD, "app", "startup", True))
    assert runtime(early).containers[0].probes_from is None and kl.next_timer(model, early) == 20


def test_a_restarted_container_is_counted_afresh_and_a_terminating_pod_has_no_probe_timer() -> None:
    model = make_model()
    state = step(model, bound_state(model, pod_with(liveness=Probe(http_get=HTTP))), kl.StartPod(NODE, POD))
    state = step(model, attrs.evolve(state, clock=25), kl.ProbeResult(NODE, POD, "app", "liveness", False))
    state = step(model, state, kl.ContainerExit(NODE, POD, "app", 0))
    state = step(model, state, kl.RestartContainer(NODE, POD, "app"))
    assert kl.next_timer(model, state) == 45 and kills(model, state, 44) == set()
    state = step(model, delete_web(model, state), kl.KillPod(NODE, POD))
    assert kl.next_timer(model, state) == state.clock + 30  # the SIGKILL deadline alone
    assert kills(model, state, 100) == set()


def test_default_probe_timing_leaves_fingerprints_as_they_were() -> None:
    """The new fields hold the defaults for a probe of the defaults (and no startup record), so
    recorded states of such containers keep their fingerprints."""
    model = make_model()
    state = step(model, bound_state(model), kl.StartPod(NODE, POD))
    c = runtime(state).containers[0]
    assert (c.liveness_timing, c.startup_timing, c.probes_from) == (ProbeTiming(), ProbeTiming(), None)
    bare = attrs.evolve(c, liveness_timing=ProbeTiming(0, 10, 3))
    assert fingerprint(bare) == fingerprint(c)
    assert fingerprint(attrs.evolve(c, liveness_timing=ProbeTiming(0, 10, 4))) != fingerprint(c)


def test_time_passes_up_to_the_liveness_timer_and_no_sooner_does_the_kill() -> None:
    """The whole model: once the pod runs and nothing else waits, `Tick` takes the clock to the
    prober's threshold (the timer keeps time moving), and the kill is enabled only there."""
    model = build_model(load_scenario(LIVENESS))
    state = settle(model, initial_state(model), avoid=(kl.ProbeResult,), allow_ticks=False).state
    assert state.clock == 0 and all(c.running for c in kl.kubelet_state(state, "small").pods[POD].containers)

    def liveness_kills(s: ClusterState) -> set[str]:
        return {a.container for a in enabled(model, s) if isinstance(a, kl.ProbeResult)}

    assert liveness_kills(state) == set()
    seen: dict[int, set[str]] = {}
    while Tick(model.tick_seconds) in enabled(model, state):
        state = model_step(model, state, Tick(model.tick_seconds))
        seen[state.clock] = liveness_kills(state)
    assert seen == {10: set(), 20: {"app"}, 30: {"app", "slow"}}  # then no timer is left: time stops


def test_a_restarted_kubelet_counts_its_probes_afresh() -> None:
    """A kubelet process that restarts has new probe workers (`prober_manager.go` AddPod, `worker.go`
    run): the containers it finds running are killed no sooner than the threshold after the restart.
    A restart within the first run's span changes nothing and is not recorded."""
    model = build_model(load_scenario(LIVENESS))
    state = settle(model, initial_state(model), avoid=(kl.ProbeResult,), allow_ticks=False).state
    early = model_step(model, model_step(model, state, CrashComponent("kubelet/small")),
                       RestartComponent("kubelet/small"))
    assert [c.probes_from for c in kl.kubelet_state(early, "small").pods[POD].containers] == [None, None]
    down = model_step(model, attrs.evolve(state, clock=100), CrashComponent("kubelet/small"))
    assert {a for a in enabled(model, down) if isinstance(a, kl.ProbeResult)} == set()  # no prober while down
    state = model_step(model, attrs.evolve(down, clock=130), RestartComponent("kubelet/small"))
    app, slow = kl.kubelet_state(state, "small").pods[POD].containers
    assert (app.probes_from, slow.probes_from) == (130, 130)
    assert kl.next_timer(model, state) == 145  # `slow`: 4 probes 5 s apart; `app` at 150
    assert {a.container for a in enabled(model, attrs.evolve(state, clock=149)) if isinstance(a, kl.ProbeResult)} \
        == {"slow"}


def _crashed_and_back(model: ClusterModel, state: ClusterState, clock: int) -> ClusterState:
    """`app` crashes at `clock` and restarts at once (its first restart has no back-off)."""
    state = attrs.evolve(state, clock=clock)
    crashed = crash_container(kl.kubelet_state(state, NODE), POD, "app", clock)
    assert crashed is not None
    state = store(state, NODE, crashed)
    return step(model, state, kl.RestartContainer(NODE, POD, "app"))


def test_failures_below_the_threshold_are_carried_across_a_crash() -> None:
    """`resultRun` is the worker's, and the worker outlives the container (`worker.go` doProbe resets
    it only when it published a Failure): a container that crashed after two failed liveness probes can
    be killed by its first failing probe once back. Before, the model counted afresh (a kill at 45)."""
    model = make_model()
    state = step(model, bound_state(model, pod_with(liveness=Probe(http_get=HTTP))), kl.StartPod(NODE, POD))
    back = _crashed_and_back(model, state, 25)  # probes could run at 0, 10 and 20: 2 carried (threshold 3)
    assert runtime(back).containers[0].liveness_carried == 2
    assert kills(model, back, 25) == {("liveness", False)}
    once = _crashed_and_back(model, state, 5)  # one probe could run
    assert runtime(once).containers[0].liveness_carried == 1
    assert kills(model, once, 14) == set() and kills(model, once, 15) == {("liveness", False)}


def test_a_crash_before_any_probe_carries_nothing_and_a_kill_resets_the_count() -> None:
    model = make_model()
    slow = Probe(http_get=HTTP, initial_delay_seconds=15)
    state = step(model, bound_state(model, pod_with(liveness=slow)), kl.StartPod(NODE, POD))
    early = _crashed_and_back(model, state, 10)
    assert runtime(early).containers[0].liveness_carried == 0
    state = step(model, bound_state(model, pod_with(liveness=Probe(http_get=HTTP))), kl.StartPod(NODE, POD))
    state = _crashed_and_back(model, state, 25)
    killed = step(model, state, kl.ProbeResult(NODE, POD, "app", "liveness", False))
    assert runtime(killed).containers[0].liveness_carried == 0  # published: resultRun = 0


def test_startup_failures_are_carried_and_a_kubelet_restart_forgets_them() -> None:
    model = make_model()
    probe = Probe(http_get=HTTP, failure_threshold=5)
    state = step(model, bound_state(model, pod_with(startup=probe)), kl.StartPod(NODE, POD))
    back = _crashed_and_back(model, state, 10)  # probes at 0 and 10 at most: 2 of 5 carried
    c = runtime(back).containers[0]
    assert (c.startup_carried, c.started_at) == (2, 10)
    assert kills(model, back, 29) == {("startup", True)}
    assert kills(model, back, 30) == {("startup", True), ("startup", False)}  # 2 more failures, 10 s apart
    fresh = kl.reset(model, attrs.evolve(back, clock=12), f"kubelet/{NODE}")
    assert runtime(fresh).containers[0].startup_carried == 0
    assert kills(model, fresh, 51) == {("startup", True)}  # from the restart: 5 probes, 10 s apart
