"""Hand-edited Raft counterexample files (the trial's `raft/run/hostile/*.json`, kept in
data/raft-hostile/): each is bad input (exit 2) listing every problem it has at once, in the
words of golden/raft-hostile.txt (`KUBEPROP_UPDATE_GOLDEN=1` rewrites it; review the diff); the
file's ranges are the flags' ranges; an action kind the model does not have is bad input, not a
STALE replay; and no mutation of a valid file's fields gives a traceback or an internal error."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from raft_records import two_leaders_in_term_1

from kubeprop.counterexamples.raft_fields import ACTION_KINDS, BOUNDS, MSG_KINDS
from kubeprop.model.raft import system
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.raft_args import add_raft_arguments

HOSTILE = Path(__file__).parent / "data" / "raft-hostile"
GOLDEN = Path(__file__).parent / "golden" / "raft-hostile.txt"


def _replay(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["replay", str(path)])
    return code, err.getvalue()


def test_every_hostile_file_is_bad_input_with_all_its_problems() -> None:
    text = []
    for path in sorted(HOSTILE.glob("*.json")):
        code, err = _replay(path)
        assert code == ExitCode.BAD_INPUT, (path.name, code, err)
        assert "Traceback" not in err and "internal error" not in err, err
        text.append(f"== {path.name}\n{err.replace(str(path), path.name)}")
    got = "".join(text)
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(got)
    assert got == GOLDEN.read_text(), f"re-run with KUBEPROP_UPDATE_GOLDEN=1 to accept changes to {GOLDEN}"


@pytest.mark.parametrize(("name", "fields"), [
    ("many-problems.json", ["model.parameters.servers", "model.parameters.max_term", "trace[0].action.kind"]),
    ("three-param-problems.json", ["model.parameters.max_term", "model.parameters.lose", "model.parameters.reads"]),
    ("two-trace-problems.json", ["trace[0].action.server", "trace[2].action.arg"]),
])
def test_range_and_kind_problems_come_together(name: str, fields: list[str]) -> None:
    _, err = _replay(HOSTILE / name)
    assert [line.split(": ")[1] for line in err.splitlines()[1:]] == fields, err


@pytest.mark.parametrize(("name", "says"), [
    ("unknown-action.json", 'trace[0].action.kind: must be an action of the Raft model, one of Timeout, '),
    ("servers-huge.json", "model.parameters.servers: must be 1..7, got 1000000000000"),
    ("names-dup.json", 'model.parameters.names: must list 3 distinct names'),
    ("maxterm-huge.json", "model.parameters.max_term: must be 1..1000, got 1000000000000000000000000000000"),
    ("action-cls.json", 'trace[0].action.action: must be RaftAction (the class of every Raft action), '
                        'got "os.system"'),
])
def test_what_the_trial_found(name: str, says: str) -> None:
    code, err = _replay(HOSTILE / name)
    assert code == ExitCode.BAD_INPUT and says in err, err


def test_the_files_ranges_are_the_flags() -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_raft_arguments(parser)
    for field, (low, high) in BOUNDS.items():
        flag = "--" + field.replace("_", "-")
        for value in (low, high):
            assert getattr(parser.parse_args([flag, str(value)]), field) == value
        for value in (low - 1, high + 1):
            with pytest.raises(argparse.ArgumentError):
                parser.parse_args([flag, str(value)])


def test_the_action_kinds_are_the_models() -> None:
    assert set(ACTION_KINDS) == {*system._RULES, "SendAppend", *MSG_KINDS}
    assert len(ACTION_KINDS) == len(set(ACTION_KINDS))


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 12) | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=6) | st.sampled_from(["Receive", "Timeout", "ClientWrite", "ReadIndex", "majority"]),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6)
_BASE = two_leaders_in_term_1()
_PLACES = ([("model", "parameters", name) for name in [*_BASE["model"]["parameters"], "evil"]]
           + [("trace", i, "action", f) for i in range(len(_BASE["trace"]))
              for f in ("action", "kind", "server", "peer", "arg", "msg")]
           + [("model", "variant"), ("violation", "step"), ("property", "name")])


_SMALL = st.integers(-2, 9)
_ACTIONS = st.fixed_dictionaries({
    "action": st.just("RaftAction"), "kind": st.sampled_from(ACTION_KINDS), "server": st.integers(-1, 4),
    "peer": st.integers(-1, 4), "arg": _SMALL,
    "msg": st.none() | st.lists(_SMALL | st.lists(st.lists(_SMALL, max_size=2), max_size=2), max_size=8)})
"""Whole actions of a kind the model has, with small numbers: the mutations most likely to reach
replay's own code (the describing of an action with an out-of-range `arg` once raised IndexError)."""
_EDITS = (st.tuples(st.sampled_from(_PLACES), _VALUES)
          | st.tuples(st.sampled_from([("trace", i, "action") for i in range(len(_BASE["trace"]))]), _ACTIONS))


def _set(data: dict[str, Any], place: tuple[Any, ...], value: Any) -> None:
    target: Any = data
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value


@settings(max_examples=50, deadline=None)
@given(st.lists(_EDITS, min_size=1, max_size=3))
def test_a_mutated_raft_file_never_gives_an_internal_error(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = json.loads(json.dumps(_BASE))
    for place, value in edits:
        _set(data, place, value)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "raft.json"
        path.write_text(json.dumps(data))
        code, err = _replay(path)
    assert code in (ExitCode.OK, ExitCode.VIOLATION, ExitCode.BAD_INPUT, ExitCode.INCONCLUSIVE), (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
