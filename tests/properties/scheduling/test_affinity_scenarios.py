"""`kubeprop schedule` on pod (anti-)affinity that depends on the API server and the namespace
informer (audit22b's two false alarms, both reported INFEASIBLE before):

* `match-label-keys.yaml`: two versions of one app keep their own replicas apart with
  `labelSelector: app=web` + `matchLabelKeys: [version]`; the API server merges `version In
  (<own>)` into each pod's selector (`pkg/registry/core/pod/strategy.go` mutatePodAffinity), so
  one replica of each version fits on each of the two nodes.
* `namespace-selector.yaml`: web's podAffinity selects db in the namespaces labelled team=a; the
  Namespace `data` carries that label (InterPodAffinity's namespace lister), so web goes next to db.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import kubeprop

DATA = Path(__file__).parent / "data" / "affinity"


def test_match_label_keys_rollout_is_feasible(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kubeprop(capsys, "schedule", "--progress", "none", str(DATA / "match-label-keys.yaml"))
    assert (code, err) == (0, ""), out
    assert "FEASIBLE as given" in out and "places every pod too" in out


def test_namespace_selector_reads_the_namespace_labels(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kubeprop(capsys, "schedule", "--progress", "none", str(DATA / "namespace-selector.yaml"))
    assert (code, err) == (0, ""), out
    assert "default/web-0  worker-1" in out


def test_namespace_selector_matching_no_namespace_is_infeasible(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    """The same scenario with the namespace labelled team=b: no db pod is selected, and web (which
    does not match its own term) fits nowhere — the selector is read, not ignored."""
    folder = tmp_path / "namespace-selector"
    folder.mkdir()
    manifests = (DATA / "namespace-selector" / "app.yaml").read_text(encoding="utf-8")
    (folder / "app.yaml").write_text(manifests.replace("labels: {team: a}", "labels: {team: b}"), encoding="utf-8")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text((DATA / "namespace-selector.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = kubeprop(capsys, "schedule", "--progress", "none", str(scenario))
    assert code == 1 and "INFEASIBLE as given" in out, out
