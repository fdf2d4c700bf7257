"""`replayed under` in every rendering of a replay: `kubeprop replay --json` (`replayedUnder`: each
parameter's name, value, default and where it was set, and the terminal's words) and the HTML page
(a `replayed under` row), with the terminal's wording; and a hostile parameter value (huge, or
deeply nested) in a file's scenario, which no rendering may print whole or unescaped.
Goldens: golden/replayed-under.json and golden/replayed-under.html (`KUBEPROP_UPDATE_GOLDEN=1`
rewrites them; review the diff)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from catalogue_searches import rs_search

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.render_html import render_html
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.steps import result_json
from kubeprop.counterexamples.trace import record
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.gate_replay import scenario_notes
from kubeprop.properties.cli.gate_report import Case, markdown_summary
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[2]
VARIANTS = REPO / "tests" / "model" / "data" / "variants"
GOLDEN = Path(__file__).parent / "golden"
V131 = ("parameters:\n  nodeMonitorGracePeriodSeconds: 40\n  schedulerAsyncPreemption: false\n"
        "  schedulerTaintReasonDetail: true\n")
ROW = re.compile(r"<tr><td>replayed under</td><td>(.*?)</td></tr>")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"re-run with KUBEPROP_UPDATE_GOLDEN=1 to accept changes to {path}"


def _record(folder: Path, extra: str, parameters: dict[str, Any] | None = None) -> Path:
    """An rs-no-expectations file recorded (inline) under `web.yaml` + `extra` written as
    web-v131.yaml in `folder`, with `parameters` over it (the file's model.parameters); what depends
    on the clock and the installation pinned. Returns its path relative to `folder`."""
    shutil.copytree(VARIANTS / "web", folder / "web")
    (folder / "web-v131.yaml").write_text((VARIANTS / "web.yaml").read_text(encoding="utf-8") + extra,
                                          encoding="utf-8")
    model = build_model(load_scenario(folder / "web-v131.yaml"), variant="rs-no-expectations",
                        parameters=parameters or {})
    report = rs_search(model)
    assert report.violation is not None
    ce = record(model, report.trace, report.violation, engine="bfs", created="2025-01-01T00:00:00Z")
    ce = attrs.evolve(ce, kubeprop_version="0.0.0-test", scenario=attrs.evolve(ce.scenario, path="web-v131.yaml"))
    (folder / "corpus").mkdir()
    return write(ce, folder / "corpus" / "v131.json").relative_to(folder)


@pytest.fixture(name="v131")
def v131_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file (relative to the working folder, so that the outputs name no temporary folder)."""
    monkeypatch.chdir(tmp_path)
    return _record(tmp_path, V131, {"terminatedPodGCThreshold": 100})


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["replay", "--json", *args]) == 1  # (1: it reproduces)
    (result,) = json.loads(capsys.readouterr().out)["results"]
    assert result["verdict"] == "REPRODUCES"
    return result


def test_replay_json_says_each_parameter_with_its_default_and_where_it_was_set(
        v131: Path, capsys: pytest.CaptureFixture[str]) -> None:
    under = _json(capsys, str(v131))["replayedUnder"]
    assert under["parameters"][0] == {
        "name": "nodeMonitorGracePeriodSeconds", "value": 40, "default": 50, "source": "file-scenario",
        "sourceWords": "from the file's own scenario, written from web-v131.yaml"}
    assert [(p["name"], p["value"], p["default"], p["source"]) for p in under["parameters"]] == [
        ("nodeMonitorGracePeriodSeconds", 40, 50, "file-scenario"),
        ("schedulerAsyncPreemption", False, True, "file-scenario"),
        ("schedulerTaintReasonDetail", True, False, "file-scenario"),
        ("terminatedPodGCThreshold", 100, 12500, "file-parameters")]
    assert (under["release"], under["variantOwnLeftOut"]) == ("v1.33", "rs-no-expectations")
    given = _json(capsys, str(v131), "--scenario", "web-v131.yaml")["replayedUnder"]
    assert {p["source"] for p in given["parameters"]} == {"given-scenario", "file-parameters"}
    what_if = result_json(replay(v131, parameters={"podMaxInUnschedulablePodsSeconds": 60}))["replayedUnder"]
    assert what_if["parameters"][-1]["source"] == "replay"
    _golden("replayed-under.json", json.dumps({"the file": under, "--scenario web-v131.yaml": given,
                                               "replay(parameters=…)": what_if}, indent=2) + "\n")


def test_the_terminal_the_json_and_the_page_say_the_same(v131: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for given in ((), ("--scenario", "web-v131.yaml")):
        text = _json(capsys, str(v131), *given)["replayedUnder"]["text"]
        assert main(["replay", str(v131), *given]) == 1
        assert f"replayed under  {text}\n" in capsys.readouterr().out
        assert main(["replay", str(v131), *given, "--html", "page.html"]) == 1
        capsys.readouterr()
        (row,) = ROW.findall(Path("page.html").read_text(encoding="utf-8"))
        assert html.unescape(row) == text


def test_the_page_has_a_replayed_under_row(v131: Path) -> None:
    page = render_html([replay(v131)])
    table = re.search(r'<table class="kp-meta">.*?</table>', page, re.S)
    assert table is not None
    _golden("replayed-under.html", table.group().replace("</tr>", "</tr>\n"))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium browser on this machine")
def test_chromium_shows_the_row(v131: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    assert main(["replay", str(v131), "--html", str(page)]) == 1
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()]
    done = subprocess.run(["chromium", *flags], capture_output=True, text=True, timeout=90, check=False)
    assert 'data-kp-ready="1"' in done.stdout, done.stderr[-2000:]
    assert ("<td>replayed under</td><td>nodeMonitorGracePeriodSeconds=40, schedulerAsyncPreemption=false, "
            "schedulerTaintReasonDetail=true (from the file's own scenario, written from web-v131.yaml); "
            "terminatedPodGCThreshold=100 (from the file's model.parameters); the rest at the defaults (v1.33), "
            "but for variant rs-no-expectations's own</td>") in done.stdout


HUGE = "list pods <script>alert('kp')</script>\u202e" + "x" * 100_000
CLIENTS = [f"system:serviceaccount:default:c{i}" for i in range(2000)]


@pytest.fixture(name="hostile")
def hostile_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file whose scenario sets a 100,000-character overloadRequest (markup and a bidi override
    in it) and whose model.parameters set 2,000 overloadClients: both valid values."""
    monkeypatch.chdir(tmp_path)
    return _record(tmp_path, f"parameters:\n  overloadRequest: {json.dumps(HUGE)}\n",
                   {"overloadClients": CLIENTS})


def test_a_huge_value_is_cut_in_words_and_whole_in_json(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(hostile)]) == 1
    header = capsys.readouterr().out.splitlines()[:8]
    assert max(len(line) for line in header) < 600, [len(line) for line in header]
    under = next(line for line in header if line.startswith("replayed under  "))
    assert 'overloadRequest="list pods <script>alert(\'kp\')</script>\\u202exxx' in under  # the bidi override escaped
    assert f"… ({len(json.dumps(HUGE, ensure_ascii=False))} characters) (from the file's own scenario" in under
    assert f"… ({len(json.dumps(CLIENTS))} characters) (from the file's model.parameters)" in under
    model = next(line for line in header if line.startswith("model "))
    assert "overloadClients=[\"system:serviceaccount:default:c0\", " in model and "characters)" in model
    data = _json(capsys, str(hostile))["replayedUnder"]
    assert [(p["name"], p["value"]) for p in data["parameters"]] == [("overloadRequest", HUGE),
                                                                      ("overloadClients", CLIENTS)]
    assert len(data["text"]) < 600 and data["text"] in under.replace("\\u202e", "\u202e")


def test_a_huge_value_is_escaped_on_the_page_and_in_the_gate(hostile: Path) -> None:
    result = replay(hostile)
    page = render_html([result])
    (row,) = ROW.findall(page)
    assert len(row) < 1000 and "<script>" not in row and "&lt;script&gt;alert(&#x27;kp&#x27;)" in row
    assert "\u202e" not in row and "\\u202e" in row
    assert page.count("<script") == 2  # the page's own: its data and its code
    notes = scenario_notes(result, ())
    assert [label for label, _ in notes] == ["replays under"] and len(notes[0][1]) < 600
    summary = markdown_summary([Case("corpus", "v131.json", "passed", "reproduces", notes=notes)])
    (cell,) = [line for line in summary.splitlines() if "replays under" in line]
    assert "<br>`replays under: overloadRequest=\"list pods <script>" in cell and len(cell) < 1000


def test_a_stale_scenario_names_a_huge_value_cut(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What differs, recorded → replayed (`scenario_diff.difference_words`), cuts both values."""
    other = Path("web-other.yaml")
    other.write_text(Path("web-v131.yaml").read_text(encoding="utf-8")
                     .replace(json.dumps(HUGE)[-20:], json.dumps(HUGE[:-1] + "y")[-20:]), encoding="utf-8")
    assert main(["replay", str(hostile), "--scenario", str(other)]) == 3
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("STALE ") and "parameters overloadRequest \"list pods <script>" in last
    assert " → \"list pods <script>" in last and len(last) < 1500, len(last)


def _nested(path: Path, where: str, depth: int) -> Path:
    """The file at `path` with overloadClients nested `depth` lists deep, in its scenario or model.parameters."""
    data = json.loads(path.read_text(encoding="utf-8"))
    deep = "[" * depth + "]" * depth
    if where == "scenario":
        entry = data["scenario"]["files"][0]
        entry["text"] = re.sub(r"  overloadRequest: .*\n", f"  overloadClients: {deep}\n", entry["text"])
        text = json.dumps(data)
    else:
        data["model"]["parameters"]["overloadClients"] = "@@"
        text = json.dumps(data).replace('"@@"', deep)
    out = path.with_name(f"nested-{where}-{depth}.json")
    out.write_text(text, encoding="utf-8")
    return out


@pytest.mark.parametrize(("where", "depth", "says"), [
    ("scenario", 30, "parameters.overloadClients: must be a list of strings, got a list"),
    ("scenario", 100_000, "scenario: web-v131.yaml:24: exceeded maximum nesting depth"),
    ("model", 30, "model.parameters.overloadClients: must be a list of strings, got a list"),
    ("model", 100_000, "nested more than 64 levels deep")])
def test_a_deeply_nested_value_is_bad_input(hostile: Path, where: str, depth: int, says: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The readers refuse it (a parameter is a list of strings at most): exit 2, the field named, in
    the terminal and in `--json`'s errors, and no page written."""
    path = _nested(hostile, where, depth)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err) < 2000, err
    assert main(["replay", "--json", str(path), "--html", "page.html"]) == 2
    (error,) = json.loads(capsys.readouterr().out)["errors"]
    assert says in error and not Path("page.html").exists()


def test_the_written_file_holds_the_values_whole(hostile: Path) -> None:
    """(The fixture's file is what the writer writes: nothing was cut on the way in.)"""
    result = replay(hostile)
    assert result.verdict == Verdict.REPRODUCES
    assert dict(result.counterexample.parameters)["overloadClients"] == tuple(CLIENTS)
    assert result.model.scenario.spec.parameters["overloadRequest"] == HUGE
    assert json.loads(hostile.read_text(encoding="utf-8"))["model"]["parameters"]["overloadClients"] == CLIENTS
