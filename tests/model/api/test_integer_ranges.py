"""Integer fields hold what their upstream Go type holds (int32 or int64); a larger number is bad input.

Upstream the API server's JSON decoding refuses a number its field's type cannot hold (`json: cannot
unmarshal number 2147483648 into Go struct field DeploymentSpec.spec.replicas of type int32`, a 400),
so `kubeprop validate` reports it as bad input (exit 2) at its file, line and field, with the range.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any

import attrs
import pytest

from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.integers import INT32, INT64, GoInt
from kubeprop.model.api.manifests import ManifestError, parse_manifests
from kubeprop.model.api.objects import BUILTIN_KINDS, decode_object
from kubeprop.properties.cli.main import main

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: d, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: h}}}}
  template:
    metadata: {{labels: {{app: h}}}}
    spec:
      containers: [{{name: c, image: nginx}}]
"""


def _int_fields(cls: Any, seen: set[Any]) -> list[tuple[str, Any]]:
    """(class.field, type) of every int anywhere in the decodable types reachable from `cls`."""
    if cls in seen or not attrs.has(cls):
        return []
    seen.add(cls)
    found = []
    hints = typing.get_type_hints(cls, include_extras=True)
    for field in attrs.fields(cls):
        if field.init:
            found += _walk(f"{cls.__name__}.{field.name}", hints[field.name], seen)
    return found


def _walk(where: str, tp: Any, seen: set[Any]) -> list[tuple[str, Any]]:
    if typing.get_origin(tp) is Annotated:
        return [(where, tp)]
    if tp is int:
        return [(where, tp)]
    found = []
    for arg in typing.get_args(tp):
        found += _walk(where, arg, seen)
    return found + _int_fields(tp, seen)


def test_every_integer_field_of_every_kind_declares_its_go_type() -> None:
    seen: set[Any] = set()
    fields = [f for kind in BUILTIN_KINDS for f in _int_fields(kind, seen)]
    assert len(fields) > 60
    bare = [where for where, tp in fields if tp is int]
    assert bare == [], f"declare these Int32 or Int64 (staging/src/k8s.io/api/*/types.go): {bare}"
    assert all(isinstance(typing.get_args(tp)[1], GoInt) for _, tp in fields)


@pytest.mark.parametrize(("kind", "field", "width"), [
    ("DeploymentSpec", "replicas", INT32), ("DeploymentSpec", "progress_deadline_seconds", INT32),
    ("RollingUpdateStatefulSetStrategy", "partition", INT32), ("PodSpec", "termination_grace_period_seconds", INT64),
    ("PodSpec", "priority", INT32), ("Toleration", "toleration_seconds", INT64), ("ObjectMeta", "generation", INT64),
    ("Probe", "termination_grace_period_seconds", INT64), ("Probe", "period_seconds", INT32),
    ("HorizontalPodAutoscalerSpec", "max_replicas", INT32), ("PriorityClass", "value", INT32),
])
def test_fields_have_their_upstream_type(kind: str, field: str, width: GoInt) -> None:
    seen: set[Any] = set()
    fields = dict(f for cls in BUILTIN_KINDS for f in _int_fields(cls, seen))
    assert typing.get_args(fields[f"{kind}.{field}"])[1] == width


@pytest.mark.parametrize("replicas", [2**31, 99999999999999999999999999999999999999, -(2**31) - 1])
def test_replicas_beyond_int32_is_bad_input(replicas: int) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifests(DEPLOYMENT.format(replicas=replicas), "d.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (5, "spec.replicas")
    assert "must be an int32, between -2,147,483,648 and 2,147,483,647" in problem.message
    assert str(replicas) in problem.message


def test_the_int32_bounds_themselves_decode() -> None:
    for replicas in (2**31 - 1, 0):
        (obj,) = parse_manifests(DEPLOYMENT.format(replicas=replicas), "d.yaml")
        assert obj.obj.spec.replicas == replicas


def test_int64_fields_take_int64_values_and_no_more() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "i"}], "terminationGracePeriodSeconds": 2**63 - 1}}
    assert decode_object(pod).spec.termination_grace_period_seconds == 2**63 - 1
    pod["spec"]["terminationGracePeriodSeconds"] = 2**63
    with pytest.raises(DecodeError, match="must be an int64, between -9,223,372,036,854,775,808 and"):
        decode_object(pod)


def test_int_or_string_holds_an_int32() -> None:
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"},
           "spec": {"minAvailable": 2**31}}
    with pytest.raises(DecodeError) as caught:
        decode_object(pdb)
    assert caught.value.path == ("spec", "minAvailable")
    assert "must be an int32" in caught.value.message
    pdb["spec"]["minAvailable"] = "50%"
    assert decode_object(pdb).spec.min_available == "50%"


def test_every_problem_of_an_object_comes_at_once() -> None:
    text = DEPLOYMENT.format(replicas=2**31).replace(
        "  selector:", "  minReadySeconds: 4294967296\n  revisionHistoryLimit: many\n  bogus: 1\n  selector:")
    text = text.replace("image: nginx}", "image: nginx, ports: [{containerPort: 99999999999}]}")
    with pytest.raises(ManifestError) as caught:
        parse_manifests(text, "d.yaml")
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(5, "spec.replicas"), (6, "spec.minReadySeconds"), (7, "spec.revisionHistoryLimit"),
                     (8, "spec.bogus"), (13, "spec.template.spec.containers[0].ports[0].containerPort")}


@pytest.mark.parametrize("name", ["r2147483648.yaml", "huge.yaml"])
def test_validate_exits_2_naming_file_line_field_and_range(tmp_path: Path, name: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    replicas = 2**31 if name.startswith("r") else 99999999999999999999999999999999999999
    path = tmp_path / name
    path.write_text(DEPLOYMENT.format(replicas=replicas))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5: spec.replicas: must be an int32, between -2,147,483,648 and 2,147,483,647" in err
    assert "Traceback" not in err
