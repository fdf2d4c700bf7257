"""`kubeprop check`'s report from the user trial: the header names the variant and parameters, a
column with no step says so, the portfolio's per-engine lines stay after a find, and figures
missing from a lane are a warning."""

from __future__ import annotations

import io
import re
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples.api import Discovery, check
from kubeprop.properties.cli.check_table import CheckRun, figures_missing, table
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.table import render
from kubeprop.properties.explore.discoveries import SETTLES
from kubeprop.properties.explore.engine import EngineResult, EngineStats, ExitReason
from kubeprop.properties.explore.portfolio import LATE
from kubeprop.properties.registry import Violation

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "variants" / "web.yaml"
STS_SCALE = Path(__file__).resolve().parents[2] / "model" / "data" / "sts-scale.yaml"


def test_the_header_names_the_variant_and_the_parameters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(WEB), "--engine", "walk", "--variant", "rs-no-expectations", "--param",
                 "instantCaches=true", "--param", "nodeMonitorGracePeriodSeconds=40", "--budget", "1e-9",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitCode.INCONCLUSIVE, out
    assert out.splitlines()[0] == ("kubeprop check: scenario web, variant rs-no-expectations, "
                                   "parameters instantCaches=true, nodeMonitorGracePeriodSeconds=40")


def test_without_a_variant_the_header_names_the_scenario_only(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(WEB), "--engine", "walk", "--budget", "1e-9", "--out", str(tmp_path)])
    assert capsys.readouterr().out.splitlines()[0] == "kubeprop check: scenario web"


def test_the_raft_header_says_variant_none_once_and_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", "--model", "raft", "--max-term", "1", "--max-states", "100"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "kubeprop check: Raft model, variant none"
    assert lines[1].endswith("; variant none")


def test_after_a_find_the_portfolio_still_shows_each_engines_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--variant", "rs-no-expectations", "--workers", "1", "--budget", "8", "--out",
                 str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitCode.VIOLATION, out
    engines = out.split("\nengines:\n")[1].split("\n\n")[0]
    assert "then shrunk" in engines
    for member in ("around", "perturb", "faults", "pct", "walk", "bfs", "hypothesis"):
        assert re.search(rf"\n    {member} +[a-z-]+: \d+ steps", engines), member


def test_a_lane_that_did_not_report_is_a_warning(tmp_path: Path) -> None:
    """Figures missing from a lane (`LATE`, as under load or with a stopped worker) are incomplete
    figures: a warning says so; the rows keep their verdicts."""
    report = check(WEB, engine="walk", budget=1e-9)
    parts = (EngineResult("around", ExitReason.TIME_BOUND, stats=EngineStats(0.0, 0, note=LATE)),
             EngineResult("perturb", ExitReason.TIME_BOUND, stats=EngineStats(0.4, 480, depth=480)),
             EngineResult("bfs", ExitReason.TIME_BOUND, stats=EngineStats(0.0, 0, note=LATE)))
    late = attrs.evolve(report, engine="portfolio", stats=EngineStats(1.0, 480, depth=480, parts=parts))
    run = CheckRun("web", (late,), report.properties)
    text = io.StringIO()
    render(table(run), text)
    out = text.getvalue()
    assert ("warning: portfolio: no figures from around, bfs (a lane that did not report in time: a busy or "
            "stopped process): the totals are incomplete, and 'held' covers only what was checked") in out
    assert re.search(r"\nnode-not-overcommitted +held \(bounded\)\n", out)
    assert "its lane did not report in time: figures missing" in out
    assert figures_missing(report) is None


def test_a_vacuous_convergence_property_reads_vacuous_even_when_a_continuation_did_not_settle() -> None:
    """The user trial: `pods-on-unknown-nodes-not-ready` read "not judged (no settle)" while the
    note under the table listed it as vacuous. It could not have failed here: the row says so."""
    report = check(STS_SCALE, engine="walk", budget=1e-9)
    livelock = Discovery(Violation(SETTLES, "the fair continuation did not settle"))
    run = CheckRun("sts-scale", (attrs.evolve(report, found=(livelock,)),), report.properties)
    text = io.StringIO()
    render(table(run), text)
    out = text.getvalue()
    assert re.search(r"\npods-on-unknown-nodes-not-ready +vacuous\n", out), out
    assert re.search(r"\nworkloads-ready +not judged \(no settle\)\n", out), out
    assert "pods-on-unknown-nodes-not-ready: " in out.split("vacuous (could not have failed here")[1]


def test_no_line_of_the_table_ends_in_spaces() -> None:
    from kubeprop.properties.cli.table import EngineColumn, Table

    text = io.StringIO()
    render(Table("kubeprop check: scenario web", ("node-not-overcommitted",),
                 (EngineColumn("bfs", "depth-bound", ": 3 steps"), EngineColumn("walk", "time-bound")),
                 (("held (bounded)", "held (bounded)"),)), text)
    lines = text.getvalue().splitlines()
    assert "property                bfs                   walk" in lines
    assert all(line == line.rstrip() for line in lines)
