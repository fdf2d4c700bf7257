"""Code of a user's that calls `sys.exit(0)` or raises kubeprop's `OutOfBudget` (audit 20b, F0 and
F11). Before, `kubeprop check` (every engine) and `kubeprop replay --expect` ended with exit 0 and
printed nothing — CI read "held" — and a property raising `OutOfBudget` read as the budget's end
(exit 3). Now the boundaries where kubeprop calls the user's code report both as the user's error
(exit 2, naming the property or controller and the line), in one process and in the worker
processes alike; a `SystemExit` that gets past them is an internal error (exit 4), never exit 0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import kubeprop
from user_modules import user_folder

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "model" / "user_code"
PROPERTY = "property 'exiting-property' (exiting.exiting_property) raised SystemExit: 0"
RECONCILE = "controller 'copier' (exiting.ExitingReconcile) raised SystemExit: 0"


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _check(capsys: pytest.CaptureFixture[str], scenario: str, engine: str, out: Path,
           *more: str) -> tuple[int, str, str]:
    return kubeprop(capsys, "check", str(DATA / scenario), "--engine", engine, "--budget", "20", "--progress", "none",
                    "--out", str(out), *more)


@pytest.mark.parametrize(("engine", "workers"), [("bfs", "1"), ("around", "1"), ("hypothesis", "1"),
                                                 ("walk", "2"), ("portfolio", "2")])
def test_a_property_calling_sys_exit_is_the_users_error(engine: str, workers: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check(capsys, "exiting-property.yaml", engine, tmp_path, "--workers", workers)
    assert (code, out) == (2, ""), err
    assert PROPERTY in err and f"{DATA / 'exiting.py'}:" in err and "in exiting_property: sys.exit(0)" in err


@pytest.mark.parametrize(("scenario", "engine", "expected"), [
    ("exiting-reconcile.yaml", "bfs", RECONCILE),
    ("exiting-reconcile.yaml", "walk", RECONCILE),  # two walk worker processes
    ("exiting-reconcile.yaml", "portfolio", RECONCILE),  # its lanes
    ("exiting-keys.yaml", "bfs", "controller 'copier' (exiting.ExitingKeys) raised SystemExit: 0\n"
                                 "  while handling the add of ConfigMap 'default/web' (keys_for / keys_for_change)"),
])
def test_a_controller_calling_sys_exit_is_the_users_error(scenario: str, engine: str, expected: str,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check(capsys, scenario, engine, tmp_path, "--workers", "2")
    assert (code, out) == (2, ""), err
    assert expected in err


def test_a_property_raising_out_of_budget_is_the_users_error_not_the_budgets_end(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _check(capsys, "exiting-oob.yaml", "around", tmp_path)
    assert code == 2, err
    assert ("property 'out-of-budget-property' (exiting.out_of_budget_property) raised OutOfBudget: not "
            "kubeprop's cutoff") in err


def test_a_sys_exit_past_the_boundaries_is_an_internal_error_not_exit_0(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A `Property` built by hand has no boundary: the CLI's last line of defence."""
    code, out, err = _check(capsys, "exiting-unguarded.yaml", "bfs", tmp_path)
    assert code == 4, (out, err)
    assert "kubeprop check: internal error: SystemExit(0) raised at " in err
    assert f"{DATA / 'exiting.py'}:" in err and "must not call sys.exit" in err


@pytest.mark.parametrize("engine", ["walk", "portfolio", "bfs"])
def test_a_worker_process_that_exits_0_is_no_clean_result(engine: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A bare Property calling sys.exit(0) only after the initial state: inside the walk workers, the
    portfolio's lanes and the BFS's workers (forked processes), where nothing turns it into the
    user's error. The worker ends with exit code 0; the check must fail (exit 4), never read it as
    "held"."""
    scenario = tmp_path / "later.yaml"
    scenario.write_text((DATA / "exiting-unguarded.yaml").read_text().replace("exiting:UNGUARDED",
                                                                            "exiting:UNGUARDED_LATER"))
    (tmp_path / "app").symlink_to(DATA / "app")
    code, out, err = kubeprop(capsys, "check", str(scenario), "--engine", engine, "--workers", "2", "--budget", "20",
                              "--progress", "none", "--out", str(tmp_path / "out"))
    assert code == 4, (out, err)
    assert "held" not in out
    assert "SystemExit(0) raised at " in err and "exiting.py:" in err, err  # where, not a lost connection


def test_replay_expect_reports_it_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A counterexample replayed against a scenario whose controller calls sys.exit(0): exit 2, not
    a silent 0."""
    code, _, _ = kubeprop(capsys, "check", str(DATA / "invalid-child.yaml"), "--engine", "bfs", "--budget", "30",
                            "--progress", "none", "--out", str(tmp_path))
    recorded = next(tmp_path.glob("controllers-not-failing-*.json"))
    code, out, err = kubeprop(capsys, "replay", "--expect", "--allow-import", "copier", "--allow-import", "exiting",
                              "--scenario", str(DATA / "exiting-reconcile.yaml"), str(recorded))
    assert code == 2, (out, err)
    assert RECONCILE in err
