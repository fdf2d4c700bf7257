"""A kind embedded in another object carries its Go type's inline TypeMeta (audit14: a
StatefulSet's `spec.volumeClaimTemplates[]` with `apiVersion: v1` / `kind: PersistentVolumeClaim`,
what `kubectl get sts -o yaml` prints, was refused as unknown fields). Upstream
`pkg/apis/apps/v1/conversion.go` Convert_v1_StatefulSetSpec_To_apps_StatefulSetSpec clears both
whatever they say; a value that is not a string is refused by the JSON decoder."""

from __future__ import annotations

import pytest

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.codec import DecodeError, encode
from kubeprop.model.api.objects import decode_object


def _sts(template: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "c", "image": "postgres"}]}},
                     "volumeClaimTemplates": [template]}}


TEMPLATE = {"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


def test_a_claim_templates_type_meta_is_accepted_and_dropped() -> None:
    """Failed before: "spec.volumeClaimTemplates[0].apiVersion: unknown field"."""
    plain = decode_object(_sts(TEMPLATE))
    typed = decode_object(_sts({"apiVersion": "v1", "kind": "PersistentVolumeClaim", **TEMPLATE}))
    assert isinstance(typed, StatefulSet) and typed == plain
    assert "apiVersion" not in encode(typed.spec.volume_claim_templates[0])
    # the conversion clears them whatever they say
    assert decode_object(_sts({"apiVersion": "v9", "kind": "Other", **TEMPLATE})) == plain


def test_a_type_meta_that_is_not_a_string_is_bad_input() -> None:
    with pytest.raises(DecodeError) as err:
        decode_object(_sts({"apiVersion": 1, "kind": ["x"], **TEMPLATE}))
    assert list(err.value.problems) == [
        (("spec", "volumeClaimTemplates", 0, "apiVersion"), "expected a string, got number 1"),
        (("spec", "volumeClaimTemplates", 0, "kind"), "expected a string, got a list")]


def test_only_embedded_kinds_take_type_meta() -> None:
    """A pod template is no kind (v1.PodTemplateSpec has no TypeMeta): still an unknown field."""
    body = _sts(TEMPLATE)
    body["spec"]["template"]["apiVersion"] = "v1"  # type: ignore[index]
    with pytest.raises(DecodeError, match="unknown field"):
        decode_object(body)
