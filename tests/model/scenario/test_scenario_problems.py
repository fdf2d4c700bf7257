"""Scenario files: every problem at once, parameters in range, nonsense refused, imports under a policy
(issue 15, items 1, 5, 6 and 8)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from scenario_text import APP, HEAD

from kubeprop.model.scenario import schema
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.scenario.schema import PARAMETER_RANGES, PARAMETERS, parameter_problem
from kubeprop.model.scheduler.framework import FILTER_ORDER

REPO = Path(__file__).resolve().parents[3]


def _problems(tmp_path: Path, body: str, **kwargs: object) -> list[str]:
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "app.yaml").write_text(APP)
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)  # type: ignore[arg-type]
    return [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems]


NODES = """\
manifests: [m]
topology:
  nodes:
    - {name: n1, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
"""


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    found = _problems(tmp_path, NODES + textwrap.dedent("""\
    parameters: {instantCaches: maybe, schedulerInstances: 0, nodeMonitorGracePeriodSeconds: -5}
    workload:
      - scale: {deployment: nope, replicas: 3}
      - scale: {deployment: web, replicas: -1}
      - bogus: 1
    faults: {nodeCrash: -1}
    bounds: {maxDepth: deep}
    """))
    assert found == [
        "7: parameters.instantCaches: must be true or false, got string 'maybe'",
        "7: parameters.nodeMonitorGracePeriodSeconds: must be between 1 and 86400, got -5",
        "7: parameters.schedulerInstances: must be between 1 and 8, got 0",
        "9: workload[0].scale.deployment: no Deployment 'nope' in the manifests or an earlier apply step; "
        "defined: default/web",
        "10: workload[1].scale.replicas: must be between 0 and 2,147,483,647, got -1",
        "11: workload[2].bogus: unknown field; valid fields are: apply, as, cordon, delete, drain, rolloutRestart, "
        "rolloutStatus, scale, setImage, uncordon, wait",
        "12: faults.nodeCrash: must be between 0 and 1,000, got -1",
        "13: bounds.maxDepth: expected an integer, got string 'deep'",
    ]


def test_negative_resources_and_unknown_scale_targets(tmp_path: Path) -> None:
    found = _problems(tmp_path, textwrap.dedent("""\
    manifests: [m]
    topology:
      nodes:
        - {name: n1, allocatable: {cpu: "-1", memory: 1Gi, pods: "10"}}
    workload:
      - setImage: {statefulset: web, container: web, image: x}
      - scale: {deployment: other/web, replicas: 1}
    """))
    assert found == [
        "6: topology.nodes[0].allocatable.cpu: must not be negative, got -1",
        "8: workload[0].setImage.statefulset: no StatefulSet 'web' in the manifests or an earlier apply step; "
        "defined: (none)",
        "9: workload[1].scale.deployment: no Deployment 'other/web' in the manifests or an earlier apply step; "
        "defined: default/web",
    ]


def test_a_workload_defined_by_an_earlier_apply_step_may_be_scaled(tmp_path: Path) -> None:
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "api.yaml").write_text(APP.replace("name: web}", "name: api}"))
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + NODES + "workload:\n  - apply: later\n  - scale: {deployment: default/api, replicas: 2}\n")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "app.yaml").write_text(APP)
    assert load_scenario(path).spec.workload[1].scale is not None
    path.write_text(HEAD + NODES + "workload:\n  - scale: {deployment: api, replicas: 2}\n  - apply: later\n")
    with pytest.raises(ScenarioError, match="no Deployment 'api'"):
        load_scenario(path)


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("instantCaches", "maybe", "must be true or false, got string 'maybe'"),
    ("maxEndpointsPerSlice", 0, "must be between 1 and 1000, got 0"),
    ("maxEndpointsPerSlice", 1001, "must be between 1 and 1000, got 1001"),
    ("diskPressureEvents", -1, "must be between 0 and 100, got -1"),
    ("pidPressureEvents", 101, "must be between 0 and 100, got 101"),
    ("pidPressureEvents", "1", "must be an integer, got string '1'"),
    ("nodeMonitorGracePeriodSeconds", float("nan"), "must be an integer, got number nan"),
    ("nodeMonitorGracePeriodSeconds", "1e400", "must be an integer, got string '1e400'"),
    ("nodeMonitorGracePeriodSeconds", True, "must be an integer, got boolean true"),
    ("schedulerDisabledFilters", ["NoSuchFilter"], "unknown item 'NoSuchFilter'; valid items: NodeUnschedulable"),
    ("schedulerDisabledFilters", "TaintToleration", "must be a list of strings, got string 'TaintToleration'"),
    ("etcdQuorum", "most", "must be one of: majority, ceil (got 'most')"),
    ("speed", 3, "unknown parameter; valid: nodeMonitorGracePeriodSeconds"),
])
def test_parameter_problems(name: str, value: object, problem: str) -> None:
    found = parameter_problem(name, value)
    assert found is not None and found.startswith(problem)


def test_every_default_is_valid_and_every_range_names_a_parameter() -> None:
    for name, default in PARAMETERS.items():
        assert parameter_problem(name, default) is None, name
    assert set(PARAMETER_RANGES) <= set(PARAMETERS)
    assert PARAMETER_RANGES["schedulerDisabledFilters"].choices == FILTER_ORDER


def test_a_parameter_without_a_declared_range_is_checked_by_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(schema.PARAMETERS, "newKnob", 5)
    monkeypatch.setitem(schema.PARAMETERS, "newSwitch", False)
    assert parameter_problem("newKnob", 7) is None
    assert parameter_problem("newKnob", -1) == f"must be between 0 and {schema.MAX_UNRANGED_INTEGER}, got -1"
    assert parameter_problem("newSwitch", 1) == "must be true or false, got number 1"


def test_relative_manifest_folder_is_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    scenario = load_scenario("tests/model/data/manifests/shop")
    assert scenario.objects and all(Path(o.file).is_relative_to("tests/model/data/manifests/shop")
                                    for o in scenario.objects)
    monkeypatch.chdir(REPO / "tests")
    assert len(load_scenario(Path("model/data/manifests/shop")).objects) == len(scenario.objects)


# --- imports ---------------------------------------------------------------------------------------------------

PLUGIN_MODULE = """\
from pathlib import Path
from kubeprop.model.api.admission import AdmissionPlugin
Path(__file__).with_name("IMPORTED").write_text("yes")
PLUGIN = AdmissionPlugin("fuzz-plugin")
def make():
    return AdmissionPlugin("made")
def needs(x):
    return AdmissionPlugin("never")
def boom():
    raise SystemExit(3)
from code import interact
"""


@pytest.fixture
def plugin_module(module_on_path: Callable[[str, str], Path]) -> Path:
    return module_on_path("kp_test_plugins", PLUGIN_MODULE)


def test_a_scenario_under_review_imports_nothing_it_was_not_allowed(tmp_path: Path, plugin_module: Path) -> None:
    found = _problems(tmp_path, NODES + "admission: ['kp_test_plugins:PLUGIN', 'sys:exit']\n", allow_imports=())
    assert found == [
        "7: admission[0]: refusing to import module 'kp_test_plugins' named in a file under review; allow it by "
        "name if you trust it (kubeprop replay --allow-import kp_test_plugins, the gate config's allowImports, or "
        "allow_imports= in Python)",
        "7: admission[1]: refusing to import module 'sys' named in a file under review; allow it by name if you "
        "trust it (kubeprop replay --allow-import sys, the gate config's allowImports, or allow_imports= in Python)",
    ]
    assert not (plugin_module / "IMPORTED").exists()
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + NODES + "admission: ['kp_test_plugins:PLUGIN', 'kp_test_plugins:make']\n")
    loaded = load_scenario(path, allow_imports=["kp_test_plugins"])
    assert [p.name for p in loaded.admission][-2:] == ["fuzz-plugin", "made"]
    assert (plugin_module / "IMPORTED").exists()


@pytest.mark.parametrize(("ref", "message"), [
    ("sys:exit", "'sys:exit' is not an AdmissionPlugin (nor a function or class of that module, outside Python's "
                 "standard library, taking no arguments and returning one)"),
    # the third user trial: standard-library functions whose arguments all have defaults were called
    ("code:interact", "'code:interact' is not an AdmissionPlugin"),  # a console reading stdin
    ("pdb:set_trace", "'pdb:set_trace' is not an AdmissionPlugin"),  # a debugger
    ("getpass:getpass", "'getpass:getpass' is not an AdmissionPlugin"),  # a password prompt
    ("kp_test_plugins:interact", "'kp_test_plugins:interact' is not an AdmissionPlugin"),  # imported, not defined
    ("os:abort", "'os:abort' is not an AdmissionPlugin"),
    ("builtins:input", "'builtins:input' is not an AdmissionPlugin"),
    ("os:getcwd", "'os:getcwd' is not an AdmissionPlugin"),
    ("kp_test_plugins:needs", "'kp_test_plugins:needs' is not an AdmissionPlugin"),
    ("kp_test_plugins:boom", "'kp_test_plugins:boom': calling it failed: SystemExit: 3"),
    ("kp_test_plugins:nope", "cannot import 'kp_test_plugins:nope': module 'kp_test_plugins' has no attribute 'nope'"),
    ("os", "'os': expected module:attribute"),
])
def test_a_trusted_scenario_naming_a_non_plugin_is_a_problem_not_a_crash(tmp_path: Path, plugin_module: Path,
                                                                          ref: str, message: str) -> None:
    [found] = _problems(tmp_path, NODES + f"admission: ['{ref}']\n")
    assert found.startswith(f"7: admission[0]: {message}")
    assert os.getpid() > 0  # still running: nothing exited, aborted or waited for input


def test_a_missing_manifests_entry_is_reported_at_its_line_with_the_resolved_path(tmp_path: Path) -> None:
    # the user trial: `manifests: [manifest]` printed only `manifest: no such file or folder`
    (tmp_path / "empty").mkdir()
    found = _problems(tmp_path, "manifests: [m, manifest, empty]\n")
    assert found == [
        f"3: manifests[1]: no such file or folder: {tmp_path / 'manifest'}",
        f"3: manifests[2]: no manifests were found in this folder (files ending in .json, .yaml or .yml are read): "
        f"{tmp_path / 'empty'}",
    ]
    found = _problems(tmp_path, NODES + "workload:\n  - apply: {path: gone.yaml}\n")
    assert found == [f"8: workload[0].apply: no such file or folder: {tmp_path / 'gone.yaml'}"]


def test_a_module_not_on_the_path_says_where_to_look(tmp_path: Path) -> None:
    [found] = _problems(tmp_path, NODES + "controllers: ['kp_nowhere_module:C']\n")
    assert found == ("7: controllers[0]: cannot import 'kp_nowhere_module:C' (module:attribute): ModuleNotFoundError: "
                     "No module named 'kp_nowhere_module' (is its folder on PYTHONPATH?)")


def test_a_duplicate_key_is_reported_with_the_files_other_problems(tmp_path: Path) -> None:
    found = _problems(tmp_path, NODES + "bounds: {maxDepth: 3, maxDepth: 4}\nfaults: {nodeCrash: -1}\n")
    assert found == ["7: bounds.maxDepth: duplicate key 'maxDepth' (first set on line 7)",
                     "8: faults.nodeCrash: must be between 0 and 1,000, got -1"]


def test_a_boolean_parameter_is_written_true_or_false(tmp_path: Path) -> None:
    found = _problems(tmp_path, NODES + "parameters:\n  instantCaches: yes\n  leaderElection: True\n"
                                        "  listFromWatchCache: 'true'\n")
    assert found == [
        "8: parameters.instantCaches: must be true or false, got 'yes' (YAML 1.1 reads it as true; write true or "
        "false)",
        "10: parameters.listFromWatchCache: must be true or false, got string 'true'",
    ]
