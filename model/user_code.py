"""Errors in the user's own code: a controller or a property of theirs that raises, or a reconcile
that returns something that is not a `Reconciliation` of `Request`s.

The model calls the user's code at a few boundaries — a controller's methods and its decisions'
functions (`kubeprop.model.controllers.user_calls`: `reconcile`, `observe`, `initial_memory`,
`wakeup_at`, `memory_wakeups`, a Reconciliation's `tolerate` and `after_failure`), its event
handlers (`keys_for`, `keys_for_change`), a property's check function
(`kubeprop.properties.registry.as_property`). There an exception from the user's code becomes a
`UserCodeError` naming the controller and key (or the property and state), the exception, the
user's file and line (the innermost frame of the traceback in code that is neither kubeprop's nor
the Python installation's: `user_frame`) and what a valid answer is. It is an `InputError`, so the
CLI reports it as bad input (exit 2) without a traceback, and it is raised `from` the user's
exception, so a test runner shows the whole traceback into the user's code.

An exception whose traceback has no frame of the user's is kubeprop's own (a bug) and is left as
it is. Only the exception path costs anything: `try` is free in Python 3.11 when nothing is raised.
"""

from __future__ import annotations

import traceback
import types
from functools import cache
from pathlib import Path
from typing import Any

from kubeprop.model.errors import UserCodeError, describe_value

__all__ = ["UserCodeError", "controller_error", "property_error", "property_returned", "raised_where", "returned_error",
           "user_frame"]

_PACKAGE = Path(__file__).resolve().parent.parent
KUBEPROP_ROOTS: tuple[str, ...] = tuple(str(_PACKAGE / part) + "/" for part in ("model", "properties",
                                                                                 "counterexamples"))
"""kubeprop's own source folders (installed or in a checkout): frames there are not the user's."""


@cache
def library_roots() -> tuple[str, ...]:
    """The Python installation's library folders (the standard library, installed packages); asked
    only on an error's path, so `sysconfig` is not imported before."""
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple(sorted({str(Path(p).resolve()) + "/" for key in ("stdlib", "platstdlib", "purelib", "platlib")
                         if (p := paths.get(key))}))


CONTRACT = ("a reconcile(view, key, memory, now) must return a Reconciliation(requests, memory, requeue=False) "
            "whose requests are a tuple of Request values (docs/controllers.md, 'The Controller protocol')")
"""What a valid reconcile returns, for the messages."""
PROPERTY_CONTRACT = ("a property's function takes (model, state) and returns None when it holds, else a message "
                     "or (message, objects) (docs/properties.md, 'Your own properties')")
"""What a valid property function returns."""


def _outside(filename: str, roots: tuple[str, ...]) -> bool:
    path = str(Path(filename).resolve()) if not filename.startswith("<") else filename
    return not path.startswith(roots)


def raised_where(err: BaseException) -> str:
    """` at FILE:LINE, in FUNCTION` for the user's frame that raised `err` (`user_frame`), or "" when
    none is the user's: the place a message about a stray `sys.exit` names."""
    frame = user_frame(err)
    return f" at {frame.filename}:{frame.lineno}, in {frame.name}" if frame is not None else ""


def user_frame(err: BaseException, installed: bool = False) -> traceback.FrameSummary | None:
    """The innermost frame of `err`'s traceback in the user's code: outside kubeprop's folders and
    the Python installation's libraries (frozen modules included); None when there is none. With
    `installed` (the code called is known to be the user's: its module is not kubeprop's), also a
    frame of an installed package, when there is no other (the user's operator installed with pip)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not f.filename.startswith("<") and _outside(f.filename, KUBEPROP_ROOTS)]
    own = [f for f in frames if _outside(f.filename, library_roots())]
    if own:
        return own[-1]
    return frames[-1] if installed and frames else None


def _users(value: Any) -> bool:
    """Whether `value` (a controller, a function) is defined outside kubeprop."""
    kind = value if isinstance(value, types.FunctionType | types.MethodType) else type(value)
    return not str(getattr(kind, "__module__", "")).startswith("kubeprop.")


def _where(frame: traceback.FrameSummary) -> str:
    line = f": {frame.line.strip()}" if frame.line else ""
    return f"{frame.filename}:{frame.lineno}, in {frame.name}{line}"


def _what(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def controller_error(controller: Any, doing: str, err: BaseException) -> UserCodeError | None:
    """The `UserCodeError` for `err`, raised by `controller`'s code while `doing` (e.g. "reconciling
    key 'default/w1' at model time 0 s"); None when no frame of the traceback is the user's (a bug
    in kubeprop: the caller re-raises `err`)."""
    frame = user_frame(err, _users(controller))
    if frame is None:
        return None
    name = getattr(controller, "name", "?")
    return UserCodeError(
        f"controller {name!r} ({_qualified(controller)}) raised {_what(err)}\n"
        f"  while {doing}\n  at {_where(frame)}\n"
        "This is an error in the controller's code, not in kubeprop; call the model from a test "
        "(pytest shows the whole traceback) or re-run with KUBEPROP_DEBUG=1 to see it.")


def returned_error(controller: Any, doing: str, problem: str, method: str = "reconcile",
                   contract: str = CONTRACT, function: Any = None) -> UserCodeError:
    """The `UserCodeError` for a call of `controller`'s `method` (its reconcile unless said) that
    returned something invalid (`problem` says what), naming that method's file and line — or
    those of `function`, the one called when it is not a method of the controller (a decision's
    `tolerate`) — and what it must return (`contract`)."""
    name = getattr(controller, "name", "?")
    called = function if function is not None else getattr(controller, method, None)
    return UserCodeError(
        f"controller {name!r} ({_qualified(controller)}) returned {problem}\n"
        f"  while {doing}\n  at {_definition(called)}\n"
        f"Expected: {contract}.")


def property_error(name: str, check: Any, doing: str, err: BaseException) -> UserCodeError | None:
    """The `UserCodeError` for `err`, raised by the check function `check` of the user's property
    `name` while `doing`; None when no frame of the traceback is the user's."""
    frame = user_frame(err, _users(check))
    if frame is None:
        return None
    return UserCodeError(
        f"property {name!r} ({_qualified(check)}) raised {_what(err)}\n"
        f"  while {doing}\n  at {_where(frame)}\n"
        "This is an error in the property's code, not in kubeprop; call it from a test (pytest shows "
        "the whole traceback) or re-run with KUBEPROP_DEBUG=1 to see it.")


def property_returned(name: str, check: Any, result: object) -> UserCodeError:
    """The `UserCodeError` for a check function of property `name` that returned `result`, which is
    neither None nor a message nor (message, objects)."""
    return UserCodeError(
        f"property {name!r} ({_qualified(check)}) returned {describe_value(result)}\n"
        f"  at {_definition(check)}\n"
        f"Expected: {PROPERTY_CONTRACT}.")


def _qualified(value: Any) -> str:
    """`module.Class` of a controller value, `module.function` of a function."""
    kind = value if isinstance(value, types.FunctionType | types.MethodType) else type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"


def _definition(fn: Any) -> str:
    """`file:line, in name` of a function's definition (a bound method's function), or its name."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        return repr(fn)
    return f"{code.co_filename}:{code.co_firstlineno}, in {code.co_name}"
