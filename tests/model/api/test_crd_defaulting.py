"""What the API server makes of a custom object before validating it (pruning at embedded
resources, nulls a field may not hold, schema defaults) and the CRD's check of its own defaults
(`kubeprop.model.api.crd_defaulting`, `kubeprop.model.api.crd_schema.prune`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.api.codec import freeze_json
from kubeprop.model.api.crd_defaulting import coerce, default, default_errors, prune_nulls
from kubeprop.model.api.crd_schema import prune, unknown_fields
from kubeprop.model.api.ext import (
    CustomObject,
    CustomResourceDefinition,
    CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec,
    CustomResourceDefinitionVersion,
)
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Namespace
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.server import ApiServerConfig, Request, Response, handle
from kubeprop.model.api.store import ObjectKey, Store
from kubeprop.model.api.validation_fields import render_path
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN
from kubeprop.properties.cli.main import main

SIZE_NULLABLE_NOTE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer"},
                "mode": {"type": "string", "default": "fast"},
                "note": {"type": "string", "nullable": True},
                "tags": {"type": "object", "additionalProperties": {"type": "string", "default": "x"}},
                "ports": {"type": "array", "items": {"type": "integer", "default": 80}},
                "limits": {"type": "object", "default": {},
                           "properties": {"cpu": {"type": "string", "default": "1"}}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                          "properties": {"level": {"type": "integer", "default": 3}}},
            },
        },
    },
}


def test_a_null_in_a_field_neither_nullable_nor_defaulted_is_dropped() -> None:
    body = {"spec": {"size": None, "note": None, "mode": None, "tags": {"a": None}, "ports": [None]}}
    assert prune_nulls(SIZE_NULLABLE_NOTE, body) == {
        "spec": {"note": None, "mode": None, "tags": {"a": None}, "ports": [None]}}


def test_defaults_fill_absent_fields_and_non_nullable_nulls() -> None:
    body = {"spec": {"size": 1, "mode": None, "tags": {"a": None, "b": "y"}, "ports": [None, 8080],
                     "extra": {"free": True}}}
    assert default(SIZE_NULLABLE_NOTE, body) == {"spec": {
        "size": 1, "mode": "fast", "tags": {"a": "x", "b": "y"}, "ports": [80, 8080],
        "limits": {"cpu": "1"}, "extra": {"free": True, "level": 3}}}


def test_a_nullable_null_is_kept_and_not_defaulted() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "nullable": True, "default": "d"}}}
    assert coerce(schema, {"a": None}) == {"a": None}
    assert coerce(schema, {}) == {"a": "d"}


def test_coercion_keeps_frozen_content_frozen() -> None:
    out = coerce(SIZE_NULLABLE_NOTE, freeze_json({"spec": {"size": 2}}))
    assert isinstance(out, FrozenMap) and isinstance(out["spec"]["limits"], FrozenMap)
    hash(out)


EMBEDDED: dict[str, Any] = {
    "type": "object",
    "properties": {"spec": {"type": "object", "properties": {"template": {
        "type": "object", "x-kubernetes-embedded-resource": True,
        "properties": {"spec": {"type": "object", "properties": {"image": {"type": "string"}}}}}}}},
}


def test_pruning_keeps_the_meta_fields_of_the_object_whose_own_schema_is_embedded() -> None:
    """pruning/algorithm.go: an embedded resource keeps its apiVersion, kind and metadata; its
    children do not (unless their own schema says so), and neither does the root's `spec`."""
    body = {"apiVersion": "example.com/v1", "kind": "Worker", "metadata": {"name": "w"},
            "spec": {"kind": "x", "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": "b"}},
                                               "spec": {"image": "busybox", "metadata": {}}}}}
    assert prune(EMBEDDED, body) == {
        "apiVersion": "example.com/v1", "kind": "Worker", "metadata": {"name": "w"},
        "spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": "b"}},
                              "spec": {"image": "busybox"}}}}


def test_list_items_under_preserve_unknown_fields_keep_their_unknown_fields() -> None:
    """pruning.go skipPrune: the items of a preserve-unknown-fields list are pruned only by what
    their schema declares."""
    schema = {"type": "object", "properties": {"l": {
        "type": "array", "x-kubernetes-preserve-unknown-fields": True,
        "items": {"type": "object", "properties": {"o": {"type": "object", "properties": {}}}}}}}
    assert prune(schema, {"l": [{"free": 1, "o": {"gone": 1}}]}) == {"l": [{"free": 1, "o": {}}]}
    assert unknown_fields(schema, {"l": [{"free": 1, "o": {"gone": 1}}]}) == [(("l", 0, "o", "gone"), "none")]


def _crd(schema: dict[str, Any]) -> CustomResourceDefinition:
    version = CustomResourceDefinitionVersion(name="v1", served=True, storage=True,
                                              schema=freeze_json({"openAPIV3Schema": schema}))
    names = CustomResourceDefinitionNames(plural="widgets", singular="widget", kind="Widget")
    return CustomResourceDefinition(metadata=ObjectMeta(name="widgets.example.com"), spec=CustomResourceDefinitionSpec(
        group="example.com", names=names, scope="Namespaced", versions=(version,)))


CONFIG = ApiServerConfig(users=FrozenMap({ADMIN: UserInfo(ADMIN, ("system:masters",))}))


def _send(store: Store, verb: str, obj: Any) -> tuple[Store, Response]:
    result = handle(store, Request(verb=verb, user=ADMIN, obj=obj), CONFIG, 0)  # type: ignore[arg-type]
    return result.store, result.response


def _server(schema: dict[str, Any]) -> tuple[Store, CustomResourceDefinition]:
    store, crd = Store(), _crd(schema)
    for obj in (Namespace(metadata=ObjectMeta(name="default")), crd):
        store, response = _send(store, "create", obj)
        assert response.code == 201, response.message
    return store, crd


def _widget(crd: CustomResourceDefinition, spec: dict[str, Any], rv: str = "") -> CustomObject:
    return CustomObject(info=crd.kind_infos()[0], metadata=ObjectMeta(name="w", namespace="default",
                                                                      resource_version=rv),
                        content=freeze_json({"spec": spec}))


def _stored_spec(store: Store) -> Any:
    stored = store.get(ObjectKey("widgets.example.com", "default", "w"))
    assert isinstance(stored, CustomObject)
    return stored.content["spec"]


def test_the_api_server_accepts_a_helm_null_in_a_non_nullable_field_and_drops_it() -> None:
    """What a chart renders for an unset value (`size: {{ .Values.size }}`): upstream stores the
    object without the field (audit15 crdnull)."""
    store, crd = _server({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "size": {"type": "integer"}}}}})
    store, response = _send(store, "create", _widget(crd, {"size": None}))
    assert response.code == 201, response.message
    assert _stored_spec(store) == {}


def test_the_api_server_defaults_a_required_field_on_create_and_on_update() -> None:
    """Structural defaulting runs before validation, so a defaulted required field is never
    missing (audit15 crddefault); a PUT that leaves it out gets the default again."""
    store, crd = _server(SIZE_NULLABLE_NOTE)
    store, response = _send(store, "create", _widget(crd, {"size": 1}))
    assert response.code == 201, response.message
    assert _stored_spec(store)["mode"] == "fast" and _stored_spec(store)["limits"] == {"cpu": "1"}
    rv = store.get(ObjectKey("widgets.example.com", "default", "w")).metadata.resource_version  # type: ignore[union-attr]
    store, response = _send(store, "update", _widget(crd, {"size": 2, "limits": {}}, rv))
    assert response.code == 200, response.message
    assert _stored_spec(store) == {"size": 2, "mode": "fast", "limits": {"cpu": "1"}}


def test_a_crd_whose_default_does_not_validate_is_refused_naming_the_default() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "size": {"type": "integer", "minimum": 1, "default": 0},
        "limits": {"type": "object", "properties": {"cpu": {"type": "string"}}, "default": {"cpu": "1", "gpu": 1}},
        "ports": {"type": "array", "items": {"type": "integer", "default": "http"}}}}}}
    _, response = _send(Store(), "create", _crd(schema))
    assert response.code == 422
    base = "spec.versions[0].schema.openAPIV3Schema.properties[spec]"
    assert [(render_path(e.path), e.detail) for e in response.errors] == [
        (f"{base}.properties[limits].default", "must not have unknown fields"),
        (f"{base}.properties[ports].items.default", f"{base}.properties[ports].items.default in body must be of "
                                                    'type integer: "string"'),
        (f"{base}.properties[size].default", f"{base}.properties[size].default in body should be greater than or "
                                              "equal to 1"),
    ]


def test_defaults_of_the_meta_fields_of_an_embedded_resource_are_not_judged() -> None:
    schema = {"type": "object", "x-kubernetes-embedded-resource": True, "properties": {
        "metadata": {"type": "object", "default": {"labels": {"a": "b"}}}}}
    assert default_errors(_crd(schema).spec.versions, ("spec",)) == []


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["spec", "size", "mode", "tags", "ports", "limits", "extra", "level", "z"]),
                        inner, max_size=4), max_leaves=12)


@given(st.dictionaries(st.sampled_from(["spec", "status"]), JSON, max_size=2))
def test_coercion_is_idempotent(body: dict[str, Any]) -> None:
    """Coercing twice changes nothing more: what a read from storage would do to a stored object
    under the schema it was written under."""
    once = coerce(SIZE_NULLABLE_NOTE, body)
    assert coerce(SIZE_NULLABLE_NOTE, once) == once


BAD_DEFAULT_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: "one"}
"""


def test_check_refuses_a_crd_with_a_bad_default_at_its_line_and_field(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input, exit 2, the default's own line and its field as upstream names it
    (`properties[spec].properties[size].default`)."""
    (tmp_path / "crd.yaml").write_text(BAD_DEFAULT_CRD)
    code = main(["check", str(tmp_path), "--budget", "5", "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    field = "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].default"
    assert code == 2 and "Traceback" not in err
    assert (f'{tmp_path / "crd.yaml"}:19: {field}: the API server rejected CustomResourceDefinition '
            f'widgets.example.com: 422 Invalid: Invalid value: "one": {field} in body must be of type integer: '
            '"string"\n') in err
