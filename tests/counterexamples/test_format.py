"""The file format: round trips, content-addressed atomic writes, strict loading with field names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kubeprop.counterexamples.format import dumps, to_data, write
from kubeprop.counterexamples.format_read import from_data, load, loads
from kubeprop.counterexamples.format_records import Counterexample, CounterexampleError
from kubeprop.counterexamples.schema_check import problems, schema
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def _edit(ce: Counterexample, change: Any) -> str:
    data = to_data(ce)
    change(data)
    return json.dumps(data)


def test_round_trip(rs_counterexample: Counterexample) -> None:
    text = dumps(rs_counterexample)
    again = loads(text)
    assert again == rs_counterexample
    assert dumps(again) == text
    assert problems(json.loads(text)) == []


def test_content_addressed_names_and_atomic_writes(rs_counterexample: Counterexample, tmp_path: Path) -> None:
    first = write(rs_counterexample, tmp_path)
    assert re.fullmatch(r"replicaset-no-overcreation-[0-9a-f]{12}\.json", first.name)
    second = write(rs_counterexample, tmp_path, keep_shorter=False)
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]  # no temporary file left behind
    assert load(first) == rs_counterexample



def test_an_unreadable_file_under_the_name_is_replaced_not_kept(rs_counterexample: Counterexample,
                                                               tmp_path: Path) -> None:
    """A file under the counterexample's name that says it is one but does not pass the schema (an
    empty trace, so "no longer than this one") must not stand in for the real counterexample."""
    path = write(rs_counterexample, tmp_path)
    path.write_text(json.dumps({"kind": "Counterexample", "schema": 2, "trace": []}))
    assert write(rs_counterexample, tmp_path) == path
    assert load(path) == rs_counterexample


CASES = [
    (lambda d: d.update(schema=3), "schema: version 3, written by kubeprop "),
    (lambda d: d.pop("schema"), "schema: missing"),
    (lambda d: d["trace"][3]["action"].update(action="Foo"), "trace[3].action: unknown action 'Foo'"),
    (lambda d: d["trace"][1]["action"].pop("revision"), "trace[1].action: Deliver: missing field 'revision'"),
    (lambda d: d["violation"].pop("step"), "violation.step: missing (required)"),
    (lambda d: d["violation"].update(step=99), "violation.step: 99 is past the end of the trace"),
    (lambda d: d["trace"][0].update(fingerprint="xyz"), "trace[0].fingerprint: must match"),
    (lambda d: d["model"].update(variant="nope"), "model.variant: unknown variant 'nope'"),
    (lambda d: d["model"]["parameters"].update(bogus=1), "model.parameters.bogus: unknown parameter"),
    (lambda d: d.update(extra=1), "extra: unknown field"),
    (lambda d: d.update(expectation="maybe"), "expectation: must be one of"),
    (lambda d: d["engine"].update(seed="x"), 'engine.seed: must be an integer or null, not a string ("x")'),
    (lambda d: d["violation"].update(step=4.0), "violation.step: must be an integer, not a number (4.0)"),
    (lambda d: d.update(lasso={"cycleStart": "1"}), 'lasso.cycleStart: must be an integer, not a string ("1")'),
]

SCHEMA_NOT_INTEGER = "schema: must be an integer, the file format's version (this kubeprop reads versions 1 and 2 " \
                     "and writes 2), not "


@pytest.mark.parametrize(("value", "shown"), [("2", 'a string ("2")'), (2.0, "a number (2.0)"), (True, "a boolean "
                                              "(true)"), (None, "null"), ([2], "an array")])
def test_a_schema_version_that_is_no_integer_says_so(rs_counterexample: Counterexample, value: Any,
                                                     shown: str) -> None:
    """Trial 20: `"schema": "2"` was "version "2" … is not supported (… reads versions 1 and 2)",
    which contradicts itself; `2.0` was read as version 2, while `violation.step: 4.0` is refused."""
    with pytest.raises(CounterexampleError) as err:
        loads(_edit(rs_counterexample, lambda d: d.update(schema=value)), "f.json")
    assert str(err.value) == f"f.json: {SCHEMA_NOT_INTEGER}{shown}"
    assert "not supported" not in str(err.value)


@pytest.mark.parametrize(("change", "message"), CASES)
def test_bad_files_name_the_field(rs_counterexample: Counterexample, change: Any, message: str) -> None:
    with pytest.raises(CounterexampleError) as err:
        loads(_edit(rs_counterexample, change), "f.json")
    assert f"f.json: {message}" in str(err.value)


def test_truncated_file(rs_counterexample: Counterexample) -> None:
    text = dumps(rs_counterexample)
    with pytest.raises(CounterexampleError, match=r"not valid JSON.*truncated"):
        loads(text[: len(text) // 2], "f.json")


def test_edited_inline_scenario_is_bad_input(rs_counterexample: Counterexample, tmp_path: Path) -> None:
    from kubeprop.counterexamples.replay import replay

    def edit(d: dict[str, Any]) -> None:
        d["scenario"]["files"][0]["text"] += "\n# edited\n"

    path = tmp_path / "edited.json"
    path.write_text(_edit(rs_counterexample, edit))
    with pytest.raises(CounterexampleError, match=r"scenario\.contentHash: does not match the inline files"):
        replay(path)


def test_cli_bad_input_exits_2_without_traceback(rs_counterexample: Counterexample, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(_edit(rs_counterexample, lambda d: d["trace"][3]["action"].update(action="Foo")))
    short = tmp_path / "short.json"
    short.write_text(dumps(rs_counterexample)[:300])
    assert main(["replay", str(bad), str(short)]) == 2
    err = capsys.readouterr().err
    assert "trace[3].action: unknown action 'Foo'" in err and "truncated" in err
    assert "Traceback" not in err


def test_schema_is_draft_2020_12_and_shown_in_the_docs() -> None:
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    docs = (REPO / "docs" / "counterexamples.md").read_text()
    block = docs.split("<!-- schema -->\n```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == schema()


def test_from_data_rejects_non_objects() -> None:
    with pytest.raises(CounterexampleError, match="must be a JSON object"):
        from_data([1, 2])


def test_a_file_of_an_older_kubeprop_says_so_and_what_to_do(rs_counterexample: Counterexample) -> None:
    """Trial 5 (u3/01): a kubeprop 0.1.0 file naming an action since renamed was "bad input: unknown
    action 'MarkNodeUnknown'" with no word of its version."""
    def old(d: dict[str, Any]) -> None:
        d.update(schema=1, kubeprop="0.1.0")
        d["model"].pop("system", None)
        d["trace"][3]["action"].update(action="MarkNodeUnknown")

    with pytest.raises(CounterexampleError) as err:
        loads(_edit(rs_counterexample, old), "f.json")
    message = str(err.value)
    assert "f.json: trace[3].action: unknown action 'MarkNodeUnknown'" in message
    assert "f.json: kubeprop: the file was written by kubeprop 0.1.0 (schema 1); this is kubeprop " in message
    assert "Record the violation again with this kubeprop" in message
    assert 'docs/counterexamples.md, "Files from other kubeprop versions"' in message


def test_a_file_of_this_kubeprop_gets_no_version_note(rs_counterexample: Counterexample) -> None:
    from kubeprop.counterexamples.versions import installed_version

    with pytest.raises(CounterexampleError) as err:  # this version wrote it: an edit, not a version change
        loads(_edit(rs_counterexample, lambda d: (d.update(kubeprop=installed_version()),
                                                  d["trace"][3]["action"].update(action="Foo"))), "f.json")
    assert "written by" not in str(err.value)
    with pytest.raises(CounterexampleError) as err:  # not a version-sensitive field: no note either
        loads(_edit(rs_counterexample, lambda d: d.update(kubeprop="0.1.0", extra=1)), "f.json")
    assert "written by" not in str(err.value)


def test_the_documented_names_still_import_from_format() -> None:
    """docs/reference/counterexamples.md shows `kubeprop.counterexamples.format`'s Counterexample,
    CounterexampleError, load, loads, write and dumps: the split into format_records / format_read
    keeps them there (and in the package's `__all__`)."""
    import kubeprop.counterexamples as package
    import kubeprop.counterexamples.format as fmt
    from kubeprop.counterexamples import format_read, format_records

    documented = ("Counterexample", "CounterexampleError", "load", "loads", "write", "dumps")
    assert set(documented) <= set(fmt.__all__)
    assert (fmt.Counterexample, fmt.CounterexampleError) == (format_records.Counterexample,
                                                               format_records.CounterexampleError)
    assert (fmt.load, fmt.loads) == (format_read.load, format_read.loads)
    assert all(getattr(package, name) is getattr(fmt, name) for name in documented)
