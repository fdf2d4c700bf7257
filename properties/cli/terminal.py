"""What reaches the terminal: text from files and objects, with control characters made visible.

Object data (names, labels, annotations, messages, file names) can hold terminal control
sequences — `ESC [ 2 J` clears the screen, an OSC sequence retitles the window or forges a
hyperlink — and bidirectional overrides that reorder what is shown. `EscapingStream` wraps
`sys.stdout`/`sys.stderr` for the duration of a command and writes each such character as a
visible escape (`\\x1b`, `\\u202e`); tabs and line feeds pass, and so does a carriage return that
starts a write (the progress line's own). Characters the stream's encoding cannot represent
(lone surrogates from file names that are not UTF-8) are written as backslash escapes instead of
failing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["EscapingStream", "escape_controls", "escaped_output"]

_PLAIN = re.compile(r"[\t\n\x20-\x7e]*")
"""Text with nothing to escape: printable ASCII, tabs and line feeds (none of it is in
`printable.CONTROL_IN_TEXT`). Such text, `kubeprop --help` for one, is written without importing
`printable` (and the YAML and codec modules it needs)."""


def escape_controls(text: str) -> str:
    """`text` with every control character except tab and line feed (and carriage returns at its
    very start) written as a visible escape."""
    if _PLAIN.fullmatch(text):
        return text
    from kubeprop.counterexamples.printable import CONTROL_IN_TEXT, escape

    body = text.lstrip("\r")
    return text[: len(text) - len(body)] + escape(body, CONTROL_IN_TEXT)


class EscapingStream:
    """A text stream that escapes control characters before passing text on (see the module)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self._encoding = getattr(inner, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        """Write `text`, escaped; returns the length of `text` (as TextIO.write does)."""
        safe = escape_controls(text)
        try:
            safe.encode(self._encoding)
        except (UnicodeEncodeError, LookupError):
            safe = safe.encode(self._encoding, "backslashreplace").decode(self._encoding, "replace")
        self.inner.write(safe)
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each line, escaped."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, …
        return getattr(self.inner, name)


@contextmanager
def escaped_output() -> Iterator[None]:
    """Escape control characters in everything written to sys.stdout and sys.stderr meanwhile."""
    import sys

    saved = sys.stdout, sys.stderr
    sys.stdout = EscapingStream(saved[0])
    sys.stderr = EscapingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
