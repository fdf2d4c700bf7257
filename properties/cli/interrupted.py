"""Ctrl-C: what a command got through before the interrupt, printed by `main` with exit 130.

A command that has something to show when interrupted (the table so far, the counterexample files
already written) catches KeyboardInterrupt and raises `Interrupted` with that text; `main` prints
it after "interrupted" and exits with ExitCode.INTERRUPTED.

SIGTERM (a CI job's timeout, a pipeline cancelled) is handled the same way: inside
`interrupts_kept` it raises KeyboardInterrupt in the main thread, so the command writes what it
has (the gate its JUnit and summary), and `terminated()` tells `main` to say so and exit 143
(128 + SIGTERM, as a shell reports a process the signal ended). A process forked while the handler
is installed (an engine's worker, a corpus replay) is not the command: there the handler restores
the default and re-sends the signal to itself, so it ends by SIGTERM as before.

`interrupts_kept` makes sure a Ctrl-C reaches the command at all. Python raises KeyboardInterrupt
wherever the main thread happens to be; where that is a garbage collector's callback (Hypothesis
registers one to time collections), a `__del__` or a weakref callback, Python cannot propagate
it: it prints "Exception ignored in …" to `sys.unraisablehook`, and the command ran on to the end
of its budget.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import attrs

__all__ = ["Interrupted", "interrupts_kept", "terminated"]

REDELIVER_AFTER = 0.01
"""Seconds after Python lost a KeyboardInterrupt before it is raised again: by then the main
thread has left the place that could not propagate it."""


class Interrupted(KeyboardInterrupt):
    """A KeyboardInterrupt carrying what the command had done so far (`partial`, printable text)."""

    def __init__(self, partial: str) -> None:
        super().__init__(partial)
        self.partial = partial


@attrs.define
class _Delivery:
    """Where a Ctrl-C stands: whether the main thread is in the unraisable hook (an interrupt
    raised there would be lost too) and whether an interrupt is owed to it; with the signal
    handlers and the unraisable hook `interrupts_kept` installs. `command`: the command's
    process id (a forked process is not the command); `previous_hook`: the unraisable hook to
    hand on to."""

    command: int
    previous_hook: Callable[[sys.UnraisableHookArgs], object]
    in_hook: bool = False
    owed: bool = False

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT: a KeyboardInterrupt, or owed to the main thread while it is in the hook."""
        if self.in_hook:
            self.owed = True  # raised here it would be lost as well: the hook has it raised later
            return
        raise KeyboardInterrupt

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM: as SIGINT in the command (noted for `terminated`); in a forked process, SIGTERM as before."""
        if os.getpid() != self.command:  # a forked process inherited the handler: end it as SIGTERM would
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        _TERMINATED["by_sigterm"] = True
        self.on_sigint(signum, frame)

    def on_unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        """The unraisable hook: a lost KeyboardInterrupt is raised again `REDELIVER_AFTER` seconds
        later; anything else goes to the previous hook."""
        self.in_hook = True
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.owed = True
        else:
            self.previous_hook(unraisable)
        while self.owed:  # leaving the loop checks no signal: none is handled until the hook returns
            self.owed = False
            redelivery = threading.Timer(REDELIVER_AFTER, _thread.interrupt_main)
            redelivery.daemon = True
            redelivery.start()
        self.in_hook = False


_TERMINATED = {"by_sigterm": False}
"""Whether the last interrupt inside `interrupts_kept` came from SIGTERM (read by `terminated`)."""


def terminated() -> bool:
    """Whether the command was interrupted by SIGTERM rather than Ctrl-C (exit 143, not 130)."""
    return _TERMINATED["by_sigterm"]


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """Inside, a KeyboardInterrupt that Python could not raise is raised again `REDELIVER_AFTER`
    seconds later (`_thread.interrupt_main`, as if Ctrl-C were pressed once more), quietly;
    anything else unraisable goes to the hook that was there before; and SIGTERM interrupts as
    Ctrl-C does (see the module). Only in the main thread; SIGINT only while it has Python's
    default handler, SIGTERM only while it has none (a caller's own handler, or an ignored signal,
    is left alone). The two are judged apart: a job started in the background (`nohup`, `&`)
    ignores SIGINT, and a CI timeout's SIGTERM must still write what was done."""
    main = threading.current_thread() is threading.main_thread()
    sigint = main and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    term = main and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if not (sigint or term):
        yield
        return
    previous_hook = sys.unraisablehook
    delivery = _Delivery(os.getpid(), previous_hook)
    _TERMINATED["by_sigterm"] = False
    if sigint:
        signal.signal(signal.SIGINT, delivery.on_sigint)
    if term:
        signal.signal(signal.SIGTERM, delivery.on_sigterm)
    sys.unraisablehook = delivery.on_unraisable
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        if sigint:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if term:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
