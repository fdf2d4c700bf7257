"""YAML mapping keys that are not strings become the strings Kubernetes makes of them
(sigs.k8s.io/yaml `convertToJSONableObject`): `on:`/`yes:` is "true", `1:` is "1", `1.0:` is
"1"; a null key is refused; two keys that become the same string are refused, never two labels
`True` and `true`."""

from __future__ import annotations

import pytest

from kubeprop.model.api.codec import DecodeError, json_key
from kubeprop.model.api.manifests import ManifestError, parse_manifests

HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\n"


@pytest.mark.parametrize(("key", "text"), [
    (True, "true"), (False, "false"), (7, "7"), (-3, "-3"), (1.0, "1"), (2.5, "2.5"), (0.1, "0.1"),
    (1e6, "1e+06"), (123456.0, "123456"), (1234567.0, "1.234567e+06"), (1e-5, "1e-05"), (0.0001, "0.0001"),
    (float("inf"), ".inf"), (float("-inf"), "-.inf"), (float("nan"), ".nan"), ("on", "on"),
    (3.401e38, "3.401e+38"), (3.41e38, ".inf"), (-1e39, "-.inf"),
])
def test_keys_as_kubernetes_writes_them(key: object, text: str) -> None:
    assert json_key(key, ()) == text


def test_a_null_key_is_refused() -> None:
    with pytest.raises(DecodeError, match="unsupported map key null"):
        json_key(None, ("data",))


def test_bool_keys_in_a_manifest() -> None:
    [obj] = parse_manifests(HEAD + "data: {on: a, 2: b}\n", "cm.yaml")
    assert dict(obj.obj.data) == {"true": "a", "2": "b"}  # type: ignore[attr-defined]


def test_keys_that_become_the_same_string_are_refused() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifests(HEAD + "data: {yes: a, 'true': b}\n", "cm.yaml")
    assert str(info.value.problems[0]) == "cm.yaml:4: the key 'true' is written twice: yes (line 4) and true are " \
                                          "both 'true'"


def test_a_bool_key_and_an_int_key_stay_two_keys() -> None:
    """Python's True == 1 would merge `on:` and `1:` into one key; Kubernetes keeps "true" and "1"."""
    [obj] = parse_manifests(HEAD + "data: {on: a, 1: b}\n", "cm.yaml")
    assert dict(obj.obj.data) == {"true": "a", "1": "b"}  # type: ignore[attr-defined]


def test_a_merged_key_may_be_overridden() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\nbase: &b {on: a}\n"
    [obj] = parse_manifests(text.replace("base: &b {on: a}\n", "") + "data:\n  <<: {on: a}\n  'true': b\n", "cm.yaml")
    assert dict(obj.obj.data) == {"true": "b"}  # type: ignore[attr-defined]


def test_a_null_key_in_a_file_is_at_its_line() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifests(HEAD + "data:\n  ~: a\n", "cm.yaml")
    [problem] = info.value.problems
    assert (problem.line, problem.message) == (5, "unsupported map key null")


@pytest.mark.parametrize("number", ["9" * 5000, "0x" + "f" * 5000, "-" + "1" * 4301])
def test_a_number_too_long_to_read_is_bad_input_with_its_line(number: str) -> None:
    """Python's int parsing stops at 4,300 decimal digits (a ValueError), and a longer hexadecimal
    one could not be printed: a problem on the number's line, never a crash."""
    with pytest.raises(ManifestError, match=r"m\.yaml:4: .*too long"):
        parse_manifests(HEAD + f"data: {{x: {number}}}\n", "m.yaml")

