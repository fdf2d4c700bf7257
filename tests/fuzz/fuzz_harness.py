"""Run one `kubeprop` command on hostile input and classify what happened.

Each case runs in a forked child of a warm process (kubeprop already imported), so thousands of
cases cost milliseconds each, while the parent keeps control: the child gets its own working
folder, environment, stdin `/dev/null`, stdout/stderr files and an address-space limit, and is
killed after `timeout` seconds. The parent then classifies the outcome:

| class | meaning |
|---|---|
| `traceback` | a Python traceback reached the output (an exception escaped `main`) |
| `exit-4` | exit 4 (internal error): bad input reported as a kubeprop bug |
| `hang` | the command did not finish within the timeout |
| `crash` | killed by a signal, or an exit code kubeprop never uses (0-4 and 130 are documented) |
| `memory` | the address-space limit was hit (MemoryError) |
| `clobbered` | a protected path changed: an input's bytes, what a link/device/FIFO is, an output's kind |
| `code-executed` | a module named inside untrusted data (a counterexample, a corpus) ran: the canary file appeared |
| `gate-passed` | the gate exited 0 although its corpus held a hostile file |
| `bad-mode` | a file the command created does not follow the umask |

Anything else is `ok` (including exit 2, the expected answer to bad input, and 0/1/3 when the
generated input happened to be valid).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import select
import signal
import stat
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubeprop.properties.cli.main import main  # imported once here, so every forked case starts warm

CANARY_MODULE = "kubeprop_fuzz_canary"
"""A module that, when imported, writes the file named by $KUBEPROP_FUZZ_CANARY: proof that data ran code."""

CANARY_SOURCE = '''"""Fuzz canary: importing this module is running code named by data."""
import os
from pathlib import Path

Path(os.environ.get("KUBEPROP_FUZZ_CANARY", "/nonexistent/canary")).write_text("imported")


def plugin():
    Path(os.environ.get("KUBEPROP_FUZZ_CANARY", "/nonexistent/canary")).write_text("called")
    raise SystemExit(0)
'''

DOCUMENTED_CODES = {0, 1, 2, 3, 4, 130}
BAD_CLASSES = ("traceback", "exit-4", "hang", "crash", "memory", "clobbered", "code-executed", "gate-passed",
               "bad-mode")
MEMORY_LIMIT = 3 * 1024**3
"""Address-space limit of a case (bytes): an unbounded read or state space hits it instead of the machine."""


@dataclass
class Case:
    """One command to run: its arguments, folder, extra environment, and what it must not touch."""

    surface: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    protected: list[Path] = field(default_factory=list)
    kind_only: list[Path] = field(default_factory=list)
    untrusted: bool = False
    hostile_corpus: bool = False
    note: str = ""


@dataclass
class Outcome:
    """What a case did and how it is classified."""

    case: Case
    verdict: str
    code: int | None
    seconds: float
    stdout: str
    stderr: str

    @property
    def bad(self) -> bool:
        """Whether the outcome is one the campaign counts against kubeprop."""
        return self.verdict != "ok"

    def describe(self) -> str:
        """A few lines to reproduce and judge the case."""
        tail = self.stderr.strip().splitlines()[-3:]
        return (f"[{self.verdict}] {self.case.surface}: kubeprop {' '.join(self.case.argv)} (exit {self.code}, "
                f"{self.seconds:.1f} s) {self.case.note}\n    " + "\n    ".join(tail))


def install_canary(folder: Path) -> Path:
    """Write the canary module into `folder` and put the folder on sys.path (children inherit it)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{CANARY_MODULE}.py").write_text(CANARY_SOURCE)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return folder


def _fingerprint(path: Path) -> tuple[object, ...]:
    """What a protected path is: its type (not following links), link target, inode and content hash."""
    try:
        info = os.lstat(path)
    except OSError:
        return ("missing",)
    kind = stat.S_IFMT(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = "unreadable"
        return ("file", info.st_ino, digest)
    return ("other", kind, info.st_ino, info.st_rdev)


def _snapshot(paths: Iterable[Path]) -> dict[Path, tuple[object, ...]]:
    return {p: _fingerprint(p) for p in paths}


def _listing(folder: Path) -> set[Path]:
    found: set[Path] = set()
    for root, dirs, files in os.walk(folder):
        found.update(Path(root) / f for f in files)
        dirs[:] = [d for d in dirs if not d.startswith(".hypothesis")]
    return found


def _child(case: Case, out: Path, err: Path) -> None:
    """In the forked child: set up the sandbox, run the command, exit with its code."""
    code = 99
    try:
        os.chdir(case.cwd)
        os.environ.update(case.env)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives until os._exit
        sys.stdout = open(1, "w", closefd=False, encoding="utf-8")  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, encoding="utf-8")  # noqa: SIM115
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        try:
            code = main(case.argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 98)
    except MemoryError:
        sys.stderr.write("fuzz harness: MemoryError\n")
        code = 97
    except BaseException:
        traceback.print_exc()
        code = 96
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(int(code) & 0xFF)


def _wait(pid: int, timeout: float) -> tuple[int | None, bool]:
    """(wait status, timed out); kills the child (and its process group) on timeout."""
    deadline = time.monotonic() + timeout
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status, False
            left = deadline - time.monotonic()
            if left <= 0:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                return status, True
            if fd >= 0:
                select.select([fd], [], [], min(left, 1.0))
            else:
                time.sleep(min(left, 0.01))
    finally:
        if fd >= 0:
            os.close(fd)


def run(case: Case, timeout: float = 60.0) -> Outcome:
    """Run `case` in a forked child and classify the outcome (see the module docstring)."""
    canary = case.cwd / "CANARY"
    case.env.setdefault("KUBEPROP_FUZZ_CANARY", str(canary))
    case.env.setdefault("GITHUB_STEP_SUMMARY", "")
    before = _snapshot(case.protected)
    kinds = {p: _fingerprint(p)[0] for p in case.kind_only}
    existing = _listing(case.cwd)
    out, err = case.cwd.parent / f"{case.cwd.name}.out", case.cwd.parent / f"{case.cwd.name}.err"
    umask = os.umask(0o022)
    os.umask(umask)
    sys.stdout.flush()
    sys.stderr.flush()
    began = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        _child(case, out, err)
    status, timed_out = _wait(pid, timeout)
    seconds = time.perf_counter() - began
    stdout = out.read_text(errors="replace") if out.exists() else ""
    stderr = err.read_text(errors="replace") if err.exists() else ""
    code = os.waitstatus_to_exitcode(status) if status is not None else None
    if any(_fingerprint(p)[0] != kind for p, kind in kinds.items()):
        before[Path("(an output named on the command line changed kind)")] = ("changed",)
    verdict = classify(case, code, timed_out, stdout, stderr, before, existing, canary, umask)
    return Outcome(case, verdict, code, seconds, stdout, stderr)


def classify(case: Case, code: int | None, timed_out: bool, stdout: str, stderr: str,
             before: dict[Path, tuple[object, ...]], existing: set[Path], canary: Path, umask: int) -> str:
    """The outcome's class (first match wins, most serious first)."""
    if case.untrusted and canary.exists():
        return "code-executed"
    if timed_out:
        return "hang"
    if any(_fingerprint(p) != fp for p, fp in before.items()):
        return "clobbered"
    if "Traceback (most recent call last)" in stderr + stdout:
        return "traceback"
    if code == 97 or "MemoryError" in stderr:
        return "memory"
    if code is None or code < 0 or code not in DOCUMENTED_CODES:
        return "crash"
    if code == 4:
        return "exit-4"
    if case.hostile_corpus and code == 0:
        return "gate-passed"
    if _bad_modes(case.cwd, existing, umask):
        return "bad-mode"
    return "ok"


def _bad_modes(folder: Path, existing: set[Path], umask: int) -> list[Path]:
    """Regular files created by the command whose permission bits are not 0666 minus the umask."""
    want = 0o666 & ~umask
    bad = []
    for path in _listing(folder) - existing:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and path.name != "CANARY" and stat.S_IMODE(info.st_mode) != want:
            bad.append(path)
    return bad


def summarise(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Cases per class, every class listed (zeros included)."""
    counts = dict.fromkeys(("ok", *BAD_CLASSES), 0)
    for outcome in outcomes:
        counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
    return counts
