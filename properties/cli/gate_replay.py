"""Corpus replays for the gate, each in a child process: whatever a file does, the gate fails closed.

A corpus file under review imports nothing it was not allowed to (`replay(allow_imports=…)`), but
an allowed module — or a bug — can still call `sys.exit`, `os._exit`, `os.abort`, raise a signal
or loop forever. Each file is therefore replayed in a child process (forked where the platform
allows, else spawned) that sends its `Case` back through a pipe. The gate's verdict for the file
is the child's case only if the child also exits normally; a child that exits without a case,
with a non-zero code, on a signal or after `timeout` seconds is an `error` case saying which.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Collection
from multiprocessing.connection import Connection
from pathlib import Path

from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.printable import shown_error
from kubeprop.counterexamples.raft_trace import RaftReplay
from kubeprop.counterexamples.render import replay_relies_line
from kubeprop.counterexamples.replay_file import render_file_replay, replay_file
from kubeprop.model.errors import InputError
from kubeprop.properties.cli.gate_report import Case

__all__ = ["corpus_case", "replay_case"]


def gate_advice(path: str, modules: Collection[str]) -> str:
    """How to let a corpus file import its modules, in the gate's words: its config's `allowImports`."""
    return f"list {'them' if len(modules) > 1 else 'it'} under the gate config's allowImports: [{', '.join(modules)}]"


def corpus_case(path: Path, allow_imports: tuple[str, ...]) -> Case:
    """Replay one corpus file in this process: its verdict must match its expectation."""
    began = time.perf_counter()
    try:
        result = replay_file(path, allow_imports=allow_imports, allow_advice=gate_advice)
    except (CounterexampleError, InputError) as err:
        problems = shown_error(err).replace("\n", "; ")  # one line: a case's message is one line of the log
        return Case("corpus", path.name, "error", f"unreadable: {problems}", "", time.perf_counter() - began,
                    str(path))
    ok = result.verdict == result.required  # its expectation, else REPRODUCES (as replay --expect)
    detail = render_file_replay(result) if not ok else ""
    message = f"{result.verdict.value}, expected {result.required}: {result.reason}"
    relies = "" if isinstance(result, RaftReplay) else replay_relies_line(result)  # a Raft replay prints none
    return Case("corpus", path.name, "passed" if ok else "failed", message, detail, time.perf_counter() - began,
                str(path), relies)


def _child(path: str, allow_imports: tuple[str, ...], send: Connection) -> None:
    """The child process: replay, send the case (a crash is a case too), exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills the child
    try:
        case = corpus_case(Path(path), allow_imports)
    except BaseException as err:
        case = Case("corpus", Path(path).name, "error", f"the replay crashed: {type(err).__name__}: {err}", "",
                    0.0, path)
    send.send(case)
    send.close()


def _context() -> multiprocessing.context.BaseContext:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _death(exitcode: int | None, timed_out: bool, timeout: float) -> str:
    if timed_out:
        return f"the replay did not finish within {timeout:g} s (replayTimeout) and was killed"
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the replay process was killed by {name}"
    return f"the replay process exited with code {exitcode} without a verdict"


def replay_case(path: Path, allow_imports: tuple[str, ...], timeout: float) -> Case:
    """Replay `path` in a child process (see the module docstring) and return its case."""
    began = time.perf_counter()
    context = _context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(str(path), allow_imports, send), daemon=True)  # type: ignore[attr-defined]
    child.start()
    send.close()
    case: Case | None = None
    killed = False
    try:
        if receive.poll(timeout):
            try:
                received = receive.recv()
                case = received if isinstance(received, Case) else None
            except (EOFError, OSError, ValueError):  # the child died (or closed the pipe) without a case
                case = None
        child.join(max(0.0, began + timeout - time.perf_counter()) + 1.0)
    finally:
        if child.is_alive():
            killed = True
            child.kill()
            child.join()
        receive.close()
    if case is not None and child.exitcode == 0:
        return case
    reason = _death(child.exitcode, killed, timeout)
    if case is not None:
        reason = f"{reason.replace(' without a verdict', '')} after reporting: {case.status}, {case.message}"
    return Case("corpus", path.name, "error", reason, "", time.perf_counter() - began, str(path))
