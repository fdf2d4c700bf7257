"""`kubeprop check --engine bfs` under a depth bound says what its "held" covers when the
partial-order reduction narrowed the search (trial 8, M1): the reduced search may reach a state
within the depth only deeper, so the report says "held within depth N of the reduced search" and
names `--no-reduction`, which checks every state within the depth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.properties.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "explore" / "data" / "reduced-depth"
ARGS = ["check", str(DATA / "scenario.yaml"), "--properties", "depth_properties", "--property",
        "workload-not-started", "--engine", "bfs", "--max-depth", "1", "--budget", "30", "--progress", "none"]
WARNING = ("warning: bfs: 'held (bounded)' means held within depth 1 of the reduced search: partial-order "
           "reduction (ample sets) took only some of the enabled actions at 1 state, so a state within 1 step of "
           "the start may lie deeper in it and go unchecked; --no-reduction checks every state within the "
           "depth\n")


@pytest.fixture(autouse=True)
def on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def test_a_narrowed_depth_bound_says_what_held_means(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*ARGS, "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"workload-not-started +held \(bounded\)", out)
    assert WARNING in out


def test_no_reduction_checks_every_state_within_the_depth(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*ARGS, "--no-reduction", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert re.search(r"workload-not-started +VIOLATED \(1 step\)", out)
    assert "reduced search" not in out


def test_no_warning_where_the_reduction_narrowed_nothing(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Convergence properties judged: no ample sets, so "held (bounded)" covers every state."""
    code = main([*ARGS, "--property", "deployments-complete", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "reduced search" not in out, out
    assert code in (0, 1)


def test_help_says_what_the_bound_means_with_the_reduction(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--no-reduction" in text
    assert "every state within the bounds, shortest counterexamples" not in text
