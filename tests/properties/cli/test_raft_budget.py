"""`kubeprop raft` and `kubeprop check --model raft` count the budget from when the process started,
as `check` does on the cluster model, and show the search's progress (trial 11, u3-sts: `--budget 3`
took 5.7–7.2 s, start-up uncounted; 123 s with no progress line by default). The clock is injected:
the CLI's reads are put `AHEAD` seconds past the process's start, never measured."""

from __future__ import annotations

import io
import itertools
import re
import time
import types
from typing import Any

import pytest

from kubeprop.properties.cli import raft as raft_cli
from kubeprop.properties.cli.live import LogLines
from kubeprop.properties.cli.main import build_parser, main
from kubeprop.properties.explore import parallel as parallel_module
from kubeprop.properties.explore.bfs import SearchStats
from kubeprop.properties.explore.raft import explore
from kubeprop.properties.raft import select_checks

SMALL = ["--servers", "3", "--max-term", "1", "--max-log", "1", "--max-depth", "4"]
"""A search of a Raft configuration that ends at its depth bound in well under a second."""


def _started_ago(monkeypatch: pytest.MonkeyPatch, seconds: float) -> list[Any]:
    """The CLI's clock reads `seconds` past the start `main` records; the bounds `explore` gets."""
    real = time.perf_counter
    monkeypatch.setattr(raft_cli, "time", types.SimpleNamespace(perf_counter=lambda: real() + seconds))
    bounds: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        bounds.append(args[2])
        return raft_cli.explore_real(*args, **kwargs)

    monkeypatch.setattr(raft_cli, "explore_real", raft_cli.explore, raising=False)
    monkeypatch.setattr(raft_cli, "explore", recording)
    return bounds


def test_raft_gets_what_start_up_left_of_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    bounds = _started_ago(monkeypatch, 2.0)
    assert main(["raft", *SMALL, "--budget", "30"]) == 0
    assert len(bounds) == 1 and 27.9 < bounds[0].budget_seconds <= 28.0  # 30 s, less the 2 start-up took


@pytest.mark.parametrize("command", [["raft"], ["check", "--model", "raft", "--out", "{tmp}"]])
def test_a_budget_spent_on_start_up_is_said_plainly_and_nothing_runs(
        command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    bounds = _started_ago(monkeypatch, 5.0)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command]
    assert main([*argv, *SMALL, "--budget", "3"]) == 3  # inconclusive: no search ran
    captured = capsys.readouterr()
    name = "kubeprop raft" if command[0] == "raft" else "kubeprop check"
    assert re.search(rf"{name}: start-up \(loading, building the configuration\) took 5\.\d s of the 3 s budget; "
                     r"no (search|engine) ran; raise --budget", captured.err), captured.err
    assert bounds == [] or all(b.budget_seconds is None for b in bounds)
    if command[0] == "check":
        assert re.search(r"ElectionSafety +not checked \(no step\)", captured.out), captured.out


def test_check_model_raft_gets_what_start_up_left_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[float | None] = []
    real = raft_cli.explore_all

    def recording(config: Any, checks: Any, bounds: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(bounds.budget_seconds)
        return real(config, checks, bounds, *args, **kwargs)

    monkeypatch.setattr(raft_cli, "explore_all", recording)
    start = time.perf_counter
    monkeypatch.setattr(raft_cli, "time", types.SimpleNamespace(perf_counter=lambda: start() + 2.0))
    assert main(["check", "--model", "raft", *SMALL, "--budget", "30", "--out", str(tmp_path),
                 "--progress", "lines"]) == 0
    assert len(seen) == 1 and seen[0] is not None and 27.9 < seen[0] <= 28.0
    err = capsys.readouterr().err
    assert "kubeprop check: running bfs (budget 28.0 s)…" in err and "kubeprop check: bfs done in " in err


def test_raft_says_it_runs_and_when_it_is_done(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["raft", *SMALL, "--budget", "30", "--progress", "lines"]) == 0
    err = capsys.readouterr().err
    assert re.match(r"kubeprop raft: running bfs \(budget \d+\.\d s\)…\n", err), err
    assert re.search(r"kubeprop raft: bfs done in \d+\.\d s\n$", err), err


def test_the_search_reports_within_a_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process worker reports after each chunk of a level it expands (a level of a long
    search takes minutes), not only when the level is done: on a clock that moves a second a
    read, reports of one depth with more states each time."""
    args = build_parser().parse_args(["raft"])
    config, _, _ = raft_cli.build_config(args)
    ticks = iter(range(10**9))
    monkeypatch.setattr(parallel_module, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks)),
                                                                       time=time.time))
    seen: list[SearchStats] = []
    run = explore(config, select_checks(None), raft_cli.Bounds(max_depth=6), progress=seen.append)
    assert run.result.exit_reason == "depth-bound"
    within = [(a, b) for a, b in itertools.pairwise(seen) if a.depth == b.depth and a.distinct < b.distinct]
    assert within, [(s.depth, s.distinct) for s in seen]
    assert seen[-1].distinct <= run.result.stats.distinct


def test_log_lines_name_their_command() -> None:
    out = io.StringIO()
    LogLines("bfs", 10.0, out, command="kubeprop raft").end()
    assert out.getvalue().startswith("kubeprop raft: bfs done in ")
