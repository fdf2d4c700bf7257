"""Tests for reading YAML with source lines (yamlsource) and loading manifests like kubectl (manifests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.manifests import ManifestError, ManifestObject, Problem, load_manifests, parse_manifests
from kubeprop.model.api.objects import ConfigMap, CustomObject, CustomResourceDefinition, Deployment, kind_info
from kubeprop.model.api.yamlsource import YamlError, load_yaml_documents, parse_yaml_documents

SHOP = Path(__file__).parents[1] / "data" / "manifests" / "shop"


def configmap(name: str, extra: str = "") -> str:
    """A small ConfigMap manifest."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}"


def names(objects: list[ManifestObject]) -> list[str]:
    return [m.obj.metadata.name for m in objects]


def problems_of(excinfo: pytest.ExceptionInfo[ManifestError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# --- yamlsource ---------------------------------------------------------------------------------


def test_documents_keep_their_index_and_skip_empty_ones() -> None:
    text = "---\n# only a comment\n---\na: 1\n---\n---\nnull\n---\nb: [x, y]\n"
    docs = parse_yaml_documents(text, "f.yaml")
    assert [(d.index, d.line, d.data) for d in docs] == [(1, 4, {"a": 1}), (4, 9, {"b": ["x", "y"]})]
    assert parse_yaml_documents("", "f.yaml") == []


def test_line_of_finds_the_deepest_existing_node() -> None:
    text = "a:\n  b:\n  - x\n  - c: 1\n    d:\n      e: 2\n"
    (doc,) = parse_yaml_documents(text, "f.yaml")
    assert doc.line_of(()) == 1
    assert doc.line_of(("a", "b", 1, "d", "e")) == 6
    assert doc.line_of(("a", "b", 1)) == 4
    assert doc.line_of(("a", "b", 1, "missing", "deeper")) == 4
    assert doc.line_of(("a", "b", 7)) == 2
    assert doc.line_of(("nope",)) == 1


def test_timestamps_stay_strings_like_kubectl() -> None:
    (doc,) = parse_yaml_documents("date: 2024-01-01\nwhen: 2024-01-01T10:00:00Z\n", "f.yaml")
    assert doc.data == {"date": "2024-01-01", "when": "2024-01-01T10:00:00Z"}


def test_duplicate_keys_name_the_key_and_both_lines() -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_yaml_documents("a: 1\nspec:\n  replicas: 1\n  image: x\n  replicas: 2\n", "d.yaml")
    err = excinfo.value
    assert (err.file, err.line, err.field) == ("d.yaml", 5, "spec.replicas")
    assert str(err) == "d.yaml:5: spec.replicas: duplicate key 'replicas' (first set on line 3)"


def test_merge_keys_may_be_overridden() -> None:
    (doc,) = parse_yaml_documents("base: &b {x: 1, y: 2}\nobj:\n  <<: *b\n  y: 3\n", "m.yaml")
    assert doc.data["obj"] == {"x": 1, "y": 3}
    assert doc.line_of(("obj", "y")) == 4


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: [1, 2\n", 3, "flow"),
        ("a: 1\n  b: 2\nc: 3\n", 2, "mapping values are not allowed"),
        ("a: 1\nb: \"unterminated\n", 3, "quoted scalar"),
        ("a: 1\nb: \x00\n", 2, "control characters"),
        ("a: &x [*x]\n", 1, "recursive anchor"),
        ("a: 1\nb: *nothing\n", 2, "undefined alias"),
    ],
)
def test_malformed_yaml_is_a_yaml_error_with_a_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(YamlError) as excinfo:
        parse_yaml_documents(text, "bad.yaml")
    assert excinfo.value.line == line
    assert fragment in excinfo.value.message
    assert str(excinfo.value).startswith(f"bad.yaml:{line}: ")


def test_alias_bombs_are_rejected() -> None:
    lines = ["a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(YamlError, match="expands to more than"):
        parse_yaml_documents("\n".join(lines), "bomb.yaml")


def test_unreadable_files_are_yaml_errors(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"a: 1\nb: caf\xe9\n")
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes("a: 1\n".encode("utf-16"))
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    cases = [
        (latin1, f"{latin1}:2: not valid UTF-8"),
        (utf16, f"{utf16}:1: the file is UTF-16 encoded"),
        (tmp_path / "missing.yaml", f"{tmp_path / 'missing.yaml'}: no such file"),
        (tmp_path, f"{tmp_path}: is a directory"),
    ]
    for path, message in cases:
        with pytest.raises(YamlError) as excinfo:
            load_yaml_documents(path)
        assert str(excinfo.value).startswith(message)
    assert [d.data for d in load_yaml_documents(bom)] == [{"a": 1}]


_keys = st.text(min_size=1, max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8"), max_size=12)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)


def _leaf_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))] or [path]
    return [path]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_keys, _values, min_size=1, max_size=5), st.booleans())
def test_dumped_data_parses_back_with_lines(data: dict[str, Any], flow: bool) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow)
    (doc,) = parse_yaml_documents(text, "gen.yaml")
    assert doc.data == data
    line_count = text.count("\n") + 1
    for path in _leaf_paths(data):
        assert 1 <= doc.line_of(path) <= line_count


# --- manifests ----------------------------------------------------------------------------------


def test_multi_document_file() -> None:
    text = configmap("a") + "---\n---\n" + configmap("b", "data:\n  k: v\n")
    first, second = parse_manifests(text, "m.yaml")
    assert (first.file, first.document, first.line) == ("m.yaml", 0, 1)
    assert (second.document, second.line) == (2, 7)
    assert isinstance(second.obj, ConfigMap)
    assert second.obj.data == {"k": "v"}
    assert second.line_of(("data", "k")) == 12


def test_fixture_folder_in_name_order_with_list_and_crd() -> None:
    objects = load_manifests([SHOP])
    kinds = [kind_info(m.obj).kind for m in objects]
    assert kinds == [
        "Deployment", "Service", "ConfigMap", "ServiceAccount", "Widget", "CustomResourceDefinition",
    ]
    deployment, _, config, _, widget, crd = objects
    assert isinstance(deployment.obj, Deployment)
    assert deployment.obj.spec.replicas == 2
    assert deployment.line_of(("spec", "replicas")) == 8
    assert config.file == str(SHOP / "20-config.json")
    assert (config.line, config.line_of(("data", "mode"))) == (5, 6)
    assert isinstance(widget.obj, CustomObject)
    assert widget.obj.content["spec"] == {"size": 3}
    assert isinstance(crd.obj, CustomResourceDefinition)


def test_recursive_folder_reads_subfolders() -> None:
    objects = load_manifests([SHOP], recursive=True)
    assert [m.file for m in objects][-1] == str(SHOP / "extra" / "namespace.yaml")
    assert len(objects) == 7


def test_folder_order_and_extensions(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.yml", "c.json", "B.yaml", "d.txt", "e.YAML"]:
        (tmp_path / name).write_text(configmap(name.replace(".", "-").lower()))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.yaml").write_text(configmap("nested"))
    flat = ["b-yaml", "a-yml", "b-yaml", "c-json"]  # B.yaml < a.yml < b.yaml < c.json (byte order)
    assert names(load_manifests([tmp_path])) == flat
    assert names(load_manifests([tmp_path], recursive=True)) == [*flat, "nested"]
    # An explicitly named file is read whatever its extension.
    assert names(load_manifests([tmp_path / "d.txt", sub])) == ["d-txt", "nested"]


def test_list_items_are_expanded_with_item_paths(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: one}\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: two}\n  spec:\n    replicas: many\n"
        "- 42\n"
    )
    with pytest.raises(ManifestError) as excinfo:
        parse_manifests(text, "list.yaml")
    assert problems_of(excinfo) == [
        "list.yaml:11: items[1].spec.replicas: expected an integer, got string 'many'",
        "list.yaml:12: items[2]: expected an object with apiVersion and kind, got a number",
    ]
    one, two = parse_manifests(text.replace("many", "3").replace("- 42\n", ""), "list.yaml")
    assert (one.document, one.line, two.line) == (0, 4, 7)
    assert two.line_of(("spec", "replicas")) == 11
    expected = Problem("list.yaml", 11, "items[1].spec.replicas", "too many")
    assert two.problem(("spec", "replicas"), "too many") == expected
    # Equality ignores the source document object.
    assert parse_manifests(text.replace("many", "3").replace("- 42\n", ""), "list.yaml") == [one, two]


def test_wrong_type_reports_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: \"three\"\n"
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([path])
    (problem,) = excinfo.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 6, "spec.replicas")
    assert str(problem).startswith(f"{path}:6: spec.replicas: expected an integer")


def test_a_null_map_value_or_list_item_is_gos_zero_value() -> None:
    """Helm renders a nil value as `null`; Go's decoder (encoding/json, the API server's
    sigs.k8s.io/json) leaves a string's zero value there, so the API server stores `""` (trial17:
    the model refused the ConfigMap)."""
    (cm,) = parse_manifests(configmap("c", "  labels: {team: null}\ndata: {LOG_LEVEL: info, EMPTY: null}\n"), "cm.yaml")
    assert isinstance(cm.obj, ConfigMap)
    assert dict(cm.obj.data) == {"LOG_LEVEL": "info", "EMPTY": ""}
    assert dict(cm.obj.metadata.labels) == {"team": ""}
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {a: b}}\n"
            "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n"
            "      - {name: web, image: w, args: [serve, null]}\n")
    (deploy,) = parse_manifests(text, "web.yaml")
    assert isinstance(deploy.obj, Deployment)
    assert deploy.obj.spec.template.spec.containers[0].args == ("serve", "")


def test_all_problems_across_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "1.yaml").write_text("a: [1\n")
    (tmp_path / "2.yaml").write_text(configmap("ok") + "---\nkind: ConfigMap\n---\n- a list\n")
    (tmp_path / "3.yaml").write_text(configmap("bad", "  labels: 7\n") + "---\napiVersion: v1\nkind: 5\n")
    (tmp_path / "4.yaml").write_text("a: 1\na: 2\n")
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    lines = str(excinfo.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        f"{tmp_path}/1.yaml:2",
        f"{tmp_path}/2.yaml:6",
        f"{tmp_path}/2.yaml:8",
        f"{tmp_path}/3.yaml:5",
        f"{tmp_path}/3.yaml:8",
        f"{tmp_path}/4.yaml:2",
        f"{tmp_path}/4.yaml:1",
        f"{tmp_path}/4.yaml:1",
    ]
    assert "apiVersion: Required value" in lines[1] and "it is missing" in lines[1]
    assert "metadata.labels: expected an object" in lines[3]
    assert "kind: Required value" in lines[4] and "got a number" in lines[4]
    # a duplicate key does not hide the document's other problems (the user trial: `ports:` twice hid them all)
    assert "duplicate key 'a' (first set on line 1)" in lines[5]
    assert "apiVersion: Required value" in lines[6] and "kind: Required value" in lines[7]


def test_unknown_kind_needs_a_crd_in_the_same_input(tmp_path: Path) -> None:
    widget = (SHOP / "30-widget.yml").read_text()
    with pytest.raises(ManifestError) as excinfo:
        parse_manifests(widget, "w.yaml")
    (problem,) = excinfo.value.problems
    assert (problem.line, problem.field) == (3, "kind")
    assert "Widget" in problem.message
    crd = (SHOP / "90-crd.yaml").read_text()
    objects = parse_manifests(widget + "---\n" + crd, "w.yaml")
    assert isinstance(objects[0].obj, CustomObject)
    # The CRD may come from another file given on the command line, in any order.
    (tmp_path / "crd.yaml").write_text(crd)
    (tmp_path / "widget.yaml").write_text(widget)
    loaded = load_manifests([tmp_path / "widget.yaml", tmp_path / "crd.yaml"])
    assert [m.file for m in loaded] == [str(tmp_path / "widget.yaml"), str(tmp_path / "crd.yaml")]


def test_empty_inputs_are_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n---\n")
    with pytest.raises(ManifestError, match=r"empty\.yaml: no manifests were found$"):
        load_manifests([empty])
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("hello\n")
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([folder])
    message = str(excinfo.value)
    assert message.startswith(f"{folder}: no manifests were found in this folder")
    assert ".json, .yaml or .yml" in message and "kubectl -R" in message
    (folder / "empty.yml").write_text("")
    with pytest.raises(ManifestError, match=r"ending in \.json, \.yaml or \.yml are read from a folder"):
        load_manifests([folder])
    with pytest.raises(ManifestError, match=r"^inline: no manifests were found$"):
        parse_manifests("---\n", "inline")
    with pytest.raises(ManifestError, match="no such file or folder"):
        load_manifests([tmp_path / "missing"])


def test_manifest_error_from_malformed_text() -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_manifests(configmap("x") + "data:\n  k: [v\n", "t.yaml")
    (problem,) = excinfo.value.problems
    assert problem.file == "t.yaml" and problem.line == 7


@pytest.mark.parametrize(("field", "written", "hint"), [
    ("replicas", "1e3", "a whole number is written without an exponent: 1000"),
    ("replicas", "2E+1", "a whole number is written without an exponent: 20"),
    ("replicas", "1e308",
     "a whole number is written without an exponent, and this one is beyond any integer field's range"),
    ("hpaTolerance", "1e-1", "YAML reads this exponent form as text: write 1.0e-1"),
    ("hpaTolerance", "1.5e0", "YAML reads this exponent form as text: write 1.5e+0"),
])
def test_an_exponent_yaml_reads_as_text_says_how_to_write_the_number(field: str, written: str, hint: str) -> None:
    """YAML 1.1 (PyYAML, as kubectl's sigs.k8s.io/yaml) reads 1e3 as a string, since its floats need a
    dot and a signed exponent: the error says how to write the number (trial 5: replayTimeout: 1e308)."""
    from kubeprop.model.api.codec import _yaml_number_hint

    tp = int if field == "replicas" else float
    assert _yaml_number_hint(tp, written) == f" ({hint})"
    if tp is float:
        assert yaml.safe_load(f"x: {hint.rpartition(' ')[2]}")["x"] == float(written)
    text = f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {written}\n"
    if tp is int:
        with pytest.raises(ManifestError) as excinfo:
            parse_manifests(text, "d.yaml")
        expected = f"d.yaml:5: spec.replicas: expected an integer, got string '{written}' ({hint})"
        assert problems_of(excinfo) == [expected]


def test_a_word_with_an_e_gets_no_number_hint() -> None:
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: three\n"
    with pytest.raises(ManifestError) as excinfo:
        parse_manifests(text, "d.yaml")
    assert problems_of(excinfo) == ["d.yaml:5: spec.replicas: expected an integer, got string 'three'"]
