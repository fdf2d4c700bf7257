"""`controller.kubernetes.io/pod-deletion-cost` validation (issue 12), against upstream's
`GetDeletionCostFromPodAnnotations` (pkg/apis/core/helper/helpers.go: `validFirstDigit`, then
`strconv.ParseInt(value, 10, 32)`) and `ValidatePodSpecificAnnotations`
(pkg/apis/core/validation/validation.go)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.api.defaults import apply_defaults
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Deployment, DeploymentSpec, Pod, PodSpec, PodTemplateSpec
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.validation import validate_create, validate_update
from kubeprop.model.api.validation_annotations import POD_DELETION_COST, parse_pod_deletion_cost
from kubeprop.model.frozen import FrozenMap


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("5", 5), ("-5", -5), ("2147483647", 2**31 - 1), ("-2147483648", -(2**31)),
    ("-007", -7), ("-0", 0),  # validFirstDigit only looks at the first character
])
def test_upstream_accepts(text: str, value: int) -> None:
    assert parse_pod_deletion_cost(text) == value


@pytest.mark.parametrize("text", [
    "+5", "007", "00", "1_0", " 5", "5 ", "", "-", "2147483648", "-2147483649", "1.5", "0x10", "1e3", "٣", "-+5",
])
def test_upstream_rejects(text: str) -> None:
    assert parse_pod_deletion_cost(text) is None


@given(st.integers(-(2**31), 2**31 - 1))
def test_every_int32_in_canonical_form_is_accepted(n: int) -> None:
    assert parse_pod_deletion_cost(str(n)) == n


def _pod(cost: str) -> Pod:
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default", annotations=FrozenMap({POD_DELETION_COST: cost})),
              spec=PodSpec(containers=(Container(name="app", image="app:1"),)))
    defaulted = apply_defaults(pod)
    assert isinstance(defaulted, Pod)
    return defaulted


def _deployment(cost: str) -> Deployment:
    labels = FrozenMap({"app": "web"})
    template = PodTemplateSpec(ObjectMeta(labels=labels, annotations=FrozenMap({POD_DELETION_COST: cost})),
                               PodSpec(containers=(Container(name="app", image="app:1"),)))
    d = Deployment(metadata=ObjectMeta(name="web", namespace="default"),
                   spec=DeploymentSpec(selector=LabelSelector(match_labels=labels), template=template))
    defaulted = apply_defaults(d)
    assert isinstance(defaulted, Deployment)
    return defaulted


def test_an_invalid_cost_on_a_pod_is_reported_at_the_annotation() -> None:
    errors = [str(e) for e in validate_create(_pod("+5"))]
    assert ('metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "+5": '
            "must be a 32bit integer") in errors


def test_a_valid_cost_passes() -> None:
    assert not [e for e in validate_create(_pod("-3")) if "deletion-cost" in str(e)]


def test_update_keeps_an_already_invalid_cost_allowed() -> None:
    old = _pod("007")
    relabelled = attrs.evolve(old, metadata=attrs.evolve(old.metadata, labels=FrozenMap({"a": "b"})))
    assert not [e for e in validate_update(relabelled, old) if "deletion-cost" in str(e)]
    valid_old = _pod("7")
    assert [e for e in validate_update(attrs.evolve(valid_old, metadata=old.metadata), valid_old)
            if "deletion-cost" in str(e)]


def test_pod_templates_are_checked_too() -> None:
    errors = [str(e) for e in validate_create(_deployment("1_0"))]
    assert ('spec.template.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "1_0": '
            "must be a 32bit integer") in errors
    old = _deployment("1_0")
    scaled = attrs.evolve(old, spec=attrs.evolve(old.spec, replicas=3))
    assert not [e for e in validate_update(scaled, old) if "deletion-cost" in str(e)]
