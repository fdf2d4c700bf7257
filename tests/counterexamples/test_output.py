"""Output files never clobber: atomic only onto regular files or new paths, links and devices written
through, never an input, modes from the umask (issue 15, item 2)."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeprop.counterexamples.output import OutputError, append_text, check_output, write_text


@pytest.fixture
def umask_027() -> Iterator[int]:
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def test_a_new_file_follows_the_umask(tmp_path: Path, umask_027: int) -> None:
    path = tmp_path / "sub" / "page.html"
    path.parent.mkdir()  # an output file's folder must exist (tests/properties/cli/test_gate_output_paths.py)
    write_text(path, "hello")
    assert path.read_text() == "hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["page.html"]  # no temporary file left behind


def test_a_replaced_file_keeps_its_mode_and_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text("old")
    path.chmod(0o604)
    inode = path.stat().st_ino
    write_text(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o604
    assert path.stat().st_ino != inode  # a new file renamed over the old one


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "target.html"
    target.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"


def test_refusals_name_the_path_and_why(tmp_path: Path) -> None:
    dangling = tmp_path / "dangling.html"
    dangling.symlink_to(tmp_path / "missing")
    source = tmp_path / "ce.json"
    source.write_text("{}")
    same = tmp_path / "same.json"
    same.symlink_to(source)
    cases = [
        (tmp_path, "it is a directory; give a file name"),
        (Path("."), "it is a directory; give a file name"),
        (dangling, "it is a symbolic link to a missing file"),
        (source, f"it is the input file {source}; an output never overwrites an input"),
        (same, f"it is the input file {source}; an output never overwrites an input"),
        (tmp_path / ("x" * 5000), "the path (or one of its names) is too long"),
        (tmp_path / "a\0b", "the path contains a NUL byte"),
    ]
    for path, why in cases:
        with pytest.raises(OutputError) as info:
            write_text(path, "x", inputs=[source])
        assert str(info.value).endswith(why), str(info.value)
    assert source.read_text() == "{}" and dangling.is_symlink()


def test_a_fifo_nobody_reads_is_refused_and_one_being_read_is_written(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="a FIFO \\(named pipe\\) that nobody is reading"):
        write_text(fifo, "x")
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    for _ in range(200):  # wait until the reader has the FIFO open
        try:
            write_text(fifo, "through the pipe" * 10_000)
            break
        except OutputError:
            threading.Event().wait(0.01)
    reader.join(10)
    assert received == [("through the pipe" * 10_000).encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="creating device nodes needs root")
def test_devices_are_written_through_never_replaced(tmp_path: Path) -> None:
    full = tmp_path / "full"
    null = tmp_path / "null"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    write_text(null, "discarded")
    with pytest.raises(OutputError, match=r"cannot write .*full: No space left on device"):
        write_text(full, "x")
    with pytest.raises(OutputError, match="No space left on device"):
        append_text(full, "x")
    assert stat.S_ISCHR(os.lstat(full).st_mode) and stat.S_ISCHR(os.lstat(null).st_mode)


def test_append_creates_with_the_umask_and_appends(tmp_path: Path, umask_027: int) -> None:
    path = tmp_path / "summary.md"
    append_text(path, "a\n")
    append_text(path, "b\n")
    assert path.read_text() == "a\nb\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(OutputError, match="directory"):
        append_text(tmp_path, "x")


def test_check_output_accepts_new_paths_and_devices(tmp_path: Path) -> None:
    check_output(tmp_path / "new.html")
    check_output(Path("/dev/null"))


# --- H1 (trial 5): a file is kubeprop's only if it starts as kubeprop writes it -------------------

def _own_outputs() -> dict[str, str]:
    """A file of each kind as this kubeprop writes it, by its owner marker."""
    from corpus_source import SOURCE

    from kubeprop.counterexamples.format import dumps
    from kubeprop.counterexamples.format_read import load
    from kubeprop.counterexamples.output import HTML_OWNER, JSON_OWNER, JUNIT_OWNER, SUMMARY_OWNER
    from kubeprop.counterexamples.render_html import render_html
    from kubeprop.counterexamples.replay import replay
    from kubeprop.properties.cli.gate_report import Case, GateWarning, junit_xml, markdown_summary

    cases = [Case("corpus", "a|`b`.json", "failed", "x | y"), Case("s [correct, bfs]", "p", "vacuous", "why")]
    return {HTML_OWNER: render_html([replay(SOURCE)]), JUNIT_OWNER: junit_xml(cases),
            SUMMARY_OWNER: markdown_summary(cases, [GateWarning("s", "w `x`")]), JSON_OWNER: dumps(load(SOURCE))}


def test_each_kind_of_output_replaces_its_own_files(tmp_path: Path) -> None:
    for i, (owner, text) in enumerate(_own_outputs().items()):
        path = tmp_path / f"out{i}"
        path.write_text(text)
        write_text(path, "new", owner=owner)
        assert path.read_text() == "new", owner


@pytest.mark.parametrize("head", [
    "<?xml version='1.0' encoding='UTF-8'?>\n<testsuites name=\"kubeprop gate\">\n",  # ElementTree spelling
    "<?xml version='1.0' encoding='utf-8'?>\n<testsuites name=\"kubeprop gate\" />\n"])  # an empty gate
def test_junit_files_of_earlier_versions_stay_replaceable(tmp_path: Path, head: str) -> None:
    from kubeprop.counterexamples.output import JUNIT_OWNER

    path = tmp_path / "junit.xml"
    path.write_text(head)
    write_text(path, "new", owner=JUNIT_OWNER)
    assert path.read_text() == "new"


def test_a_file_that_quotes_a_marker_is_never_replaced(tmp_path: Path) -> None:
    """The trial's notes, README, fixture and dashboard: each quotes the marker of its kind in its
    first 4 KiB, and each was replaced."""
    from kubeprop.counterexamples.output import HTML_OWNER, JSON_OWNER, JUNIT_OWNER, SUMMARY_OWNER

    quoting = {
        SUMMARY_OWNER: "# Our CI\n\nThe gate posts:\n\n```\n## kubeprop gate: PASSED (7/7 held)\n```\n",
        JUNIT_OWNER: '<?xml version="1.0"?>\n<!-- expected output of <testsuites name="kubeprop gate" ...> -->\n<f/>\n',
        HTML_OWNER: f"<!DOCTYPE html>\n<html><head><title>Dashboard</title></head><body><pre>{HTML_OWNER}</pre>\n",
        JSON_OWNER: '{"config": true, "example": {"kind": "Counterexample"}}\n',
    }
    for i, (owner, text) in enumerate(quoting.items()):
        path = tmp_path / f"mine{i}"
        path.write_text(text)
        with pytest.raises(OutputError, match="kubeprop did not write"):
            write_text(path, "new", owner=owner)
        assert path.read_text() == text, owner


def test_a_summary_appended_to_other_text_never_replaces_it(tmp_path: Path) -> None:
    """GITHUB_STEP_SUMMARY style: other text before or after a gate summary makes the file not
    kubeprop's, whichever comes first; a file of gate summaries only (appended run after run) is."""
    from kubeprop.counterexamples.output import SUMMARY_OWNER

    summary = _own_outputs()[SUMMARY_OWNER]
    for i, text in enumerate([f"# Release notes\n\nHand-written text.\n\n{summary}",
                              f"{summary}\n## Deploy step\n\nDeployed to staging.\n"]):
        path = tmp_path / f"notes{i}.md"
        path.write_text(text)
        with pytest.raises(OutputError, match=r"cannot write .*notes"):
            write_text(path, "new", owner=SUMMARY_OWNER)
        assert path.read_text() == text
    both = tmp_path / "twice.md"
    both.write_text(summary + summary)
    write_text(both, "new", owner=SUMMARY_OWNER)
    assert both.read_text() == "new"
