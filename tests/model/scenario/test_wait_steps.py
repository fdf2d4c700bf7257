"""The schema of the `rolloutStatus` and `wait` workload steps: every mistake reported at its line
and field with the valid values, and `kubeprop validate` exits 2 without a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_run import kubeprop
from scenario_text import APP, HEAD

from kubeprop.model.scenario.load import ScenarioError, load_scenario

BODY = """\
manifests: [m]
topology:
  nodes:
    - {name: n1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
workload:
"""


def _write(tmp_path: Path, steps: str) -> Path:
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "app.yaml").write_text(APP)
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + BODY + textwrap.dedent(steps))
    return path


def test_good_steps_load(tmp_path: Path) -> None:
    spec = load_scenario(_write(tmp_path, """\
      - rolloutStatus: {deployment: web}
      - rolloutStatus: {deployment: default/web, timeoutSeconds: 120}
      - wait: {kind: Deployment, name: web, for: condition=Available}
      - wait: {kind: pods, name: web-0, for: condition=Ready=false, timeoutSeconds: -1}
      - wait: {kind: Pod, name: web-0, for: delete, timeoutSeconds: 0}
    """)).spec
    status, _, wait, forever, delete = spec.workload
    assert status.rollout_status is not None and status.rollout_status.timeout_seconds == 0  # kubectl's default
    assert wait.wait is not None and (wait.wait.for_, wait.wait.timeout_seconds, wait.wait.namespace) == \
        ("condition=Available", 30, "default")
    assert forever.wait is not None and forever.wait.timeout_seconds == -1
    assert delete.wait is not None and delete.wait.for_ == "delete"


def test_every_mistake_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, """\
      - rolloutStatus: {daemonset: default/agent}
      - rolloutStatus: {deployment: web, statefulset: db}
      - rolloutStatus: {deployment: api}
      - rolloutStatus: {deployment: web, timeoutSeconds: -5}
      - wait: {kind: Pod, name: web-0, for: "jsonpath={.items[*].status.phase}=Running"}
      - wait: {kind: Pod, name: web-0, for: ready}
      - wait: {kind: Widget, name: w, for: delete, timeoutSeconds: 700000}
      - wait: {name: web-0}
    """)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems]
    assert found == [  # in line order
        "8: workload[0].rolloutStatus.daemonset: no DaemonSet 'default/agent' in the manifests or an earlier apply "
        "step; defined: (none)",
        "9: workload[1].rolloutStatus: exactly one of deployment, statefulset, daemonset",
        "9: workload[1].rolloutStatus.statefulset: no StatefulSet 'db' in the manifests or an earlier apply step; "
        "defined: (none)",
        "10: workload[2].rolloutStatus.deployment: no Deployment 'api' in the manifests or an earlier apply step; "
        "defined: default/web",
        "11: workload[3].rolloutStatus.timeoutSeconds: must be between 0 and 604,800, got -5 (0: wait for ever, "
        "kubectl's default)",
        "12: workload[4].wait.for: the jsonpath {.items[*].status.phase} is not modelled: only a simple field path is "
        "(field names of letters, digits, _ and -, each optionally with list indices: {.status.phase}, "
        "{.status.conditions[0].type}); valid: condition=NAME[=VALUE], jsonpath=EXPRESSION[=VALUE] or delete",
        "13: workload[5].wait.for: unrecognized condition 'ready'; valid: condition=NAME[=VALUE], "
        "jsonpath=EXPRESSION[=VALUE] or delete",
        "14: workload[6].wait.timeoutSeconds: must be between -1 and 604,800, got 700000 (-1: wait for ever; 0: check "
        "once; kubectl's default is 30)",
        "14: workload[6].wait.kind: the server doesn't have a resource type 'Widget': not a built-in kind and not "
        "defined by a CustomResourceDefinition of the scenario",
        "15: workload[7].wait.kind: Required value",
        "15: workload[7].wait.for: Required value: condition=NAME[=VALUE], jsonpath=EXPRESSION[=VALUE] or delete",
    ]


def test_validate_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "  - wait: {kind: Pod, name: web-0, for: create}\n")
    code, out, err = kubeprop(capsys, "validate", str(path))
    assert code == 2 and "Traceback" not in out + err
    assert "scenario.yaml:8: workload[0].wait.for: kubectl wait --for=create is not modelled; valid: " \
           "condition=NAME[=VALUE], jsonpath=EXPRESSION[=VALUE] or delete" in err


def test_a_drains_timeout_is_kubectls_and_checked_as_the_others(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`drain.timeoutSeconds` is `kubectl drain --timeout`: 0 (its default) waits for ever; its range
    and error are `rolloutStatus`'s."""
    spec = load_scenario(_write(tmp_path, """\
      - drain: {node: n1}
      - drain: {node: n1, timeoutSeconds: 90}
    """)).spec
    assert [s.drain.timeout_seconds for s in spec.workload if s.drain is not None] == [0, 90]
    path = _write(tmp_path, """\
      - drain: {node: n1, timeoutSeconds: -5}
      - drain: {node: n1, timeoutSeconds: 700000}
    """)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems] == [
        "8: workload[0].drain.timeoutSeconds: must be between 0 and 604,800, got -5 (0: wait for ever, kubectl's "
        "default)",
        "9: workload[1].drain.timeoutSeconds: must be between 0 and 604,800, got 700000 (0: wait for ever, kubectl's "
        "default)",
    ]
    code, out, err = kubeprop(capsys, "validate", str(path))
    assert code == 2 and "Traceback" not in out + err and "scenario.yaml:8: workload[0].drain.timeoutSeconds" in err
