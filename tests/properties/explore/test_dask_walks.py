"""Swarm walks on a dask.distributed LocalCluster: the result of the local walk engine for the same
seed, whatever the number of Dask workers; the counterexample comes back and is shrunk here."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples.api import check
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore import dask_walks
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER
from kubeprop.properties.explore.dask_walks import DaskProgress, DaskUnavailable, dask_engine, run_walks_on_dask
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.walk import run_walks
from kubeprop.properties.registry import Violation, as_property

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed: pip install kubeprop[dask]")

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"
UPSTREAM_SEARCH = Path(__file__).parents[1] / "data" / "upstream_search"


def _setup(variant: str) -> tuple[ClusterModel, ClusterState, EngineConfig]:
    model = build_model(load_scenario(DATA / "tight.yaml"), variant=variant)
    config = EngineConfig(seed=3, max_depth=14, properties=("node-not-overcommitted",), action_filter=DUAL_SCHEDULER,
                          runs=300, workers=1, budget_seconds=None)
    return model, initial_state(model), config


@pytest.fixture(scope="module")
def clusters() -> Iterator[dict[int, str]]:
    """Two in-process LocalClusters: one worker, and two workers of one thread each."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as one, \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                     dashboard_address=":0") as two:
        yield {1: one.scheduler_address, 2: two.scheduler_address}


def test_same_result_as_local_walks_for_any_worker_count(clusters: dict[int, str]) -> None:
    model, start, config = _setup("dual-scheduler")
    local = run_walks(model, start, config)
    assert local.violation is not None
    seen: list[DaskProgress] = []
    for workers, address in clusters.items():
        remote = run_walks_on_dask(model, start, config, address, progress=seen.append)
        assert remote.exit_reason == "violation", workers
        assert (remote.violation, remote.trace) == (local.violation, local.trace)
        assert remote.stats.note.startswith(local.stats.note)
        assert remote.stats.shrunk_from == local.stats.shrunk_from
    assert seen and seen[-1].walks_done > 0 and seen[-1].threads in (1, 2)


def test_correct_model_runs_every_walk(clusters: dict[int, str]) -> None:
    model, start, config = _setup("correct")
    clean = run_walks_on_dask(model, start, attrs.evolve(config, runs=40), clusters[2])
    assert (clean.exit_reason, clean.violation, clean.stats.runs) == ("runs-done", None, 40)
    assert clean.stats.steps > 0


def test_address_from_the_environment_and_errors(clusters: dict[int, str], monkeypatch: pytest.MonkeyPatch) -> None:
    model, start, config = _setup("correct")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", clusters[1])
    assert run_walks_on_dask(model, start, attrs.evolve(config, runs=4)).stats.runs == 4
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    with pytest.raises(DaskUnavailable, match="DASK_SCHEDULER_ADDRESS"):
        run_walks_on_dask(model, start, config)


def test_kubeprop_check_cluster_writes_the_local_walks_counterexample(clusters: dict[int, str], tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from kubeprop.properties.cli.main import main

    args = [str(DATA / "tight.yaml"), "--variant", "dual-scheduler", "--engine", "walk", "--budget", "300",
            "--seed", "3", "--runs", "100", "--property", "node-not-overcommitted",
            "--property", "scheduler-decisions-sound"]
    assert main(["check", *args, "--workers", "1", "--out", str(tmp_path / "local")]) == 1
    local_out = capsys.readouterr().out
    assert main(["check", *args, "--cluster", clusters[2], "--out", str(tmp_path / "dask")]) == 1
    dask_out = capsys.readouterr().out
    local_files = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert local_files and local_files == sorted(p.name for p in (tmp_path / "dask").iterdir())
    for name in local_files:  # equal but for when each was written
        local, remote = (json.loads((tmp_path / where / name).read_text()) for where in ("local", "dask"))
        assert local.pop("created") and remote.pop("created")
        assert local == remote
    assert "VIOLATED" in dask_out and local_out.split("engines:")[0] == dask_out.split("engines:")[0]
    counts = [out.split("engines:")[1].splitlines()[1] for out in (local_out, dask_out)]  # same walks and steps
    assert counts[0].split()[:2] == ["walk", "violation:"] and counts[0] == counts[1]


def test_kubeprop_check_cluster_without_dask_scheduler_is_bad_input(capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeprop.properties.cli.main import main

    monkeypatch.setattr(dask_walks, "CONNECT_TIMEOUT", 1.0)
    code = main(["check", str(DATA / "tight.yaml"), "--engine", "walk", "--budget", "5",
                 "--cluster", "tcp://127.0.0.1:1"])
    assert code == 2 and "cannot reach the Dask scheduler" in capsys.readouterr().err


@attrs.define
class ShortOnes:
    """A stand-in for `SearchPast`: a violation of `no-replicaset` at the end of a trace shorter
    than 12 actions is known; every question asked is kept, in order."""

    names: frozenset[str] = frozenset({"no-replicaset"})
    asked: list[tuple[Action, ...]] = attrs.Factory(list)

    def __call__(self, found: Violation, trace: Sequence[Action], state: ClusterState | None) -> Violation | None:
        self.asked.append(tuple(trace))
        return None if len(trace) < 12 else found


def _replicaset(model: ClusterModel, state: ClusterState) -> str | None:
    found = next(iter(state.store.list("replicasets.apps")), None)
    return None if found is None else f"{found.metadata.name} exists"


NO_RS = as_property("no-replicaset", "No ReplicaSet exists.", "test", "safety", _replicaset)


def test_the_walks_search_on_past_what_the_excuse_passes_over_as_local_walks_do(clusters: dict[int, str]) -> None:
    """The cluster's walks that meet a violation the excuse may pass over are walked again here,
    with it: the same questions in the same order as the local walks ask, the same find past them
    (walk 0 passes over every shorter one it meets and goes past them to a trace of 12: since the
    walks go on where their kinds run out, the first walk gets that far)."""
    model = build_model(load_scenario(DATA / "web.yaml"))
    start = initial_state(model)
    config = EngineConfig(properties=(NO_RS,), budget_seconds=None, max_depth=12, workers=1, seed=0, runs=60,
                          max_shrink_steps=400)
    local_asked = ShortOnes()
    local = run_walks(model, start, attrs.evolve(config, excuse=local_asked))
    assert local.violation is not None and len(local.trace) == 12 and local.stats.runs == 1
    assert any(len(trace) < 12 for trace in local_asked.asked)  # passed over on the way
    for address in clusters.values():
        asked = ShortOnes()
        remote = run_walks_on_dask(model, start, attrs.evolve(config, excuse=asked), address)
        assert (remote.violation, remote.trace) == (local.violation, local.trace)
        assert (remote.stats.runs, remote.stats.steps) == (local.stats.runs, local.stats.steps)
        assert asked.asked == local_asked.asked


def test_check_on_the_cluster_searches_on_past_the_upstream_race(clusters: dict[int, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` with the cluster's walks reports what the local walks do past the Deployment
    controller's stale ReplicaSet lister (tests/properties/data/upstream_search/warm.yaml): the race,
    and the same search on, the same steps."""
    monkeypatch.syspath_prepend(str(UPSTREAM_SEARCH))
    config = EngineConfig(long_runs=False, workers=1, runs=60)
    reports = [check(UPSTREAM_SEARCH / "warm.yaml", ["rollout-surge-bound"], engine=engine, seed=1, config=config,
                     bounds=Bounds(max_depth=20), budget=120, all_discoveries=True)
               for engine in ("walk", dask_engine(clusters[2]))]
    local, remote = ([(d.violation, d.trace, d.upstream) for d in r.found] for r in reports)
    assert local == remote and len(local) == 1 and local[0][2] is not None
    assert reports[0].searched_on == reports[1].searched_on
    (searched,) = reports[1].searched_on
    assert searched.steps > 0 and searched.passed > 0 and searched.exit_reason == "runs-done"
    assert searched.line().startswith(f"searched on past it for {searched.steps:,} steps (every run)")
