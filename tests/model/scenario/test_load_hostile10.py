"""Hostile manifests since objects are decoded one by one (report10): a YAML bomb, binary junk and
a deeply nested document each give exit 2 naming the file and line, quickly, without a
traceback, from `validate` and `check` alike; a file's good objects do not hide its bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main

GOOD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n"
BOMB = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  labels:\n"
        "    a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
BOMB += "".join(f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))


@pytest.mark.parametrize(("content", "expected"), [
    (GOOD + "---\n" + BOMB, "bad.yaml:5: the document expands to more than 1000000 values through aliases"),
    (bytes(range(128, 256)) * 8, "bad.yaml:1: not valid UTF-8"),
    (GOOD + "---\n" + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * 5000 + "]" * 5000,
     "bad.yaml:8: exceeded maximum nesting depth"),
    (GOOD + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: nested}\ndata: " + "{a: " * 150 + "1" + "}" * 150,
     "bad.yaml:8: data.a: expected a string, got an object"),
])
@pytest.mark.parametrize("command", ["validate", "check"])
def test_hostile_input_is_bad_input_at_its_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         content: str | bytes, expected: str, command: str) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "bad.yaml").write_bytes(content if isinstance(content, bytes) else content.encode())
    extra = ["--budget", "5", "--out", str(tmp_path / "out")] if command == "check" else []
    assert main([command, str(folder), *extra]) == 2
    err = capsys.readouterr().err
    assert f"{folder / expected}" in err and "Traceback" not in err and "internal error" not in err
