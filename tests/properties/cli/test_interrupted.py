"""Ctrl-C reaches the command even where Python cannot raise it (`interrupts_kept`)."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.interrupted import interrupts_kept
from kubeprop.properties.cli.main import main


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
