"""`kubeprop check --engine lasso`: the cycle properties are the rows, a lasso file is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.properties.cli.check import main

REPO = Path(__file__).resolve().parents[3]


def test_lasso_engine_reports_a_drain_that_never_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(REPO / "tests" / "model" / "data" / "maintenance" / "blocked.yaml"), "--engine", "lasso",
                 "--budget", "60", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "drains-complete     VIOLATED (lasso" in out
    assert "settles             held (exhaustive)" in out
    [written] = tmp_path.glob("drains-complete-*.json")
    assert f"counterexample: {written}" in out
