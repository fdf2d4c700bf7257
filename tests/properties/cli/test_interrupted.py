"""Ctrl-C reaches the command even where Python cannot raise it (`interrupts_kept`)."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples import api, load
from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.interrupted import interrupts_kept
from kubeprop.properties.cli.main import main

pytestmark = pytest.mark.usefixtures("sigint_default")
"""Every test here needs Ctrl-C to interrupt (see the fixture)."""


def _interrupt_in_the_next_collection() -> None:
    """At the garbage collector's next run, raise KeyboardInterrupt from its callback (once): what
    a Ctrl-C does when it lands while Hypothesis' collection timer runs."""

    def callback(phase: str, info: dict[str, Any]) -> None:
        gc.callbacks.remove(callback)
        raise KeyboardInterrupt

    gc.callbacks.append(callback)


def test_an_interrupt_python_could_not_raise_is_delivered_again() -> None:
    with pytest.raises(KeyboardInterrupt), interrupts_kept():
        _interrupt_in_the_next_collection()
        gc.collect()
        for _ in range(1000):  # delivered at one of the next bytecodes
            time.sleep(0.001)


def test_other_unraisable_exceptions_go_to_the_hook_that_was_there(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[type[BaseException] | None] = []
    monkeypatch.setattr("sys.unraisablehook", lambda unraisable: seen.append(unraisable.exc_type))

    class Broken:
        def __del__(self) -> None:
            raise ValueError("in __del__")

    with interrupts_kept():
        Broken()
    assert seen == [ValueError]


def test_check_interrupted_inside_a_collector_callback_ends_with_exit_130(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure CI once saw: the Ctrl-C landed in Hypothesis' gc callback and the check ran on."""

    def check_interrupted_at_a_collection(*args: Any, **kwargs: Any) -> CheckReport:
        _interrupt_in_the_next_collection()
        return check(*args, **kwargs)

    monkeypatch.setattr("kubeprop.properties.cli.check.check", check_interrupted_at_a_collection)
    began = time.perf_counter()
    code = main(["check", "--engine", "walk", "--budget", "60", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERRUPTED, err
    assert "kubeprop check: interrupted (exit 130)" in err
    assert time.perf_counter() - began < 30, "the check ran on after the interrupt"


def _interrupted_after(calls: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's runs as usual, but Ctrl-C lands in run number `calls` + 1 (the search going on
    for the properties not yet violated, after the first find)."""
    real = api.run_engine
    made: list[str] = []

    def run(*args: Any, **kwargs: Any) -> Any:
        made.append("run")
        if len(made) > calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "run_engine", run)


RS_FOUND = ["check", "--variant", "rs-no-expectations", "--workers", "1", "--budget", "120"]
"""A portfolio run that finds replicaset-no-overcreation within seconds, then searches on."""


def test_ctrl_c_after_a_find_reports_it_and_keeps_its_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _interrupted_after(1, monkeypatch)
    code = main([*RS_FOUND, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == ExitCode.INTERRUPTED, captured.err
    [written] = tmp_path.glob("replicaset-no-overcreation-*.json")
    out = captured.out
    assert re.search(r"\nreplicaset-no-overcreation +VIOLATED", out)
    assert f"counterexample: {written}" in out
    assert re.search(r"\nworkloads-ready +interrupted\n", out)
    assert "\nengines: none finished (portfolio: interrupted)\n" in out  # trial 8: no heading over nothing
    assert "engines:\n" not in out
    assert out.rstrip().endswith("portfolio: interrupted before it finished; no engine finished; "
                                 "1 violation it found before the interrupt, listed above")
    assert "not shrunk" not in out
    assert "kubeprop check: interrupted (exit 130)" in captured.err


def test_ctrl_c_before_shrinking_and_again_while_writing_ends_quietly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the portfolio shrinks its find: reported unshrunk; a second Ctrl-C while its
    file is written: no file (nor a temporary one) is left, the find is listed as not recorded."""

    def interrupted(*args: Any) -> Any:
        raise KeyboardInterrupt

    real_replace = os.replace

    def replace_interrupted(src: Any, dst: Any) -> None:
        if Path(dst).parent == tmp_path and Path(dst).suffix == ".json":  # not Hypothesis' files under it
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr("kubeprop.properties.explore.portfolio.shrink_found", interrupted)
    monkeypatch.setattr(os, "replace", replace_interrupted)
    code = main([*RS_FOUND, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == ExitCode.INTERRUPTED, captured.err
    assert list(tmp_path.glob("*.json")) == [] and list(tmp_path.glob(".*.tmp")) == []
    assert re.search(r"\nreplicaset-no-overcreation +VIOLATED", captured.out)
    assert "  not shrunk: interrupted before shrinking (" in captured.out
    assert "  not recorded: interrupted again" in captured.out
    assert "Traceback" not in captured.err


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process `pid` has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


FOUND_BY_CPU = 3.5
"""CPU seconds after which `RS_FOUND` has found (and is searching on): a whole `--budget 3` run of it,
start-up, the find, shrinking and the file included, used 1.3 at load 9; a `--first` run of it at
load 9 (start-up, the find, shrinking, the file) 1.7, and a run that found nothing before its
budget ran out 1.2 (it was 12, then 6: 20 s of wall clock per test at load 8, for a wait on CPU
that no load shortens; 3.5 still leaves twice the CPU the find needs)."""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("again", [None, 0.1])
def test_sigint_after_a_find_writes_its_file_and_exits_130(again: float | None, tmp_path: Path) -> None:
    """A real SIGINT to the process group once the command has used `FOUND_BY_CPU` seconds of CPU
    (the find takes about 1.5): the violation is printed and its file written, exit 130. With a second SIGINT
    `again` seconds later (while it records, prints or exits): still exit 130, no traceback, and
    the file whole or absent."""
    command = [sys.executable, "-c", "import sys; from kubeprop.properties.cli.main import main; sys.exit(main())",
               *RS_FOUND, "--out", str(tmp_path)]  # as the console script runs it
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while _cpu_seconds(child.pid) < FOUND_BY_CPU and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
        os.killpg(child.pid, signal.SIGINT)
        if again is not None:
            time.sleep(again)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert list(tmp_path.glob(".*.tmp")) == []
    written = list(tmp_path.glob("replicaset-no-overcreation-*.json"))
    if again is None:
        assert len(written) == 1 and f"counterexample: {written[0]}" in out
        assert re.search(r"no engine finished; \d violations? it found before the interrupt, listed above", out)
    for path in written:
        assert load(path).property.name == "replicaset-no-overcreation"  # whole: it loads


def test_ctrl_c_while_a_walk_shrinks_keeps_its_find(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:  # (the walk passes the violation it found: `known`)
        raise KeyboardInterrupt

    monkeypatch.setattr("kubeprop.properties.explore.walk.shrink_within", interrupted)
    code = main(["check", "--variant", "rs-no-expectations", "--engine", "walk", "--workers", "1", "--budget", "60",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitCode.INTERRUPTED, out
    [written] = tmp_path.glob("replicaset-no-overcreation-*.json")
    assert f"counterexample: {written}" in out
    assert "  not shrunk: interrupted before shrinking (" in out
