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
