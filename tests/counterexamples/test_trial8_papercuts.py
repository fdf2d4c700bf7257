"""Trial 8's paper cuts in counterexample files, replay and the pytest plugin: several corpus
folders (`--kubeprop-corpus=DIR` repeated, since trial 10), `created` from SOURCE_DATE_EPOCH, and
booleans spelt as the scenario spells them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from inner_pytest import PytestRun

from kubeprop.counterexamples.format import dumps
from kubeprop.counterexamples.format_records import Counterexample
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import replay
from kubeprop.counterexamples.trace import now_utc
from kubeprop.model.errors import UsageError
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.registry import Violation

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "counterexamples" / "corpus"


def test_several_corpus_folders_with_the_option_repeated(tmp_path: Path, inner_pytest: PytestRun) -> None:
    folders = [tmp_path / name for name in ("a", "b", "c")]
    for folder, source in zip(folders, sorted(CORPUS.glob("*.json")), strict=False):
        folder.mkdir()
        shutil.copy(source, folder / source.name)
    done = inner_pytest(tmp_path, str(tmp_path), *(f"--kubeprop-corpus={folder}" for folder in folders))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout  # trial 8: 1 passed (only the first folder was a corpus)


def test_created_honours_source_date_epoch(monkeypatch: pytest.MonkeyPatch, rs_counterexample: Counterexample
                                           ) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert now_utc() == "2023-11-14T22:13:20Z"
    for bad in ("", "abc", "-5", "1.5", "9" * 13):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH: expected seconds since 1970-01-01"):
            now_utc()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert now_utc().endswith("Z")


def test_two_recordings_are_byte_identical_under_source_date_epoch(
        monkeypatch: pytest.MonkeyPatch, rs_trace: Callable[[ClusterModel], tuple[tuple[Action, ...], Violation]]
) -> None:
    from kubeprop.counterexamples.trace import record
    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.scenario.load import load_scenario

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    model = build_model(load_scenario(REPO / "tests" / "model" / "data" / "variants" / "web.yaml"),
                        variant="rs-no-expectations")
    trace, violation = rs_trace(model)
    first, second = (dumps(record(model, trace, violation)) for _ in range(2))
    assert first == second
    assert '"created": "2023-11-14T22:13:20Z"' in first


def test_replay_spells_parameters_as_the_scenario_does(rs_file: Path) -> None:
    data = json.loads(rs_file.read_text())
    data["model"]["parameters"] = {"instantCaches": False, "nodeMonitorGracePeriodSeconds": 40}
    edited = rs_file.with_name("params.json")
    edited.write_text(json.dumps(data))
    ce = replay(edited).counterexample
    assert ce.parameters == FrozenMap({"instantCaches": False, "nodeMonitorGracePeriodSeconds": 40})
    model_line = next(line for line in render_text(replay(edited)).splitlines() if line.startswith("model "))
    assert model_line.endswith("parameters instantCaches=false, nodeMonitorGracePeriodSeconds=40")
    assert "False" not in model_line  # trial 8: apiPriorityAndFairness=False beside check's =false


def test_a_test_path_taken_as_a_corpus_folder_is_refused(tmp_path: Path, inner_pytest: PytestRun) -> None:
    """Trial 8 refused a folder of Python files taken as a corpus folder by the option's many values;
    since trial 10 the option takes one value, written with `=`, and the two-argument form is refused."""
    corpus, tests = tmp_path / "corpus", tmp_path / "tests"
    corpus.mkdir()
    tests.mkdir()
    shutil.copy(next(iter(sorted(CORPUS.glob("*.json")))), corpus / "one.json")
    (tests / "test_one.py").write_text("def test_one() -> None:\n    assert True\n")
    done = inner_pytest(tmp_path, "--kubeprop-corpus", str(corpus), str(tests))
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"--kubeprop-corpus {corpus}: write --kubeprop-corpus={corpus} (one folder each" in done.stderr
    done = inner_pytest(tmp_path, f"--kubeprop-corpus={corpus}", str(tests))
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr  # the test, the corpus
