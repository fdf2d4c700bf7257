"""`kubeprop check --first` stops at the first violation that is not known upstream behaviour (a
trial's controller author waited 29 s for a check whose answer came after 0.4 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.properties.cli.main import build_parser, main

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"
ARGS = ["check", str(WEB), "--engine", "all", "--variant", "rs-no-expectations", "--property",
        "replicaset-no-overcreation", "--property", "node-not-overcommitted", "--max-depth", "5", "--budget", "60",
        "--progress", "none"]


def test_first_stops_after_the_engine_that_found_a_violation(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """BFS finds the variant's over-creation within depth 5; `--engine all --first` then runs neither
    the walks nor Hypothesis, and writes one counterexample."""
    assert main([*ARGS, "--first", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "replicaset-no-overcreation  VIOLATED" in out
    engines = [line.split()[0] for line in out.split("\nengines:\n")[1].split("\n\n")[0].splitlines()
               if line.startswith("  ") and not line.startswith("    ") and "time:" not in line]
    assert engines == ["bfs"]
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_first_is_off_by_default() -> None:
    assert build_parser().parse_args(ARGS[:2]).first is False
