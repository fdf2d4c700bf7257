"""A StorageClass's `allowedTopologies` is validated as upstream's validateAllowedTopologies
(`pkg/apis/storage/validation/validation.go`, ValidateTopologySelectorTerm): the field is kept as
decoded JSON, and a term of the wrong type crashed the provisioner's and the scheduler's readers
(`AttributeError: 'str' object has no attribute 'get'`, "a bug in kubeprop") where it must be a 422."""

from __future__ import annotations

from typing import Any

import pytest

from kubeprop.model.api.codec import freeze_json
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.storage import StorageClass, validate_storage_class


def _errors(allowed: Any) -> list[str]:
    cls = StorageClass(metadata=ObjectMeta(name="fast"), provisioner="pd.csi.storage.gke.io", reclaim_policy="Delete",
                       volume_binding_mode="Immediate", allowed_topologies=freeze_json(allowed))
    return [f"{'.'.join(map(str, e.path))}: {e.type}" for e in validate_storage_class(cls)]


def test_a_well_formed_list_is_accepted() -> None:
    zone = {"key": "topology.kubernetes.io/zone", "values": ["zone-a", "zone-b"]}
    other = {**zone, "values": ["zone-c"]}
    assert _errors([{"matchLabelExpressions": [zone]}, {"matchLabelExpressions": [other]}]) == []


@pytest.mark.parametrize(("allowed", "expected"), [
    (["x"], "allowedTopologies.0: Invalid value"),
    ([{"matchLabelExpressions": [{"key": 5, "values": "abc"}]}],
     "allowedTopologies.0.matchLabelExpressions.0: Invalid value"),
    ([{"matchLabelExpressions": [{"key": "zone", "values": []}]}],
     "allowedTopologies.0.matchLabelExpressions.0.values: Required value"),
    ([{"matchLabelExpressions": [{"key": "zone", "values": ["a"]}, {"key": "zone", "values": ["b"]}]}],
     "allowedTopologies.0.matchLabelExpressions.1.key: Duplicate value"),
    ([{"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]}] * 2,
     "allowedTopologies.1.matchLabelExpressions: Duplicate value"),
    ([{"matchLabelExpressions": [{"key": "zone", "values": ["not a label value!"]}]}],
     "allowedTopologies.0.matchLabelExpressions.0.values.0: Invalid value"),
    ("zone-a", "allowedTopologies: Invalid value"),
])
def test_a_malformed_list_is_refused(allowed: Any, expected: str) -> None:
    assert expected in _errors(allowed)
