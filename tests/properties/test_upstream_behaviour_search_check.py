"""`kubeprop check` and `check(...)` search on past known upstream behaviour for the user's
violation of the same property (properties/upstream_behaviour_search.py): on
data/upstream_search/warm.yaml the Deployment controller's stale ReplicaSet lister breaks
rollout-surge-bound first (upstream behaviour), and a user's operator that keeps warm spares breaks
it later; warm-correct.yaml has the operator fixed. Long explorations: marked slow."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_run import one_corpus_file

from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.properties.cli.main import main
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.upstream_behaviour import HEADING

DATA = Path(__file__).resolve().parent / "data" / "upstream_search"
WARM, CORRECT = DATA / "warm.yaml", DATA / "warm-correct.yaml"
SURGE = "rollout-surge-bound"
USERS = "a violation of rollout-surge-bound that is not known upstream behaviour was found"
NONE_BEYOND = "no violation of rollout-surge-bound beyond known upstream behaviour"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _operator_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DATA))


def _check(path: Path, budget: float | None = None, variant: str | None = None, **bounds: int) -> CheckReport:
    return check(path, [SURGE], engine="around", budget=budget, variant=variant, all_discoveries=True,
                 bounds=Bounds(**bounds) if bounds else None)


def test_the_default_check_reports_the_race_and_the_users_violation_past_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(WARM), "--property", SURGE, "--budget", "60", "--workers", "1", "--out", str(tmp_path),
                 "--progress", "none"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{SURGE}  VIOLATED (" in out and f"\n{HEADING}:\n" in out and "deployment-stale-replicaset-lister" in out
    assert USERS in " ".join(out.split())
    assert len(list(tmp_path.glob(f"{SURGE}-*.json"))) == 2  # each its own counterexample


def test_the_correct_scenario_reports_only_the_race_and_says_it_searched_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(CORRECT), "--property", SURGE, "--budget", "12", "--workers", "1", "--out",
                 str(tmp_path), "--progress", "none"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0  # upstream behaviour only: as before
    assert f"{SURGE} UPSTREAM (" in out and "searched on past it for" in out and NONE_BEYOND in out
    assert len(list(tmp_path.glob(f"{SURGE}-*.json"))) == 1


def test_check_from_python_says_what_the_search_on_found() -> None:
    report = _check(WARM)
    assert [d.upstream is not None for d in report.found] == [True, False]
    assert report.violation == report.found[1].violation  # the user's is the report's violation
    (searched,) = report.searched_on
    assert searched.property == SURGE and searched.found and searched.passed >= 1
    assert USERS in searched.line()


def test_the_search_on_keeps_to_the_budget_and_says_so() -> None:
    report = _check(CORRECT, budget=6.0)
    (searched,) = report.searched_on
    assert [d.upstream is not None for d in report.found] == [True] and not searched.found
    assert report.exit_reason == "time-bound" and searched.exit_reason == "time-bound"
    assert report.stats.seconds <= 6.0  # the engine runs, search on included, within the budget
    assert NONE_BEYOND in searched.line() or "the budget was spent" in searched.line()


def test_the_same_seed_gives_the_same_report() -> None:
    first, second = (_check(CORRECT, max_states=4000) for _ in range(2))
    assert first.exit_reason == "state-bound"
    assert [(d.violation, d.trace) for d in first.found] == [(d.violation, d.trace) for d in second.found]
    assert first.searched_on == second.searched_on and first.searched_on[0].steps > 0


def test_under_a_variant_the_race_is_judged_on_the_correct_twin_and_the_users_violation_still_found() -> None:
    report = _check(WARM, variant="rs-no-expectations")
    assert [d.upstream is not None for d in report.found] == [True, False]
    assert report.searched_on[0].found


def test_the_gate_fails_the_case_on_the_users_violation_past_the_race(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = one_corpus_file(tmp_path)
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [{corpus}]\nchecks:\n  - scenario: {WARM}\n    engine: around\n"
                      f"    properties: [{SURGE}]\n    budget: 60\n")
    junit = tmp_path / "junit.xml"
    code = main(["gate", "--config", str(config), "--junit", str(junit), "--out", str(tmp_path / "out")])
    line = next(x for x in capsys.readouterr().out.splitlines() if f":: {SURGE}:" in x)
    assert code == 1 and line.startswith("FAIL") and "spec.replicas 4" in line  # the operator's, not the race
    assert sum(int(s.get("failures", "0")) for s in ET.parse(junit).getroot()) == 1


def test_a_cap_reached_in_a_forked_lane_is_reported_as_in_one_lane(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cap at one recognition, `around` (a worker lane's member with 2 lanes) uses it up
    past the race: `--workers 2` says the search on stopped, as `--workers 1` does."""
    from kubeprop.properties import upstream_behaviour_search

    monkeypatch.setattr(upstream_behaviour_search, "LIMIT", 1)
    lines = []
    for workers in ("1", "2"):
        code = main(["check", str(CORRECT), "--property", SURGE, "--budget", "30", "--workers", workers, "--out",
                     str(tmp_path / workers), "--progress", "none"])
        out = " ".join(capsys.readouterr().out.split())
        assert code == 0 and f"on {workers} lane" in out
        lines.append(out[out.index("searched on past it"):].split(" counterexample:")[0])
    for line in lines:
        assert NONE_BEYOND in line and "stopped after 1 recognitions" in line
