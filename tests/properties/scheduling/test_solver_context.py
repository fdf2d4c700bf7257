"""A Z3 context interrupted while it is being made leaves no error behind (`solver.new_context`).

`z3.Context.__init__` sets `owner` only after its slow C call; a Ctrl-C landing in that call left a
half-built object whose `__del__` printed "Exception ignored in: Context.__del__ … AttributeError"
as `kubeprop check` exited 130 (seen under load in the Ctrl-C tests)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import z3

from kubeprop.properties.scheduling.solver import new_context


def _interrupted(*args: Any) -> None:
    raise KeyboardInterrupt


@pytest.fixture(name="young_heap")
def young_heap_fixture() -> Iterator[None]:
    """The objects alive before the test frozen (`gc.freeze`), so that the test's full collections
    walk only what the test made: with the rest of the suite's objects on the heap, its two
    `gc.collect()` took most of 20 s under load. What the test makes is collected as before."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("young_heap")
def test_an_interrupt_inside_the_context_call_leaves_nothing_to_report(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    monkeypatch.setattr(z3.z3, "Z3_mk_context_rc", _interrupted)
    with pytest.raises(KeyboardInterrupt):
        new_context()
    gc.collect()
    assert seen == []
    with pytest.raises(KeyboardInterrupt):  # what z3.Context() itself does: the error new_context avoids
        z3.Context()
    gc.collect()
    assert [type(u.exc_value) for u in seen] == [AttributeError]


def test_a_context_works_and_is_freed() -> None:
    ctx = new_context()
    solver = z3.Solver(ctx=ctx)
    solver.add(z3.Bool("a", ctx=ctx))
    assert solver.check() == z3.sat
    assert ctx.owner
