"""The pytest plugin collects corpus files (only those) and reports mismatches with the trace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from inner_pytest import PytestRun

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "counterexamples" / "corpus"


def test_corpus_items_pass_and_mismatches_fail_with_the_trace(tmp_path: Path, inner_pytest: PytestRun) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = next(p for p in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
                if json.loads(p.read_text())["expectation"] == "reproduces")
    shutil.copy(good, corpus / "good.json")
    fixed = next(p for p in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
                 if json.loads(p.read_text())["expectation"] == "passes")
    data = json.loads(fixed.read_text())
    data["expectation"] = "reproduces"
    (corpus / "flipped.json").write_text(json.dumps(data))
    (tmp_path / "other.json").write_text("{}")  # not in a corpus folder: not collected
    done = inner_pytest(tmp_path, str(tmp_path), f"--kubeprop-corpus={corpus}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "expected REPRODUCES, replay says PASSES" in done.stdout
    assert "reproduce with: kubeprop replay" in done.stdout


def test_a_passes_file_under_a_bug_variant_fails_naming_the_field(tmp_path: Path, inner_pytest: PytestRun) -> None:
    """F1 (audit20b): a reproducing file flipped to `passes` under its bug variant is bad input."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = next(p for p in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
                if json.loads(p.read_text())["expectation"] == "reproduces")
    data = json.loads(good.read_text())
    data["expectation"] = "passes"
    (corpus / "flipped.json").write_text(json.dumps(data))
    done = inner_pytest(tmp_path, str(tmp_path), f"--kubeprop-corpus={corpus}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "model.variant: rs-no-expectations is a bug variant" in done.stdout


def test_the_repository_corpus_passes(inner_pytest: PytestRun) -> None:
    done = inner_pytest(REPO, "counterexamples/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(list(CORPUS.glob('*.json')))} passed" in done.stdout


def test_nothing_is_collected_unless_asked(tmp_path: Path, inner_pytest: PytestRun) -> None:
    """An unrelated project's `tests/corpus/*.json` is left alone: the plugin is opt-in."""
    corpus = tmp_path / "tests" / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy(next(iter(sorted(CORPUS.glob("*.json")))), corpus / "looks-like-ours.json")
    (corpus / "theirs.json").write_text('{"not": "a counterexample"}')
    (tmp_path / "tests" / "test_one.py").write_text("def test_one() -> None:\n    assert True\n")
    done = inner_pytest(tmp_path, str(tmp_path / "tests"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_ini_setting_opts_in_and_items_carry_the_marker(tmp_path: Path, inner_pytest: PytestRun) -> None:
    corpus = tmp_path / "ce"
    corpus.mkdir()
    shutil.copy(next(iter(sorted(CORPUS.glob("*.json")))), corpus / "one.json")
    (tmp_path / "pytest.ini").write_text("[pytest]\nkubeprop_corpus = ce\n")
    done = inner_pytest(tmp_path, "-m", "kubeprop_counterexample", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_a_file_without_an_expectation_must_reproduce_as_replay_expect_says(tmp_path: Path,
                                                                            inner_pytest: PytestRun) -> None:
    """Trial 3: the plugin failed such a file while `kubeprop replay --expect` (and the gate) required
    REPRODUCES of it, the rule docs/counterexamples.md documents; now all three agree."""
    from kubeprop.properties.cli.main import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for expectation in ("reproduces", "passes"):
        source = next(p for p in sorted(CORPUS.glob("replicaset-no-overcreation-*.json"))
                      if json.loads(p.read_text())["expectation"] == expectation)
        data = json.loads(source.read_text())
        del data["expectation"]
        (corpus / f"was-{expectation}.json").write_text(json.dumps(data))
    done = inner_pytest(tmp_path, str(tmp_path), f"--kubeprop-corpus={corpus}")
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "FAILED corpus/was-passes.json" in done.stdout
    assert "expected REPRODUCES, replay says PASSES" in done.stdout
    assert main(["replay", "--expect", str(corpus / "was-reproduces.json")]) == 0
    assert main(["replay", "--expect", str(corpus / "was-passes.json")]) == 1


def test_a_refused_import_names_the_plugins_own_option(tmp_path: Path, inner_pytest: PytestRun) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data = json.loads(next(iter(sorted(CORPUS.glob("*.json")))).read_text())
    data["property"] = {**data["property"], "name": "team-property", "module": "kp_team_props"}
    (corpus / "team.json").write_text(json.dumps(data))
    done = inner_pytest(tmp_path, str(tmp_path), f"--kubeprop-corpus={corpus}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("if you trust it, allow it by name: pytest --kubeprop-allow-import kp_team_props, or list it under the "
            "ini setting kubeprop_allow_imports") in done.stdout
    assert "kubeprop replay --allow-import" not in done.stdout


def test_every_file_named_like_one_in_a_corpus_folder_is_an_item(tmp_path: Path, inner_pytest: PytestRun) -> None:
    """Trial 5 (u3/03c): a corpus file whose "kind" is "counterexample" was silently left out (5
    passed instead of 6). In a corpus folder every `*.json` file is an item — one that does not read
    as a counterexample file fails as bad input, as the gate and replay report it — and so is one
    named like a counterexample file but not `*.json`, and a FIFO named `*.json` (never opened)."""
    import os

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good = sorted(CORPUS.glob("*.json"))[0]
    shutil.copy(good, corpus / "good.json")
    data = json.loads(good.read_text())
    data["kind"] = "counterexample"
    (corpus / "lowercase.json").write_text(json.dumps(data, indent=2))
    (corpus / "unrelated.json").write_text('{"kind": "Fixture"}')
    (corpus / "bug.JSON").write_text(good.read_text())
    (corpus / "notes.txt").write_text("not collected")
    os.mkfifo(corpus / "pipe.json")
    done = inner_pytest(tmp_path, str(tmp_path), f"--kubeprop-corpus={corpus}")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 failed, 1 passed" in done.stdout, done.stdout
    assert "lowercase.json: kind" in done.stdout
    assert "unrelated.json: " in done.stdout
    assert "bug.JSON: named like a counterexample file but not *.json" in done.stdout
    assert "pipe.json: " in done.stdout and "FIFO" in done.stdout, done.stdout
