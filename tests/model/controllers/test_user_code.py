"""Errors in a user's controller or property (user trial 13).

1. A reconcile that raises, returns a list or returns a string for a Request was reported as
   "internal error … This is a bug in kubeprop" (exit 4), naming no controller, key or line. It is
   now a `UserCodeError` (bad input) naming the controller, the key, the exception and the user's
   file:line, raised `from` the user's exception: under pytest the whole traceback still shows.
2. An operator whose every write is refused (403: a user who may only read; 422: an invalid child)
   settled "quiet" and every property held. `settle` now lists such keys (`Settled.failing`) and
   `controllers-not-failing` reports them with the request and the API server's answer.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.errors import InputError, UserCodeError
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel
from kubeprop.model.user_code import controller_error
from kubeprop.properties.controller_failures import CONTROLLERS_NOT_FAILING, still_failing
from kubeprop.properties.modules import checked_properties

DATA = Path(__file__).parents[1] / "user_code"


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _model(name: str) -> ClusterModel:
    return build_model(load_scenario(DATA / name))


def test_a_raising_reconcile_names_the_controller_key_and_line_and_keeps_the_traceback() -> None:
    model = _model("raising.yaml")
    with pytest.raises(UserCodeError) as caught:
        settle(model, initial_state(model))
    message = str(caught.value)
    assert isinstance(caught.value, InputError)  # the CLI's bad input: exit 2, no traceback
    assert "controller 'copier' (copier.Raising) raised KeyError: 'spec.color missing'" in message
    assert "while reconciling key 'default/web' at model time 0 s" in message
    assert f"{DATA / 'copier.py'}:" in message and 'in reconcile: raise KeyError("spec.color missing")' in message
    cause = caught.value.__cause__  # what pytest prints above "The above exception was the direct cause"
    assert isinstance(cause, KeyError)
    assert traceback.extract_tb(cause.__traceback__)[-1].filename == str(DATA / "copier.py")


@pytest.mark.parametrize(("scenario", "returned"), [
    ("returns-list.yaml", "controller 'copier' (copier.ReturnsList) returned a list from reconcile"),
    ("junk.yaml", "controller 'copier' (copier.ReturnsJunk) returned a Reconciliation whose request 1 of 1 is "
                  "string 'create configmap please', not a Request"),
])
def test_a_reconcile_returning_something_else_says_what_is_valid(scenario: str, returned: str) -> None:
    model = _model(scenario)
    with pytest.raises(UserCodeError) as caught:
        settle(model, initial_state(model))
    message = str(caught.value)
    assert returned in message
    assert f"{DATA / 'copier.py'}:" in message and "in reconcile" in message
    assert "must return a Reconciliation(requests, memory" in message


@pytest.mark.parametrize(("scenario", "answer"), [
    ("invalid-child.yaml", '422 Invalid: ConfigMap "web_Copy" is invalid: metadata.name: Invalid value'),
    ("read-only.yaml", '403 Forbidden: configmaps "web-copy" is forbidden: User "copier" cannot create resource'),
])
def test_a_key_refused_for_ever_is_listed_by_settle_and_reported(scenario: str, answer: str) -> None:
    model = _model(scenario)
    run = settle(model, initial_state(model))
    assert not run.exhausted  # quiet in effect: the retry is set aside, as the rate limiter backs off
    assert [(f.controller, f.key, f.request.verb) for f in run.failing] == [("copier", "default/web", "create")]
    assert answer in run.failing[0].describe()
    found = still_failing(model, run.state)
    assert found is not None
    assert found[0].startswith("controller 'copier' keeps failing on key 'default/web': its reconcile's create "
                               "configmaps default/web")
    assert answer in found[0] and "requeued with back-off" in found[0]
    assert CONTROLLERS_NOT_FAILING in checked_properties(load_scenario(DATA / scenario))


def test_a_correct_operator_settles_with_nothing_failing() -> None:
    model = _model("correct.yaml")
    run = settle(model, initial_state(model))
    assert run.failing == ()
    assert still_failing(model, run.state) is None


def test_an_injected_failure_is_no_failure_for_ever() -> None:
    """A `FailNextRequest` armed where the copier's key is queued fails one request: the retry succeeds."""
    model = _model("correct.yaml")
    start = initial_state(model)
    armed = evolve(start, armed_failures=start.armed_failures.set(CONTROLLER_MANAGER, 500))
    assert start.controllers["copier"].queue == ("default/web",)
    assert still_failing(model, armed) is None


def test_the_property_judges_only_the_scenarios_own_controllers() -> None:
    """FeastFlow has no controller of the user's: the property is not in its default set, and holds."""
    scenario = load_scenario(None)
    assert CONTROLLERS_NOT_FAILING not in checked_properties(scenario)
    model = build_model(scenario)
    assert still_failing(model, initial_state(model)) is None


@pytest.mark.parametrize(("scenario", "expected"), [
    ("raising-observe.yaml", ["controller 'copier' (copier.RaisingObserve) raised ValueError: no answer expected for "
                              "create", "while observing the answer 201 to its create request, reconciling key "
                              "'default/web' at model time 0 s", "in observe: raise ValueError("]),
    ("raising-wakeup.yaml", ["controller 'copier' (copier.RaisingWakeup) raised RuntimeError: deadline unknown",
                             "while asking wakeup_at for key 'default/web'", "in wakeup_at: raise RuntimeError("]),
    ("wakeup-string.yaml", ["controller 'copier' (copier.WakeupString) returned string 'soon' from wakeup_at",
                            "in wakeup_at", "Expected: a wakeup_at(view, key, now) must return None or the model "
                            "time in seconds"]),
])
def test_errors_in_observe_and_wakeup_at_are_the_users_too(scenario: str, expected: list[str]) -> None:
    """user13 left `observe` and `wakeup_at` unwrapped: an exception there read as a kubeprop bug."""
    model = _model(scenario)
    with pytest.raises(UserCodeError) as caught:
        settle(model, initial_state(model))
    message = str(caught.value)
    assert all(part in message for part in expected), message


def _raised_in_kubeprop() -> BaseException:
    """An exception of kubeprop's own code (and attrs'), its traceback from kubeprop's frame down."""
    try:
        evolve(1, a=2)  # type: ignore[type-var]
    except Exception as err:
        return err.with_traceback(err.__traceback__.tb_next if err.__traceback__ else None)
    raise AssertionError("evolve accepted a number")


def test_only_a_traceback_with_the_users_code_is_the_users_error() -> None:
    """An exception raised by kubeprop's own code (and libraries) alone is kubeprop's bug, never the
    user's (the CLI's exit 4) — for a built-in controller; for the user's controller (its module is
    not kubeprop's) the innermost frame outside kubeprop is named even in an installed package."""
    model = _model("correct.yaml")
    builtin = next(c for c in model.controllers if c.name == "replicaset")
    assert controller_error(builtin, "reconciling", _raised_in_kubeprop()) is None  # type: ignore[arg-type]
    users = next(c for c in model.controllers if c.name == "copier")
    error = controller_error(users, "reconciling", _raised_in_kubeprop())  # type: ignore[arg-type]
    assert error is not None and "site-packages/attr/" in str(error)


@pytest.mark.parametrize(("scenario", "expected"), [
    ("raising-tolerate.yaml", ["controller 'copier' (copier.RaisingTolerate) raised LookupError: no rule for 422",
                               "while asking its Reconciliation's tolerate about the answer 422 to its create "
                               "request, reconciling key 'default/web' at model time 0 s",
                               'in tolerate: raise LookupError(f"no rule for {response.code}")']),
    ("tolerate-junk.yaml", ["controller 'copier' (copier.TolerateJunk) returned string 'skip' from its "
                            "Reconciliation's tolerate", "in <lambda>",
                            'Expected: a Reconciliation\'s tolerate(request, response) must return "ignore", '
                            '"forget" or None']),
    ("raising-after-failure.yaml", ["controller 'copier' (copier.RaisingAfterFailure) raised RuntimeError: status "
                                    "writer broken", "while asking its Reconciliation's after_failure about the "
                                    "answer 422 to its create request", 'in after_failure: raise RuntimeError(']),
    ("after-failure-none.yaml", ["controller 'copier' (copier.AfterFailureNone) returned null from its "
                                 "Reconciliation's after_failure", "in after_failure",
                                 "Expected: a Reconciliation's after_failure(request, response) must return a tuple "
                                 "of Request values"]),
    ("raising-memory-wakeups.yaml", ["controller 'copier' (copier.RaisingMemoryWakeups) raised ValueError: invalid "
                                     "literal for int()", "while asking memory_wakeups with the keys ['default/web'] "
                                     "queued", 'in memory_wakeups: yield key, int(key.partition("/")[2])']),
    ("memory-wakeups-string.yaml", ["controller 'copier' (copier.MemoryWakeupsString) returned ('default/web', "
                                    "'in 40 s') among its memory_wakeups", "in memory_wakeups",
                                    "Expected: a memory_wakeups(memory, queue) must return (key, time) pairs"]),
])
def test_errors_in_tolerate_after_failure_and_memory_wakeups_are_the_users(scenario: str,
                                                                           expected: list[str]) -> None:
    """gaps14: a decision's `tolerate` and `after_failure` and a controller's `memory_wakeups` were
    called bare: an exception there, or `after_failure` answering None, read as a kubeprop bug, and
    a `tolerate` answering anything but "ignore", "forget" or None went unnoticed (taken as a
    failure that requeues nothing)."""
    model = _model(scenario)
    with pytest.raises(UserCodeError) as caught:
        settle(model, initial_state(model))
    message = str(caught.value)
    assert all(part in message for part in expected), message
    assert f"{DATA / 'copier.py'}:" in message


@pytest.mark.parametrize(("scenario", "expected"), [
    ("raising-initial-memory.yaml", ["controller 'copier' (copier.RaisingInitialMemory) raised OSError: cannot "
                                     "read the cache file", "while asking initial_memory() as the controller "
                                     "manager starts", 'in initial_memory: raise OSError(']),
    ("dict-memory.yaml", ["controller 'copier' (copier.DictMemory) returned an object as its memory from "
                          "initial_memory (unhashable type: 'dict')", "in initial_memory",
                          "Expected: a controller's memory (what initial_memory() and observe return, a "
                          "Reconciliation's memory) must be hashable"]),
])
def test_errors_in_initial_memory_are_the_users(scenario: str, expected: list[str]) -> None:
    """gaps14: an `initial_memory` that raised read as a kubeprop bug; one that returned a dict
    started, and the search crashed later hashing the state (TypeError, "a bug in kubeprop")."""
    model = _model(scenario)
    with pytest.raises(UserCodeError) as caught:
        initial_state(model)
    message = str(caught.value)
    assert all(part in message for part in expected), message


@pytest.mark.parametrize(("scenario", "expected"), [
    ("keys-none.yaml", ["controller 'copier' (copier.KeysNone) returned null from keys_for",
                        "while handling the add of ConfigMap 'default/web' (keys_for / keys_for_change)",
                        "in keys_for", "Expected: keys_for(obj, view) and keys_for_change(change, view) must "
                        "return the work-queue keys to enqueue: an iterable of strings"]),
    ("raising-keys-generator.yaml", ["controller 'copier' (copier.RaisingKeysGenerator) raised KeyError: "
                                     "'example.com/copy-of'", "while handling the add of ConfigMap 'default/web'",
                                     'in keys_for: yield obj.metadata.labels["example.com/copy-of"]']),
    ("keys-numbers.yaml", ["controller 'copier' (copier.KeysNumbers) returned number 0 among the keys from "
                           "keys_for", "in keys_for"]),
])
def test_a_handlers_keys_are_read_and_checked_at_the_boundary(scenario: str, expected: list[str]) -> None:
    """gaps14: user13 wrapped the call of `keys_for`, but its answer was read later, by the work
    queue: a handler returning None or numbers, or a generator raising as it was read, was "a bug
    in kubeprop" (TypeError, or the user's exception outside the boundary)."""
    model = _model(scenario)
    with pytest.raises(UserCodeError) as caught:
        initial_state(model)
    message = str(caught.value)
    assert all(part in message for part in expected), message
