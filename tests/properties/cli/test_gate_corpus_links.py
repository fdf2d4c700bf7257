"""A symbolic-link loop in a gate corpus folder (trial 10, s3/gate/g13): the whole folder was
`cannot list corpus-links: Too many levels of symbolic links` (exit 2) without naming the entry.
Now each entry is judged on its own: beside a counterexample file, a loop is an error case naming
it; in a folder with nothing else, the config problem names it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_run import kubeprop

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
RS = REPO / "counterexamples" / "corpus" / "replicaset-no-overcreation-50c0faf044ff.json"


def test_a_link_loop_beside_a_counterexample_file_is_a_case_naming_it(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus-links"
    corpus.mkdir()
    shutil.copy(RS, corpus / RS.name)
    (corpus / "loop.json").symlink_to("loop.json")
    (corpus / "loop1.json").symlink_to("loop2.json")
    (corpus / "loop2.json").symlink_to("loop1.json")
    config = tmp_path / "gate.yaml"
    config.write_text(f"corpus: [corpus-links]\nchecks:\n  - {{scenario: {WEB}, budget: 20, maxDepth: 1, "
                      "properties: [node-not-overcommitted]}\n")
    code, out, err = kubeprop(capsys, "gate", "--config", str(config), "--out", str(tmp_path / "out"))
    assert code == 1, out + err  # trial 10: exit 2, "cannot list corpus-links"
    for name in ("loop.json", "loop1.json", "loop2.json"):
        assert f"ERR  corpus :: {name}: unreadable: {corpus / name}: too many levels of symbolic links\n" in out
    assert f"ok   corpus :: {RS.name}: REPRODUCES, expected REPRODUCES" in out


def test_a_folder_of_nothing_but_a_loop_is_refused_naming_it(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "loops"
    corpus.mkdir()
    (corpus / "loop.json").symlink_to("loop.json")
    (corpus / "gone.json").symlink_to(tmp_path / "nowhere.json")
    config = tmp_path / "gate.yaml"
    config.write_text("corpus: [loops]\n")
    code, out, err = kubeprop(capsys, "gate", "--config", str(config), "--out", str(tmp_path / "out"))
    assert (code, out) == (2, "")
    assert err == (f"kubeprop gate: bad input:\n{config}:1: corpus[0]: {corpus} holds no counterexample files "
                   "(*.json); a gate that replays nothing fails; gone.json: no such file or folder; loop.json: "
                   "too many levels of symbolic links\n")
