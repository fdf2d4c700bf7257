"""The standing false-alarm campaign (issue 12): every engine on the correct model over every
shipped scenario with faults on. The campaign itself (marker `false_alarms`, `pytest -m
false_alarms`) runs at a small budget and fails on any violation that is neither known upstream
behaviour nor a bug the scenario shows on purpose; the default run only checks its plumbing."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from benchmark_modules import load_benchmark

from kubeprop.counterexamples.api import Discovery, check
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.registry import Violation, select

REPO = Path(__file__).resolve().parents[2]
SMALL_BUDGET = 2.0
"""Seconds per scenario × engine in the CI campaign."""


def _bench() -> ModuleType:
    return load_benchmark("bench_false_alarms")


def _load_with_faults_on(bench: ModuleType, scenarios: list[Path]) -> None:
    for path in scenarios:
        with bench.faults_on(path) as copy:
            faults = load_scenario(copy).spec.faults
            assert faults.partition >= 1 and faults.request_failure >= 1 and faults.node_crash >= 1, path
            if bench.label(path) == "tests/model/data/variants/restore.yaml":
                assert faults.etcd_restore == 1  # the scenario's own faults are kept


def test_every_shipped_scenario_is_in_the_campaign_and_one_of_each_folder_loads_with_faults_on() -> None:
    """The scenarios' list, and `faults_on` on the first scenario of each folder it copies (12 of
    them, restore.yaml with its own faults among them); every scenario is the `slow` test below."""
    bench = _bench()
    scenarios = bench.shipped_scenarios()
    labels = {bench.label(p) for p in scenarios}
    assert {"feastflow", "tests/model/data/variants/restore.yaml", "examples/database_operator/scenario.yaml",
            "tests/properties/cli/data/greedy/scenario.yaml"} <= labels
    assert len(scenarios) == len(labels) >= 26
    assert all(scenario in labels for scenario, _ in bench.INTENDED)
    restore = REPO / "tests/model/data/variants/restore.yaml"
    firsts = {bench._tree_root(restore): restore}
    for path in scenarios:
        firsts.setdefault(bench._tree_root(path), path)
    assert len(firsts) >= 12
    _load_with_faults_on(bench, list(firsts.values()))


@pytest.mark.slow
def test_every_shipped_scenario_loads_with_faults_on() -> None:
    """Each of the 109 scenarios (`-m slow`: a copy of tests/model/data for each of its 83, 128 s
    of a loaded default run)."""
    bench = _bench()
    _load_with_faults_on(bench, bench.shipped_scenarios())


def test_the_seed_and_fault_count_reach_every_cell_and_name_the_output(tmp_path: Path) -> None:
    bench = _bench()
    setup = bench.Setup(seed=2, faults=2)
    assert bench.engine_config(setup).seed == 2
    assert (bench.Setup().folder, setup.folder) == ("seed-0", "seed-2-faults-2")
    with bench.faults_on(REPO / "tests/model/data/variants/restore.yaml", 2) as copy:
        faults = load_scenario(copy).spec.faults
        assert (faults.partition, faults.watch_drop, faults.etcd_restore) == (2, 2, 1)
    cell = bench.Cell("feastflow", "walk", 1.0, 10, "held (time-bound)")
    assert bench.render([cell], 1.0, setup).startswith("seed 2, 2 of each general fault, 1 s per cell")
    with pytest.raises(SystemExit) as refused:
        bench.main(["--faults", "0"])
    assert refused.value.code == 2


def test_a_violation_is_upstream_intended_or_a_false_alarm(tmp_path: Path) -> None:
    bench = _bench()
    name = "tests/model/data/variants/restore.yaml"
    # (no client lists again after restore.yaml's restore: caches ahead of the restored revision resume
    # their watches, the others relist at it — `resource-versions-monotonic` holds there; restore18)
    report = check(REPO / name, ["rollout-surge-bound"], engine="bfs",
                   bounds=Bounds(max_depth=6, max_states=20_000), all_discoveries=True)
    verdicts = {d.violation.property: bench.classify(name, report, d).verdict for d in report.found}
    assert verdicts["rollout-surge-bound"] == "upstream: deployment-stale-replicaset-lister"
    # a violation no entry recognizes (a livelock with no restore in its trace) is intended where
    # the campaign says so, and a false alarm anywhere else until explained
    unsettled = Discovery(Violation("settles", "the cluster did not settle within 5000 steps"), ())
    assert bench.classify(name, report, unsettled).verdict.startswith("intended: etcd restored")
    assert bench.classify("elsewhere.yaml", report, unsettled).verdict == "FALSE ALARM"


@pytest.mark.false_alarms
def test_no_false_alarm_on_any_shipped_scenario(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if "false_alarms" not in (request.config.option.markexpr or ""):
        pytest.skip("the false-alarm campaign: run with -m false_alarms")
    bench = _bench()
    cells = bench.campaign(bench.shipped_scenarios(), bench.ENGINES, SMALL_BUDGET, bench.Setup(), tmp_path)
    assert not any(c.false_alarms for c in cells), bench.render(cells, SMALL_BUDGET)


def test_a_cell_leaves_the_property_registry_as_it_found_it(tmp_path: Path) -> None:
    """A scenario's properties module registers its properties when imported; the campaign checks
    each scenario as its own `kubeprop check` process would, so they are gone after its cell (they
    were checked on every later generated scenario: `statefulsets-have-two-replicas`)."""
    bench = _bench()
    before = {p.name for p in select()}
    cell = bench.run_cell(REPO / "examples" / "team_properties" / "scenario.yaml", "around", 0.5, bench.Setup(),
                          tmp_path)
    assert not cell.result.startswith("crashed"), cell.result
    assert {p.name for p in select()} == before and "statefulsets-have-two-replicas" not in before
