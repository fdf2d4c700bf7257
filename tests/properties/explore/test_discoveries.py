"""Every discovery reported (issue 13 item 3): the search goes on for the properties not yet
violated, with each engine, and every violated property gets its own counterexample file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples import check, load
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.discoveries import Unfinished, discover, merged_stats
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats
from kubeprop.properties.registry import Property, Violation, as_property, select

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"


def _exists(resource: str) -> Any:
    def check_(model: ClusterModel, state: ClusterState) -> str | None:
        found = next(iter(state.store.list(resource)), None)
        return None if found is None else f"{found.metadata.name} exists"
    return check_


NO_RS = as_property("no-replicaset", "No ReplicaSet exists.", "test", "safety", _exists("replicasets.apps"))
NO_POD = as_property("no-pod", "No pod exists.", "test", "safety", _exists("pods"))


def _fake(order: list[str], calls: list[tuple[str, ...]]) -> Any:
    """An engine that violates the first property of `order` still selected."""
    def run(config: EngineConfig) -> EngineResult:
        names = tuple(p.name if isinstance(p, Property) else p for p in config.properties or ())
        calls.append(names)
        hit = next((n for n in order if n in names), None)
        stats = EngineStats(1.0, 10, distinct=5, depth=len(calls))
        if hit is None:
            return EngineResult("fake", "exhausted", stats=stats)
        return EngineResult("fake", "violation", Violation(hit, "boom"), (), stats)
    return run


def test_discover_reruns_without_each_violated_property() -> None:
    calls: list[tuple[str, ...]] = []
    config = EngineConfig(properties=("node-not-overcommitted", "workloads-ready", "endpoints-ready-pods"))
    results = discover(_fake(["endpoints-ready-pods", "node-not-overcommitted"], calls), config)
    assert [r.violation.property if r.violation else None for r in results] == [
        "endpoints-ready-pods", "node-not-overcommitted", None]
    assert calls == [("node-not-overcommitted", "workloads-ready", "endpoints-ready-pods"),
                     ("node-not-overcommitted", "workloads-ready"), ("workloads-ready",)]
    stats = merged_stats(results)
    assert stats is not None and (stats.steps, stats.seconds, stats.depth) == (30, 3.0, 3)


def test_discover_stops_when_every_property_is_violated_or_the_violation_is_unknown() -> None:
    calls: list[tuple[str, ...]] = []
    results = discover(_fake(["workloads-ready"], calls), EngineConfig(properties=("workloads-ready",)))
    assert len(results) == 1 and len(calls) == 1

    def mystery(config: EngineConfig) -> EngineResult:
        return EngineResult("fake", "violation", Violation("not-a-selected-property", "?"))

    assert len(discover(mystery, EngineConfig(properties=("workloads-ready", "node-not-overcommitted")))) == 1


def test_settles_drops_every_convergence_property_and_goes_on_for_safety() -> None:
    calls: list[tuple[str, ...]] = []
    names = ("workloads-ready", "deployments-complete", "node-not-overcommitted")

    def run(config: EngineConfig) -> EngineResult:
        props = select(config.properties)
        calls.append(tuple(p.name for p in props))
        if any(p.kind == "convergence" for p in props):
            return EngineResult("fake", "violation", Violation("settles", "did not settle"))
        return EngineResult("fake", "runs-done")

    results = discover(run, EngineConfig(properties=names))
    assert len(results) == 2 and calls[1] == ("node-not-overcommitted",)


@pytest.mark.parametrize("engine", ["bfs", "walk", "hypothesis"])
def test_each_engine_reports_one_discovery_per_violated_property(engine: str, tmp_path: Path) -> None:
    # BFS to depth 4 (the pod exists after 3 actions); walks and examples of 16 steps.
    config = EngineConfig(max_depth=4 if engine == "bfs" else 16, workers=1, runs=40,
                          convergence=False)
    report = check(WEB, [NO_RS, NO_POD, "node-not-overcommitted"], engine=engine, budget=60, config=config,
                   save_to=tmp_path, all_discoveries=True, seed=1)
    assert sorted(report.discoveries) == ["no-pod", "no-replicaset"]
    files = sorted(tmp_path.glob("*.json"))
    assert [f.name.split("-")[1] for f in files] == ["pod", "replicaset"]
    assert {load(f).property.name for f in files} == {"no-pod", "no-replicaset"}
    assert report.violation is not None and report.violation.property == report.found[0].violation.property
    no_pod = report.discovery("no-pod")
    assert no_pod is not None and no_pod.trace and no_pod.path is not None


def test_without_all_discoveries_the_first_one_ends_the_run(tmp_path: Path) -> None:
    report = check(WEB, [NO_RS, NO_POD], engine="bfs", budget=60, config=EngineConfig(max_depth=4, convergence=False),
                   save_to=tmp_path)
    assert list(report.discoveries) == ["no-replicaset"]
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_engines_run_with_fewer_collections_and_restore_the_collector() -> None:
    """`discover` (and `run_engine`) raise the collector's first and last thresholds while they run
    and put back what was set before, also when the run raises."""
    import gc

    from kubeprop.properties.explore.collector import COLLECT_AFTER, FULL_COLLECTION_AFTER

    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    def run(config: EngineConfig) -> Any:
        seen.append(gc.get_threshold())
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        discover(run, EngineConfig(properties=(NO_POD,)))
    assert seen == [(max(before[0], COLLECT_AFTER), before[1], max(before[2], FULL_COLLECTION_AFTER))]
    assert gc.get_threshold() == before


def test_ctrl_c_keeps_the_violations_found_before_it() -> None:
    """The first run found a violation; the rerun for the other properties is interrupted: the
    interrupt carries that find (`Unfinished`), and the rerun's own finds after it."""
    calls: list[tuple[str, ...]] = []
    first = _fake(["endpoints-ready-pods"], calls)
    config = EngineConfig(properties=("node-not-overcommitted", "endpoints-ready-pods"))
    late = EngineResult("fake", "violation", Violation("node-not-overcommitted", "late"), (), EngineStats(1.0, 1))

    def run(config_: EngineConfig) -> EngineResult:
        if calls:
            raise Unfinished(unshrunk=(late,))
        return first(config_)

    with pytest.raises(Unfinished) as caught:
        discover(run, config)
    assert [r.violation.property for r in caught.value.found] == ["endpoints-ready-pods"]
    assert caught.value.unshrunk == (late,)
    calls.clear()

    def bare(config_: EngineConfig) -> EngineResult:
        if calls:
            raise KeyboardInterrupt
        return first(config_)

    with pytest.raises(Unfinished) as caught:
        discover(bare, config)
    assert [r.violation.property for r in caught.value.found] == ["endpoints-ready-pods"]
    assert caught.value.unshrunk == ()


def test_merged_stats_keep_each_portfolio_members_figures() -> None:
    def part(name: str, steps: int, reason: str = "time-bound", violation: Violation | None = None,
             note: str = "") -> EngineResult:
        return EngineResult(name, reason, violation, (), EngineStats(1.0, steps, runs=1, distinct=steps, depth=steps,
                                                                     note=note))

    found = Violation("endpoints-ready-pods", "boom")
    first = EngineResult("portfolio", "violation", found, (), EngineStats(
        2.0, 30, parts=(part("around", 10, "violation", found), part("bfs", 20, note="figures missing"))))
    second = EngineResult("portfolio", "time-bound", stats=EngineStats(
        3.0, 70, parts=(part("around", 30), part("bfs", 40))))
    stats = merged_stats((first, second))
    assert stats is not None
    around, bfs = stats.parts
    assert (around.engine, around.stats.steps, around.stats.seconds, around.stats.depth) == ("around", 40, 2.0, 30)
    assert around.exit_reason == "time-bound" and around.violation == found
    assert (bfs.stats.steps, bfs.stats.note) == (60, "figures missing")


def test_a_member_the_last_run_did_not_start_is_not_labelled_not_started() -> None:
    # the trial: "(not started)" beside "35 steps, 35 distinct", the steps of an earlier run
    def portfolio(bfs: EngineStats) -> EngineResult:
        return EngineResult("portfolio", "time-bound", stats=EngineStats(1.0, bfs.steps, parts=(
            EngineResult("bfs", "time-bound", stats=bfs),)))

    ran, idle = EngineStats(1.0, 35, distinct=35, depth=2), EngineStats(0.0, 0, note="not started")
    stats = merged_stats((portfolio(ran), portfolio(idle)))
    assert stats is not None
    [bfs] = stats.parts
    assert (bfs.stats.steps, bfs.stats.distinct, bfs.stats.note) == (35, 35, "")
    never = merged_stats((portfolio(idle), portfolio(idle)))
    assert never is not None and never.parts[0].stats.note == "not started"
