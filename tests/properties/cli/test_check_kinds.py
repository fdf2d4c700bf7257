"""`kubeprop check` on a user's manifests folder holding kinds the model stores only, or refuses:
the header names the stored-only objects once; refused kinds are reported all at once, each with
its reason and remedy (golden), exit 2 without a traceback.

Regenerate the golden file after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_check_kinds.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main

DATA = Path(__file__).parents[2] / "model" / "data" / "kinds"
GOLDEN = Path(__file__).parent / "golden" / "check_refused_kinds.txt"


def test_refused_kinds_golden(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent.parent.parent)
    code = main(["check", "tests/model/data/kinds/refused"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == "" and "Traceback" not in err
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(err)
    assert err == GOLDEN.read_text()


def test_header_names_stored_only_objects_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["check", str(DATA / "stored"), "--engine", "walk", "--budget", "2", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    note = ("stored only (kept by the API server, read by no modelled component but the garbage collector): "
            "IngressClass nginx, Ingress default/web, NetworkPolicy default/allow-web")
    assert out.splitlines()[1] == note
    assert out.count("stored only") == 1


def test_header_names_the_stored_only_objects_of_workload_steps(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    """An object an `apply` step creates is named too, after the manifests' ones, each once (the
    step applies the folder's Ingress again)."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.yaml").write_text((DATA / "stored" / "app.yaml").read_text())
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "policy.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: default}\n"
        "spec: {podSelector: {}}\n")
    (tmp_path / "scenario.yaml").write_text(
        "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: later}\nmanifests: [app]\n"
        "topology:\n  nodes:\n    - name: worker-1\n      allocatable: {cpu: '1', memory: 1Gi, pods: '10'}\n"
        "workload:\n  - apply: later\n  - apply: app\n")
    code = main(["check", str(tmp_path / "scenario.yaml"), "--engine", "walk", "--budget", "2",
                 "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.splitlines()[1].endswith(
        "IngressClass nginx, Ingress default/web, NetworkPolicy default/allow-web, NetworkPolicy default/deny")


def test_stored_only_object_without_a_namespace_is_named_in_default(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path) -> None:
    """An Ingress written without `metadata.namespace` is created in `default`: the header names it
    `Ingress default/shop`, as `kubeprop validate` does (it said `Ingress /shop`, trial 9)."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "ingress.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: shop}\n"
        "spec:\n  defaultBackend: {service: {name: shop, port: {number: 80}}}\n")
    assert main(["validate", str(folder)]) == 0
    validated = capsys.readouterr().out
    assert "Ingress default/shop" in validated
    code = main(["check", str(folder), "--engine", "walk", "--budget", "2", "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code in (0, 3), out + err
    assert out.splitlines()[1].endswith(": Ingress default/shop"), out
    assert "Ingress /shop" not in out
