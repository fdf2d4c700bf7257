"""Fixtures of the CLI tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest


@pytest.fixture
def sigint_default() -> Iterator[None]:
    """Ctrl-C as a terminal's shell gives it, for one test: Python's default SIGINT handler here,
    so the commands it starts get SIGINT's default disposition too (a handler is reset on exec; an
    ignored signal stays ignored). A shell starts a background job (`pytest … &`) with SIGINT
    ignored, and so would every command a test starts: a test's Ctrl-C would then do nothing and
    the command run on to its budget (seen as timeouts in full-suite runs started with `&`)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
