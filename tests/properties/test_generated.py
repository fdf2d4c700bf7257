"""The generative false-alarm campaign (`benchmarks/bench_generated.py`): the generator of valid
user scenarios (`tests/support/scenario_strategy.py`) draws scenarios that load, the same for the
same seed, across the features it claims; the campaign classifies what it finds. The campaign
itself on a few cases runs behind the marker `false_alarms` (`pytest -m false_alarms`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import attrs
import pytest
import yaml
from benchmark_modules import load_benchmark
from hypothesis import HealthCheck, given, settings
from scenario_strategy import Drawn, hypothesis_scenarios, seeded_scenario

from kubeprop.counterexamples.api import check
from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.engine import EngineConfig

REPO = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    return load_benchmark("bench_generated")


def _text(drawn: Drawn, folder: Path) -> str:
    scenario = drawn.write(folder)
    return "\n".join(p.read_text() for p in sorted(scenario.parent.rglob("*.yaml")))


def test_the_same_seed_and_case_draw_the_same_scenario(tmp_path: Path) -> None:
    assert _text(seeded_scenario(3, 7), tmp_path / "a") == _text(seeded_scenario(3, 7), tmp_path / "b")
    assert _text(seeded_scenario(3, 7), tmp_path / "c") != _text(seeded_scenario(3, 8), tmp_path / "d")


def test_a_case_is_the_same_scenario_in_any_process() -> None:
    """Two processes with different string-hash salts draw the same scenario (no draw depends on
    the iteration order of a set or on Python's salted `hash()`)."""
    code = ("import sys, yaml; sys.path.insert(0, 'tests/support'); from scenario_strategy import seeded_scenario\n"
            "for case in range(12):\n    d = seeded_scenario(5, case)\n"
            "    print(yaml.safe_dump([d.scenario, d.manifests, d.extra], sort_keys=False))")
    texts = {subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONHASHSEED": salt},
                            capture_output=True, text=True, check=True).stdout for salt in ("1", "2")}
    assert len(texts) == 1 and "kind: Scenario" in texts.pop()


def test_seeded_scenarios_load_and_every_manifest_is_accepted(tmp_path: Path) -> None:
    bench = _bench()
    for case in range(40):
        scenario = seeded_scenario(0, case).write(tmp_path / f"case-{case}")
        assert bench.load_problem(scenario) == "", (case, scenario)


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(drawn=hypothesis_scenarios())
def test_hypothesis_scenarios_load(drawn: Drawn, tmp_path_factory: pytest.TempPathFactory) -> None:
    scenario = drawn.write(tmp_path_factory.mktemp("drawn"))
    assert _bench().load_problem(scenario) == ""


def test_the_generator_reaches_what_it_claims() -> None:
    reached: set[str] = set()
    for case in range(300):
        reached |= seeded_scenario(1, case).features
    assert {"Deployment", "StatefulSet", "Pod", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            "taints", "tolerations", "nodeSelector", "nodeAffinity", "podAntiAffinity", "topologySpreadConstraints",
            "priorityClassName", "Recreate", "rollingUpdate", "volumeClaimTemplates", "scale", "setImage", "apply",
            "apply --server-side", "cordon", "drain", "delete Pod", "delete workload", "descheduler",
            "fault nodeCrash", "fault partition", "fault etcdRestore", "fault maintenance", "tight",
            "roomy", "minReadySeconds", "podManagementPolicy: Parallel", "StatefulSet OnDelete",
            "StatefulSet partition", "StatefulSet minReadySeconds", "PDB minAvailable",
            "PDB unhealthyPodEvictionPolicy", "second namespace", "podAntiAffinity zone",
            "podAntiAffinity required", "etcdRestore procedure", "etcdRestore etcdutl defaults",
            "etcdRestore partial procedure", "fault overload", "overload max-in-flight",
            "descheduler lowNodeUtilization", "release v1.23", "release v1.30", "release v1.34",
            "parameter endpointsStaleCacheTracking", "parameter podMaxInUnschedulablePodsSeconds",
            "Service named targetPort", "Service publishNotReadyAddresses", "progressDeadlineSeconds"} <= reached


def test_a_roomy_scenario_has_room_for_twice_its_peak(tmp_path: Path) -> None:
    drawn = next(d for d in (seeded_scenario(2, i) for i in range(50)) if d.roomy)
    scenario = yaml.safe_load(drawn.write(tmp_path).read_text())
    docs = drawn.manifests["manifests/app.yaml"]
    replicas = sum(d["spec"].get("replicas", 0) for d in docs if d["kind"] in ("Deployment", "StatefulSet"))
    for node in scenario["topology"]["nodes"]:
        assert int(node["allocatable"]["pods"]) >= 2 * replicas


def test_a_pod_no_node_fits_is_unfit_not_a_false_alarm(tmp_path: Path) -> None:
    bench = _bench()
    scenario = REPO / "tests/model/data/variants/tight.yaml"
    report = check(scenario, ["workloads-ready"], engine="walk", budget=None, all_discoveries=True,
                   config=EngineConfig(workers=1, runs=2, budget_seconds=None))
    found = report.discovery("workloads-ready")
    assert found is not None
    assert bench.classify(report, found, "walk").verdict.startswith("unfit: default/")
    # a Pending pod explains only its own workload's shortfall, not another's
    other = attrs.evolve(found, violation=attrs.evolve(found.violation, objects=("ReplicaSet default/other",)))
    assert bench.unfit_pod(report, other) is None


@pytest.mark.false_alarms
def test_no_false_alarm_on_generated_scenarios(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if "false_alarms" not in (request.config.option.markexpr or ""):
        pytest.skip("the generative false-alarm campaign: run with -m false_alarms")
    bench = _bench()
    plan = bench.Plan(seed=0, seconds=2.0, runs=2)
    cases = bench.campaign(0, 8, plan, tmp_path)
    assert all(c.loaded for c in cases) and not any(c.unexplained for c in cases), bench.render(cases, plan)


ZERO_GRACE = REPO / "tests/properties/data/generated/zero-grace/scenario.yaml"


def test_a_zero_grace_statefulset_pod_deleted_while_partitioned_is_upstream_behaviour() -> None:
    """Found by the campaign (seed 0, case 33): the taint eviction controller's delete removes a pod
    with terminationGracePeriodSeconds 0 at once, so the StatefulSet recreates it on another node while
    the partitioned kubelet still runs it — as real Kubernetes does, not a false alarm."""
    report = check(ZERO_GRACE, ["one-running-pod-per-identity"], engine="around", budget=None,
                   config=EngineConfig(seed=0, workers=1, budget_seconds=None))
    found = report.discovery("one-running-pod-per-identity")
    assert found is not None
    assert _bench().classify(report, found, "around").verdict == "upstream: zero-grace-pod-deleted-while-running"


@pytest.mark.slow
def test_with_a_grace_period_the_partitioned_statefulset_pod_runs_once(request: pytest.FixtureRequest,
                                                                       tmp_path: Path) -> None:
    """The same scenario with a grace period of 30 s: the pod stays Terminating on the partitioned
    node (the API server waits for its kubelet), so its identity never runs twice (~30 CPU s: -m slow)."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("an exhaustive search around the fair run: run with -m slow")
    folder = tmp_path / "zero-grace"
    folder.mkdir()
    for name in ("scenario.yaml", "db.yaml"):
        text = (ZERO_GRACE.parent / name).read_text()
        text = text.replace("terminationGracePeriodSeconds: 0", "terminationGracePeriodSeconds: 30")
        (folder / name).write_text(text)
    report = check(folder / "scenario.yaml", ["one-running-pod-per-identity"], engine="around", budget=None,
                   config=EngineConfig(seed=0, workers=1, budget_seconds=None))
    assert report.discovery("one-running-pod-per-identity") is None


@pytest.mark.false_alarms
@settings(max_examples=6, database=None, suppress_health_check=list(HealthCheck))
@given(drawn=hypothesis_scenarios())
def test_no_false_alarm_on_hypothesis_scenarios(drawn: Drawn, request: pytest.FixtureRequest,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same campaign driven by Hypothesis, so that a false alarm shrinks to a small scenario
    (one step-bounded engine, no time budget: the verdict depends on the scenario alone)."""
    if "false_alarms" not in (request.config.option.markexpr or ""):
        pytest.skip("the generative false-alarm campaign: run with -m false_alarms")
    bench = _bench()
    folder = tmp_path_factory.mktemp("drawn")
    scenario = drawn.write(folder)
    assert bench.load_problem(scenario) == ""
    report = check(scenario, engine="walk", budget=None, all_discoveries=True,
                   config=EngineConfig(seed=0, workers=1, runs=2, budget_seconds=None, max_shrink_steps=10_000))
    findings = [bench.classify(report, d, "walk") for d in report.found]
    assert not [f for f in findings if f.unexplained()], (findings, yaml.safe_dump(drawn.scenario))


STS_MIN_READY = REPO / "tests/properties/data/generated/sts-min-ready/scenario.yaml"


def test_a_statefulset_with_min_ready_seconds_settles_with_every_replica_available() -> None:
    """Found by the campaign (seed 4, case 8): the StatefulSet controller requeued a set whose
    Ready pods were not yet available at once, so the fair run never let the clock pass and did
    not settle; upstream's requeue is delayed by minReadySeconds (`enqueueSSAfter`)."""
    model = build_model(load_scenario(STS_MIN_READY))
    run = fair_run(model, initial_state(model))
    assert not run.exhausted
    sts = run.state.store.get(ObjectKey("statefulsets.apps", "default", "db"))
    assert isinstance(sts, StatefulSet) and sts.status.available_replicas == 2 == sts.status.ready_replicas
    assert run.state.clock >= 10  # the clock passed minReadySeconds


def test_a_slice_runs_only_the_cases_whose_draw_has_the_features() -> None:
    bench = _bench()
    wanted = ("fault overload", "overload max-in-flight")
    indices = bench._indices(0, 3, bench.Plan(seed=7, only_with=wanted))
    assert len(indices) == 3 and indices == sorted(indices)
    assert all(set(wanted) <= seeded_scenario(7, i).features for i in indices)
    skipped = set(range(indices[-1])) - set(indices)
    assert not any(set(wanted) <= seeded_scenario(7, i).features for i in skipped)
    assert bench._indices(4, 3, bench.Plan(seed=7)) == [4, 5, 6]
