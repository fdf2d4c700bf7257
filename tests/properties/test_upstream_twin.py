"""Known upstream behaviour under a variant (issue 11): decided on the variant's correct twin.

A violation found under `--variant V` is upstream behaviour the variant plays no part in only when
its trace replays on the twin (every action enabled, the same property violated where it ends) and
a known entry recognizes it there; the search then goes on for the variant's own bug. Everything
here is bounded by depth (BFS), not by wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.counterexamples.trace import states_along
from kubeprop.model.cluster.twin import correct_twin
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER, USER_SCENARIOS
from kubeprop.properties.registry import select
from kubeprop.properties.upstream_behaviour import UpstreamBehaviour, match
from kubeprop.properties.upstream_twin import on_twin

DATA = Path(__file__).resolve().parents[1] / "model" / "data"
RESTORE = DATA / "variants" / "restore.yaml"
TIGHT = DATA / "catalogue" / "tight.yaml"
PROPERTIES = ["rollout-surge-bound", "replicaset-no-overcreation"]


def _always(prop: str) -> UpstreamBehaviour:
    """An entry that recognizes every violation of `prop`: what is left to decide is the twin's."""
    return UpstreamBehaviour("always", prop, "recognizes anything", ("a test",), lambda *_: True)


def _rs_no_expectations(save_to: Path | None = None) -> CheckReport:
    return check(RESTORE, PROPERTIES, engine="bfs", budget=None, bounds=Bounds(max_depth=6),
                 variant="rs-no-expectations", save_to=save_to)


def test_the_upstream_race_found_first_is_reported_apart_and_the_variants_own_bug_is_still_found(
        tmp_path: Path) -> None:
    """restore.yaml's rollout: BFS meets the Deployment controller's stale-lister race (4 steps, no
    ReplicaSet sync in it) before rs-no-expectations' over-creation (5 steps). Before issue 11 the
    race was the variant's find and ended the search."""
    report = _rs_no_expectations(tmp_path)
    race, own = report.found
    assert (race.violation.property, len(race.trace)) == ("rollout-surge-bound", 4)
    assert race.upstream is not None and race.upstream.name == "deployment-stale-replicaset-lister"
    assert (own.violation.property, own.upstream) == ("replicaset-no-overcreation", None)
    assert report.violation == own.violation
    assert report.violation.property in USER_SCENARIOS["rs-no-expectations"][1]
    assert race.path is not None and own.path is not None  # both recorded, as on the correct model


def test_a_trace_that_replays_on_the_twin_without_the_violation_stays_the_variants() -> None:
    report = _rs_no_expectations()
    own = report.found[1]
    twin = correct_twin(report.model)
    end = states_along(twin, own.trace)[-1]  # every action is enabled on the twin...
    assert select(["replicaset-no-overcreation"])[0](twin, end) is None  # ...but its expectations hold the pods
    assert on_twin(report.model, own.violation, own.trace) is None
    assert match(report.model, own.violation, own.trace,
                 known=(_always("replicaset-no-overcreation"),)) is None


def test_a_trace_that_does_not_replay_on_the_twin_stays_the_variants() -> None:
    """dual-scheduler's double booking: its second scheduler's actions are not enabled on the twin,
    which runs one scheduler under leader election."""
    report = check(TIGHT, ["node-not-overcommitted"], engine="bfs", budget=None, bounds=Bounds(max_depth=10),
                   variant="dual-scheduler", action_filter=DUAL_SCHEDULER)
    assert report.violation is not None and any("scheduler-2" in str(a) for a in report.trace)
    assert on_twin(report.model, report.violation, report.trace) is None
    assert match(report.model, report.violation, report.trace, known=(_always("node-not-overcommitted"),)) is None
    assert report.found[0].upstream is None


def test_the_same_entry_recognizes_a_trace_that_replays_on_the_twin() -> None:
    """The control for the two tests above: the permissive entry does match where the twin replays
    the trace to the same violation, so it is the twin that decided there."""
    report = _rs_no_expectations()
    race = report.found[0]
    replayed = on_twin(report.model, race.violation, race.trace)
    assert replayed is not None and replayed.model.variant == "correct"
    assert replayed.violation == race.violation
    assert match(report.model, race.violation, race.trace,
                 known=(_always("rollout-surge-bound"),)) is not None


CLASSIFY = """
import json, sys
from kubeprop.counterexamples.format import load
from kubeprop.counterexamples.replay import replay
from kubeprop.properties.upstream_behaviour import match
out = {}
for path in sys.argv[1:]:
    result = replay(path)
    found = match(result.model, result.violation, load(path).actions)
    out[path] = None if found is None else found.name
print(json.dumps(out, sort_keys=True))
"""


def test_a_files_classification_does_not_depend_on_the_process(tmp_path: Path) -> None:
    """The files recorded under the variant, replayed and classified in fresh interpreters with
    different hash seeds, are classified as the check classified them."""
    report = _rs_no_expectations(tmp_path)
    files = sorted(str(d.path) for d in report.found)
    expected = {str(d.path): None if d.upstream is None else d.upstream.name
                for d in report.found}
    children = [subprocess.Popen([sys.executable, "-c", CLASSIFY, *files], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
                for seed in ("0", "4242")]  # side by side: each is mostly an interpreter importing kubeprop
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        assert json.loads(out) == expected
