"""`kubeprop check` (golden output on a tiny scenario) and `kubeprop gate` (exit codes)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_run import one_corpus_file, run_gate

from kubeprop.properties.cli.main import main

DATA = Path(__file__).resolve().parents[2] / "model" / "data" / "variants"
GOLDEN = Path(__file__).parent / "golden" / "check_web_rs_no_expectations.txt"


def _without_timing(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "time:" not in line) + "\n"


def test_check_golden_bfs_finds_rs_no_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(DATA / "web.yaml"), "--engine", "bfs", "--variant", "rs-no-expectations",
                 "--property", "replicaset-no-overcreation", "--property", "node-not-overcommitted",
                 "--max-depth", "5", "--max-states", "6000", "--budget", "60", "--out", str(tmp_path)])
    out = _without_timing(capsys.readouterr().out).replace(str(tmp_path), "OUT")
    assert code == 1
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and files[0].name.startswith("replicaset-no-overcreation-")


def test_check_correct_model_is_clean_and_exhaustive_within_depth(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(DATA / "web.yaml"), "--engine", "bfs", "--property", "replicaset-no-overcreation",
                 "--max-depth", "3", "--budget", "60", "--exhaustive", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "held" in out and "VIOLATED" not in out
    assert code == 3  # depth-bounded: not exhaustive
    assert not list(tmp_path.glob("*.json"))


def test_check_bad_property_and_flag_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--property", "no-such-property", "--engine", "bfs", "--budget", "1"]) == 2
    assert "unknown property" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["check", "--budget", "-1"])
    assert info.value.code == 2


@pytest.mark.parametrize("word", ["yes", "On", "NO", "off"])
def test_a_boolean_parameter_is_only_true_or_false(word: str, capsys: pytest.CaptureFixture[str]) -> None:
    # the user trial: `--param instantCaches=yes` was read as true (YAML 1.1)
    with pytest.raises(SystemExit) as info:
        main(["check", "--param", f"instantCaches={word}", "--engine", "bfs", "--budget", "1"])
    assert info.value.code == 2
    assert f"instantCaches: must be true or false, got '{word}' (YAML 1.1 reads it as " in capsys.readouterr().err


def _gate_config(tmp_path: Path, corpus: Path, variant: str, depth: int = 6) -> Path:
    config = tmp_path / "gate.yaml"
    config.write_text(
        f"corpus: [{corpus}]\n"
        "checks:\n"
        f"  - scenario: {DATA / 'web.yaml'}\n"
        f"    variant: {variant}\n"
        "    engine: bfs\n"
        "    properties: [replicaset-no-overcreation]\n"
        "    budget: 60\n"
        f"    maxDepth: {depth}\n"
        "    parameters: {instantCaches: false}\n"
    )
    return config


def test_gate_clean_model_passes_and_writes_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_config(tmp_path, one_corpus_file(tmp_path), "correct", depth=4)
    code, junit, summary = run_gate(tmp_path, config)
    assert code == 0, capsys.readouterr().out
    suites = ET.parse(junit).getroot()
    assert sum(int(s.get("failures", "0")) for s in suites) == 0
    assert "PASSED" in summary.read_text()


def test_gate_buggy_variant_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gate_config(tmp_path, one_corpus_file(tmp_path), "rs-no-expectations")
    junit = tmp_path / "junit.xml"
    assert main(["gate", "--config", str(config), "--junit", str(junit), "--out", str(tmp_path / "out")]) == 1
    failures = [f for f in ET.parse(junit).getroot().iter("failure")]
    assert failures and "counterexample" in (failures[0].text or "")


def test_gate_stale_corpus_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = one_corpus_file(tmp_path)
    path = next(folder.glob("*.json"))
    data = json.loads(path.read_text())
    data["trace"][0]["fingerprint"] = "0" * len(data["trace"][0]["fingerprint"])  # the model "changed"
    path.write_text(json.dumps(data))
    config = _gate_config(tmp_path, folder, "correct", depth=2)
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    assert "STALE" in capsys.readouterr().out


def test_gate_bad_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text("checks:\n  - engine: dfs\n")
    assert main(["gate", "--config", str(config)]) == 2
    assert "checks[0].engine" in capsys.readouterr().err
