"""Loading reports every problem of the manifests at once (report10, trial finding): each object
is decoded on its own, as `kubectl apply -f` sends each object of a multi-document file on its
own, so an object that does not decode no longer hides another object's 422 in the same run.
`kubeprop validate` and `kubeprop check` print the decoding problems and the API server's
rejections of the objects that decoded together, in file and line order, exit 2 (golden).

Regenerate the golden files after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/model/scenario/test_load_every_problem.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeprop.model.api.manifests import read_manifests
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
MIXED = "tests/model/data/load10/mixed"
GOLDEN = REPO / "tests" / "properties" / "cli" / "golden"


@pytest.mark.parametrize("command", ["validate", "check"])
def test_every_decoding_and_validation_problem_at_once_golden(command: str, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    extra = ["--budget", "5", "--out", str(tmp_path)] if command == "check" else []
    code = main([command, MIXED, *extra])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    golden = GOLDEN / f"{command}_every_problem.txt"
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        golden.write_text(err)
    assert err == golden.read_text()
    # the 422s of objects that decoded are there with the decoding problems (before: only the latter)
    assert "01-app.yaml:36: spec.template.metadata.labels: the API server rejected Deployment default/api: 422" in err
    assert "02-more.yaml:8: spec.ports[0].port: the API server rejected Service default/web: 422" in err
    assert not (tmp_path / "out").exists() and "running" not in err


def test_read_manifests_decodes_each_object_on_its_own() -> None:
    found = read_manifests([REPO / MIXED])
    assert [m.obj.metadata.name for m in found.objects] == ["settings", "api", "web"]
    assert [(Path(p.file).name, p.line, p.field) for p in found.problems] == [
        ("01-app.yaml", 15, "spec.replicas"), ("01-app.yaml", 50, "spec.ports[0].targetPort"),
        ("02-more.yaml", 19, "spec.containers[0].resources.requests.cpu")]
    assert [Path(f).name for f in found.files] == ["01-app.yaml", "02-more.yaml"]


def test_a_scenario_files_manifests_report_every_problem_too(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(
        f"apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: s}}\nmanifests: [{REPO / MIXED}]\n"
        "topology:\n  nodes: [{name: n1, allocatable: {cpu: '2', memory: 4Gi, pods: '10'}}]\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    assert [(Path(p.file).name, p.line) for p in refused.value.problems] == [
        ("01-app.yaml", 15), ("01-app.yaml", 36), ("01-app.yaml", 50), ("02-more.yaml", 8), ("02-more.yaml", 8),
        ("02-more.yaml", 19)]


def test_a_rejection_caused_by_an_undecoded_object_is_reported_as_kubectl_would(tmp_path: Path) -> None:
    """The Namespace does not decode, so it is not created: the ConfigMap in it is refused 404, as
    `kubectl apply -f` of the same file would report after its Namespace's error."""
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: [x]}\n---\n"
                                     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    lines = [f"{p.line}: {p.field}: {p.message}" for p in refused.value.problems]
    assert len(lines) == 2 and lines[0].startswith("3: metadata.labels: ")
    assert lines[1] == '5: : the API server rejected ConfigMap team/c: 404 NotFound: namespaces "team" not found'


def test_a_scenario_files_own_problems_are_reported_without_sending_anything(tmp_path: Path) -> None:
    """With a problem in the scenario file itself the manifests' objects are not sent (its users
    or topology may be what is wrong): only the decoding problems are reported with it."""
    (tmp_path / "scenario.yaml").write_text(
        f"apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: s}}\nmanifests: [{REPO / MIXED}]\n"
        "parameters: {noSuchParameter: 1}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    text = str(refused.value)
    assert "noSuchParameter" in text and "spec.replicas" in text and "the API server rejected" not in text
