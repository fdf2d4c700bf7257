"""Worker processes of the engines (the portfolio's lanes, parallel walks) that a Ctrl-C always stops.

A Ctrl-C is the parent's: it stops the search, and the workers are ended by the parent. A terminal
sends SIGINT to the whole process group, so a worker must ignore it — from its first instruction:
a forked worker inherits the parent's handler, and one interrupted before it set its own would die
with a traceback. So SIGINT is blocked while a worker starts (`started`), and the worker unblocks
it once it ignores it (`ignore_interrupts`); one that came meanwhile reaches the parent when the
parent unblocks it. Ending them (`stop_workers`) never waits on a lock a worker may hold: a
`multiprocessing.Pool`'s terminate can (its task queue's read lock, held by a worker blocked on
it), and a Ctrl-C during parallel walks hung a check for a minute in CI-like runs."""

from __future__ import annotations

import contextlib
import multiprocessing.process
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any


def ignore_interrupts() -> None:
    """The first thing a worker does: ignore SIGINT, then let it through (`started` blocked it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def started(context: Any, target: Callable[..., None], args: Sequence[tuple[Any, ...]], name: str
            ) -> tuple[list[multiprocessing.process.BaseProcess], list[Connection]]:
    """One daemon process per entry of `args`, each `target(conn, *entry)` with its end of a duplex
    pipe, started with SIGINT blocked (the parent's mask is restored after); the parent's ends."""
    procs: list[multiprocessing.process.BaseProcess] = []
    conns: list[Connection] = []
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        for number, entry in enumerate(args, 1):
            ours, theirs = context.Pipe(duplex=True)
            proc = context.Process(target=target, args=(theirs, *entry), daemon=True, name=f"{name}-{number}")
            proc.start()
            theirs.close()
            procs.append(proc)
            conns.append(ours)
    except BaseException:
        stop_workers(procs, conns, patient=False)
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return procs, conns


def stop_workers(procs: list[multiprocessing.process.BaseProcess], conns: list[Connection], patient: bool) -> None:
    """End the workers: a moment to exit after reporting (`patient`), then SIGTERM, then SIGKILL."""
    for proc in procs:
        proc.join(timeout=0.5 if patient else 0)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=1.0)
        if proc.is_alive():
            proc.kill()
            proc.join()
    for conn in conns:
        with contextlib.suppress(OSError):
            conn.close()
