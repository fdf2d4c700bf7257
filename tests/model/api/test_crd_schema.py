"""Custom objects against their CRD's OpenAPI v3 schema: strict decoding of manifests, value
validation and pruning in the API server (`kubeprop.model.api.crd_schema`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.api.crd_defaulting import coerce, default_errors
from kubeprop.model.api.crd_schema import prune, unknown_fields, validate_custom, version_schema
from kubeprop.model.api.ext import CustomObject, CustomResourceDefinition, CustomResourceDefinitionVersion
from kubeprop.model.api.manifests import ManifestError, parse_manifests
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Namespace
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.api.store import Store
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN

ROOT = Path(__file__).resolve().parents[3]
DATABASE_CRD = ROOT / "examples" / "database_operator" / "manifests" / "01-crd.yaml"
DASK_CRD = Path(__file__).parent / "data" / "dask-kubernetes" / "daskcluster-crd.yaml"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["engine"],
            "properties": {
                "engine": {"type": "string", "enum": ["postgres"]},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 5},
                "port": {"x-kubernetes-int-or-string": True},
                "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "integer"}}}},
                "note": {"type": "string", "nullable": True},
            },
        },
    },
}


def _messages(body: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_custom(SCHEMA, body)]


def test_a_valid_body_has_no_errors_and_no_unknown_fields() -> None:
    body = {"spec": {"engine": "postgres", "replicas": 3, "port": "http", "name": "abc", "labels": {"x": "y"},
                     "extra": {"anything": [1, 2]}, "items": [{"a": 1}], "note": None}}
    assert _messages(body) == []
    assert unknown_fields(SCHEMA, body) == []


@pytest.mark.parametrize(("spec", "message"), [
    ({}, "spec.engine: Required value"),
    ({"engine": "mysql"}, 'spec.engine: Unsupported value: "mysql": supported values: "postgres"'),
    ({"engine": "postgres", "replicas": "3"},
     'spec.replicas: Invalid value: "3": spec.replicas in body must be of type integer: "string"'),
    ({"engine": "postgres", "replicas": -1},
     "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0"),
    ({"engine": "postgres", "replicas": 6},
     "spec.replicas: Invalid value: 6: spec.replicas in body should be less than or equal to 5"),
    ({"engine": "postgres", "port": 1.5},
     "spec.port: Invalid value: 1.5: spec.port in body must be of type integer or string: \"number\""),
    ({"engine": "postgres", "name": "toolong"},
     'spec.name: Invalid value: "toolong": spec.name in body should be at most 5 chars long'),
    ({"engine": "postgres", "name": "AB"}, "spec.name: Invalid value: \"AB\": spec.name in body should match "
                                           "'^[a-z]+$'"),
    ({"engine": "postgres", "labels": {"x": 1}},
     "spec.labels[x]: Invalid value: 1: spec.labels[x] in body must be of type string: \"integer\""),
    ({"engine": "postgres", "items": [{"a": "b"}]},
     'spec.items[0].a: Invalid value: "b": spec.items[0].a in body must be of type integer: "string"'),
])
def test_value_errors_follow_go_openapi(spec: dict[str, Any], message: str) -> None:
    assert _messages({"spec": spec}) == [message]


def test_every_error_of_a_body_is_reported() -> None:
    assert len(_messages({"spec": {"engine": "mysql", "replicas": -1, "name": "TOOLONG"}})) == 4


def test_unknown_fields_are_found_where_the_schema_declares_none() -> None:
    body = {"spec": {"engine": "postgres", "enigne": "x", "extra": {"free": 1}, "items": [{"b": 1}]}, "stat": {}}
    assert unknown_fields(SCHEMA, body) == [
        (("spec", "enigne"), "engine, extra, items, labels, name, note, port, replicas"),
        (("spec", "items", 0, "b"), "a"),
        (("stat",), "spec"),
    ]
    assert prune(SCHEMA, body) == {"spec": {"engine": "postgres", "extra": {"free": 1}, "items": [{}]}}


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["spec", "engine", "replicas", "extra", "free", "labels", "x", "items", "a"]),
                        inner, max_size=4), max_leaves=12)


@given(st.dictionaries(st.sampled_from(["spec", "status", "other"]), JSON, max_size=3))
def test_pruning_is_idempotent_and_leaves_no_unknown_field(body: dict[str, Any]) -> None:
    once = prune(SCHEMA, body)
    assert prune(SCHEMA, once) == once
    assert unknown_fields(SCHEMA, once) == []


def _database_crd() -> CustomResourceDefinition:
    crd = parse_manifests(DATABASE_CRD.read_text(), str(DATABASE_CRD))[0].obj
    assert isinstance(crd, CustomResourceDefinition)
    return crd


DATABASE = """\
apiVersion: example.com/v1
kind: Database
metadata: {name: orders, namespace: default}
spec:
  engine: postgres
  replicas: 1
  storage: 1Gi
"""


def test_a_manifest_with_an_undeclared_field_names_its_file_line_and_field() -> None:
    text = DATABASE_CRD.read_text() + "---\n" + DATABASE.replace("  replicas: 1", "  replica: 1")
    with pytest.raises(ManifestError) as err:
        parse_manifests(text, "orders.yaml")
    line = text.splitlines().index("  replica: 1") + 1
    assert str(err.value).startswith(f"orders.yaml:{line}: spec.replica: unknown field (not declared in the "
                                     "schema of databases.example.com); declared fields here: engine, replicas, "
                                     "storage")


def _server_with_crd() -> tuple[Store, ApiServerConfig]:
    config = ApiServerConfig(users=FrozenMap({ADMIN: UserInfo(ADMIN, ("system:masters",))}))
    store = Store()
    for obj in (Namespace(metadata=ObjectMeta(name="default")), _database_crd()):
        result = handle(store, Request(verb="create", user=ADMIN, obj=obj), config, 0)
        assert result.response.code == 201, result.response.message
        store = result.store
    return store, config


def _database(**spec: Any) -> CustomObject:
    crd = _database_crd()
    return CustomObject(info=crd.kind_infos()[0], metadata=ObjectMeta(name="orders", namespace="default"),
                        content=FrozenMap({"spec": FrozenMap(spec)}))


def test_the_api_server_refuses_a_custom_object_its_schema_rejects() -> None:
    store, config = _server_with_crd()
    result = handle(store, Request(verb="create", user=ADMIN, obj=_database(engine="mysql", replicas=1,
                                                                              storage="1Gi")), config, 0)
    assert result.response.code == 422
    assert 'spec.engine: Unsupported value: "mysql": supported values: "postgres"' in result.response.message


def test_the_api_server_drops_undeclared_fields_of_a_write() -> None:
    store, config = _server_with_crd()
    obj = _database(engine="postgres", replicas=1, storage="1Gi", color="blue")
    result = handle(store, Request(verb="create", user=ADMIN, obj=obj), config, 0)
    assert result.response.code == 201, result.response.message
    stored = result.response.obj
    assert isinstance(stored, CustomObject) and "color" not in stored.content["spec"]


def _dask_docs_manifest() -> str:
    doc = (ROOT / "docs" / "dask.md").read_text()
    found = re.search(r"```yaml\n(apiVersion: kubernetes\.dask\.org/v1\nkind: DaskCluster\n.*?)```", doc, re.S)
    assert found, "docs/dask.md shows a DaskCluster manifest"
    return found.group(1)


def _dask_cluster(manifest: str) -> tuple[Any, CustomObject]:
    objects = parse_manifests(DASK_CRD.read_text() + "---\n" + manifest, "docs/dask.md")
    crd, cluster = objects[0].obj, objects[1].obj
    assert isinstance(crd, CustomResourceDefinition) and isinstance(cluster, CustomObject)
    return version_schema(crd, "v1"), cluster


def test_the_dask_operator_manifest_in_the_docs_fits_the_operators_crd() -> None:
    """docs/dask.md's DaskCluster against dask-kubernetes 2026.3.0's DaskCluster CRD: no field the
    operator's schema does not declare (kubectl would refuse it), no value its schema rejects."""
    schema, cluster = _dask_cluster(_dask_docs_manifest())
    assert validate_custom(schema, cluster.content) == []


def test_the_dask_check_catches_a_misspelt_field_and_a_wrong_type() -> None:
    manifest = _dask_docs_manifest()
    with pytest.raises(ManifestError, match=r"spec\.worker\.replica: unknown field"):
        _dask_cluster(manifest.replace("replicas: 8", "replica: 8"))
    schema, cluster = _dask_cluster(manifest.replace("replicas: 8", 'replicas: "8"'))
    assert [str(e) for e in validate_custom(schema, cluster.content)] == [
        'spec.worker.replicas: Invalid value: "8": spec.worker.replicas in body must be of type integer: "string"']


def test_a_catastrophic_pattern_is_matched_in_linear_time() -> None:
    """RE2, as Go's regexp: `(a+)+$` against 'aaa…b' is a backtracking engine's exponential case
    (Python's `re` would not return from this test)."""
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}
    errors = validate_custom(schema, {"s": "a" * 5000 + "b"})
    assert [e.detail for e in errors] == ["s in body should match '^(a+)+$'"]
    assert validate_custom(schema, {"s": "a" * 5000}) == []


def test_a_pattern_re2_cannot_compile_is_not_judged() -> None:
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": "(?<=a)b"}}}
    assert validate_custom(schema, {"s": "zzz"}) == []


KEYWORDS = st.sampled_from(["type", "properties", "required", "enum", "items", "additionalProperties", "allOf",
                            "anyOf", "oneOf", "not", "minimum", "maxLength", "pattern", "nullable",
                            "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "a", "spec",
                            "default", "x-kubernetes-embedded-resource"])
SCHEMAS = st.recursive(JSON, lambda inner: st.dictionaries(KEYWORDS, inner, max_size=5) | st.lists(inner, max_size=3),
                       max_leaves=20)


@given(st.dictionaries(KEYWORDS, SCHEMAS, max_size=6), st.dictionaries(st.sampled_from(["spec", "a", "x"]), JSON))
def test_a_malformed_schema_never_breaks_the_checks(schema: dict[str, Any], body: dict[str, Any]) -> None:
    """A CRD's schema is input: keywords with values of the wrong shape are ignored (upstream would
    refuse such a CRD), never an exception."""
    validate_custom(schema, body)
    unknown_fields(schema, body)
    prune(schema, body)
    coerce(schema, body)
    default_errors((CustomResourceDefinitionVersion(name="v1", schema={"openAPIV3Schema": schema}),), ("spec",))
