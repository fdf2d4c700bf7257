"""`crashLoopBackOffMaxSeconds` is the kubelet's `crashLoopBackOff.maxContainerRestartPeriod` (feature
gate KubeletCrashLoopBackOffMax, v1.32+; without it the cap is MaxContainerBackOff, 300 s): upstream's
configuration validation (`pkg/kubelet/apis/config/validation/validation.go` ValidateKubeletConfiguration)
refuses a period outside 1000..300000 ms, "must be set between 1s and 300s", so no kubelet runs with a
cap above 300 s. The parameter accepted up to 86,400 (a day), a cap no cluster can have."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from scenario_text import APP, HEAD

from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.scenario.schema import PARAMETERS, parameter_problem
from kubeprop.properties.cli.main import main

NAME = "crashLoopBackOffMaxSeconds"
WHY = "(the kubelet's crashLoopBackOff.maxContainerRestartPeriod, which its configuration validation accepts " \
      "from 1s to 300s)"


@pytest.mark.parametrize(("value", "problem"), [
    (1, None),
    (10, None),
    (300, None),
    (301, f"must be between 1 and 300, got 301 {WHY}"),
    (86_400, f"must be between 1 and 300, got 86400 {WHY}"),
    (0, f"must be between 1 and 300, got 0 {WHY}"),
    ("300s", "must be an integer, got string '300s'"),
])
def test_the_range_is_upstreams(value: object, problem: str | None) -> None:
    assert parameter_problem(NAME, value) == problem


def test_the_default_is_upstreams_without_the_gate() -> None:
    assert PARAMETERS[NAME] == 300  # pkg/kubelet/kubelet.go MaxContainerBackOff


def test_a_scenario_names_the_field_and_the_range_with_its_other_problems(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "app.yaml").write_text(APP)
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + "manifests: [m]\ntopology:\n  nodes:\n"
                    "    - {name: n1, allocatable: {cpu: '1', memory: 1Gi, pods: '10'}}\n" + textwrap.dedent("""\
                    parameters:
                      crashLoopBackOffMaxSeconds: 600
                      schedulerInstances: 0
                    """))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    found = [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems]
    assert found == [f"8: parameters.{NAME}: must be between 1 and 300, got 600 {WHY}",
                     "9: parameters.schedulerInstances: must be between 1 and 8, got 0"]
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"parameters.{NAME}: must be between 1 and 300, got 600" in err
    assert "schedulerInstances" in err


def test_the_flag_is_refused_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kubeprop check --param` goes through the same check: exit 2 before anything runs."""
    with pytest.raises(SystemExit) as info:
        main(["check", "--param", f"{NAME}=301", "--budget", "1", "--out", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert NAME in err and "must be between 1 and 300, got 301" in err and "Traceback" not in err
