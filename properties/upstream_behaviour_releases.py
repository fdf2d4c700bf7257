"""Recognizers of upstream behaviour that belongs to a Kubernetes release other than the model's
default (v1.33): a scenario that sets the release's parameters (docs/release.md) runs the correct
model with that release's rules, and a violation those rules cause is true of a real cluster on
that release. `upstream_behaviour.KNOWN` lists the entries; this module holds what they recognize.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.api.core import Endpoints
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.registry import Violation


def _endpoints_key(violation: Violation) -> str | None:
    """The `ns/name` of the Endpoints (or Service) the violation names."""
    for obj in violation.objects:
        kind, _, key = obj.partition(" ")
        if kind in ("Endpoints", "Service"):
            return key
    return None


def _cache_behind(state: ClusterState, key: ObjectKey) -> bool:
    """The controller manager's cached Endpoints differs from the stored one (it lacks the
    controller's own last write)."""
    informer = state.informers.get(CONTROLLER_MANAGER)
    if informer is None:
        return False
    cached, stored = informer.get(key), state.store.get(key)
    return isinstance(stored, Endpoints) and (
        not isinstance(cached, Endpoints) or cached.metadata.resource_version != stored.metadata.resource_version)


def endpoints_skipped_on_stale_cache(model: ClusterModel, states: Sequence[ClusterState], trace: Sequence[Action],
                                     violation: Violation) -> bool:
    """Without the stale-Endpoints tracker (`endpointsStaleCacheTracking: false`, v1.30 and
    before), the Endpoints controller's last sync of the Service the violation names read a cached
    Endpoints older than the stored one and wrote nothing, and the stored Endpoints did not change
    from that sync to the violating state: what the sync compared with was not what was stored."""
    if model.parameter("endpointsStaleCacheTracking") or model.instant_caches:
        return False
    name = _endpoints_key(violation)
    if name is None:
        return False
    namespace, _, plain = name.partition("/")
    key = ObjectKey("endpoints", namespace, plain)
    syncs = [i for i, act in enumerate(trace)
             if isinstance(act, Reconcile) and act.controller == "endpoints" and act.key == name]
    if not syncs:
        return False
    last = syncs[-1]
    before = states[last].store.get(key)
    return (_cache_behind(states[last], key) and states[last + 1].store.get(key) == before
            and states[-1].store.get(key) == before)


ENDPOINTS_STALE_CACHE_SUMMARY = (
    "Before v1.31 the Endpoints controller compares the addresses it wants with the Endpoints in its "
    "informer cache, which may not yet hold its own last write: after a readiness flap (a pod Ready, not "
    "Ready, Ready again) the cached object already lists what the controller wants, the update is skipped, "
    "and nothing wakes the Service again, so the Endpoints keep the flap's middle state. v1.31 added a "
    "tracker of the resourceVersion the controller replaced; the scenario's parameters "
    "(`endpointsStaleCacheTracking: false`) select a release without it.")
ENDPOINTS_STALE_CACHE_CITATIONS = (
    "https://github.com/kubernetes/kubernetes/issues/125638 and https://github.com/kubernetes/kubernetes/issues/127429 "
    "(Endpoints out of date after a flap; fixed in v1.31 by https://github.com/kubernetes/kubernetes/pull/125675)",
    "pkg/controller/endpoint/endpoints_controller.go syncService (v1.30: `if !createEndpoints && "
    "endpointSubsetsEqualIgnoreResourceVersion(currentEndpoints.Subsets, subsets) ...` skips the update, "
    "currentEndpoints read from the endpoints lister); pkg/controller/endpoint/endpoints_tracker.go (v1.31+)",
)
