"""`kubeprop validate`: golden output on FeastFlow, and exit 2 with file:line for bad input.

Regenerate the golden file after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_cli_validate.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_run import kubeprop

from kubeprop.properties.cli.main import main

GOLDEN = Path(__file__).parent / "golden" / "validate_feastflow.txt"


def test_validate_feastflow_golden(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kubeprop(capsys, "validate")
    assert code == 0, err
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()


def test_validate_yaml_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kubeprop(capsys, "validate", "-o", "yaml")
    assert code == 0
    assert "maxSurge: 25%" in out
    assert out.rstrip().endswith("admitted, 0 rejected")


def test_rejected_object_exits_2_with_file_line_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: -2\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n        - name: web\n          image: nginx\n"
    )
    code, out, _ = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 2
    assert "REJECTED Deployment default/web" in out
    assert "bad.yaml:6: spec.replicas: Invalid value" in out


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n", "started on line 4"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: three\n",
         "bad.yaml:6: spec.replicas: expected an integer"),
        ("apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n", "bad.yaml:2: kind: unknown kind Widget"),
    ],
)
def test_bad_manifests_exit_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                                 fragment: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    code, out, err = kubeprop(capsys, "validate", str(tmp_path))
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err + out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", "--output", "xml"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], ["validate", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 0
        assert "usage: kubeprop" in capsys.readouterr().out


def test_console_script_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "kubeprop.properties.cli.main", "validate", "--help"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "validate" in done.stdout


def test_a_line_feed_in_a_value_an_error_repeats_starts_no_line_nor_yaml_document(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """trial18: upstream's "unknown time zone NAME" repeats the value; a line feed in it printed a
    forged `created …` line, and under `-o yaml` ended the comment so that a ConfigMap of the data
    became a document of the output (`validate -o yaml | kubectl apply -f -`). Every line of data is
    escaped, as `check` and `gate` print it."""
    zone = "X\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: injected, namespace: default}\n#"
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "default"},
            "spec": {"schedule": "* * * * *", "timeZone": zone, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}}}
    path = tmp_path / "forge.yaml"
    path.write_text(json.dumps(cron), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.startswith(("apiVersion", "kind", "---"))]
    assert "unknown time zone X\\x0a---\\x0aapiVersion" in out
    assert main(["validate", str(path), "-o", "yaml"]) == 2
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert "injected" not in [d["metadata"]["name"] for d in docs]
