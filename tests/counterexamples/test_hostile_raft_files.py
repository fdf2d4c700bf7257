"""Raft counterexample files are data too: every field of the recorded configuration and every
action is checked when the file is read, so a crafted file is bad input (exit 2, the field named),
never an internal error or a replay of a configuration the model does not have."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from raft_records import two_leaders_in_term_1

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.properties.cli.main import main


@pytest.fixture(scope="module")
def raft_data() -> dict[str, Any]:
    """A recorded Raft trace: with the seed's ceil quorum, two of four members win term 1."""
    return two_leaders_in_term_1()


def _problems(tmp_path: Path, data: dict[str, Any]) -> list[tuple[str, str]]:
    path = tmp_path / "raft.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CounterexampleError) as info:
        raft_trace.load(path)
    return [(p.field, p.message) for p in info.value.problems]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("servers", 2.5, "must be a whole number 1..7, got 2.5"),
    ("servers", True, "must be a whole number 1..7, got true"),
    ("initially_down", [0.5], "must be a list of member numbers (0 to 3), got [0.5]"),
    ("initially_down", [7], "must be a list of member numbers (0 to 3), got [7]"),
    ("max_down", 1.5, "must be a whole number 0..3, got 1.5"),
    ("quorum", "weird", "must be one of majority, ceil, got \"weird\""),
    ("read_path", 7, "must be one of read-index, follower-read, got 7"),
    ("commit_rule", None, "must be one of current-term, count-replicas, got null"),
    ("lose", "no", "must be true or false, got \"no\""),
    ("max_msgs", "3", "must be a whole number 1..1000000 or null, got \"3\""),
    ("names", ["a"], "must list 4 distinct names (non-empty, printable, at most 253 characters), one for each "
                       "member, or none, got [\"a\"]"),
    ("ops", [["put", "k", 1, 0, ""]],
     'must be a list of [kind, key, value, expect, mode] with kind put or cas, got [["put", "k", 1, 0, ""]]'),
])
def test_a_raft_configuration_field_of_the_wrong_kind_is_bad_input(
        tmp_path: Path, raft_data: dict[str, Any], field: str, value: Any, message: str) -> None:
    data = json.loads(json.dumps(raft_data))
    data["model"]["parameters"][field] = value
    found = _problems(tmp_path, data)
    assert (f"model.parameters.{field}", message) in found, found


def test_every_bad_field_is_reported_at_once(tmp_path: Path, raft_data: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raft_data))
    data["model"]["parameters"].update(servers=2.5, lose="no")
    assert [f for f, _ in _problems(tmp_path, data)] == ["model.parameters.servers", "model.parameters.lose"]


@pytest.mark.parametrize(("action", "message"), [
    ({"kind": "Receive", "server": -1, "msg": {"a": [1]}},
     "not an action of the Raft model: its message is not one the model sends"),
    ({"kind": "Receive", "server": -1, "msg": [9, 0, 1, 1]},
     "not an action of the Raft model: its message is not one the model sends"),
    ({"kind": ["x"]}, "kind: must be an action of the Raft model, one of Timeout,"),
    ({"server": 10**30}, "server: must be a member number (0 to 3) or -1, got 1000000000000000000000000000000"),
    ({"peer": "1"}, "peer: must be a member number (0 to 3) or -1, got \"1\""),
    ({"arg": 1.5}, "arg: must be a whole number, got 1.5"),
    ({"msg": [0, 0, 1, 1, 0, 0]}, "msg: must be null: a Timeout acts on no message"),
    ({"kind": "Receive", "server": -1}, "msg: must be the message a Receive acts on, got null"),
    ({"kind": "ClientWrite", "arg": 9}, "not an action of the Raft model: its arg 9 names no operation"),
])
def test_a_raft_action_of_the_wrong_shape_is_bad_input(tmp_path: Path, raft_data: dict[str, Any],
                                                         action: dict[str, Any], message: str) -> None:
    data = json.loads(json.dumps(raft_data))
    data["trace"][0]["action"].update(action)
    found = _problems(tmp_path, data)
    assert found[0][0].startswith("trace[0].action"), found
    assert message in f"{found[0][0]}: {found[0][1]}", found


def test_kubeprop_replay_says_bad_input_not_internal_error(tmp_path: Path, raft_data: dict[str, Any],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(json.dumps(raft_data))
    data["model"]["parameters"]["servers"] = 2.5
    path = tmp_path / "raft.json"
    path.write_text(json.dumps(data))
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model.parameters.servers: must be a whole number 1..7, got 2.5" in err and "internal error" not in err


def test_the_recorded_file_itself_replays(tmp_path: Path, raft_data: dict[str, Any]) -> None:
    path = tmp_path / "raft.json"
    path.write_text(json.dumps(raft_data))
    assert raft_trace.replay(path).verdict.value == "REPRODUCES"
