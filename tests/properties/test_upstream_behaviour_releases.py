"""Upstream behaviour of a release other than v1.33 (`properties/upstream_behaviour_releases.py`):
found by the generated campaign on scenarios that set a release's parameters; recognized as
such only with that release's rule, and only in the situation the entry describes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.kubelet.component import ProbeResult, SyncPodStatus
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Deliver
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour import match

FLAP = Path(__file__).resolve().parent / "data" / "generated" / "endpoints-flap" / "scenario.yaml"

_STEPS: tuple[Callable[[Action], bool], ...] = (
    lambda a: isinstance(a, ProbeResult) and a.probe == "readiness",  # the pod's probe fails
    lambda a: isinstance(a, SyncPodStatus),
    lambda a: isinstance(a, Deliver) and a.component == "controller-manager" and a.resource == "pods",
    lambda a: isinstance(a, Reconcile) and a.controller == "endpoints",  # writes Endpoints without the pod
    lambda a: isinstance(a, Deliver) and a.component == "kubelet/worker-1" and a.resource == "pods",
    lambda a: isinstance(a, ProbeResult) and a.probe == "readiness",  # and passes again
    lambda a: isinstance(a, SyncPodStatus),
    lambda a: isinstance(a, Deliver) and a.component == "controller-manager" and a.resource == "pods",
    lambda a: isinstance(a, Reconcile) and a.controller == "endpoints",  # its own write not yet in its cache
)
"""A readiness flap: the Endpoints controller syncs after each half, the second time before its
own first write reached its Endpoints cache."""


def _flap(tracking: bool, steps: tuple[Callable[[Action], bool], ...] = _STEPS
          ) -> tuple[ClusterModel, tuple[Action, ...], ClusterState]:
    """The settled cluster, the flap, then the fair run to the end: the model, trace and last state."""
    model = build_model(load_scenario(FLAP), parameters={"endpointsStaleCacheTracking": tracking})
    ready = settle(model, initial_state(model))
    trace, state = list(ready.trace), ready.state
    for wanted in steps:
        act = next(a for a in actions(model, state) if wanted(a))
        trace.append(act)
        state = step(model, state, act)
    end = settle(model, state)
    return model, (*trace, *end.trace), end.state


def _violation(model: ClusterModel, state: ClusterState) -> Violation | None:
    return first_violation(model, state, select(["endpoints-match-ready-pods"]))


def test_before_v1_31_a_readiness_flap_leaves_the_endpoints_stale_and_is_upstream() -> None:
    model, trace, state = _flap(tracking=False)
    violation = _violation(model, state)
    assert violation is not None and "endpoints [], Ready pods ['web-" in violation.message
    found = match(model, violation, trace)
    assert found is not None and found.name == "endpoints-stale-cache-before-v1.31"


def test_with_the_v1_31_tracker_the_same_flap_converges() -> None:
    model, _, state = _flap(tracking=True)
    assert _violation(model, state) is None


def test_a_stale_endpoints_violation_without_a_skipped_stale_sync_is_not_recognized() -> None:
    """The flap whose second sync comes after the controller's own write reached its cache: the
    Endpoints are right, and a made-up violation on that trace is not this behaviour."""
    fresh = (*_STEPS[:8], lambda a: isinstance(a, Deliver) and a.component == "controller-manager"
             and a.resource == "endpoints", _STEPS[8])
    model, trace, state = _flap(tracking=False, steps=fresh)
    assert _violation(model, state) is None
    made_up = Violation("endpoints-match-ready-pods", "made up", ("Endpoints default/web",))
    assert match(model, made_up, trace) is None
