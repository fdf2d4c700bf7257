"""Every counterexample file kept in the repository replays as its test or page says, as recorded.

A recorded run whose model drifted still replays (`kubeprop replay` says STALE and replays
anyway), so a test that reads only the replay's violation or states passes on a file the command
calls stale: the twenty-sixth round found three Job files so (tests/model/data/job, their initial
state drifted with the Job's new fields) and a DaemonSet file recorded under the property's older
statement. Here each file kept in the repository (found by walking it, so a new one must be
listed) replays with the verdict its test or page expects, with no fingerprint drifting, and
meets its own `expectation` where it has one. The Raft files written to be refused
(`tests/counterexamples/data/raft-hostile`, test_hostile_raft_files.py) are bad input by design.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeprop.counterexamples.replay import ReplayResult, Verdict
from kubeprop.counterexamples.replay_file import replay_file

REPO = Path(__file__).resolve().parents[2]
SEARCHED = ("counterexamples", "tests", "examples", "docs")
"""The folders a counterexample file is kept in (the corpus, test data, examples, the pages)."""
REFUSED = "tests/counterexamples/data/raft-hostile"
"""Files written to be refused as bad input (test_hostile_raft_files.py); not replayed here."""
IGNORED = {"kubeprop-out", "__pycache__", ".pytest_cache", ".hypothesis"}
"""Folders of output a run leaves (ignored by git, .gitignore): not kept files."""

EXPECTED: dict[str, Verdict] = {
    # the corpus the repository's own gate replays (each file's expectation says the same)
    "counterexamples/corpus/bindings-respect-hard-constraints-b0a85135d872.json": Verdict.REPRODUCES,
    "counterexamples/corpus/endpoints-ready-pods-de1149f79121.json": Verdict.REPRODUCES,
    "counterexamples/corpus/node-not-overcommitted-156fb7713363.json": Verdict.REPRODUCES,
    "counterexamples/corpus/one-running-pod-per-identity-dea2fb843ee8.json": Verdict.REPRODUCES,
    "counterexamples/corpus/replicaset-no-overcreation-50c0faf044ff.json": Verdict.REPRODUCES,
    "counterexamples/corpus/replicaset-no-overcreation-feb3795a6a40.json": Verdict.PASSES,
    # test_raft_compat.py: an old Raft file, ElectionSafety at step 6
    "tests/counterexamples/data/raft-before-transfer.json": Verdict.REPRODUCES,
    # test_daemonsets.py: false alarms fixed, the property holds at every step
    "tests/model/data/daemonset/orphan-recreate.json": Verdict.PASSES,
    "tests/model/data/daemonset/surge-twice.json": Verdict.PASSES,
    # test_jobs.py (false alarms fixed) and test_upstream_behaviour_jobs.py (job-pod-released-not-deleted)
    "tests/model/data/job/scale-down-finished-pod.json": Verdict.PASSES,
    "tests/model/data/job/suspend-finished-pod.json": Verdict.PASSES,
    "tests/model/data/job/suspend-crash-released.json": Verdict.REPRODUCES,
    # test_builtin_names.py and the gate tests' corpus
    # test_reliance.py: a drain that timed out on a crashed node (trial18)
    "tests/properties/cli/data/drain-crash/drain-timeout.json": Verdict.REPRODUCES,
    "tests/properties/cli/data/rs-corpus/replicaset-no-overcreation-eb578814298c.json": Verdict.REPRODUCES,
    # test_reliance.py, and docs/cli.md (`kubeprop replay …partition-and-init-containers.json # exit 1`)
    "tests/properties/cli/data/slow-init/partition-and-init-containers.json": Verdict.REPRODUCES,
    "tests/properties/cli/data/trial10-reliance/delete-node.json": Verdict.REPRODUCES,
    "tests/properties/cli/data/trial10-reliance/paused-rollout-status.json": Verdict.REPRODUCES,
}


def _is_counterexample(path: Path) -> bool:
    """A JSON file that kubeprop's writer wrote: a Counterexample with a trace."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == "Counterexample" and "trace" in data


def kept_files() -> list[str]:
    """Every counterexample file in the searched folders but the refused ones, relative to the repo."""
    found = (p for top in SEARCHED for p in (REPO / top).rglob("*.json"))
    return sorted(p.relative_to(REPO).as_posix() for p in found
                  if not p.relative_to(REPO).as_posix().startswith(REFUSED) and not IGNORED & set(p.parts)
                  and _is_counterexample(p))


def test_every_kept_file_is_listed() -> None:
    """A counterexample file added to the repository is listed above with the verdict it replays to."""
    assert kept_files() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_kept_file_replays_as_expected_with_nothing_drifted(name: str) -> None:
    result = replay_file(REPO / name)
    assert result.verdict == EXPECTED[name], result.reason
    assert result.meets_expectation in (None, True), result.reason
    if isinstance(result, ReplayResult):  # (a Raft replay has no fingerprints)
        assert result.drift_step is None, result.reason
    assert len(result.states) == len(result.counterexample.actions) + 1
