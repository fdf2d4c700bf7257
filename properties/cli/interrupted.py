"""Ctrl-C: what a command got through before the interrupt, printed by `main` with exit 130.

A command that has something to show when interrupted (the table so far, the counterexample files
already written) catches KeyboardInterrupt and raises `Interrupted` with that text; `main` prints
it after "interrupted" and exits with ExitCode.INTERRUPTED.
"""

from __future__ import annotations

__all__ = ["Interrupted"]


class Interrupted(KeyboardInterrupt):
    """A KeyboardInterrupt carrying what the command had done so far (`partial`, printable text)."""

    def __init__(self, partial: str) -> None:
        super().__init__(partial)
        self.partial = partial
