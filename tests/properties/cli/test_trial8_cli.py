"""Trial 8's paper cuts in `kubeprop check`: an unknown `--param` name, a budget start-up used up,
and the `engines:` heading after an interrupt before any engine had figures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.table import EngineColumn, Table, render

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"


def test_an_unknown_parameter_is_named_with_the_close_match(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", str(WEB), "--param", "nodeMonitorGracePeriod=40"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --param: unknown parameter 'nodeMonitorGracePeriod'; did you mean " \
           "'nodeMonitorGracePeriodSeconds'? valid: " in err
    with pytest.raises(SystemExit):
        main(["check", str(WEB), "--param", "instantCaches"])
    assert "argument --param: expected NAME=VALUE, got 'instantCaches'; NAME one of: " in capsys.readouterr().err


def test_a_budget_spent_on_start_up_is_said_plainly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", str(WEB), "--budget", "1e-9", "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "kubeprop check: start-up (loading the scenario, building the model) took " in err
    assert " s of the 1e-09 s budget; no engine ran; raise --budget" in err
    assert "running portfolio (budget 0.0 s)" not in err


def test_no_engines_heading_over_nothing() -> None:
    table = Table("kubeprop check: scenario web", ("p",), (EngineColumn("portfolio", "interrupted"),),
                  (("interrupted",),))
    out = io.StringIO()
    render(table, out)
    assert "\nengines: none finished (portfolio: interrupted)\n" in out.getvalue()
    assert "engines:\n" not in out.getvalue()
