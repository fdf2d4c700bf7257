"""The engine lines of `kubeprop check`'s table (`properties/cli/engine_lines.py`)."""

from __future__ import annotations

from types import SimpleNamespace

from kubeprop.properties.cli.engine_lines import _reach


def test_random_runs_none_of_which_finished_claim_no_length() -> None:
    """Before: "0 runs (each up to 0 steps, then those judging convergence)" when the budget was over
    before the first walk finished (audit 20b): no run had a length of 0."""
    for engine in ("walk", "pct", "hypothesis"):
        assert _reach(engine, SimpleNamespace(runs=0, steps=0, depth=0), 40) == ", 0 runs (none finished)"
    assert _reach("walk", SimpleNamespace(runs=2, steps=30, depth=20), 40) == (
        ", 2 runs, 15.0 steps a run on average (each up to 20 steps, then those judging convergence)")
