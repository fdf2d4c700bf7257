"""The checks a Raft counterexample file's data gets beyond its JSON Schema: each field of the
recorded `RaftConfig` (`model.parameters`) has the kind of value the model takes and lies in the
range the `kubeprop raft` / `kubeprop check --model raft` flags accept (`BOUNDS`: a file can hold
no configuration the command line could not ask for), and each trace action is one the model
could take in that configuration (a kind the model has, its numbers member numbers, its message
one the model sends). A crafted file is then bad input naming every bad field at once, never an
internal error, and never a replay of a configuration the model does not have (`quorum: "weird"`)
nor a STALE verdict for an action no model ever had (`kind: "Explode"`)."""

from __future__ import annotations

import json
from typing import Any, get_args

import attrs

from kubeprop.model.raft.state import CommitRule, Quorum, RaftAction, RaftConfig, ReadPath, describe
from kubeprop.model.raft.system import MAX_SERVERS

__all__ = ["ACTION_CLASS", "ACTION_KINDS", "BOUNDS", "MSG_KINDS", "action_problems", "config_problems", "tuples"]

_MOST = 1000
"""The largest count the Raft flags accept (`--max-term`, `--max-log`, `--reads`, ...)."""
BOUNDS: dict[str, tuple[int, int]] = {
    "servers": (1, MAX_SERVERS), "max_term": (1, _MOST), "max_log": (0, _MOST), "max_copies": (1, _MOST),
    "max_msgs": (1, 1_000_000), "max_down": (0, MAX_SERVERS - 1), "reads": (0, _MOST), "serial_reads": (0, _MOST),
    "transfers": (0, _MOST), "conf_changes": (0, _MOST), "spares": (0, MAX_SERVERS - 1)}
"""Each whole-number field's range: the range of its flag (`properties/cli/raft_args.py`; a test
keeps the two equal). `max_down` and `spares` must also be below `servers`."""
_BELOW_SERVERS = ("max_down", "spares")
_FLAGS = ("lose", "batch", "restarts", "partitions", "history", "pre_vote", "check_quorum")
_CHOICES: dict[str, tuple[str, ...]] = {"quorum": get_args(Quorum), "read_path": get_args(ReadPath),
                                        "commit_rule": get_args(CommitRule),
                                        "transfer_vote": ("log-check", "no-log-check"),
                                        "conf_guard": ("pending-index", "none")}
_FIELDS = tuple(f.name for f in attrs.fields(RaftConfig))
_OP_KINDS = ("put", "cas")
_OP_TYPES = (str, str, str, int, str)
"""An op as written: [kind, key, value, expect, mode] (the last three may be left out)."""
_NAME_LENGTH = 253
"""Longest member name (a Kubernetes object name, as etcd members are named in a scenario)."""

MSG_KINDS = ("Receive", "Drop", "InLease", "Duplicate")
"""The actions on a message in flight (`msg` set, `server`/`peer` -1): `model.raft.system.actions`."""
ACTION_KINDS = ("Timeout", "CheckQuorum", "ClientWrite", "ClientAck", "ReadIndex", "ReadServe", "ReadLocal",
                "ReadSerializable", "TransferLeader", "ConfChange", "AbortTransfer", "Restart", "Crash", "Recover",
                "Isolate", "Heal", "SendAppend", *MSG_KINDS)
"""Every action kind the Raft model has (`model.raft.system`: `_RULES`, SendAppend and the message
actions; a test keeps the two equal). Any other kind is bad input, not a STALE replay."""
ACTION_CLASS = "RaftAction"
"""A Raft trace action's `action` field: the class of the action (the cluster model's files name
theirs there), a label that must say RaftAction; the structured fields are the action."""

Found = list[tuple[str, str]]


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _member(value: Any, servers: int) -> bool:
    return _whole(value) and 0 <= value < servers


def _op_ok(op: Any) -> bool:
    return (isinstance(op, list) and 2 <= len(op) <= len(_OP_TYPES) and op[0] in _OP_KINDS
            and all(isinstance(v, t) and not isinstance(v, bool) for v, t in zip(op, _OP_TYPES, strict=False)))


def _servers(params: dict[str, Any]) -> int | None:
    """The member count if the file's is valid (sizes `names`, `initially_down`, ...), else None."""
    value: Any = params.get("servers", attrs.fields(RaftConfig).servers.default)
    low, high = BOUNDS["servers"]
    return int(value) if _whole(value) and low <= value <= high else None


def _range(name: str, value: Any, servers: int | None) -> str | None:
    """What is wrong with whole-number field `name`'s `value` (None: nothing)."""
    low, high = BOUNDS[name]
    if name in _BELOW_SERVERS and servers is not None:
        high = min(high, servers - 1)
    if name == "max_msgs" and value is None:
        return None
    if not _whole(value):
        return f"must be a whole number {low}..{high}{' or null' if name == 'max_msgs' else ''}, got {_show(value)}"
    if not low <= value <= high:
        below = " (below servers)" if name in _BELOW_SERVERS and servers is not None else ""
        return f"must be {low}..{high}{below}, got {_show(value)}"
    return None


def _names_ok(value: Any, servers: int) -> bool:
    if not isinstance(value, list):
        return False
    if not value:
        return True
    return (len(value) == servers and len(set(value)) == len(value)
            and all(isinstance(v, str) and 0 < len(v) <= _NAME_LENGTH and v.isprintable() for v in value))


def _field_problem(name: str, value: Any, servers: int | None) -> str | None:
    """What is wrong with field `name` (one `RaftConfig` knows) holding `value` (None: nothing)."""
    if name in BOUNDS:
        return _range(name, value, servers)
    if name in _FLAGS and not isinstance(value, bool):
        return f"must be true or false, got {_show(value)}"
    if name in _CHOICES and value not in _CHOICES[name]:
        return f"must be one of {', '.join(_CHOICES[name])}, got {_show(value)}"
    if name == "names" and servers is not None and not _names_ok(value, servers):
        return (f"must list {servers} distinct names (non-empty, printable, at most {_NAME_LENGTH} characters), "
                f"one for each member, or none, got {_show(value)}")
    if name == "initially_down" and servers is not None and not (
            isinstance(value, list) and all(_member(v, servers) for v in value)):
        return f"must be a list of member numbers (0 to {servers - 1}), got {_show(value)}"
    if name == "ops" and not (isinstance(value, list) and len(value) <= _MOST and all(_op_ok(op) for op in value)):
        return f"must be a list of [kind, key, value, expect, mode] with kind put or cas, got {_show(value)}"
    return None


def config_problems(params: dict[str, Any]) -> Found:
    """Every field of `model.parameters` that the model does not have, or that holds a value of
    the wrong kind or out of its range, all at once (`names` and `initially_down`, sized by
    `servers`, are judged only once `servers` is valid). `kubeprop.model.raft.system.validate`
    still checks the whole configuration after this."""
    at = "model.parameters."
    found: Found = [(at + name, f"unknown field; valid: {', '.join(sorted(_FIELDS))}")
                    for name in params if name not in _FIELDS]
    servers = _servers(params)
    for name, value in params.items():
        problem = _field_problem(name, value, servers) if name in _FIELDS else None
        if problem is not None:
            found.append((at + name, problem))
    return found


def _kind_problems(at: str, data: dict[str, Any]) -> Found:
    kind, msg = data.get("kind"), data.get("msg")
    if data.get("action", ACTION_CLASS) != ACTION_CLASS:
        return [(f"{at}.action", f"must be {ACTION_CLASS} (the class of every Raft action), got "
                                 f"{_show(data.get('action'))}")]
    if not isinstance(kind, str) or kind not in ACTION_KINDS:
        return [(f"{at}.kind", f"must be an action of the Raft model, one of {', '.join(ACTION_KINDS)}; "
                               f"got {_show(kind)}")]
    if kind in MSG_KINDS and msg is None:
        return [(f"{at}.msg", f"must be the message a {kind} acts on, got null")]
    if kind not in MSG_KINDS and msg is not None:
        return [(f"{at}.msg", f"must be null: a {kind} acts on no message (only {', '.join(MSG_KINDS)} do), "
                              f"got {_show(msg)}")]
    return []


def action_problems(index: int, data: dict[str, Any], config: RaftConfig | None, servers: int | None) -> Found:
    """What is wrong with trace action `index` (its JSON `data`) in `config` (None: the file's
    configuration is bad; `servers` is its valid member count, if any); [] if nothing."""
    at = f"trace[{index}].action"
    found = _kind_problems(at, data)
    for name in ("server", "peer"):
        value = data.get(name, -1)
        if value == -1 and _whole(value):
            continue
        if servers is None and not _whole(value):
            found.append((f"{at}.{name}", f"must be a member number or -1, got {_show(value)}"))
        elif servers is not None and not _member(value, servers):
            found.append((f"{at}.{name}", f"must be a member number (0 to {servers - 1}) or -1, got {_show(value)}"))
    if not _whole(data.get("arg", 0)):
        found.append((f"{at}.arg", f"must be a whole number, got {_show(data.get('arg'))}"))
    msg = data.get("msg")
    if found or config is None:
        return found
    try:
        describe(config, RaftAction(data["kind"], data.get("server", -1), data.get("peer", -1), data.get("arg", 0),
                                    None if msg is None else tuples(msg)))
    except (IndexError, KeyError, TypeError, ValueError):
        what = (f"its message is not one the model sends ({_show(msg)})" if msg is not None
                else f"its arg {_show(data.get('arg', 0))} names no operation or key of the configuration")
        found.append((at, f"not an action of the Raft model: {what}"))
    return found


def tuples(value: Any) -> Any:
    """JSON lists as tuples, all the way down (a message as the model builds it)."""
    return tuple(tuples(v) for v in value) if isinstance(value, list) else value
