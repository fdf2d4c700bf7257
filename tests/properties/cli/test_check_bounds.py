"""A scenario's `bounds:` are the defaults of `kubeprop check --max-depth`, `--max-states` and
`--budget`, and of `kubeprop.counterexamples.check` (trial 6, F5: they were checked and then
ignored); a flag or argument given wins, and the report says where each bound came from."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kubeprop.counterexamples.api import check
from kubeprop.counterexamples.check_bounds import Chosen
from kubeprop.properties.cli.main import main
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import EngineConfig

VARIANTS = Path(__file__).resolve().parents[2] / "model" / "data" / "variants"
PROPERTY = ["--property", "node-not-overcommitted"]


def _scenario(tmp_path: Path, bounds: str) -> Path:
    """web.yaml with these `bounds:` (its manifests named by absolute path)."""
    text = (VARIANTS / "web.yaml").read_text().replace("manifests: [web]", f"manifests: [{VARIANTS / 'web'}]")
    path = tmp_path / "scenario.yaml"
    path.write_text(f"{text}bounds: {bounds}\n")
    return path


def test_the_scenario_bounds_bound_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, "{maxDepth: 3, maxStates: 40, timeLimitSeconds: 120}")
    assert main(["check", str(path), "--engine", "bfs", *PROPERTY, "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert ("bounds: max depth 3 (scenario bounds.maxDepth), max states 40 (scenario bounds.maxStates), "
            "budget 120 s (scenario bounds.timeLimitSeconds)") in out
    assert "  bfs         state-bound:" in out


def test_a_flag_wins_and_the_report_says_which_it_overrode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, "{maxDepth: 3, maxStates: 40}")
    assert main(["check", str(path), "--engine", "bfs", *PROPERTY, "--max-depth", "1", "--max-states", "100000",
                 "--budget", "60", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert ("bounds: max depth 1 (--max-depth; the scenario's bounds.maxDepth 3 overridden), max states 100,000 "
            "(--max-states; the scenario's bounds.maxStates 40 overridden), budget 60 s (--budget)") in out
    assert "depth-bound:" in out and ", depth 1\n" in out


def test_without_scenario_bounds_nothing_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(VARIANTS / "web.yaml"), "--engine", "bfs", *PROPERTY, "--max-depth", "1",
                 "--out", str(tmp_path)]) == 0
    assert "bounds:" not in capsys.readouterr().out


def test_the_time_limit_really_bounds_a_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The walks never finish by themselves (no --runs): only the scenario's 8 s stop them, where
    the default budget is 60 s."""
    path = _scenario(tmp_path, "{timeLimitSeconds: 8}")
    began = time.perf_counter()
    assert main(["check", str(path), "--engine", "walk", "--workers", "1", *PROPERTY,
                 "--out", str(tmp_path / "o")]) == 0
    seconds = time.perf_counter() - began
    out = capsys.readouterr().out
    assert "budget 8 s (scenario bounds.timeLimitSeconds)" in out
    assert "  walk        time-bound:" in out
    assert seconds < 30, f"{seconds:.1f} s: the 8 s limit did not apply"


def test_check_in_python_follows_the_same_rule(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "{maxDepth: 2, maxStates: 30, timeLimitSeconds: 3}")
    report = check(path, ["node-not-overcommitted"], engine="walk", config=EngineConfig(workers=1))
    assert report.bounds is not None
    assert report.bounds.max_depth == Chosen(2, "scenario", 2)
    assert report.bounds.max_states == Chosen(30, "scenario", 30)
    assert report.bounds.budget == Chosen(3, "scenario", 3)
    assert report.exit_reason == "time-bound" and report.stats.seconds < 3
    given = check(path, ["node-not-overcommitted"], engine="bfs", budget=20.0, bounds=Bounds(max_depth=1))
    assert given.bounds is not None
    assert given.bounds.max_depth == Chosen(1, "given", 2) and given.bounds.max_states == Chosen(30, "scenario", 30)
    assert given.bounds.budget == Chosen(None, "given", 3)  # a `bounds` argument's seconds win, as before
    assert given.stats.depth <= 1
    configured = check(path, ["node-not-overcommitted"], engine="bfs", budget=20.0,
                       config=EngineConfig(max_depth=1, max_states=500))
    assert configured.bounds is not None
    assert configured.bounds.max_depth.source == "given" and configured.bounds.max_states == Chosen(500, "given", 30)
    assert configured.bounds.budget == Chosen(20.0, "given", 3)


@pytest.mark.parametrize(("flag", "value", "ok"), [
    ("--max-states", "1000000", True), ("--max-states", "1000001", False), ("--max-depth", "1000001", False),
])
def test_the_flag_ranges(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, ok: bool) -> None:
    argv = ["check", str(VARIANTS / "web.yaml"), "--engine", "bfs", *PROPERTY, "--max-depth", "1", flag, value,
            "--out", str(tmp_path)]
    if ok:
        assert main(argv) == 0
        return
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert f"argument {flag}: the value must be a whole number from 1 to" in capsys.readouterr().err


@pytest.mark.parametrize(("bounds", "problem"), [
    ("{maxStates: 1000001}", "bounds.maxStates: must be between 1 and 1,000,000, got 1000001"),
    ("{maxDepth: 0}", "bounds.maxDepth: must be between 1 and 1,000,000, got 0"),
    ("{timeLimitSeconds: 0}", "bounds.timeLimitSeconds: must be between 1 and 10,000,000, got 0"),
])
def test_the_scenario_ranges_are_the_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str], bounds: str,
                                           problem: str) -> None:
    assert main(["check", str(_scenario(tmp_path, bounds)), "--out", str(tmp_path / "o")]) == 2
    assert problem in capsys.readouterr().err
