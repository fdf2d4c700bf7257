"""`kubeprop` on a user's controller or property that raises or returns something invalid (user trial
13): bad input (exit 2) naming the controller and key (or the property and state), the exception,
the user's file:line and what is valid — not "internal error … a bug in kubeprop" (exit 4) — under
`check` (one process and the portfolio's lanes), `replay` and `gate`; KUBEPROP_DEBUG=1 shows the
traceback. And an operator refused for ever is no longer "held": `controllers-not-failing`.

Regenerate the golden file after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_user_code_cli.py` and review the diff."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import kubeprop, run_gate
from user_modules import user_folder

from kubeprop.model.errors import UserCodeError
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "model" / "user_code"
GOLDEN = Path(__file__).parent / "golden" / "user_code_errors.txt"
CASES = ("raising.yaml", "returns-list.yaml", "junk.yaml", "raising-property.yaml", "number-property.yaml")


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _shown(text: str) -> str:
    return text.replace(str(DATA), "DATA")


def test_errors_in_the_users_code_are_bad_input_naming_it(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    text = []
    for case in CASES:
        code, out, err = kubeprop(capsys, "check", str(DATA / case), "--engine", "bfs", "--budget", "30",
                                  "--progress", "none", "--out", str(tmp_path))
        assert (code, out) == (2, ""), (case, err)
        text.append(f"$ kubeprop check {case} --engine bfs  # exit {code}\n{_shown(err)}")
    text = "\n".join(text)
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert "bug in kubeprop" not in text and "Traceback" not in text


@pytest.mark.parametrize("engine", ["portfolio", "walk"])
def test_worker_processes_report_the_same_error(engine: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The portfolio's lanes and the walk workers (forked processes) send the error back whole."""
    code, _, err = kubeprop(capsys, "check", str(DATA / "raising-later.yaml"), "--engine", engine, "--workers", "2",
                            "--budget", "20", "--progress", "none", "--out", str(tmp_path))
    assert code == 2, err
    assert "controller 'copier' (copier.RaisingLater) raised ValueError: copy of web already there" in err
    assert "while reconciling key 'default/web'" in err and "Traceback" not in err


def test_kubeprop_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBEPROP_DEBUG", "1")
    with pytest.raises(UserCodeError) as caught:
        main(["check", str(DATA / "raising.yaml"), "--engine", "bfs", "--budget", "30", "--progress", "none",
              "--out", str(tmp_path)])
    assert isinstance(caught.value.__cause__, KeyError)


def test_replay_and_gate_report_it_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = kubeprop(capsys, "check", str(DATA / "invalid-child.yaml"), "--engine", "bfs", "--budget", "30",
                            "--progress", "none", "--out", str(out_dir))
    assert code == 1 and "controllers-not-failing             VIOLATED" in out
    recorded = next(out_dir.glob("controllers-not-failing-*.json"))
    code, out, _ = kubeprop(capsys, "replay", "--allow-import", "copier", str(recorded))
    assert code == 1 and "REPRODUCES" in out
    code, _, err = kubeprop(capsys, "replay", "--allow-import", "copier", "--scenario", str(DATA / "raising.yaml"),
                            str(recorded))
    assert code == 2
    assert "controller 'copier' (copier.Raising) raised KeyError" in err and "bug in kubeprop" not in err
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks:\n  - scenario: {DATA / 'raising.yaml'}\n    engine: bfs\n")
    code, junit, _ = run_gate(tmp_path, config)
    assert code == 1
    cases = ET.parse(junit).getroot().findall(".//testcase")
    messages = [e.get("message", "") for c in cases for e in c.findall("error")]
    assert messages and all("controller 'copier' (copier.Raising) raised KeyError" in m for m in messages)
    assert not any("crashed" in m for m in messages)


def test_an_operator_refused_for_ever_is_violated_not_held(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "check", str(DATA / "read-only.yaml"), "--engine", "bfs", "--budget", "30",
                            "--progress", "none", "--out", str(tmp_path))
    assert code == 1
    assert "controllers-not-failing             VIOLATED" in out
    assert ("controller 'copier' keeps failing on key 'default/web': its reconcile's create configmaps "
            'default/web-copy is refused with 403 Forbidden: configmaps "web-copy" is forbidden: User "copier" '
            'cannot create resource "configmaps"') in out
    code, out, _ = kubeprop(capsys, "check", str(DATA / "correct.yaml"), "--engine", "bfs", "--budget", "30",
                            "--progress", "none", "--out", str(tmp_path))
    assert code == 0 and "controllers-not-failing             held" in out


HOOKS_OPERATOR = '''"""An operator whose every create is refused (422: `_Copy` is no DNS subdomain), with a mistake
in each hook the model calls besides reconcile."""
from typing import Any

import attrs

from kubeprop.model.api.objects import ObjectKey, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation


@attrs.frozen
class Hooks(Memoryless):
    name: str = "hooks"
    watches: tuple[str, ...] = ("configmaps",)
    identity: str = "system:kube-controller-manager"
    mistake: str = ""

    def keys_for(self, obj, view):
        return (f"{obj.metadata.namespace}/{obj.metadata.name}",)

    def initial_memory(self) -> Any:
        return ["started"] if self.mistake == "memory" else None

    def reconcile(self, view, key, memory, now):
        namespace, _, name = key.rpartition("/")
        if name.endswith("_Copy") or view.get(ObjectKey("configmaps", namespace, name)) is None:
            return Reconciliation(memory=memory)
        copy = decode_object({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": f"{name}_Copy", "namespace": namespace}})
        return Reconciliation((Request(verb="create", user=self.identity, obj=copy),), memory,
                              tolerate=self.tolerate, after_failure=self.after_failure)

    def tolerate(self, request, response):
        if self.mistake == "tolerate":
            return response.reason.lower()
        return None

    def after_failure(self, request, response):
        if self.mistake == "after_failure":
            raise KeyError(response.code)
        return ()


TOLERATE = Hooks(mistake="tolerate")
AFTER_FAILURE = Hooks(mistake="after_failure")
MEMORY = Hooks(mistake="memory")
'''

HOOKS_SCENARIO = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {{name: hooks-{name}}}
manifests: [app]
topology:
  nodes:
    - {{name: worker-1, allocatable: {{cpu: "2", memory: 2Gi, pods: "10"}}}}
users:
  - {{name: admin, clusterRoles: [cluster-admin]}}
applyAs: admin
controllers: ["hooks_operator:{name}"]
"""


def test_errors_in_the_other_hooks_are_bad_input_on_every_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """gaps14: a controller module of the user's (in tmp_path) whose `tolerate` answers something
    else, whose `after_failure` raises, whose `initial_memory` is a list: each is bad input (exit 2)
    naming the hook and the user's line under `check` (one process and the portfolio's lanes) and
    `gate` — each was "internal error … a bug in kubeprop" (exit 4), or for `tolerate` no error."""
    (tmp_path / "hooks_operator.py").write_text(HOOKS_OPERATOR)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "web.yaml").write_text((DATA / "app" / "web.yaml").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "hooks_operator", raising=False)
    expected = {
        "TOLERATE": ["controller 'hooks' (hooks_operator.Hooks) returned string 'invalid' from its Reconciliation's "
                     "tolerate", "in tolerate", 'must return "ignore", "forget" or None'],
        "AFTER_FAILURE": ["controller 'hooks' (hooks_operator.Hooks) raised KeyError: 422",
                          "while asking its Reconciliation's after_failure about the answer 422 to its create request",
                          "hooks_operator.py:", "in after_failure: raise KeyError(response.code)"],
        "MEMORY": ["controller 'hooks' (hooks_operator.Hooks) returned a list as its memory from initial_memory",
                   "must be hashable and comparable"],
    }
    for name, parts in expected.items():
        scenario = tmp_path / f"{name}.yaml"
        scenario.write_text(HOOKS_SCENARIO.format(name=name))
        engines = ("bfs", "portfolio") if name == "AFTER_FAILURE" else ("bfs",)
        for engine in engines:
            code, out, err = kubeprop(capsys, "check", str(scenario), "--engine", engine, "--workers", "2",
                                      "--budget", "20", "--progress", "none", "--out", str(tmp_path / "out"))
            assert (code, out) == (2, ""), (name, engine, err)
            assert all(part in err for part in parts), (name, engine, err)
            assert "bug in kubeprop" not in err and "Traceback" not in err
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks:\n  - scenario: {tmp_path / 'TOLERATE.yaml'}\n    engine: bfs\n")
    code, junit, _ = run_gate(tmp_path, config)
    assert code == 1
    messages = [e.get("message", "") for c in ET.parse(junit).getroot().findall(".//testcase")
                for e in c.findall("error")]
    assert messages and all("returned string 'invalid' from its Reconciliation's tolerate" in m for m in messages)
