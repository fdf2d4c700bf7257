"""Shared fixtures: a small recorded counterexample (rs-no-expectations on the `web` scenario)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from catalogue_searches import rs_search
from inner_pytest import PytestRun, run_pytest

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.format_records import Counterexample
from kubeprop.counterexamples.trace import record
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.registry import Violation

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
CREATED = "2025-01-01T00:00:00Z"


def rs_trace(model: ClusterModel) -> tuple[tuple[Action, ...], Violation]:
    """The shortest rs-no-expectations trace on a `web` model (BFS over the ReplicaSet actions)."""
    report = rs_search(model)
    assert report.violation is not None
    return report.trace, report.violation


@pytest.fixture(name="rs_trace")
def rs_trace_fixture() -> Callable[[ClusterModel], tuple[tuple[Action, ...], Violation]]:
    return rs_trace


@pytest.fixture(scope="session")
def rs_counterexample() -> Counterexample:
    model = build_model(load_scenario(WEB), variant="rs-no-expectations")
    trace, violation = rs_trace(model)
    ce = record(model, trace, violation, engine="bfs", created=CREATED)
    # pin what depends on the installation and the working folder (both informational)
    return attrs.evolve(ce, kubeprop_version="0.0.0-test", scenario=attrs.evolve(ce.scenario, path="web.yaml"))


@pytest.fixture
def rs_file(rs_counterexample: Counterexample, tmp_path: Path) -> Path:
    return write(rs_counterexample, tmp_path)


@pytest.fixture
def inner_pytest(pytester: pytest.Pytester) -> PytestRun:
    """`inner_pytest(where, *args)`: `pytest -q -p no:cacheprovider ARGS` in the folder `where`, run in
    this process (`inner_pytest`: the plugin's tests, without an interpreter started for each)."""
    return lambda where, *args: run_pytest(pytester, where, *args)
