"""Ctrl-C: what a command got through before the interrupt, printed by `main` with exit 130.

A command that has something to show when interrupted (the table so far, the counterexample files
already written) catches KeyboardInterrupt and raises `Interrupted` with that text; `main` prints
it after "interrupted" and exits with ExitCode.INTERRUPTED.

`interrupts_kept` makes sure a Ctrl-C reaches the command at all. Python raises KeyboardInterrupt
wherever the main thread happens to be; where that is a garbage collector's callback (Hypothesis
registers one to time collections), a `__del__` or a weakref callback, Python cannot propagate
it: it prints "Exception ignored in …" to `sys.unraisablehook`, and the command ran on to the end
of its budget.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import attrs

__all__ = ["Interrupted", "interrupts_kept"]

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
    raised there would be lost too) and whether an interrupt is owed to it."""

    in_hook: bool = False
    owed: bool = False


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """Inside, a KeyboardInterrupt that Python could not raise is raised again `REDELIVER_AFTER`
    seconds later (`_thread.interrupt_main`, as if Ctrl-C were pressed once more), quietly;
    anything else unraisable goes to the hook that was there before. Only in the main thread and
    only while SIGINT has Python's default handler (a caller's own handler is left alone)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    delivery = _Delivery()
    previous_hook = sys.unraisablehook

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if delivery.in_hook:
            delivery.owed = True  # raised here it would be lost as well: the hook has it raised later
            return
        raise KeyboardInterrupt

    def on_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
        delivery.in_hook = True
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            delivery.owed = True
        else:
            previous_hook(unraisable)
        while delivery.owed:  # leaving the loop checks no signal: none is handled until the hook returns
            delivery.owed = False
            redelivery = threading.Timer(REDELIVER_AFTER, _thread.interrupt_main)
            redelivery.daemon = True
            redelivery.start()
        delivery.in_hook = False

    signal.signal(signal.SIGINT, on_sigint)
    sys.unraisablehook = on_unraisable
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGINT, signal.default_int_handler)
