"""Input files are regular files of bounded size: nothing blocks, nothing reads without end (issue 15, item 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeprop.model.api.manifests import ManifestError, load_manifests
from kubeprop.model.api.yamlsource import MAX_INPUT_BYTES, YamlError, load_yaml_documents, read_input, stat_path


def _message(path: Path) -> str:
    with pytest.raises(YamlError) as info:
        read_input(path)
    return info.value.message


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)  # nobody writes: a blocking open would wait forever
    assert _message(fifo) == "is a FIFO (named pipe), expected a regular file"


def test_devices_and_folders_are_refused(tmp_path: Path) -> None:
    assert _message(Path("/dev/zero")) == "is a character device, expected a regular file"
    assert _message(tmp_path).startswith("is a directory")


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_INPUT_BYTES + 1)  # sparse: costs no disk
    assert "input files are limited to 16,777,216 bytes" in _message(big)
    exact = tmp_path / "exact.yaml"
    with exact.open("wb") as handle:
        handle.truncate(MAX_INPUT_BYTES)
    assert len(read_input(exact)) == MAX_INPUT_BYTES


def test_odd_paths_are_messages_not_exceptions(tmp_path: Path) -> None:
    long = tmp_path / ("x" * 5000)
    assert _message(long) == "the path (or one of its names) is too long"
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert _message(loop) == "too many levels of symbolic links"
    assert _message(tmp_path / "a\0b") == "the path contains a NUL byte, which no file name can"
    with pytest.raises(YamlError, match="too long"):
        stat_path(long)
    assert stat_path(tmp_path / "missing") is None


def test_manifest_folder_with_odd_entries_reports_each(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    os.mkfifo(folder / "a-fifo.yaml")
    (folder / "b-zero.yaml").symlink_to("/dev/zero")
    bad_name = os.fsencode(folder) + b"/c-caf\xe9.yaml"
    with open(bad_name, "wb") as handle:
        handle.write(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([folder])
    problems = [p.message for p in info.value.problems]
    assert problems == ["is a FIFO (named pipe), expected a regular file",
                        "is a character device, expected a regular file"]
    # the file with a non-UTF-8 name was read like any other
    folder.joinpath("a-fifo.yaml").unlink()
    folder.joinpath("b-zero.yaml").unlink()
    [obj] = load_manifests([folder])
    assert obj.obj.metadata.name == "ok" and "\udce9" in obj.file


def test_load_yaml_documents_reports_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "gate.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YamlError, match="FIFO"):
        load_yaml_documents(fifo)
