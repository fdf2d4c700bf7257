"""Tests for kubeprop.model.api.names (util/validation/validation.go, validate/content, generate.go)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.names import (
    GENERATED_SUFFIX_ALPHABET,
    generate_name,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
)
from kubeprop.model.api.strategies import (
    dns1123_labels,
    dns1123_subdomains,
    invalid_dns1123_subdomains,
    label_keys,
    label_values,
)

# Upstream validation_test.go / kube_test.go good and bad examples.
DNS1123_LABEL_GOOD = [
    "a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2", "a" * 63
]
DNS1123_LABEL_BAD = [
    "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a", "a_b", "1_", "_1",
    "1_2", ".", "a.", ".a", "a.b", "1.", ".1", "1.2", " ", "a ", " a", "a b", "1 ", " 1", "1 2", "a" * 64, "a\n"
]

SUBDOMAIN_GOOD = [
    "a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "1a", "a.a", "ab.a", "a-1.a", "0.0", "01.01", "a.b.c.d.e",
    "aaaaa.bbbbb.ccccc.d.eeee", "a" * 253
]
SUBDOMAIN_BAD = [
    "", "A", "ABC", "aBc", "-", "a-", "-a", "_", "a_b", ".", "a.", ".a", "a..b", "1-.a", "a.-1", " ", "a b",
    "a" * 254, "a.b\n"
]

QUALIFIED_GOOD = [
    "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple", "now-with-dashes/simple",
    "now-with-dashes/now-with-dashes", "now.with.dots/simple", "now-with.dashes-and.dots/simple",
    "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123", "example.com/Uppercase", "a" * 63,
    "a" * 253 + "/" + "b" * 63
]
QUALIFIED_BAD = [
    "nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash", "Example.com/abc",
    "example_com/abc", "example.com/", "/simple", "a" * 64, "a" * 254 + "/abc", ""
]

LABEL_VALUE_GOOD = [
    "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63, "", "Uppercase",
    "with_underscore", "dots.ok"
]
LABEL_VALUE_BAD = [
    "nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad", "-starts-with-dash",
    "ends-with-dash-", ".starts.with.dot", "ends.with.dot.", "a" * 64, "a/b"
]


# Each validator with its upstream good and bad examples: a good value yields no error, a bad one some.
UPSTREAM_EXAMPLES = [
    (is_dns1123_label, DNS1123_LABEL_GOOD, DNS1123_LABEL_BAD),
    (is_dns1123_subdomain, SUBDOMAIN_GOOD, SUBDOMAIN_BAD),
    (is_qualified_name, QUALIFIED_GOOD, QUALIFIED_BAD),
    (is_valid_label_value, LABEL_VALUE_GOOD, LABEL_VALUE_BAD),
]


@pytest.mark.parametrize(("validate", "value", "valid"), [
    pytest.param(validate, value, valid, id=f"{validate.__name__}-{'good' if valid else 'bad'}-{i}")
    for validate, good, bad in UPSTREAM_EXAMPLES
    for valid, values in ((True, good), (False, bad))
    for i, value in enumerate(values)
])
def test_upstream_examples(validate: Callable[[str], list[str]], value: str, valid: bool) -> None:
    assert (validate(value) == []) == valid


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("a", True),
        ("my-name", True),
        ("abc-123", True),
        ("1abc", False),
        ("a-", False),
        ("A", False),
        ("a.b", False),
    ],
)
def test_dns1035_label(value: str, ok: bool) -> None:
    assert (is_dns1035_label(value) == []) is ok


def test_upstream_message_wording() -> None:
    assert is_dns1123_label("a.b") == ["must not contain dots"]
    # Upstream RegexError really emits two spaces before each " or ".
    assert is_dns1123_label("A") == [
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    ]
    assert is_dns1123_subdomain("a" * 254)[0] == "must be no more than 253 bytes"
    assert is_qualified_name("/a") == ["prefix part must be non-empty"]
    assert is_qualified_name("a/") == [
        "name part must be non-empty",
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]
    assert is_qualified_name("A.com/b")[0].startswith("prefix part a lowercase RFC 1123 subdomain")
    assert is_qualified_name("a/b/c")[0].startswith("a valid label key must consist of")
    assert is_valid_label_value("é" * 32)[0] == "must be no more than 63 bytes"


def test_generate_name_prefix_masking() -> None:
    assert name_is_dns_subdomain("web-", prefix=True) == []
    assert name_is_dns_subdomain("web-", prefix=False) != []


def test_generate_name_examples() -> None:
    name = generate_name("web-", 0)
    assert name.startswith("web-") and len(name) == 9
    assert generate_name("web-", 0) == name
    assert generate_name("web-", 1) != name
    long = generate_name("x" * 80, 7)
    assert len(long) == 63 and long.startswith("x" * 58)
    assert is_dns1123_subdomain(generate_name("replicaset-abc-", 42)) == []


@settings(max_examples=200, deadline=None)
@given(dns1123_labels())
def test_generated_labels_accepted(value: str) -> None:
    assert is_dns1123_label(value) == []
    assert is_dns1123_subdomain(value) == []
    assert is_valid_label_value(value) == []


@settings(max_examples=200, deadline=None)
@given(dns1123_subdomains())
def test_generated_subdomains_accepted(value: str) -> None:
    assert is_dns1123_subdomain(value) == []


@settings(max_examples=200, deadline=None)
@given(invalid_dns1123_subdomains())
def test_invalid_subdomains_rejected(value: str) -> None:
    assert is_dns1123_subdomain(value) != []
    assert is_dns1123_label(value) != []


@settings(max_examples=200, deadline=None)
@given(label_keys(), label_values())
def test_generated_label_keys_and_values_accepted(key: str, value: str) -> None:
    assert is_qualified_name(key) == []
    assert is_valid_label_value(value) == []


@settings(max_examples=200, deadline=None)
@given(dns1123_labels(max_size=57).map(lambda s: s + "-"), st.integers(0, 27**5 - 1))
def test_generate_name_valid_and_well_formed(base: str, seed: int) -> None:
    name = generate_name(base, seed)
    assert name[: len(base)] == base and len(name) == len(base) + 5
    assert all(c in GENERATED_SUFFIX_ALPHABET for c in name[-5:])
    assert is_dns1123_subdomain(name) == []


def test_generate_name_distinct_for_consecutive_seeds() -> None:
    suffixes = {generate_name("", seed) for seed in range(20000)}
    assert len(suffixes) == 20000
