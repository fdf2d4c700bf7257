"""Trial 3's papercuts: one message for one problem in every command, what the user typed echoed,
a STALE reason that numbers steps one way, and an engine line that says what its figures are.

Regenerate the golden file after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_papercuts.py`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeprop.counterexamples.replay import not_enabled
from kubeprop.model.controllers.base import Reconcile
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
SOURCE = sorted((REPO / "counterexamples" / "corpus").glob("*.json"))[0]
GOLDEN = Path(__file__).parent / "golden" / "check_walk_run_lengths.txt"


def test_a_utf16_file_gets_one_message_from_validate_and_replay(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    manifest, counterexample = tmp_path / "m.yaml", tmp_path / "c.json"
    manifest.write_bytes("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n".encode("utf-16"))
    counterexample.write_bytes(SOURCE.read_text().encode("utf-16"))
    assert main(["validate", str(manifest)]) == 2
    assert main(["replay", str(counterexample)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["kubeprop validate: bad input:", f"{manifest}:1: the file is UTF-16 encoded; save it as UTF-8",
                   "kubeprop replay: bad input:", f"{counterexample}:1: the file is UTF-16 encoded; save it as UTF-8"]


@pytest.mark.parametrize(("content", "hint"), [
    (b"\0" * 64, "the file holds NUL bytes (the first at character 1): it is binary, not JSON text"),
    (b'{"schema": 2\0}', "the file holds NUL bytes (the first at character 13): it is binary, not JSON text"),
    (b"", "the file is empty"),
    (b'{"schema": 2, "kind": "Counterexample"', "the file looks truncated"),
])
def test_a_file_that_is_not_json_says_what_it_looks_like(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        content: bytes, hint: str) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(content)
    assert main(["replay", str(path)]) == 2
    [line] = capsys.readouterr().err.splitlines()[1:]
    assert line.startswith(f"{path}:1: not valid JSON: ") and line.endswith(f"; {hint}")


def test_a_stale_step_names_its_trace_entry_once() -> None:
    """Steps count from 1, the file's `trace` from 0: "step 23 … trace[22]" read as two steps."""
    act = Reconcile(controller="leader-labeler", key="default/redis-0")
    reason = not_enabled(22, act, [Reconcile(controller="leader-labeler", key="default/redis")])
    assert reason == ("step 23 (trace[22] in the file): Reconcile(controller=leader-labeler, key=default/redis-0) is "
                      "no longer enabled; the nearest enabled action, Reconcile(controller=leader-labeler, "
                      "key=default/redis), differs in trace[22].action.key (the model changed, or the file was edited)")


def test_walks_say_how_long_they_may_be(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 3: `--engine walk --max-depth 30` reported "depth 155". Every other walk goes on for the
    fair run's length and a quarter (`engine.run_length`, by design: long workloads' last steps); the
    figure was that length, not a depth reached — the line now says so."""
    code = main(["check", str(WEB), "--engine", "walk", "--workers", "1", "--runs", "4", "--max-depth", "3",
                 "--property", "node-not-overcommitted", "--budget", "60", "--out", str(tmp_path)])
    out = "\n".join(line for line in capsys.readouterr().out.splitlines() if "time:" not in line) + "\n"
    assert code == 0, out
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()
    assert "4 runs, " in out and (" steps a run on average (each up to 3 steps, then those judging convergence; "
                                  "the odd-numbered up to ") in out
