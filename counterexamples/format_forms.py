"""Actions as earlier kubeprops wrote them: each read in its current form, so that files recorded
before an action's fields changed still replay (docs/counterexamples.md, "Files from other kubeprop
versions"). The file format's schema does not change with them: it holds an action by its fields as
the model names them (`to_json`), which the schema does not list; a field that changed meaning is an
action's own business, read here.

- `ContainerExit` carried `success` (a bool) until 0.2.0, and carries `exitCode`'s value as
  `exit_code` (an int 0–255) since: the model records a container's exit code as the environment
  chose it (`kubeprop.model.kubelet.exit_codes`). `success: true` was exit 0; `success: false` was
  the one failing exit the model then offered — 143 for a container being killed for a failed probe
  (it exits on SIGTERM before its deadline, `kubeprop.model.kubelet.kill`), else 1 (a container that
  ends by itself). Which one the trace says: the container is being killed from its failing
  `liveness` or `startup` `ProbeResult` until its next `ContainerExit` or `RestartContainer`, or its
  pod's `StartPod` (a new run), whichever comes first (`probe_killed`).
- `StopGracefully` carried no exit code until 0.2.0 — every container exited 0 on SIGTERM — and
  carries `exit_code` since (0, 143, or a code of the containers' classes: the process chooses,
  `kubeprop.model.kubelet.exit_rules` stop_choices). One without it is read as `exit_code: 0`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE

__all__ = ["current_forms", "probe_killed"]

FAILING_EXIT = 1
"""What `success: false` meant for a container that ended by itself: the model's failing exit, code 1."""


def _where(data: dict[str, Any]) -> tuple[str, str, str] | None:
    """The (node, pod, container) an action names, or None where one is not a string (a hostile
    file's list or map: never being killed; `action_from_json` reports the field)."""
    node, pod, container = data.get("node"), data.get("pod"), data.get("container")
    if isinstance(node, str) and isinstance(pod, str) and isinstance(container, str):
        return node, pod, container
    return None


def _killed_at(actions: Sequence[Any]) -> list[bool]:
    """For each entry of `actions` (as written: dicts), whether its container is being killed for a
    failed probe then, by the trace before it — in one pass, so that a long hostile trace costs
    time linear in its length."""
    killed: set[tuple[str, str, str]] = set()
    out: list[bool] = []
    for data in actions:
        if not isinstance(data, dict):
            out.append(False)
            continue
        where, name = _where(data), data.get("action")
        out.append(where is not None and where in killed)
        if name == "StartPod":
            killed = {w for w in killed if w[:2] != (data.get("node"), data.get("pod"))}
        elif where is None:
            continue
        elif name in ("ContainerExit", "RestartContainer"):
            killed.discard(where)
        elif name == "ProbeResult" and data.get("probe") in ("liveness", "startup") and data.get("success") is False:
            killed.add(where)
    return out


def probe_killed(actions: Sequence[Any], index: int) -> bool:
    """Whether the container of the `ContainerExit` at `index` of `actions` (as written: dicts) is
    being killed for a failed probe then, by the trace before it."""
    return _killed_at(actions[:index + 1])[index]


def current_forms(actions: Sequence[Any]) -> list[Any]:
    """`actions` (a trace's `action` entries as written) in their current form: a `ContainerExit` with
    `success` and no `exit_code` read as its exit code, a `StopGracefully` without `exit_code` as an
    exit 0; anything else as it is (`action_from_json` reports what is wrong with it)."""
    out: list[Any] = []
    killed: list[bool] | None = None
    for i, data in enumerate(actions):
        if isinstance(data, dict) and data.get("action") == "ContainerExit" and "exit_code" not in data \
                and isinstance(data.get("success"), bool):
            killed = _killed_at(actions) if killed is None else killed
            fields = {k: v for k, v in data.items() if k != "success"}
            data = {**fields, "exit_code": 0 if data["success"] else (SIGTERM_EXIT_CODE if killed[i] else FAILING_EXIT)}
        elif isinstance(data, dict) and data.get("action") == "StopGracefully" and "exit_code" not in data:
            data = {**data, "exit_code": 0}
        out.append(data)
    return out
