"""Recording a counterexample keeps to the budget: the fair continuation a convergence violation
is recorded with, and the lasso a `settles` livelock becomes, stop at the deadline instead of
running their full step bounds past it (a Deployment of 1000 replicas took minutes after a 5 s
budget). Deterministic: a deadline already past, never a timing."""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples.trace import TraceError, record_result
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.registry import Violation, select

WEB = Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "web.yaml"


@attrs.frozen
class _Result:
    """An engine result as `record_result` reads it."""

    violation: Violation
    trace: tuple[object, ...] = ()
    engine: str = "walk"


def _convergence_property() -> str:
    return next(p.name for p in select() if p.kind == "convergence")


@pytest.mark.parametrize("name", ["settles", "convergence"])
def test_recording_stops_at_a_deadline_already_past(name: str) -> None:
    model = build_model(load_scenario(WEB))
    prop = _convergence_property() if name == "convergence" else name
    result = _Result(Violation(prop, "does not settle"))
    with pytest.raises(TraceError, match="the budget ran out while following the fair continuation"):
        record_result(model, result, deadline=time.perf_counter() - 1.0)

