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


def test_an_undecoded_object_left_out_refuses_what_depends_on_it(tmp_path: Path) -> None:
    """The Namespace's `metadata` is not an object: without it no stand-in decodes (a name is
    required), so it is not created, and the ConfigMap in it is refused 404, as `kubectl apply -f`
    of the same file would report after its Namespace's error."""
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: [team]\n---\n"
                                     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    lines = [f"{p.line}: {p.field}: {p.message}" for p in refused.value.problems]
    assert len(lines) == 2 and lines[0].startswith("3: metadata: ")
    # trial 22: the 404 says it follows from the Namespace that did not decode (its name unreadable here)
    assert lines[1] == ('5: : the API server rejected ConfigMap team/c: 404 NotFound: namespaces "team" not found '
                        f"(the Namespace manifest at {tmp_path / 'a.yaml'}:1, whose name cannot be read, may be it: "
                        "it did not decode; the object is validated once it does)")


def test_a_stand_in_namespace_spares_its_objects_a_knock_on_404(tmp_path: Path) -> None:
    """The Namespace's labels are a list: without them it decodes (its stand-in) and is created,
    so the ConfigMap in it is not refused 404 — a refusal that fixing the labels would remove, not
    a problem of the file (before the stand-ins: both reported)."""
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: [x]}\n---\n"
                                     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    lines = [f"{p.line}: {p.field}: {p.message}" for p in refused.value.problems]
    assert len(lines) == 1 and lines[0].startswith("3: metadata.labels: ")


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


BAD12 = "tests/model/data/load12/bad.yaml"


def test_an_object_that_does_not_decode_still_gets_its_422_in_line_order_golden(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial 12 (u1-app/bad): a Deployment with an unknown field (line 29) and a bad quantity
    (line 30) whose selector does not match its template's labels (line 24). Its 422 came only
    once the decoding problems were fixed, and line 30 was printed before line 29. Now it is sent
    to the API server without the two fields (a stand-in), and every problem comes in line order."""
    monkeypatch.chdir(REPO)
    code = main(["validate", BAD12])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    golden = GOLDEN / "validate_stand_in.txt"
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        golden.write_text(err)
    assert err == golden.read_text()
    lines = [int(line.split(":")[1]) for line in err.splitlines()[1:]]
    assert lines == [4, 15, 24, 29, 30]
    assert "bad.yaml:24: spec.template.metadata.labels: the API server rejected Deployment default/shop: 422" in err


def test_a_stand_ins_rejections_about_its_left_out_fields_are_dropped(tmp_path: Path) -> None:
    """Without `resources.requests.cpu` (a bad quantity) the Deployment's stand-in could be
    refused for what is near that field; only its rejections elsewhere are reported. A required
    field that is bad cannot be left out: no stand-in, only the decoding problem."""
    (tmp_path / "a.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: default}\nspec:\n"
        "  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n"
        "      containers:\n      - name: c\n        image: x\n"
        "        resources: {requests: {cpu: 1.5.0}, limits: {cpu: 100m}}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    fields = [p.field for p in refused.value.problems]
    assert fields == ["spec.template.metadata.labels", "spec.template.spec.containers[0].resources.requests.cpu"]
    found = read_manifests([tmp_path / "a.yaml"])
    assert [s.fields for s in found.stand_ins] == [(("spec", "template", "spec", "containers", 0, "resources",
                                                     "requests", "cpu"),)]
    assert found.stand_ins[0].covers("spec.template.spec.containers[0].resources.requests")
    assert not found.stand_ins[0].covers("spec.template.metadata.labels")


LOAD22 = "tests/model/data/load22"


@pytest.mark.parametrize(("folder", "lines"), [
    ("s19-badq", [(4, "status.allocatable.memory"), (4, "status.allocatable.pods"),
                  (10, "spec.containers[0].resources.requests.cpu"), (10, "spec.containers[0].resources.requests")]),
    ("s19b-badq", [(4, "status.allocatable.pods"), (10, "spec.containers[0].resources.requests"),
                   (10, "spec.containers[0].resources.requests")]),
])
@pytest.mark.parametrize("command", ["validate", "check", "schedule"])
def test_a_nodes_problems_come_with_the_quantities_and_the_422s_golden(
        folder: str, lines: list[tuple[int, str]], command: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Trial 22 (u2/s19-badq, s19b-badq, s19c): a Node manifest with `pods: "-5"` beside a bad
    `memory` quantity, and a Pod whose requests are above its limits (one of them a bad quantity).
    The Node's -5 was hidden by the quantity errors (it is checked on the Node's stand-in now),
    and once they were fixed the Pod's 422 was hidden by the -5 (the Node problems stopped the
    load before the API server saw any object; now the objects are sent without the Node) — three
    runs for one file. Every problem comes in one run, exit 2, each at its field's line."""
    monkeypatch.chdir(REPO)
    extra = {"check": ["--budget", "5", "--out", str(tmp_path / "out")], "schedule": []}.get(command, [])
    code = main([command, f"{LOAD22}/{folder}", *extra])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.splitlines()[0] == f"kubeprop {command}: bad input:"
    found = [(int(line.split(":")[1]), line.split(": ")[1]) for line in err.splitlines()[1:]]
    assert found == lines
    golden = GOLDEN / f"validate_{folder}.txt"
    if command == "validate" and os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        golden.write_text(err)
    assert err.replace(f"kubeprop {command}:", "kubeprop validate:") == golden.read_text()


def test_the_fixed_file_still_reports_the_pods_422(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """u2/s19c: the Node fixed, every object decodes and the load sends nothing; `check` reports the
    Pod's two 422 field errors (cpu and memory above their limits), as before."""
    monkeypatch.chdir(REPO)
    code = main(["check", f"{LOAD22}/s19c", "--budget", "5", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert [line.rsplit(": ", 1)[-1] for line in err.splitlines()[1:]] == [
        "must be less than or equal to cpu limit of 1m", "must be less than or equal to memory limit of 1Gi"]


def test_a_node_problem_does_not_keep_a_good_node_from_the_topology(tmp_path: Path) -> None:
    """Only the Node with a problem is left out of the objects sent: the Pod bound by nodeName to the
    good one is validated against a cluster that has it (no knock-on error), and a duplicate Node is
    reported at its name's line."""
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: Node\nmetadata: {name: good}\nstatus: {allocatable: {cpu: '1', pods: '5'}}\n"
        "---\napiVersion: v1\nkind: Node\nmetadata: {name: bad}\nstatus: {allocatable: {cpu: '1', pods: '-1'}}\n"
        "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: good\nstatus: {allocatable: {cpu: '1'}}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\n"
        "spec: {nodeName: good, containers: [{name: c, image: x, resources: {limits: {cpu: 1m}, "
        "requests: {cpu: 2m}}}]}\n")
    with pytest.raises(ScenarioError) as refused:
        load_scenario(tmp_path)
    assert [(p.line, p.field) for p in refused.value.problems] == [
        (9, "status.allocatable.pods"), (14, "metadata.name"), (20, "spec.containers[0].resources.requests")]
    assert "duplicate Node 'good'" in refused.value.problems[1].message
