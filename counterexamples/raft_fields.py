"""The checks a Raft counterexample file's data gets beyond its JSON Schema: each field of the
recorded `RaftConfig` (`model.parameters`) has the kind of value the model takes, and each trace
action is one the model could take in that configuration (its numbers are member numbers, its
message one the model sends). A crafted file is then bad input naming the field, never an internal
error, and never a replay of a configuration the model does not have (`quorum: "weird"`)."""

from __future__ import annotations

import json
from typing import Any, get_args

import attrs

from kubeprop.model.raft.state import CommitRule, Quorum, RaftAction, RaftConfig, ReadPath, describe

__all__ = ["action_problems", "config_problems", "tuples"]

_WHOLE = ("servers", "max_term", "max_log", "max_copies", "max_down", "reads", "serial_reads")
_FLAGS = ("lose", "batch", "restarts", "partitions", "history", "pre_vote", "check_quorum")
_CHOICES: dict[str, tuple[str, ...]] = {"quorum": get_args(Quorum), "read_path": get_args(ReadPath),
                                        "commit_rule": get_args(CommitRule)}
_OP_KINDS = ("put", "cas")
_OP_TYPES = (str, str, str, int, str)
"""An op as written: [kind, key, value, expect, mode] (the last three may be left out)."""

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
    value: Any = params.get("servers", attrs.fields(RaftConfig).servers.default)
    return int(value) if _whole(value) and value >= 1 else None


def config_problems(params: dict[str, Any]) -> Found:
    """Every field of `model.parameters` holding a value of the wrong kind (ranges between fields
    are `kubeprop.model.raft.system.validate`'s)."""
    at = "model.parameters."
    found: Found = []
    servers = _servers(params)
    for name, value in params.items():
        if name in ("names", "initially_down") and servers is None:
            continue  # sized by `servers`, reported on its own
        if name in _WHOLE and not _whole(value):
            found.append((at + name, f"must be a whole number, got {_show(value)}"))
        elif name == "max_msgs" and not (value is None or _whole(value)):
            found.append((at + name, f"must be a whole number or null, got {_show(value)}"))
        elif name in _FLAGS and not isinstance(value, bool):
            found.append((at + name, f"must be true or false, got {_show(value)}"))
        elif name in _CHOICES and value not in _CHOICES[name]:
            found.append((at + name, f"must be one of {', '.join(_CHOICES[name])}, got {_show(value)}"))
        elif name == "names" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)
                                      and (not value or len(value) == servers)):
            found.append((at + name, f"must list a name for each of the {servers} members, or none, "
                                     f"got {_show(value)}"))
        elif name == "initially_down" and not (isinstance(value, list) and all(_member(v, servers or 0)
                                                                               for v in value)):
            found.append((at + name, f"must be a list of member numbers (0 to {(servers or 0) - 1}), "
                                     f"got {_show(value)}"))
        elif name == "ops" and not (isinstance(value, list) and all(_op_ok(op) for op in value)):
            found.append((at + name, "must be a list of [kind, key, value, expect, mode] with kind put or cas, "
                                     f"got {_show(value)}"))
    return found


def action_problems(index: int, data: dict[str, Any], config: RaftConfig) -> Found:
    """What is wrong with trace action `index` (its JSON `data`) in `config`; [] if nothing."""
    at = f"trace[{index}].action"
    found: Found = []
    if not isinstance(data.get("kind"), str) or not data["kind"]:
        found.append((f"{at}.kind", f"must be an action name (a string), got {_show(data.get('kind'))}"))
    for name in ("server", "peer"):
        value = data.get(name, -1)
        if not (value == -1 and _whole(value)) and not _member(value, config.servers):
            found.append((f"{at}.{name}", f"must be a member number (0 to {config.servers - 1}) or -1, "
                                          f"got {_show(value)}"))
    if not _whole(data.get("arg", 0)):
        found.append((f"{at}.arg", f"must be a whole number, got {_show(data.get('arg'))}"))
    msg = data.get("msg")
    if found or msg is None:
        return found
    try:
        describe(config, RaftAction(data["kind"], data.get("server", -1), data.get("peer", -1), data.get("arg", 0),
                                    tuples(msg)))
    except (IndexError, KeyError, TypeError, ValueError):
        found.append((at, f"not an action of the Raft model: its message is not one the model sends "
                          f"({_show(msg)})"))
    return found


def tuples(value: Any) -> Any:
    """JSON lists as tuples, all the way down (a message as the model builds it)."""
    return tuple(tuples(v) for v in value) if isinstance(value, list) else value
