"""`kubeprop schedule --budget` and `--progress` (trial 12: `--scale feastflow-backend=5000` ran
107 s at load 8 with no progress line and no time bound but `--rlimit`).

No test measures time: a budget is made spent by starting the run's clock in the past, or by a
`Deadline` whose end passes when a given phase begins. Golden: `golden/schedule_budget_spent.txt`
(`KUBEPROP_UPDATE_GOLDEN=1` to accept an intended change; the seconds are masked)."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from cli_run import kubeprop

from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.schedule import run_schedule
from kubeprop.properties.cli.schedule_progress import ScheduleProgress
from kubeprop.properties.scheduling.deadline import Deadline

GOLDEN = Path(__file__).parent / "golden"


def _masked(text: str) -> str:
    return re.sub(r"\d+\.\d s", "N s", text)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"re-run with KUBEPROP_UPDATE_GOLDEN=1 to accept changes to {path}"


def test_a_spent_budget_ends_unknown_budget_spent_golden() -> None:
    """The clock started 100 s ago with a 5 s budget: the first phase after loading (creating the
    pods) finds it spent; exit 3, the phase named, progress lines on stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = run_schedule(None, ["feastflow-backend=5000"], 0, [], 50_000_000, out, err, budget=5, progress="lines",
                        started=time.perf_counter() - 100)
    assert code == 3
    assert out.getvalue().startswith("UNKNOWN: budget spent: the 5 s of --budget ran out while creating the pods "
                                     "through the API server, 0 of 5,003 done")
    _golden("schedule_budget_spent.txt", _masked(out.getvalue() + "--- stderr ---\n" + err.getvalue()))


def test_budget_flag_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["schedule", "--budget", "0"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "argument --budget: must be a positive number of seconds" in err


def test_a_budget_left_changes_no_answer(capsys: pytest.CaptureFixture[str]) -> None:
    """Within the budget the answer is the one without (the drain finding), with the progress
    lines on stderr only."""
    code, out, err = kubeprop(capsys, "schedule", "--drain", "worker-3", "--budget", "600", "--progress", "lines")
    assert code == 1 and "INFEASIBLE with worker-3 drained" in out and "Minimal explanation" in out
    assert "kubeprop schedule" not in out
    assert err.startswith("kubeprop schedule: budget 600 s (") and err.endswith("(exit 1)\n")
    code, _, err = kubeprop(capsys, "schedule", "--drain", "worker-3", "--progress", "none")
    assert code == 1 and err == ""


def test_progress_lines_name_each_phase_and_its_counters() -> None:
    err = io.StringIO()
    deadline = Deadline(phase="creating the pods through the API server", total=5003)
    progress = ScheduleProgress("lines", deadline, time.perf_counter(), 60, err)
    deadline.done = 1200
    progress.tick()
    deadline.enter("shrinking the explanation with Z3 (a core of 5,003 so far)")
    progress.tick()
    lines = _masked(err.getvalue()).splitlines()
    assert [re.sub(r"\d+ of 60", "T of 60", line) for line in lines] == [
        "kubeprop schedule: T of 60 s, creating the pods through the API server: 1,200 of 5,003",
        "kubeprop schedule: T of 60 s, shrinking the explanation with Z3 (a core of 5,003 so far)"]
