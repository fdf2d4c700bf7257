"""Shrinking is bounded by a count of steps (`EngineConfig.max_shrink_steps`, `shrink_clock`), so
the same find shrinks to the same counterexample on any machine, however slow; the clock is only
the budget's outer limit, and where it cuts shrinking the report and the file say so."""

from __future__ import annotations

import re
import time
import types
from pathlib import Path

import pytest

from kubeprop.counterexamples.api import CheckReport, Discovery, _discovery, check
from kubeprop.counterexamples.format_read import load
from kubeprop.model.cluster.compose import initial_state
from kubeprop.properties.cli.check_table import _unshrunk
from kubeprop.properties.convergence import VERDICTS
from kubeprop.properties.explore import shrink as shrink_module
from kubeprop.properties.explore import shrink_clock as clock_module
from kubeprop.properties.explore.engine import EngineConfig, EngineResult, EngineStats, ExitReason
from kubeprop.properties.explore.shrink import Judge, shrink_within
from kubeprop.properties.explore.shrink_clock import ShrinkClock

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"
FLAP, VARIANT, PROPERTY = CATALOGUE / "web-flap.yaml", "endpoints-stale-cache", "endpoints-match-ready-pods"
BOUND = 1500
"""Steps enough to shrink the find (529 steps as perturb found it) to 53; to the end it is 27."""


class SlowClock:
    """A `time.perf_counter` that moves on `per_call` seconds each time it is read: a machine on
    which every stretch of shrinking takes longer (or a busier one)."""

    def __init__(self, per_call: float) -> None:
        self.began = self.now = time.perf_counter()
        self.per_call = per_call

    def perf_counter(self) -> float:
        self.now += self.per_call
        return self.now


def _slow(monkeypatch: pytest.MonkeyPatch, per_call: float) -> SlowClock:
    """Shrinking's clock (`shrink`, `shrink_clock`) made a `SlowClock`."""
    clock = SlowClock(per_call)
    slow = types.SimpleNamespace(perf_counter=clock.perf_counter)
    monkeypatch.setattr(clock_module, "time", slow)
    monkeypatch.setattr(shrink_module, "time", slow)
    return clock


def _checked(out: Path, bound: int | None = BOUND, lanes: int = 1) -> tuple[Discovery, bytes]:
    """`check` of the catalogue's stale-cache row with at most `bound` steps of shrinking, on
    `lanes` lanes, and its file's bytes (its creation time, the one field that tells two runs
    apart, blanked)."""
    config = EngineConfig(workers=lanes, max_shrink_steps=bound)
    report = check(FLAP, variant=VARIANT, budget=600, config=config, save_to=out)
    found = report.discovery(PROPERTY)
    assert found is not None and found.path is not None
    return found, re.sub(rb'"created": "[^"]*"', b'"created": ""', found.path.read_bytes())


def test_the_step_bound_gives_the_same_file_on_a_slow_machine(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrinking stopped by its step bound gives the same counterexample file, byte for byte, with
    the clock as it is and one lane, and with a clock on which shrinking takes far longer — longer
    than the 5 s a `--budget 10` check used to allow it — and two lanes: the process that shrinks
    then remembers other convergence verdicts from the search (`convergence.VERDICTS`: only its own
    lane's), and a remembered verdict counts the steps it took when it was judged."""
    found, written = _checked(tmp_path / "here")
    assert found.shrink_bound == BOUND and found.shrink_cut is None and found.shrink_steps >= BOUND
    assert load(found.path).note == found.shrink_note and "step bound of 1,500 steps" in found.shrink_note
    clock = _slow(monkeypatch, per_call=0.05)
    slower, again = _checked(tmp_path / "slow", lanes=2)
    assert clock.now - clock.began > 5.0
    assert (slower.trace, slower.shrink_steps, slower.shrink_bound) == (found.trace, found.shrink_steps, BOUND)
    assert again == written
    monkeypatch.undo()
    to_the_end, _ = _checked(tmp_path / "end", bound=None)
    assert to_the_end.shrink_bound is None and to_the_end.shrink_note == ""
    assert to_the_end.found_length < found.found_length  # the bound did stop it


@pytest.fixture(scope="module")
def unshrunk() -> CheckReport:
    """The stale-cache row's find as the portfolio made it (529 steps), not shrunk."""
    report = check(FLAP, variant=VARIANT, budget=600, config=EngineConfig(workers=1, shrink=False))
    assert report.violation is not None and report.violation.property == PROPERTY
    return report


def test_remembered_verdicts_count_as_judged_afresh(unshrunk: CheckReport) -> None:
    """Shrinking the same find again on the same model gets every convergence verdict from the
    memo (`convergence.VERDICTS`), and still spends the same steps and ends at the same trace:
    a remembered verdict counts the steps its continuations took."""
    model, config = unshrunk.model, EngineConfig(properties=unshrunk.properties, max_shrink_steps=BOUND)
    judge = Judge.for_config(model, initial_state(model), config)
    VERDICTS.clear()
    first = shrink_within(judge, unshrunk.trace, PROPERTY, config, time.perf_counter(), known=unshrunk.violation)
    hits = VERDICTS.hits
    again = shrink_within(judge, unshrunk.trace, PROPERTY, config, time.perf_counter(), known=unshrunk.violation)
    assert VERDICTS.hits - hits > 10
    assert (again.trace, again.steps, again.bound) == (first.trace, first.steps, BOUND)


def test_when_the_clock_cuts_shrinking_the_report_and_the_file_say_so(unshrunk: CheckReport, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget's clock is the outer limit: on a machine slow enough it cuts shrinking before
    the step bound, and `Shrunk.cut` says so — then the report's line and the file's note."""
    report, model = unshrunk, unshrunk.model
    judge = Judge.for_config(model, initial_state(model), EngineConfig(properties=report.properties))
    clock = _slow(monkeypatch, per_call=0.01)
    config = EngineConfig(budget_seconds=2.0, properties=report.properties)
    shrunk = shrink_within(judge, report.trace, PROPERTY, config, clock.perf_counter(), known=report.violation)
    assert shrunk.cut is not None and shrunk.bound is None and shrunk.steps < BOUND
    assert shrunk.violation is not None and shrunk.violation.property == PROPERTY
    result = EngineResult("perturb", ExitReason.VIOLATION, shrunk.violation, shrunk.trace,
                          shrunk.stats(EngineStats(1.0, 1)))
    monkeypatch.undo()
    found = _discovery(model, result, EngineConfig(properties=report.properties), 0, tmp_path)
    assert found.path is not None and found.shrink_cut == shrunk.cut
    line = (f"shrinking stopped at its time bound ({shrunk.cut:.1f} s): a larger --budget, or a faster or quieter "
            "machine, may shrink it further (the violation is the same)")
    assert _unshrunk(found) == (line,) and load(found.path).note == line


def test_a_phase_gets_a_share_of_the_steps_left_and_its_bound_stops_the_whole() -> None:
    """`ShrinkClock.share` (the pass over a run's choices takes half of what is left): what the
    phase spends the whole shrinking spends; the phase's bound marks the whole as `bounded`."""
    whole = ShrinkClock(None, 100)
    whole.spend(20)
    phase = whole.share(0.5)
    assert phase.max_steps == 60 and not phase.passed()
    phase.spend(40)
    assert whole.spent == 60 and phase.passed() and phase.bounded and whole.bounded and not whole.cut
    assert not ShrinkClock(None, None).passed()  # no bound


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "100", 10**10])
def test_a_bad_step_bound_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="max_shrink_steps must be a whole number from 1 to 1,000,000,000 or None"):
        EngineConfig(max_shrink_steps=bad)  # type: ignore[arg-type]
