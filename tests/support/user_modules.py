"""A user's folder of controllers and properties on the import path for one test (as `PYTHONPATH`
puts it there), with the property registry as it was once the test is over: importing a user's
properties module registers its properties."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.registry import registry_kept


@contextmanager
def user_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[None]:
    """`folder` on `sys.path` (undone by `monkeypatch`) and the registry restored afterwards."""
    monkeypatch.syspath_prepend(str(folder))
    with registry_kept():  # the built-ins registered first, so that they are among what is restored
        yield


def user_folder_fixture(folder: Path) -> Any:
    """An autouse fixture for a test module: `folder` on the import path for each of its tests, as
    `PYTHONPATH=folder` puts it there (`user_folder`). Assign it to a module-level name."""

    @pytest.fixture(autouse=True)
    def example_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        with user_folder(monkeypatch, folder):
            yield

    return example_on_path


def example_model(folder: Path, fixed: bool = False) -> ClusterModel:
    """The cluster model of an example's `scenario.yaml`, or with `fixed` of its `scenario-fixed.yaml`."""
    return build_model(load_scenario(folder / ("scenario-fixed.yaml" if fixed else "scenario.yaml")))


def assert_found_from_initial_state(folder: Path, prop: str, budget: float = 20.0, *,
                                    steps: int | None = None, found_by: str = "") -> None:
    """The default strategy, from the initial state of the example's `scenario.yaml` as a user runs
    it, finds a violation of `prop` whose trace replays (unshrunk: what the search itself found).
    With `steps`: on one lane (seed 0, the same steps on any machine) within that many steps; with
    `found_by`: by that engine (the start of the note of the portfolio's stats)."""
    from kubeprop.counterexamples.api import check
    from kubeprop.model.cluster.compose import initial_state
    from kubeprop.model.cluster.drive import run
    from kubeprop.properties.explore.engine import EngineConfig

    config = EngineConfig(shrink=False) if steps is None else EngineConfig(shrink=False, workers=1)
    report = check(folder / "scenario.yaml", budget=budget, config=config)
    assert report.violation is not None, report.exit_reason
    assert report.violation.property == prop, report.violation
    if steps is not None:
        assert report.stats is not None and report.stats.steps <= steps, report.stats
    if found_by:
        assert report.stats is not None and report.stats.note.startswith(f"found by {found_by}"), report.stats
    model = example_model(folder)
    run(model, initial_state(model), report.trace)


def assert_fix_clean(folder: Path, prop: str, budget: float = 10.0) -> None:
    """The example's `scenario-fixed.yaml` shows no violation of `prop` at the budget."""
    from kubeprop.counterexamples.api import check

    report = check(folder / "scenario-fixed.yaml", [prop], budget=budget)
    assert report.violation is None, report.violation
