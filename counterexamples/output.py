"""Writing output files (counterexamples, HTML pages, JUnit XML, summaries) without clobbering.

`write_text` replaces a file atomically — a temporary file in the same folder, then `os.replace`
— but only what that can safely replace: a new path or an existing regular file. Anything else
a path may name is handled as what it is:

| the path names | what happens |
|---|---|
| nothing (a new path) | created atomically, mode 0666 minus the umask; its folder must exist (`missing_folder`) |
| a regular file | replaced atomically; the new file keeps the old one's permission bits |
| a symbolic link | written through: the file it points to is overwritten in place, the link stays |
| a dangling symbolic link | refused |
| a character device or FIFO (`/dev/stdout`, `/dev/null`, a pipe) | written through (a FIFO nobody reads: refused) |
| a folder, a socket, a block device | refused |
| one of the command's input files | refused: an output never overwrites an input |

With `owner` (the marker of a kind of file kubeprop writes, such as `HTML_OWNER`), an existing
non-empty regular file — named or linked to — is replaced only if it is one of kubeprop's own of
that kind: it *starts* with exactly what kubeprop writes there (`OWNED_HEADS`; a Markdown summary
must moreover be nothing but gate summaries, `_summary_only`). A file that merely quotes the marker
(a README showing a summary heading, a test fixture quoting the JUnit root, a dashboard naming the
generator tag, notes with a gate summary appended GitHub-step-summary style) is refused:
`--html README.md` is refused, a page from the last run is replaced. Files written by every
kubeprop version since the markers exist start the same way, so they stay replaceable: the heads
have not changed since (the JUnit declaration's encoding name is accepted in any case, since
Python's `ElementTree` has spelled it `utf-8` or `UTF-8`).

Every refusal or failure (permission denied, disk full, a name too long) is an `OutputError`, a
bad-input error naming the path (exit 2 from the CLI), never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from kubeprop.model.api.yamlsource import file_kind
from kubeprop.model.errors import InputError

__all__ = ["HTML_OWNER", "JSON_OWNER", "JUNIT_OWNER", "SUMMARY_OWNER", "OutputError", "append_text", "check_output",
           "check_output_folder", "file_identity", "folder_link", "missing_folder", "replace_file", "write_text"]

HTML_OWNER = '<meta name="generator" content="kubeprop">'
"""The marker of an HTML page kubeprop wrote (`render_html`)."""
JUNIT_OWNER = '<testsuites name="kubeprop gate"'
"""The marker of the gate's JUnit XML."""
SUMMARY_OWNER = "## kubeprop gate:"
"""The marker of the gate's Markdown summary."""
JSON_OWNER = '"kind": "Counterexample"'
"""The marker of a counterexample file."""
OWNER_WINDOW = 4096
"""How much of a file's head is read to recognise it (every head below is far shorter)."""
SUMMARY_LIMIT = 16 * 1024 * 1024
"""A summary file larger than this is not read through (`_summary_only`), and so never replaced."""

OWNED_HEADS: dict[str, re.Pattern[bytes]] = {
    HTML_OWNER: re.compile(rb'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                           + re.escape(HTML_OWNER.encode())),
    JUNIT_OWNER: re.compile(rb"<\?xml version='1\.0' encoding='[A-Za-z0-9_.-]+'\?>\n"
                            + re.escape(JUNIT_OWNER.encode()) + rb"[ />]"),
    SUMMARY_OWNER: re.compile(re.escape(SUMMARY_OWNER.encode()) + rb" (PASSED|FAILED) \("),
    JSON_OWNER: re.compile(rb'\{\n  "schema": [0-9]+,\n  ' + re.escape(JSON_OWNER.encode()) + rb",\n"),
}
"""How a file of each kind kubeprop writes begins, byte for byte, from its first byte: the page's
doctype, html and head tags up to the generator meta tag (`render_html.render_html`); the XML
declaration `ElementTree` writes, then the JUnit root (`gate_report.junit_xml`); the summary's
heading line (`gate_report.markdown_summary`); a counterexample file's first two keys as `dumps`
indents them (`format.dumps`, `raft_trace`)."""

_SUMMARY_LINE = re.compile(
    re.escape(SUMMARY_OWNER) + r" (PASSED|FAILED) \(.*\)|"  # a heading
    r"|\| \| suite \| case \| result \||\|---\|---\|---\|---\||"  # a blank line, the table's head
    r"\| \S+ \| `.*` \| `.*` \| `.*` \||"  # a row: an icon, then three code spans
    r"\*\*Warnings\*\*|- ⚠️ `.*`: `.*`")  # the warnings
"""Every line a gate summary consists of (`gate_report.markdown_summary`, every version)."""


class OutputError(InputError):
    """An output path that cannot or must not be written; the message names it and why."""


def _fail(path: Path, why: str) -> OutputError:
    return OutputError(f"cannot write {path}: {why}")


def _os_fail(path: Path, err: OSError) -> OutputError:
    if err.errno == errno.ENAMETOOLONG:
        return _fail(path, "the path (or one of its names) is too long")
    return _fail(path, err.strerror or str(err))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of what `path` names, links followed (None: nothing there): two paths
    name the same file or folder when their identities are equal."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _summary_only(path: Path) -> bool:
    """Whether the file holds nothing but gate summaries (one, or several appended one after
    another): replacing it loses no other text."""
    try:
        with open(path, "rb") as existing:
            data = existing.read(SUMMARY_LIMIT + 1)
    except OSError:
        return False
    if len(data) > SUMMARY_LIMIT:
        return False
    text = data.decode("utf-8", "replace")
    return all(_SUMMARY_LINE.fullmatch(line) for line in text.splitlines())


def _not_owned(path: Path, owner: str) -> OutputError | None:
    """Why `path` (an existing regular file) must not be replaced: it is not empty and does not
    start as kubeprop's files of the `owner` kind do (`OWNED_HEADS`) — or, for a summary, holds
    other text than gate summaries."""
    try:
        with open(path, "rb") as existing:
            head = existing.read(OWNER_WINDOW)
    except OSError as err:
        return _os_fail(path, err)
    if not head:
        return None
    pattern = OWNED_HEADS.get(owner)
    owned = pattern.match(head) is not None if pattern is not None else head.startswith(owner.encode())
    if owned and (owner != SUMMARY_OWNER or _summary_only(path)):
        return None
    why = ("it holds text besides kubeprop gate summaries (a summary appended to it, GitHub-step-summary style, "
           "does not make it kubeprop's)" if owned else
           "it holds a file kubeprop did not write (it does not start as kubeprop's files of this kind do)")
    return _fail(path, f"{why}; an output replaces only a file of its own kind (remove it, or give a new name)")


def missing_folder(path: Path) -> OutputError | None:
    """Why a new output file cannot be written at `path`: the folder it would go into does not
    exist. kubeprop creates no folder for a file the user names (`--junit /nonexistent/x.xml`
    made `/nonexistent` at the file system's root): only an `--out` folder, which it owns."""
    parent = path.parent
    if os.path.lexists(parent):
        return None
    above = parent
    while not os.path.lexists(above.parent) and above.parent != above:
        above = above.parent
    return _fail(path, f"the folder {above} does not exist; kubeprop creates no folder for an output file "
                       "(create it first, or name a file in an existing folder)")


def check_output(path: Path, inputs: Iterable[Path] = (), owner: str | None = None) -> None:
    """Refuse, before any work is done, an output path that is a folder (or otherwise not
    writable as a file), the same file as one of `inputs`, or (with `owner`) a file kubeprop did
    not write."""
    if "\0" in str(path):
        raise _fail(Path(str(path).replace("\0", "\\0")), "the path contains a NUL byte")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise _fail(path, "it is a symbolic link to a missing file") from None
        missing = missing_folder(path)
        if missing is not None:
            raise missing from None
        return
    except OSError as err:
        raise _os_fail(path, err) from None
    mode = info.st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise _fail(path, f"it is {file_kind(mode)}; give a file name")
    if stat.S_ISREG(mode):
        same = {(info.st_dev, info.st_ino)}
        for source in inputs:
            if file_identity(source) in same:
                raise _fail(path, f"it is the input file {source}; an output never overwrites an input")
        refusal = None if owner is None else _not_owned(path, owner)
        if refusal is not None:
            raise refusal


def folder_link(folder: Path) -> OutputError | None:
    """Why counterexample files must not be written into `folder`: it is a symbolic link, or (for
    a relative path) one of the folders it goes through below the working folder is. A link
    committed to a checkout (`kubeprop-out -> /elsewhere`) would send the files outside it: an
    output folder is a real folder, created by the tool or already there, never followed through a
    link. An absolute path's folders above the last are the user's to choose (`/tmp` may be one)."""
    parts = folder.parts if not folder.is_absolute() else ()
    candidates = [Path(*parts[:i]) for i in range(1, len(parts))] + [folder]
    for place in candidates:
        if os.path.islink(place):
            try:
                target = f" (to {os.readlink(place)})"
            except OSError:
                target = ""
            where = "it is" if place == folder else f"{place} is"
            return _fail(folder, f"{where} a symbolic link{target}; counterexample files are written only into a "
                                 "real folder, never through a link (remove the link, or give --out a real folder)")
    return None


def check_output_folder(folder: Path) -> None:
    """Refuse, before any work is done, an output folder files could not be written into: a
    symbolic link (`folder_link`), a path that is not a folder (or lies under a file), a folder
    without write permission, or one that cannot be created (a read-only or virtual file system
    such as /sys), or one whose parent folder is missing (the output folder is kubeprop's to
    create, the folders above it are not). A missing folder is created and removed again to find
    out, so that checking leaves nothing behind."""
    if "\0" in str(folder):
        raise _fail(Path(str(folder).replace("\0", "\\0")), "the path contains a NUL byte")
    linked = folder_link(folder)
    if linked is not None:
        raise linked
    missing: list[Path] = []
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        missing.append(existing)
        existing = existing.parent
    try:
        info = os.stat(existing)
    except OSError as err:
        raise _os_fail(folder, err) from None
    if not stat.S_ISDIR(info.st_mode):
        under = f"{existing} is {file_kind(info.st_mode)}" if missing else f"it is {file_kind(info.st_mode)}"
        raise _fail(folder, f"{under}, not a folder (counterexample files are written into a folder)")
    if len(missing) > 1:
        raise _fail(folder, f"the folder {missing[-1]} does not exist; kubeprop creates the output folder itself, "
                            "not the folders above it (create them first)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _fail(folder, f"no permission to write into {existing}")
    made: list[Path] = []
    try:
        for name in reversed(missing):
            os.mkdir(name)
            made.append(name)
    except OSError as err:
        raise _fail(folder, f"cannot create the folder: {err.strerror or err}") from None
    finally:
        for name in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(name)


def write_text(path: Path, text: str, inputs: Iterable[Path] = (), owner: str | None = None) -> None:
    """Write `text` (UTF-8) to `path` as the module docstring describes."""
    check_output(path, inputs, owner)
    data = text.encode("utf-8", "backslashreplace")
    if os.path.lexists(path) and (os.path.islink(path) or not stat.S_ISREG(os.stat(path).st_mode)):
        _write_through(path, data, append=False)
    else:
        _replace_atomically(path, data)


def replace_file(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` as a new regular file, atomically, whatever the name held: a
    link there is replaced, never followed (`os.replace` renames over the name itself). For files
    in a folder the tool owns (counterexample files in `--out`), whose names anyone can predict;
    that folder is created if missing (not the folders above it)."""
    _replace_atomically(path, text.encode("utf-8", "backslashreplace"), make_folder=True)


def append_text(path: Path, text: str, inputs: Iterable[Path] = ()) -> None:
    """Append `text` to `path` (created if missing), with the same refusals as `write_text`."""
    check_output(path, inputs)
    _write_through(path, text.encode("utf-8", "backslashreplace"), append=True)


def _replace_atomically(path: Path, data: bytes, make_folder: bool = False) -> None:
    try:
        if make_folder:
            path.parent.mkdir(exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _os_fail(path, err) from None
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise _os_fail(path, err) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_through(path: Path, data: bytes, append: bool) -> None:
    """Open what the path names (following links) and write into it, without replacing it."""
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    flags |= (os.O_APPEND | os.O_CREAT) if append else os.O_TRUNC
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as err:
        if err.errno == errno.ENXIO:
            raise _fail(path, "it is a FIFO (named pipe) that nobody is reading") from None
        raise _os_fail(path, err) from None
    try:
        os.set_blocking(fd, True)  # opened non-blocking only so that a FIFO without a reader is not waited for
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as err:
        raise _os_fail(path, err) from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
