"""The gate config's null lists and a corpus replay past `replayTimeout` (audit20b F8, F6).

F8: `checks: null` (or `checks:` with every entry commented out) ran the built-in default check
although `checks: []` is refused; the gate fails closed, so null is refused as the empty list is —
for `corpus` and a check's `properties` too. F6: with `replayTimeout: 1.0e-300` every corpus file
read "the replay process exited with code 0 without a verdict": after the pipe's poll timed out,
the join let the child finish, so the timeout was never recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import one_corpus_file

from kubeprop.model.scenario.load import ScenarioError
from kubeprop.properties.cli.gate_config import load_config
from kubeprop.properties.cli.gate_replay import replay_case


def _problems(tmp_path: Path, text: str) -> list[str]:
    config = tmp_path / "gate.yaml"
    config.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_config(config)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("text", ["checks: null\n", "checks:\n#  - scenario: web.yaml\n", "checks: ~\n"])
def test_a_null_checks_list_is_refused_like_the_empty_one(tmp_path: Path, text: str) -> None:
    [problem] = _problems(tmp_path, text)
    assert problem == (f"{tmp_path / 'gate.yaml'}:1: checks: is null (no value, as when every entry under it is "
                       "commented out); omit the field for the default check (a bounded BFS of FeastFlow), or list "
                       "at least one")


def test_null_corpus_and_properties_are_refused_all_at_once(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "corpus:\nchecks:\n  - maxDepth: 1\n    properties:\n")
    where = tmp_path / "gate.yaml"
    assert problems[0].startswith(f"{where}:1: corpus: is null") and "the built-in corpus" in problems[0]
    assert problems[1].startswith(f"{where}:4: checks[0].properties: is null") and "every property" in problems[1]
    assert len(problems) == 2


def test_leaving_the_fields_out_is_still_the_default(tmp_path: Path) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text("replayTimeout: 60\n")
    loaded, _ = load_config(config)
    assert loaded.corpus is None and loaded.checks == ()


def test_a_replay_past_a_tiny_replay_timeout_is_reported_as_timed_out(tmp_path: Path) -> None:
    [path] = sorted(one_corpus_file(tmp_path).glob("*.json"))
    case = replay_case(path, (), 1.0e-300)
    assert case.status == "error"
    assert case.message.startswith("the replay did not finish within 1e-300 s (replayTimeout)"), case.message
    assert "without a verdict" not in case.message
    assert replay_case(path, (), 300.0).status == "passed"
