"""API object decoding (strict, with field paths) and encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.objects import (
    BUILTIN_KINDS,
    CustomObject,
    CustomResourceDefinition,
    Deployment,
    ObjectKey,
    Pod,
    decode_object,
    encode_object,
    object_key,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.strategies_objects import api_objects

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
    },
}


def test_decode_pod() -> None:
    pod = decode_object(POD)
    assert isinstance(pod, Pod)
    assert pod.spec.containers[0].resources.requests["cpu"] == Quantity.parse("0.1")
    assert pod.metadata.labels == {"app": "web"}
    assert object_key(pod) == ObjectKey("pods", "default", "p")


def test_encode_round_trip() -> None:
    pod = decode_object(POD)
    assert encode_object(pod) == POD
    assert decode_object(encode_object(pod)) == pod


@settings(max_examples=80, deadline=None)
@given(api_objects())
def test_encode_decode_round_trip_of_generated_objects(obj: Any) -> None:
    assert decode_object(encode_object(obj)) == obj


@pytest.mark.parametrize(
    ("patch", "path", "fragment"),
    [
        ({"spec": {"containers": [{"name": "c", "imagee": "x"}]}}, ("spec", "containers", 0, "imagee"),
         "unknown field"),
        ({"spec": {"containers": "c"}}, ("spec", "containers"), "expected a list"),
        ({"spec": {"priority": "high"}}, ("spec", "priority"), "expected an integer"),
        ({"spec": {"containers": [{"resources": {"requests": {"cpu": "1.5.5"}}}]}},
         ("spec", "containers", 0, "resources", "requests", "cpu"), "quantities must match"),
    ],
)
def test_decode_errors_name_the_field(patch: dict[str, Any], path: tuple[Any, ...], fragment: str) -> None:
    body = {**POD, **patch}
    with pytest.raises(DecodeError) as info:
        decode_object(body)
    assert info.value.path == path
    assert fragment in info.value.message


def test_unknown_kind_lists_known_kinds() -> None:
    with pytest.raises(DecodeError) as info:
        decode_object({"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "x"}})
    assert info.value.path == ("kind",)
    assert "Deployment" in info.value.message


def test_wrong_version_says_where_the_kind_is_served() -> None:
    with pytest.raises(DecodeError) as info:
        decode_object({"apiVersion": "v1", "kind": "Deployment"})
    assert "apps/v1" in info.value.message


def test_int_or_string() -> None:
    body = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"}}},
    }
    d = decode_object(body)
    assert isinstance(d, Deployment)
    assert d.spec.strategy.rolling_update is not None
    assert d.spec.strategy.rolling_update.max_surge == 1
    assert d.spec.strategy.rolling_update.max_unavailable == "10%"


def test_custom_objects_through_a_crd() -> None:
    crd = decode_object({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "databases.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "databases", "kind": "Database"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}}]},
    })
    assert isinstance(crd, CustomResourceDefinition)
    db = decode_object({"apiVersion": "example.com/v1", "kind": "Database", "metadata": {"name": "db"},
                        "spec": {"size": 3}}, [crd])
    assert isinstance(db, CustomObject)
    assert db.spec == {"size": 3}
    assert object_key(db) == ObjectKey("databases.example.com", "", "db")
    assert encode_object(db)["spec"] == {"size": 3}


def test_objects_are_hashable_and_equal_by_value() -> None:
    assert hash(decode_object(POD)) == hash(decode_object(POD))
    assert decode_object(POD) == decode_object(POD)


def test_docs_kinds_table_lists_every_built_in_kind() -> None:
    """docs/objects.md's kinds table is each class's `INFO` (kind, apiVersion, resource, scope,
    status subresource), one row per built-in kind."""
    page = (Path(__file__).parents[3] / "docs" / "objects.md").read_text()
    rows = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`") and cells[2].startswith("`"):
            rows[cells[0]] = (cells[1].strip("`"), cells[2].strip("`"), cells[3], cells[4].split()[0])
    for cls in BUILTIN_KINDS:
        info = cls.INFO
        want = (info.api_version, info.resource, "Namespaced" if info.namespaced else "Cluster",
                "yes" if info.status_subresource else "no")
        assert rows.get(info.kind) == want, info.kind
