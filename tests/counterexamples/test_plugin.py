"""The pytest plugin collects corpus files (only those) and reports mismatches with the trace."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "counterexamples" / "corpus"


def _pytest(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=where,
                          capture_output=True, text=True, timeout=120, check=False)


def test_corpus_items_pass_and_mismatches_fail_with_the_trace(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = next(p for p in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
                if json.loads(p.read_text())["expectation"] == "reproduces")
    shutil.copy(good, corpus / "good.json")
    data = json.loads(good.read_text())
    data["expectation"] = "passes"
    (corpus / "flipped.json").write_text(json.dumps(data))
    (tmp_path / "other.json").write_text("{}")  # not in a corpus folder: not collected
    done = _pytest(tmp_path, str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "expected PASSES, replay says REPRODUCES" in done.stdout
    assert "reproduce with: kubeprop replay" in done.stdout


def test_the_repository_corpus_passes() -> None:
    done = _pytest(REPO, "counterexamples/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(list(CORPUS.glob('*.json')))} passed" in done.stdout
