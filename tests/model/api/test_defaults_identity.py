"""Defaulting keeps an object whose defaults are filled in already (`defaults._defaulted`): every
stored object of random runs — each written through the API server, so defaulted — comes out of
`apply_defaults` as that very object, and whatever it is given, defaulting gives what building
every copy (`evolve`, the definition) gives, encoded alike (a quantity as it was written)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from random_runs import random_run_states

from kubeprop.model.api import defaults
from kubeprop.model.api.objects import ApiObject, encode_object
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario

DATA = Path(__file__).parents[1] / "data"


def _copying(obj: ApiObject) -> ApiObject:
    """`apply_defaults` as defined: every defaulted sub-object built again (`evolve`)."""
    saved = defaults._defaulted
    defaults._defaulted = lambda inst, **changes: evolve(inst, **changes)  # type: ignore[assignment]
    try:
        return defaults.apply_defaults(obj)
    finally:
        defaults._defaulted = saved  # type: ignore[assignment]


def _stripped(obj: Any) -> Any:
    """`obj` with every field a defaulter fills in set back to unset where that is its class's default
    (a cruder object than any stored one, so that defaulting has work to do)."""
    import attrs

    if not attrs.has(type(obj)):
        return obj
    changes = {}
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        if field.name in ("restart_policy", "scheduler_name", "image_pull_policy", "protocol", "session_affinity",
                          "pod_management_policy", "volume_mode", "persistent_volume_reclaim_policy"):
            changes[field.name] = field.default if field.default is not attrs.NOTHING else value
        elif field.name in ("replicas", "revision_history_limit", "termination_grace_period_seconds",
                            "progress_deadline_seconds"):
            changes[field.name] = None
        elif attrs.has(type(value)):
            changes[field.name] = _stripped(value)
        elif isinstance(value, tuple):
            changes[field.name] = tuple(_stripped(v) for v in value)
    return evolve(obj, **changes)


@pytest.mark.parametrize(("scenario", "met"), [
    (None, {"Pod", "ReplicaSet", "Deployment", "StatefulSet", "Endpoints", "EndpointSlice", "PersistentVolumeClaim"}),
    (DATA / "variants" / "db.yaml", {"Pod", "StatefulSet", "Service", "Namespace"}),
])
def test_a_defaulted_object_is_kept_and_defaults_are_the_definition_s(scenario: Path | None, met: set[str]) -> None:
    model = build_model(load_scenario(scenario))
    seen: dict[int, ApiObject] = {}
    for state in random_run_states(model, random.Random(7), runs=2, length=80):
        for obj in state.store.objects.values():
            seen.setdefault(id(obj), obj)
    kinds = set()
    for obj in seen.values():
        assert defaults.apply_defaults(obj) is obj, f"{type(obj).__name__} {obj.metadata.name} copied"
        crude = _stripped(obj)
        kept, built = defaults.apply_defaults(crude), _copying(crude)
        assert kept == built
        assert encode_object(kept) == encode_object(built)
        kinds.add(type(obj).__name__)
        kinds.add("changed" if built != crude else "unchanged")
    assert met | {"changed", "unchanged"} <= kinds, kinds
