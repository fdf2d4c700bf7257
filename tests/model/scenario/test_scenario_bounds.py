"""Every number of a scenario file is bounded: a huge duration, count or budget (`tickSeconds: 1e20`
written out, a fault budget of a billion, `hpaTolerance: abc`) is bad input naming the field and
the valid range, every problem of the file at once, exit 2 — never accepted, never an internal
error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from scenario_text import APP, HEAD

from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.scenario.schema import parameter_problem
from kubeprop.properties.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data"
HUGE = 10**20


def _scenario(tmp_path: Path, body: str) -> Path:
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "app.yaml").write_text(APP)
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + "manifests: [m]\ntopology:\n  nodes:\n"
                    "    - {name: n1, allocatable: {cpu: '1', memory: 1Gi, pods: '10'}}\n" + textwrap.dedent(body))
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems]


def test_huge_numbers_are_refused_field_by_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, f"""\
    workload:
      - scale: {{deployment: web, replicas: {2**31}}}
    faults: {{nodeCrash: {HUGE}, overload: 1001, partition: 1000}}
    bounds: {{maxDepth: {HUGE}, maxStates: {10**9 + 1}, tickSeconds: {HUGE}, timeLimitSeconds: {HUGE}}}
    parameters: {{hpaSyncPeriodSeconds: 0, hpaTolerance: abc, drainRetrySeconds: {HUGE}}}
    """)
    found = _problems(path)
    assert found == [
        "8: workload[0].scale.replicas: must be between 0 and 2,147,483,647, got 2147483648",
        "9: faults.nodeCrash: must be between 0 and 1,000, got 100000000000000000000",
        "9: faults.overload: must be between 0 and 1,000, got 1001",
        "10: bounds.maxDepth: must be between 1 and 1,000,000, got 100000000000000000000",
        "10: bounds.maxStates: must be between 1 and 1,000,000, got 1000000001",
        "10: bounds.tickSeconds: must be between 1 and 86,400, got 100000000000000000000",
        "10: bounds.timeLimitSeconds: must be between 1 and 10,000,000, got 100000000000000000000",
        "11: parameters.drainRetrySeconds: must be between 1 and 86400, got 100000000000000000000",
        "11: parameters.hpaSyncPeriodSeconds: must be between 1 and 86400, got 0",
        "11: parameters.hpaTolerance: must be a number from 0 to 1, got string 'abc'",
    ]
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bounds.tickSeconds: must be between 1 and 86,400" in err


def test_a_long_number_is_cut_in_the_message(tmp_path: Path) -> None:
    [problem] = _problems(_scenario(tmp_path, f"bounds: {{tickSeconds: {10**400}}}\n"))
    assert problem == f"7: bounds.tickSeconds: must be between 1 and 86,400, got 1{'0' * 36}..."


def test_the_limits_themselves_load(tmp_path: Path) -> None:
    path = _scenario(tmp_path, f"""\
    workload:
      - scale: {{deployment: web, replicas: {2**31 - 1}}}
    faults: {{nodeCrash: 1000}}
    bounds: {{maxDepth: 1000000, maxStates: 1000000, tickSeconds: 86400, timeLimitSeconds: 10000000}}
    parameters: {{hpaSyncPeriodSeconds: 86400, hpaTolerance: 1, drainRetrySeconds: 1}}
    """)
    spec = load_scenario(path).spec
    assert spec.bounds.tick_seconds == 86_400 and spec.parameters["hpaTolerance"] == 1


@pytest.mark.parametrize(("value", "problem"), [
    ("abc", "must be a number from 0 to 1, got string 'abc'"),
    (float("nan"), "must be a number from 0 to 1, got number nan"),
    (float("inf"), "must be a number from 0 to 1, got number inf"),
    (-0.5, "must be a number from 0 to 1, got number -0.5"),
    (True, "must be a number from 0 to 1, got boolean true"),
    (None, "must be a number from 0 to 1, got null"),
    (0.25, None),
    (0, None),
])
def test_a_float_parameter_is_a_finite_number_in_range(value: object, problem: str | None) -> None:
    assert parameter_problem("hpaTolerance", value) == problem


def test_a_string_tolerance_was_an_internal_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It was accepted, and the HPA's first sync crashed the check (`could not convert string to float`)."""
    source = DATA / "hpa" / "linear.yaml"
    path = source.parent / f".tolerance-{tmp_path.name}.yaml"
    path.write_text(source.read_text().replace("  instantCaches: true", "  instantCaches: true\n  hpaTolerance: abc"))
    try:
        assert main(["check", str(path), "--engine", "walk", "--budget", "2"]) == 2
    finally:
        path.unlink()
    err = capsys.readouterr().err
    assert "parameters.hpaTolerance: must be a number from 0 to 1, got string 'abc'" in err
    assert "internal error" not in err


@pytest.mark.parametrize(("old", "new", "message"), [
    ("intervalSeconds: 300", f"intervalSeconds: {HUGE}",
     "descheduler.intervalSeconds: must be between 1 and 86,400 (the model runs the descheduler periodically), "
     "got 100000000000000000000"),
    ("removeDuplicates: {}", "removeDuplicates: {}\n    lowNodeUtilization: {thresholds: {cpu: 20}, "
     "targetThresholds: {cpu: 50}, numberOfNodes: -1}",
     "descheduler.plugins.lowNodeUtilization.numberOfNodes: must be between 0 and 2,147,483,647, got -1"),
])
def test_descheduler_numbers_are_bounded(tmp_path: Path, old: str, new: str, message: str) -> None:
    source = DATA / "descheduler" / "duplicates.yaml"
    text = source.read_text()
    assert old in text
    path = source.parent / f".bounds-{tmp_path.name}.yaml"
    path.write_text(text.replace(old, new))
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
    finally:
        path.unlink()
    assert any(p.message in message and message.startswith(p.field) for p in info.value.problems), \
        [str(p) for p in info.value.problems]


@pytest.mark.parametrize("value", ["abc", float("nan"), -1.0, 2])
def test_a_counterexample_file_and_a_flag_get_the_same_ranges(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              value: object) -> None:
    """A file under review with `hpaTolerance: "abc"` was replayed (the parameter had no check), and
    `--param hpaTolerance=.nan` was taken."""
    import json

    corpus = sorted((Path(__file__).resolve().parents[3] / "counterexamples" / "corpus").glob("endpoints-*.json"))[0]
    data = json.loads(corpus.read_text())
    data["model"]["parameters"] = {"hpaTolerance": value}
    path = tmp_path / "ce.json"
    path.write_text(json.dumps(data, allow_nan=True))
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model.parameters.hpaTolerance: must be a number from 0 to 1" in err or "NaN" in err, err
    assert "Traceback" not in err and "internal error" not in err
    flag = value if isinstance(value, str) else ".nan" if value != value else str(value)
    with pytest.raises(SystemExit) as done:  # a usage error, as every --param problem
        main(["check", "--param", f"hpaTolerance={flag}", "--engine", "walk", "--budget", "1"])
    assert done.value.code == 2
    assert "argument --param: hpaTolerance: must be a number from 0 to 1" in capsys.readouterr().err


def test_node_resources_fit_the_schedulers_int64(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nodes of 1e4096 CPUs were accepted, and the scheduler's scoring failed on them (`int too large
    to convert to float`, exit 4); upstream reads them as int64 and overflows."""
    source = DATA / "variants" / "web.yaml"
    path = source.parent / f".huge-{tmp_path.name}.yaml"
    path.write_text(source.read_text().replace('{cpu: "1", memory: 1Gi, pods: "10"}',
                                               '{cpu: "9223372036854775807m", memory: "1e4096", pods: "10"}'))
    try:
        assert main(["check", str(path), "--engine", "walk", "--budget", "2"]) == 2
    finally:
        path.unlink()
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert "topology.nodes[0].allocatable.memory: must be at most 9223372036854775807 (the scheduler's int64), " \
           "got 10e4095" in err
    assert "allocatable.cpu" not in err  # exactly the int64 of millicores is valid


def test_node_manifests_and_usage_are_bounded_too(tmp_path: Path) -> None:
    node = ("apiVersion: v1\nkind: Node\nmetadata: {name: big}\n"
            "status: {allocatable: {cpu: '1e16', memory: 1Gi, pods: '10'}}\n")
    (tmp_path / "node.yaml").write_text(node)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path)
    [problem] = info.value.problems
    assert (problem.field, problem.line) == ("status.allocatable.cpu", 4)  # its field's line (trial 22; was the Node's)
    assert problem.message == "Node big: must be at most 9223372036854775807m (the scheduler's int64), got 10e15"
    source = DATA / "hpa" / "linear.yaml"
    path = source.parent / f".usage-{tmp_path.name}.yaml"
    path.write_text(source.read_text().replace("load: [150m]", "load: ['1e4096']"))
    try:
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
    finally:
        path.unlink()
    [problem] = info.value.problems
    assert problem.field == "environment.usage[0].load[0]" and problem.message.startswith(
        "must be at most 9223372036854775807m")
