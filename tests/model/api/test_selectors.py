"""Tests for kubeprop.model.api.selectors (labels/selector.go, meta/v1/helpers.go, nodeaffinity.go)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.selectors import (
    LabelSelector,
    LabelSelectorRequirement,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    format_selector,
    selector_matches,
    validate_label_selector,
    validate_node_selector,
)
from kubeprop.model.api.strategies import label_selectors, labels
from kubeprop.model.frozen import FrozenMap

Req = LabelSelectorRequirement
NReq = NodeSelectorRequirement


def sel(match_labels: Mapping[str, str] | None = None, *exprs: Req) -> LabelSelector:
    return LabelSelector(FrozenMap(match_labels or {}), exprs)


MATCH_CASES = [
    (sel({"foo": "bar"}), {"foo": "bar"}, True),
    (sel({"foo": "bar"}), {"foo": "bar", "x": "y"}, True),
    (sel({"foo": "bar"}), {"foo": "baz"}, False),
    (sel({"foo": "bar"}), {}, False),
    (sel({"foo": ""}), {}, False),
    (sel({"foo": ""}), {"foo": ""}, True),
    (sel(None, Req("tier", "In", ("a", "b"))), {"tier": "b"}, True),
    (sel(None, Req("tier", "In", ("a", "b"))), {"tier": "c"}, False),
    (sel(None, Req("tier", "In", ("a", "b"))), {}, False),
    (sel(None, Req("tier", "NotIn", ("a",))), {}, True),
    (sel(None, Req("tier", "NotIn", ("a",))), {"tier": "a"}, False),
    (sel(None, Req("tier", "NotIn", ("a",))), {"tier": "b"}, True),
    (sel(None, Req("x", "Exists")), {"x": ""}, True),
    (sel(None, Req("x", "Exists")), {}, False),
    (sel(None, Req("x", "DoesNotExist")), {}, True),
    (sel(None, Req("x", "DoesNotExist")), {"x": "1"}, False),
    (sel({"app": "web"}, Req("x", "DoesNotExist")), {"app": "web", "x": "1"}, False),
    (sel(), {}, True),
    (sel(), {"anything": "goes"}, True),
    # Invalid selectors: LabelSelectorAsSelector errors, the caller selects nothing.
    (sel(None, Req("x", "In", ())), {"x": "a"}, False),
    (sel(None, Req("x", "NotIn", ())), {}, False),
    (sel(None, Req("x", "Exists", ("a",))), {"x": "a"}, False),
    (sel(None, Req("x", "Gt", ("1",))), {"x": "2"}, False),
    (sel(None, Req("x", "Bogus", ("a",))), {"x": "a"}, False),
    (sel(None, Req("bad key", "Exists")), {"bad key": "a"}, False),
    (sel({"x": "bad value!"}), {"x": "bad value!"}, False),
]


@pytest.mark.parametrize(("selector", "label_map", "expected"), MATCH_CASES)
def test_label_selector_matches(selector: LabelSelector, label_map: dict[str, str], expected: bool) -> None:
    assert selector.matches(label_map) is expected
    assert selector_matches(selector, FrozenMap(label_map)) is expected


def test_none_selector_matches_nothing() -> None:
    assert selector_matches(None, {}) is False
    assert selector_matches(None, {"a": "b"}) is False


def test_requirement_values_are_tuples() -> None:
    r = Req("k", "In", ["a", "b"])
    assert r.values == ("a", "b")
    assert r.matches({"k": "a"}) and not r.matches({"k": "c"})
    s = LabelSelector({"a": "b"}, [r])
    assert isinstance(s.match_labels, FrozenMap) and s.match_expressions == (r,)
    assert hash(s) == hash(LabelSelector(FrozenMap({"a": "b"}), (Req("k", "In", ("a", "b")),)))


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (None, "<none>"),
        (sel(), "<none>"),
        (sel({"foo": "bar", "baz": "blah"}), "baz=blah,foo=bar"),
        (sel(None, Req("baz", "In", ("qux", "norf"))), "baz in (norf,qux)"),
        (sel(None, Req("baz", "NotIn", ("qux",))), "baz notin (qux)"),
        (
            sel({"app": "web"}, Req("tier", "In", ("b", "a")), Req("x", "DoesNotExist")),
            "app=web,tier in (a,b),!x",
        ),
        (sel(None, Req("z", "Exists"), Req("a", "Exists")), "a,z"),
        (sel(None, Req("x", "In", ())), "<error>"),
    ],
)
def test_format_selector(selector: LabelSelector | None, text: str) -> None:
    assert format_selector(selector) == text


def test_validate_label_selector() -> None:
    assert validate_label_selector(None) == []
    assert validate_label_selector(sel({"app": "web"}, Req("k", "In", ("v",)))) == []
    problems = validate_label_selector(
        sel(
            {"Bad Key": "ok"},
            Req("a", "In", ()),
            Req("b", "Exists", ("x",)),
            Req("c", "Gt", ("1",)),
            Req("d", "NotIn", ("bad value!",)),
        )
    )
    paths = [p for p, _ in problems]
    assert paths == [
        "matchLabels",
        "matchExpressions[0].values",
        "matchExpressions[1].values",
        "matchExpressions[2].operator",
        "matchExpressions[3].values[0]",
    ]
    messages = dict(problems)
    assert messages["matchExpressions[0].values"].startswith("Required value: must be specified")
    assert messages["matchExpressions[1].values"].startswith("Forbidden: may not be specified")
    assert messages["matchExpressions[2].operator"] == 'Invalid value: "Gt": not a valid selector operator'


def _node(*terms: NodeSelectorTerm) -> NodeSelector:
    return NodeSelector(terms)


NODE_CASES = [
    (_node(NodeSelectorTerm((NReq("zone", "In", ("a",)),))), "n1", {"zone": "a"}, True),
    (_node(NodeSelectorTerm((NReq("zone", "In", ("a",)),))), "n1", {"zone": "b"}, False),
    (_node(NodeSelectorTerm((NReq("cpu", "Gt", ("4",)),))), "n1", {"cpu": "8"}, True),
    (_node(NodeSelectorTerm((NReq("cpu", "Gt", ("4",)),))), "n1", {"cpu": "4"}, False),
    (_node(NodeSelectorTerm((NReq("cpu", "Lt", ("4",)),))), "n1", {"cpu": "3"}, True),
    (_node(NodeSelectorTerm((NReq("cpu", "Lt", ("4",)),))), "n1", {"cpu": "x"}, False),
    (_node(NodeSelectorTerm((NReq("cpu", "Lt", ("4",)),))), "n1", {}, False),
    (_node(NodeSelectorTerm((NReq("cpu", "Gt", ("x",)),))), "n1", {"cpu": "9"}, False),
    (_node(NodeSelectorTerm((NReq("cpu", "Gt", ("1", "2")),))), "n1", {"cpu": "9"}, False),
    (_node(NodeSelectorTerm((NReq("gpu", "DoesNotExist"),))), "n1", {}, True),
    # AND within a term.
    (_node(NodeSelectorTerm((NReq("a", "Exists"), NReq("b", "Exists")))), "n1", {"a": "1"}, False),
    # OR across terms; an empty term or an unparsable term matches nothing.
    (_node(NodeSelectorTerm(), NodeSelectorTerm((NReq("a", "Exists"),))), "n1", {"a": "1"}, True),
    (_node(NodeSelectorTerm()), "n1", {"a": "1"}, False),
    (_node(), "n1", {}, False),
    (
        _node(NodeSelectorTerm((NReq("a", "Bogus"),)), NodeSelectorTerm((NReq("b", "Exists"),))),
        "n",
        {"b": ""},
        True,
    ),
    # matchFields: metadata.name with In/NotIn and exactly one value.
    (_node(NodeSelectorTerm((), (NReq("metadata.name", "In", ("n1",)),))), "n1", {}, True),
    (_node(NodeSelectorTerm((), (NReq("metadata.name", "In", ("n1",)),))), "n2", {}, False),
    (_node(NodeSelectorTerm((), (NReq("metadata.name", "NotIn", ("n1",)),))), "n2", {}, True),
    (_node(NodeSelectorTerm((), (NReq("metadata.name", "In", ("n1", "n2")),))), "n1", {}, False),
    (_node(NodeSelectorTerm((), (NReq("metadata.name", "Exists"),))), "n1", {}, False),
    (
        _node(NodeSelectorTerm((NReq("a", "Exists"),), (NReq("metadata.name", "In", ("n1",)),))),
        "n1",
        {},
        False,
    ),
]


@pytest.mark.parametrize(("selector", "name", "node_labels", "expected"), NODE_CASES)
def test_node_selector_matches(
    selector: NodeSelector, name: str, node_labels: dict[str, str], expected: bool
) -> None:
    assert selector.matches(name, node_labels) is expected


def test_validate_node_selector() -> None:
    assert validate_node_selector(NodeSelector()) == [
        ("nodeSelectorTerms", "Required value: must have at least one node selector term")
    ]
    ok = _node(NodeSelectorTerm((NReq("cpu", "Gt", ("4",)),), (NReq("metadata.name", "In", ("n1",)),)))
    assert validate_node_selector(ok) == []
    bad = _node(
        NodeSelectorTerm(
            (NReq("cpu", "Gt", ()), NReq("a", "Near", ("x",))),
            (NReq("spec.unschedulable", "In", ("true",)), NReq("metadata.name", "Exists")),
        )
    )
    assert [p for p, _ in validate_node_selector(bad)] == [
        "nodeSelectorTerms[0].matchExpressions[0].values",
        "nodeSelectorTerms[0].matchExpressions[1].operator",
        "nodeSelectorTerms[0].matchFields[0].key",
        "nodeSelectorTerms[0].matchFields[1].operator",
    ]


# -- properties --------------------------------------------------------------------------------

KEYS = st.sampled_from(["app", "tier", "example.com/team"])
VALUES = st.sampled_from(["a", "b", "c", ""])


def reference_match(selector: LabelSelector, label_map: Mapping[str, str]) -> bool:
    """A direct reading of the upstream semantics for valid selectors."""
    for key, value in selector.match_labels.items():
        if label_map.get(key) != value or key not in label_map:
            return False
    for r in selector.match_expressions:
        present = r.key in label_map
        ok = {
            "In": present and label_map.get(r.key) in r.values,
            "NotIn": not (present and label_map.get(r.key) in r.values),
            "Exists": present,
            "DoesNotExist": not present,
        }[r.operator]
        if not ok:
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(label_selectors(KEYS, VALUES), labels(KEYS, VALUES))
def test_matches_reference_semantics(selector: LabelSelector, label_map: FrozenMap[str, str]) -> None:
    assert validate_label_selector(selector) == []
    assert selector.matches(label_map) == reference_match(selector, label_map)


@settings(max_examples=200, deadline=None)
@given(KEYS, st.lists(VALUES, min_size=1, max_size=3).map(tuple), labels(KEYS, VALUES))
def test_negated_operators_are_complements(
    key: str, values: tuple[str, ...], label_map: FrozenMap[str, str]
) -> None:
    def one(op: str, vals: tuple[str, ...] = ()) -> bool:
        return sel(None, Req(key, op, vals)).matches(label_map)

    assert one("NotIn", values) == (not one("In", values))
    assert one("DoesNotExist") == (not one("Exists"))
    assert sel({key: values[0]}).matches(label_map) == one("In", values[:1])


@settings(max_examples=100, deadline=None)
@given(label_selectors(), labels())
def test_generated_selectors_valid_and_empty_matches_all(
    selector: LabelSelector, label_map: FrozenMap[str, str]
) -> None:
    assert validate_label_selector(selector) == []
    assert format_selector(selector) != "<error>"
    assert LabelSelector().matches(label_map)
    assert not selector_matches(None, label_map)
    if all(k in label_map and label_map[k] == v for k, v in selector.match_labels.items()):
        assert sel(selector.match_labels).matches(label_map)


@settings(max_examples=100, deadline=None)
@given(st.integers(-5, 20), st.integers(0, 15))
def test_gt_lt_compare_integers(actual: int, bound: int) -> None:
    node_labels = {"n": str(actual)}
    gt = _node(NodeSelectorTerm((NReq("n", "Gt", (str(bound),)),)))
    lt = _node(NodeSelectorTerm((NReq("n", "Lt", (str(bound),)),)))
    assert gt.matches("node", node_labels) == (actual > bound)
    assert lt.matches("node", node_labels) == (actual < bound)
