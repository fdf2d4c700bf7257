"""Helm hooks in `helm template` output (report10, trial finding): `helm install` creates no
`test` hook (`helm test` does), nor an upgrade, rollback or delete hook, and drops an object whose
hook event it does not know; the loader leaves those out, undecoded, and `kubeprop validate` /
`kubeprop check` name each in a note. `pre-install`/`post-install` hooks are kept, with a note."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.scenario.helm_hooks import skip_reason
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
HELM = "tests/model/data/load10/helm"


def _hook(value: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {"helm.sh/hook": value}}}


@pytest.mark.parametrize(("value", "skipped"), [
    ("test", "a helm test hook"), ("test-success", "a helm test hook"), (" Test ", "a helm test hook"),
    ("pre-upgrade,post-rollback", "a helm pre-upgrade, post-rollback hook"),
    ("crd-install", "is no hook event helm knows"),
    ("pre-install,crd-install", "'crd-install' is no hook event helm knows"),  # audit18a: dropped, not created
    ("crd-install,pre-install", "'crd-install' is no hook event helm knows"),
    ("pre-install", None), ("post-install,test", None), (7, None),
])
def test_which_hooks_helm_install_creates(value: object, skipped: str | None) -> None:
    reason = skip_reason(_hook(value))
    assert (reason is None) if skipped is None else (reason is not None and skipped in reason)
    assert skip_reason({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}) is None


def test_test_hooks_are_left_out_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    scenario = load_scenario(HELM)
    assert [m.obj.metadata.name for m in scenario.objects] == ["web", "web", "web-seed"]
    assert [(s.label, s.line) for s in scenario.skipped] == [
        ("Pod web-test-connection", 40), ("Pod web-test-legacy", 55), ("ConfigMap web-upgrade-notice", 70),
        ("ConfigMap web-old-crd-hook", 79)]  # web-test-legacy's bad quantity is never decoded: helm never sends it


def test_validate_and_check_print_the_notes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    assert main(["validate", HELM]) == 0
    out = capsys.readouterr().out
    left_out = next(line for line in out.splitlines() if line.startswith("note: left out"))
    assert left_out == (
        "note: left out, as `helm install` creates none of them (kubeprop models an install of the chart): "
        f"Pod web-test-connection ({HELM}/web.yaml:40: a helm test hook: created by `helm test`, not by "
        f"`helm install`); Pod web-test-legacy ({HELM}/web.yaml:55: a helm test hook: created by `helm test`, not "
        f"by `helm install`); ConfigMap web-upgrade-notice ({HELM}/web.yaml:70: a helm pre-upgrade hook: not "
        f"created by `helm install`); ConfigMap web-old-crd-hook ({HELM}/web.yaml:79: helm.sh/hook 'crd-install' "
        "is no hook event helm knows: helm drops the object)")
    assert "web-test-connection" not in out.split(left_out)[1]  # not created
    assert (f"hook-delete-policy; not modelled): ConfigMap web-seed (post-install,post-upgrade; {HELM}/web.yaml:29)"
            in out)
    assert main(["check", HELM, "--engine", "walk", "--budget", "2", "--out", str(tmp_path)]) == 0
    header = capsys.readouterr().out.split("\n\n")[0]
    assert left_out in header.splitlines() and "note: helm install hooks created" in header
