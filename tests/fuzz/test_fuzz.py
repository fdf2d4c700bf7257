"""The quick fuzz run: a few hundred hostile cases over every surface, none may end badly.

The long campaign is `python tests/fuzz/fuzz_campaign.py --cases 10000` (README, Development);
this is the same campaign, small enough for every test run (and ten times that under `slow`).
Also checked here: the harness itself notices each bad class it claims to (a canary import, a
traceback, a clobbered input, a hang).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from fuzz_campaign import campaign, report
from fuzz_harness import CANARY_MODULE, Case, install_canary, run
from fuzz_surfaces import SURFACES

QUICK_CASES = 100
"""Cases of the default run: 12 or 13 on each of the 8 surfaces (it was 200: 39 s of a loaded run);
the slow campaign below draws ten times as many from the same seeds."""
SLOW_CASES = 1000


def _no_bad_outcome(cases: int) -> None:
    outcomes = campaign(cases, timeout=60.0, rng_seed=1)
    summary = report(outcomes)
    assert summary["cases"] == cases
    assert set(summary["surfaces"]) == set(SURFACES)
    assert not summary["bad"], "\n".join(summary["bad"])
    # the cases reach past the argument parser: some inputs are accepted, most refused with exit 2
    assert summary["exit_codes"].get("2", 0) > cases // 2
    assert sum(summary["exit_codes"].get(c, 0) for c in ("0", "1", "3")) > 0


def test_quick_campaign_has_no_bad_outcome() -> None:
    _no_bad_outcome(QUICK_CASES)


@pytest.mark.slow
def test_a_longer_campaign_has_no_bad_outcome() -> None:
    """`SLOW_CASES` cases (`-m slow`); the long campaign is fuzz_campaign.py's own command line."""
    _no_bad_outcome(SLOW_CASES)


def _case(tmp_path: Path, argv: list[str], **kwargs: object) -> Case:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return Case("self-test", argv, work, **kwargs)  # type: ignore[arg-type]


def test_harness_sees_code_executed_from_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_canary(tmp_path / "canary")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "canary"), *sys.path])
    scenario = tmp_path / "work" / "scenario.yaml"
    scenario.parent.mkdir()
    scenario.write_text(f"apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nadmission: ['{CANARY_MODULE}:plugin']\n")
    # a trusted scenario may import (validate), but the same case marked untrusted counts as code executed
    outcome = run(_case(tmp_path, ["validate", str(scenario)], untrusted=True), timeout=30)
    assert outcome.verdict == "code-executed"


def test_harness_sees_clobbered_inputs_and_hangs(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "counterexamples" / "corpus"
    page = tmp_path / "work" / "page.html"
    page.parent.mkdir()
    argv = ["replay", str(next(source.glob("*.json"))), "--html", str(page)]
    assert run(_case(tmp_path, argv), timeout=60).verdict == "ok"
    # the harness must notice an output written over a protected path (here: allowed, the page is
    # kubeprop's own from the run before and not an input)
    outcome = run(_case(tmp_path, argv, protected=[page]), timeout=60)
    assert outcome.verdict == "clobbered"
    fifo = tmp_path / "work" / "fifo"
    os.mkfifo(fifo)
    # a case that blocks (here: the harness's own timeout is shorter than the command)
    outcome = run(_case(tmp_path, ["check", "--engine", "bfs", "--budget", "30"]), timeout=1)
    assert outcome.verdict == "hang"
