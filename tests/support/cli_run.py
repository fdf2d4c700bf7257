"""Running the `kubeprop` command line in-process, for the tests of its commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main

CORPUS = Path(__file__).resolve().parents[2] / "counterexamples" / "corpus"


def one_corpus_file(tmp_path: Path) -> Path:
    """A corpus folder under `tmp_path` holding one file of the shipped corpus that reproduces (a
    gate must replay something): the folder."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    source = next(f for f in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
                  if json.loads(f.read_text()).get("expectation") == "reproduces")
    shutil.copy(source, folder / source.name)
    return folder


def kubeprop(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`kubeprop ARGV…` in this process: its exit code and what it printed to stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_gate(folder: Path, config: Path) -> tuple[int, Path, Path]:
    """`kubeprop gate --config CONFIG` in this process, its JUnit report, Markdown summary and
    counterexample files going into `folder` (junit.xml, summary.md, out/): its exit code and the
    reports' paths. What it printed stays captured for the test to read."""
    junit, summary = folder / "junit.xml", folder / "summary.md"
    code = main(["gate", "--config", str(config), "--junit", str(junit), "--summary", str(summary),
                 "--out", str(folder / "out")])
    return code, junit, summary
