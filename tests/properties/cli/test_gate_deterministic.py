"""The default gate gives the same verdict on every machine (trial 8: its BFS was bounded by 20 s
and depth 4, and at load 8 every property "held, bounded (time-bound)": how far it got depended on
the machine). Its check is now bounded by states and depth, `require: deterministic`, with the
budget only a safety limit whose hit is inconclusive."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.properties.cli.gate import check_cases
from kubeprop.properties.cli.gate_config import DEFAULT_CHECKS, CheckSpec
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"


def test_the_default_check_is_bounded_by_states_and_depth() -> None:
    (spec,) = DEFAULT_CHECKS
    assert spec.engine == "bfs" and spec.max_depth == 4 and spec.max_states == 5000
    assert spec.require == "deterministic"


def test_a_state_bound_stop_holds_and_gives_the_same_cases_twice(tmp_path: Path) -> None:
    spec = CheckSpec(scenario=str(WEB), engine="bfs", budget=600, max_depth=50, max_states=40,
                     properties=("node-not-overcommitted",), require="deterministic")
    runs = [check_cases(spec, tmp_path, 600, tmp_path / "out").cases for _ in range(2)]
    assert [(c.status, c.message) for c in runs[0]] == [("passed", "held, bounded (state-bound)")]
    assert [(c.status, c.message) for c in runs[1]] == [(c.status, c.message) for c in runs[0]]


def test_a_time_bound_stop_is_inconclusive_not_held(tmp_path: Path) -> None:
    # (1 s, not less: no property call starts after the budget, and a cold process spends a few
    # tenths of it importing the engine before the search's first expansion is done)
    spec = CheckSpec(scenario=str(WEB), engine="bfs", budget=1.0, max_depth=1000,
                     properties=("node-not-overcommitted",), require="deterministic")
    (case,) = check_cases(spec, tmp_path, 1.0, tmp_path / "out").cases
    assert case.status == "failed"
    assert case.message.startswith("inconclusive: the budget (1 s, a safety limit here) cut the search before its "
                                   "bounds (depth 1000); a verdict then depends on the machine's speed")
    bounded = CheckSpec(scenario=str(WEB), engine="bfs", budget=1.0, max_depth=1000,
                        properties=("node-not-overcommitted",))  # require: bounded, as before
    (case,) = check_cases(bounded, tmp_path, 1.0, tmp_path / "out").cases
    assert (case.status, case.message) == ("passed", "held, bounded (time-bound)")


def test_max_states_is_read_and_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [{REPO / 'counterexamples' / 'corpus'}]\n"
                      f"checks: [{{scenario: {WEB}, maxStates: 0, require: always}}]\n")
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "checks[0].maxStates: must be between 1 and" in err
    assert "checks[0].require: must be one of: bounded, exhaustive, deterministic" in err
