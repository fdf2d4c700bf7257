"""A file that is not a manifest is named, never quoted (trial 3: a manifest folder's
`zz-config.yaml -> ../fake-netrc` printed "got string 'machine github.com login bot passwor..."
in validate and check, a link to a private key "-----BEGIN OPENSSH PRIVATE KEY-----"). The folder
follows links to files as `kubectl apply -f DIR` does; what it finds there is described — a string
of N characters, a list of N items — in every command that loads manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.errors import describe_kind
from kubeprop.properties.cli.main import main

NETRC = "machine github.com login bot password ghp_0123456789abcdefSECRET\n"
KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQSECRET\n"
       "-----END OPENSSH PRIVATE KEY-----\n")
LEAKS = ("machine", "ghp_", "SECRET", "BEGIN", "b3Bl", "github")
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: default}\ndata: {a: b}\n"


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "fake-netrc").write_text(NETRC)
    (tmp_path / "id_ed25519").write_text(KEY)
    (tmp_path / "tokens.json").write_text('["ghp_SECRET1", "ghp_SECRET2"]')
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "10-config.yaml").write_text(CONFIGMAP)
    (folder / "zz-config.yaml").symlink_to("../fake-netrc")
    (folder / "zz-key.yaml").symlink_to("../id_ed25519")
    (folder / "zz-tokens.json").symlink_to("../tokens.json")
    return folder


@pytest.mark.parametrize("command", [
    ["validate"], ["check", "--engine", "bfs", "--budget", "5"], ["schedule"],
])
def test_a_linked_file_that_is_not_a_manifest_is_described_not_quoted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    folder = _folder(tmp_path)
    code = main([*command, str(folder), *(["--out", str(tmp_path / "out")] if command[0] == "check" else [])])
    captured = capsys.readouterr()
    assert code == 2, captured
    text = captured.out + captured.err
    assert not [leak for leak in LEAKS if leak in text], text
    assert captured.err.splitlines()[1:] == [
        f"{folder}/zz-config.yaml:1: expected an object with apiVersion and kind, got a string of 64 characters",
        f"{folder}/zz-key.yaml:1: expected an object with apiVersion and kind, got a string of 118 characters",
        f"{folder}/zz-tokens.json:1: expected an object with apiVersion and kind, got a list of 2 items",
    ]


def test_the_gate_describes_a_check_scenario_and_a_config_that_are_not_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks:\n  - {{scenario: {folder}, budget: 5, maxDepth: 1}}\n")
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "out")]) == 1
    first = capsys.readouterr()  # its stderr: the line saying when the check started
    assert main(["gate", "--config", str(tmp_path / "fake-netrc")]) == 2
    captured = capsys.readouterr()
    text = first.out + first.err + captured.out + captured.err
    assert not [leak for leak in LEAKS if leak in text], text
    assert "got a string of 64 characters" in first.out
    assert captured.err.splitlines()[1] == (f"{tmp_path}/fake-netrc:1: not a gate config: expected a YAML mapping "
                                            "(corpus:, checks:, …), got a string of 64 characters")


def test_apiversion_and_kind_that_are_not_strings_are_described() -> None:
    assert describe_kind("ghp_SECRET") == "a string of 10 characters"
    assert describe_kind("x") == "a string of 1 character"
    assert describe_kind(["a"]) == "a list of 1 item"
    assert describe_kind(31337) == "a number"
    assert describe_kind({"token": "x"}) == "an object"
    assert describe_kind(None) == "null"
    assert describe_kind(True) == "boolean true"


def test_a_mapping_whose_kind_is_not_a_string_is_not_quoted(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.yaml").write_text("apiVersion: 7\nkind: {token: ghp_SECRET}\n")
    assert main(["validate", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "ghp_" not in err
    assert err.splitlines()[1:] == [
        f"{tmp_path}/x.yaml:1: apiVersion: Required value: a non-empty string such as v1 or apps/v1 (got a number)",
        f"{tmp_path}/x.yaml:2: kind: Required value: a non-empty string such as Deployment (got an object)",
    ]
