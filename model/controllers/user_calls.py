"""The boundary where the model calls a controller's code: one function per call of the documented
controller API (docs/controllers.md, 'The Controller protocol'), each with what a valid answer is.

A user's controller is code the model runs: `initial_memory()` when the controller manager starts,
its event handlers (`keys_for`, `keys_for_change`) for each watch event, `reconcile` for a queued
key, `observe` after each response, the decision's `tolerate` and `after_failure` after a failed
one, `wakeup_at` and `memory_wakeups` when the clock asks for the next wake-up. An exception raised
there with a frame of the user's code in its traceback becomes a `UserCodeError` naming the
controller, the call, the exception and the user's file:line, raised `from` it
(`kubeprop.model.user_code.controller_error`); an exception of kubeprop's own code alone is
kubeprop's bug and goes on as it is. An answer outside the call's contract (`*_CONTRACT`) is a
`returned_error` naming the function that gave it — checked for the user's controllers (`BUILT_IN`
names the ones that are not), where checking costs anything; a decision's `tolerate` and
`after_failure` answers are checked for every controller (they run only after a failure).

A `SystemExit` raised there (`sys.exit` in the controller, or in a library it calls) is the user's
error too: left alone it would end the whole check with its code, and `sys.exit(0)` would read as
"held" with nothing printed. A `KeyboardInterrupt` is not caught: Ctrl-C must stop the run wherever
it lands, user code included (exit 130, what was done so far printed); one raised by the user's
code reads the same way, never as a result.

The CLI reports a `UserCodeError` as bad input (exit 2) under `check` (one process, the portfolio's
lanes and the walk workers send it back whole), `replay` and `gate`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from kubeprop.model.api.server import Request, Response
from kubeprop.model.errors import UserCodeError, describe_value
from kubeprop.model.state.component import Change, Controller, Reconciliation, keys_for_change
from kubeprop.model.state.informer import ObjectView
from kubeprop.model.user_code import controller_error, returned_error

__all__ = ["AFTER_FAILURE_CONTRACT", "BUILT_IN", "KEYS_CONTRACT", "MEMORY_CONTRACT", "MEMORY_WAKEUPS_CONTRACT",
           "TOLERATE_CONTRACT", "WAKEUP_CONTRACT", "built_in", "failure_followers", "handled_keys", "memory_wakeups",
           "observe_answer", "reconciled", "started_memory", "tolerated", "woken_at"]

BUILT_IN = "kubeprop.model.controllers."
"""The module prefix of kubeprop's own controllers."""

WAKEUP_CONTRACT = ("a wakeup_at(view, key, now) must return None or the model time in seconds (an int) at "
                   "which the key is to be reconciled again (docs/controllers.md)")
TOLERATE_CONTRACT = ("a Reconciliation's tolerate(request, response) must return \"ignore\", \"forget\" or None "
                     "(docs/controllers.md, 'Reconcile and how failures requeue')")
AFTER_FAILURE_CONTRACT = ("a Reconciliation's after_failure(request, response) must return a tuple of Request "
                          "values: the requests still sent after that failure (docs/controllers.md, 'Reconcile and "
                          "how failures requeue')")
MEMORY_CONTRACT = ("a controller's memory (what initial_memory() and observe return, a Reconciliation's memory) "
                   "must be hashable and comparable: a frozen attrs class, a tuple, a FrozenMap, not a dict, a "
                   "list or a set (docs/controllers.md, 'Purity rules')")
MEMORY_WAKEUPS_CONTRACT = ("a memory_wakeups(memory, queue) must return (key, time) pairs: a key (a string) and "
                           "the model time in seconds (an int) at which it is to be reconciled again "
                           "(docs/controllers.md)")
KEYS_CONTRACT = ("keys_for(obj, view) and keys_for_change(change, view) must return the work-queue keys to "
                 "enqueue: an iterable of strings (docs/controllers.md, 'Work queues: keys_for and enqueueing')")
TOLERATED = frozenset({"ignore", "forget"})
"""What a `tolerate` may answer besides None."""


def built_in(controller: object) -> bool:
    """Whether `controller` is one of kubeprop's own (its class is defined in `BUILT_IN`); asked
    for every handler call, reconcile and resync, so answered once per class (`_BUILT_IN_TYPES`)."""
    kind = type(controller)
    found = _BUILT_IN_TYPES.get(kind)
    if found is None:
        found = _BUILT_IN_TYPES[kind] = kind.__module__.startswith(BUILT_IN)
    return found


_BUILT_IN_TYPES: dict[type, bool] = {}
"""`built_in` by the controller's class (a class's module does not change)."""


def _raised(controller: Any, doing: str, err: Exception | SystemExit) -> NoReturn:
    """Raise `err`, raised by a call of `controller`'s code while `doing`, as the user's error
    (`controller_error`), or as it is: a `UserCodeError` already, or kubeprop's own bug. A
    `SystemExit` is an error like any other here (see the module)."""
    if not isinstance(err, UserCodeError):
        error = controller_error(controller, doing, err)
        if error is not None:
            raise error from err
    raise err


def handled_keys(controller: Controller, change: Change, view: ObjectView) -> Iterable[str]:
    """The keys `controller`'s event handler enqueues for `change` (`component.keys_for_change`,
    whose call is the boundary for an exception). A user's handler's answer is read whole here (a
    generator's body runs as it is read) and must be an iterable of strings, else a
    `returned_error`; a built-in controller's is taken as it is."""
    try:
        keys = keys_for_change(controller, change, view)  # (the boundary for an Exception)
    except SystemExit as err:
        _raised(controller, _handling(change), err)
    if built_in(controller):
        return keys
    doing = _handling(change)
    try:
        found = tuple(keys) if isinstance(keys, Iterable) and not isinstance(keys, str) else None
    except (Exception, SystemExit) as err:
        _raised(controller, doing, err)
    method = "keys_for_change" if hasattr(controller, "keys_for_change") else "keys_for"
    if found is None:
        raise returned_error(controller, doing, f"{describe_value(keys)} from {method}", method, KEYS_CONTRACT)
    wrong = next((key for key in found if not isinstance(key, str)), None)
    if wrong is not None:
        raise returned_error(controller, doing, f"{describe_value(wrong)} among the keys from {method}", method,
                             KEYS_CONTRACT)
    return found


def _handling(change: Change) -> str:
    meta = change.object.metadata
    name = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
    return f"handling the {change.type} of {type(change.object).__name__} {name!r} (keys_for / keys_for_change)"


def _reconciling(key: str, now: int) -> str:
    return f"reconciling key {key!r} at model time {now} s"


def reconciled(controller: Controller, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
    """`controller.reconcile(view, key, memory, now)`. A value that is not a `Reconciliation`, or
    (the user's controllers) requests that are not `Request`s or an unhashable memory, is a
    `returned_error` saying what a reconcile must return."""
    try:
        decision = controller.reconcile(view, key, memory, now)
    except (Exception, SystemExit) as err:
        _raised(controller, _reconciling(key, now), err)
    if not isinstance(decision, Reconciliation):
        raise returned_error(controller, _reconciling(key, now), f"{describe_value(decision)} from reconcile")
    if not built_in(controller):
        _check_requests(controller, decision, key, now)
        _check_memory(controller, decision.memory, "reconcile", lambda: _reconciling(key, now))
    return decision


def _check_requests(controller: Controller, decision: Reconciliation, key: str, now: int) -> None:
    """A `returned_error` unless the decision's requests are a tuple (or list) of `Request`s."""
    requests: Any = decision.requests
    if not isinstance(requests, tuple | list):
        raise returned_error(controller, _reconciling(key, now),
                             f"a Reconciliation whose requests are {describe_value(requests)}")
    for i, request in enumerate(requests):
        if not isinstance(request, Request):
            raise returned_error(controller, _reconciling(key, now),
                                 f"a Reconciliation whose request {i + 1} of {len(requests)} is "
                                 f"{describe_value(request)}, not a Request")


def _check_memory(controller: Controller, memory: Any, method: str, doing: Callable[[], str]) -> None:
    """A `returned_error` naming `method` unless `memory` can be hashed: memory is part of the state,
    and the search keeps states in hashed sets."""
    try:
        hash(memory)
    except TypeError as err:
        raise returned_error(controller, doing(), f"{describe_value(memory)} as its memory from {method} ({err})",
                             method, MEMORY_CONTRACT) from err


def started_memory(controller: Controller) -> Any:
    """`controller.initial_memory()`: its memory when the controller manager (re)starts."""
    try:
        memory = controller.initial_memory()
    except (Exception, SystemExit) as err:
        _raised(controller, "asking initial_memory() as the controller manager starts", err)
    if not built_in(controller):
        _check_memory(controller, memory, "initial_memory",
                      lambda: "asking initial_memory() as the controller manager starts")
    return memory


def observe_answer(controller: Controller, memory: Any, request: Request, response: Response, key: str,
                   now: int) -> Any:
    """`controller.observe(memory, request, response)`: the memory after one response."""
    try:
        observed = controller.observe(memory, request, response)
    except (Exception, SystemExit) as err:
        _raised(controller, _observing(request, response, key, now), err)
    if observed is not memory and not built_in(controller):
        _check_memory(controller, observed, "observe", lambda: _observing(request, response, key, now))
    return observed


def _observing(request: Request, response: Response, key: str, now: int) -> str:
    return f"observing the answer {response.code} to its {request.verb} request, {_reconciling(key, now)}"


def tolerated(controller: Controller, decision: Reconciliation, request: Request, response: Response, key: str,
              now: int) -> str | None:
    """`decision.tolerate(request, response)` for a failed response: "ignore", "forget" or None
    (`kubeprop.model.state.component.Reconciliation`); anything else is a `returned_error`."""
    tolerate: Any = decision.tolerate
    try:
        answer = tolerate(request, response)
    except (Exception, SystemExit) as err:
        _raised(controller, _after(request, response, "tolerate", key, now), err)
    if answer is not None and (not isinstance(answer, str) or answer not in TOLERATED):
        raise returned_error(controller, _after(request, response, "tolerate", key, now),
                             f"{describe_value(answer)} from its Reconciliation's tolerate", "tolerate",
                             TOLERATE_CONTRACT, tolerate)
    return answer


def failure_followers(controller: Controller, decision: Reconciliation, request: Request, response: Response,
                      key: str, now: int) -> tuple[Request, ...]:
    """`decision.after_failure(request, response)`: the requests still sent after a failure, a
    tuple of `Request`s; anything else is a `returned_error`."""
    after_failure: Any = decision.after_failure
    try:
        followers = after_failure(request, response)
    except (Exception, SystemExit) as err:
        _raised(controller, _after(request, response, "after_failure", key, now), err)
    problem = None
    if not isinstance(followers, tuple | list):
        problem = describe_value(followers)
    else:
        wrong = next((i for i, r in enumerate(followers) if not isinstance(r, Request)), None)
        if wrong is not None:
            problem = (f"a sequence whose request {wrong + 1} of {len(followers)} is "
                       f"{describe_value(followers[wrong])}, not a Request,")
    if problem is not None:
        raise returned_error(controller, _after(request, response, "after_failure", key, now),
                             f"{problem} from its Reconciliation's after_failure", "after_failure",
                             AFTER_FAILURE_CONTRACT, after_failure)
    return tuple(followers)


def _after(request: Request, response: Response, function: str, key: str, now: int) -> str:
    return (f"asking its Reconciliation's {function} about the answer {response.code} to its {request.verb} "
            f"request, {_reconciling(key, now)}")


def woken_at(controller: Controller, wakeup_at: Callable[[ObjectView, str, int], int | None], seen: ObjectView,
             key: str, now: int) -> int | None:
    """`wakeup_at(seen, key, now)` (a controller's optional `queue.AddAfter`); a result that is not
    None or an int is a `returned_error`."""
    try:
        at = wakeup_at(seen, key, now)
    except (Exception, SystemExit) as err:
        _raised(controller, f"asking wakeup_at for key {key!r} at model time {now} s", err)
    if at is not None and (not isinstance(at, int) or isinstance(at, bool)):
        raise returned_error(controller, f"asking wakeup_at for key {key!r} at model time {now} s",
                             f"{describe_value(at)} from wakeup_at", "wakeup_at", WAKEUP_CONTRACT)
    return at


def memory_wakeups(controller: Controller, wakeups: Callable[[Any, tuple[str, ...]], Iterable[tuple[str, int]]],
                   memory: Any, queue: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """`wakeups(memory, queue)` (a controller's optional `memory_wakeups`), read whole inside the
    boundary (a generator's body runs as it is read); it must be an iterable, and for the user's
    controllers every item a (key, time) pair of a string and an int, else a `returned_error`."""
    doing = f"asking memory_wakeups with the keys {list(queue)} queued"
    try:
        answer = wakeups(memory, queue)
        found = tuple(answer) if isinstance(answer, Iterable) else None
    except (Exception, SystemExit) as err:
        _raised(controller, doing, err)
    if found is None:
        raise returned_error(controller, doing, f"{describe_value(answer)} from memory_wakeups", "memory_wakeups",
                             MEMORY_WAKEUPS_CONTRACT)
    if not built_in(controller):
        for item in found:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], int) and not isinstance(item[1], bool)):
                raise returned_error(controller, doing, f"{_shown(item)} among its memory_wakeups",
                                     "memory_wakeups", MEMORY_WAKEUPS_CONTRACT)
    return found


def _shown(value: Any) -> str:
    """`value` as a message shows it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
