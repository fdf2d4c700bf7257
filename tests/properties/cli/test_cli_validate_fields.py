"""`kubeprop validate` and fields the model does not model (trial 5, M5 and the dropped-fields
papercut): a field whose absence would change what the checker sees is bad input naming file,
line and field (`REFUSED_JSON_FIELDS`); a dropped one (`IGNORED_JSON_FIELDS`) is named in a note
under its object, from the codec's own record, and the run still exits 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import kubeprop

from kubeprop.model.api.codec import recording_dropped
from kubeprop.model.api.objects import decode_object

POD = """apiVersion: v1
kind: Pod
metadata: {name: job}
spec:
  restartPolicy: Never
  containers: [{name: main, image: etl:v1}]
"""


@pytest.mark.parametrize(("extra", "field", "fragment"), [
    ("  runtimeClassName: gvisor\n", "spec.runtimeClassName", "RuntimeClass not found"),
    ("  resourceClaims: [{name: gpu, resourceClaimName: gpu}]\n", "spec.resourceClaims", "pending until its claims"),
    ("  ephemeralContainers: [{name: debug, image: busybox}]\n", "spec.ephemeralContainers", "422 Forbidden"),
])
def test_a_field_that_changes_the_check_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str,
                                                   field: str, fragment: str) -> None:
    (tmp_path / "pod.yaml").write_text(POD + extra)
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 2, out
    assert f"pod.yaml:7: {field}: not modelled: " in err and fragment in err
    assert "Traceback" not in err


def test_unset_refused_fields_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pod.yaml").write_text(POD + "  hostNetwork: false\n  runtimeClassName: null\n"
                                             "  ephemeralContainers: []\n")
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 0, err
    assert "note:" not in out


def test_host_network_is_modelled_not_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`hostNetwork: true` used to be refused as not modelled; the model now gives it upstream's
    semantics (host ports, the node's IP, the DaemonSet toleration), so it validates like any field."""
    (tmp_path / "pod.yaml").write_text(POD.replace("image: etl:v1}", "image: etl:v1, ports: [{containerPort: 80}]}")
                                       + "  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet\n")
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 0, err
    assert "spec.hostNetwork" not in out + err


def test_dropped_fields_are_listed_per_object_and_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pod.yaml").write_text(
        POD.replace("containers: [{name: main, image: etl:v1}]",
                    "containers: [{name: main, image: etl:v1, workingDir: /w}]")
        + "  dnsPolicy: ClusterFirst\n  securityContext: {}\n")
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("created  Pod default/job")))
    # securityContext: {} says nothing, so it is not named
    assert lines[at + 1] == "    note: dropped, not modelled: spec.containers[0].workingDir, spec.dnsPolicy"
    code, out, _ = kubeprop(capsys, "validate", "-o", "yaml", str(tmp_path))
    assert code == 0 and "#     note: dropped, not modelled: spec.containers[0].workingDir, spec.dnsPolicy" in out


def test_the_record_is_the_codecs_ignored_fields() -> None:
    """Every name the note can give comes from a class's IGNORED_JSON_FIELDS: a field the model
    types is never recorded, and a refused one is an error, not a note."""
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "selfLink": "/x"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"hostIPC": True, "containers": [{"name": "c", "image": "i", "tty": True}]}}}}
    with recording_dropped() as dropped:
        decode_object(body)
    assert dropped == [("metadata", "selfLink"), ("spec", "template", "spec", "hostIPC"),
                       ("spec", "template", "spec", "containers", 0, "tty")]


STS = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1, maxUnavailable: 2}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: db:1}]}
"""


@pytest.mark.parametrize("gate", [False, True])
def test_a_field_dropped_by_a_feature_gate_is_listed_where_the_gate_is_off(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], gate: bool) -> None:
    """StatefulSet maxUnavailable: MaxUnavailableStatefulSet is off in v1.33 (the default release)
    and on with `maxUnavailableStatefulSet: true` (v1.35 and later)."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "db.yaml").write_text(STS)
    scenario = ("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\nmanifests: [m]\n"
                "topology: {nodes: [{name: w1, allocatable: {cpu: \"1\", memory: 1Gi, pods: \"10\"}}]}\n"
                "users: [{name: admin, clusterRoles: [cluster-admin]}]\n")
    if gate:
        scenario += "parameters: {maxUnavailableStatefulSet: true}\n"
    (tmp_path / "scenario.yaml").write_text(scenario)
    note = ("    note: dropped by the API server, feature gate MaxUnavailableStatefulSet off (parameter "
            "maxUnavailableStatefulSet: false): spec.updateStrategy.rollingUpdate.maxUnavailable")
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("created  StatefulSet default/db")))
    assert (lines[at + 1] == note) is not gate
    assert (note in lines) is not gate
    code, out, _ = kubeprop(capsys, "validate", "-o", "yaml", str(tmp_path))
    assert code == 0 and ("# " + note in out) is not gate
    assert ("maxUnavailable: 2" in out) is gate


def test_readiness_gates_are_named_with_who_must_set_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 6 (rg1): the gate was accepted silently, as data; the kubelet now waits for it, and
    nothing built in sets its condition."""
    gates = "  readinessGates: [{conditionType: example.com/lb}, {conditionType: b}]\n"
    (tmp_path / "pod.yaml").write_text(POD + gates)
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("created  Pod default/job")))
    assert lines[at + 1] == ("    note: readinessGates: the kubelet keeps a pod not Ready until its conditions "
                             "example.com/lb, b are True in status.conditions; no built-in controller sets them: a "
                             "controller of the scenario must, by a status update of the pod")
    code, out, _ = kubeprop(capsys, "validate", "-o", "yaml", str(tmp_path))
    assert code == 0 and "#     note: readinessGates: the kubelet keeps a pod not Ready" in out
    (tmp_path / "pod.yaml").write_text(POD + "  readinessGates: [{conditionType: 'not valid'}]\n")
    code, out, _ = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 2 and "pod.yaml:7: spec.readinessGates[0].conditionType: Invalid value" in out
