"""A replayed trace as a list of steps to show: each action, the component that took it (its
lane on the HTML timeline), what changed, the cache lag when it changed, and the fingerprints
(replayed and recorded). Shared by the terminal, JSON and HTML renderings.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.counterexamples.diff import Change, cache_lag, changes, lag_text, state_summary
from kubeprop.counterexamples.replay import ReplayResult
from kubeprop.counterexamples.replayed_under import replayed_under, under_json
from kubeprop.model.state.actions import (
    INJECTED_FAULTS,
    Action,
    Deliver,
    Heal,
    Quiesce,
    Relist,
    RestartComponent,
    RestartNode,
    Tick,
    UserStep,
    to_json,
)

FAULT_ACTIONS: tuple[type[Action], ...] = (*INJECTED_FAULTS, RestartNode, Heal, RestartComponent, Quiesce)
"""The actions of the faults lane: the injected faults, the recoveries from them, and `Quiesce`."""
APISERVER, FAULTS, USER, TIME = "API server", "faults", "user", "time"


def lane_of(act: Action) -> str:
    """The component an action belongs to: the API server (watch delivery, relists), a scheduler
    instance, a controller, a node's kubelet, or faults / the user / time."""
    name = type(act).__name__
    declared = getattr(type(act), "LANE", None)
    if isinstance(declared, str):
        return declared
    if isinstance(act, Tick):
        return TIME
    if isinstance(act, UserStep):
        return USER
    if isinstance(act, FAULT_ACTIONS) or name == "MemoryPressure":
        return FAULTS
    if isinstance(act, Deliver | Relist):
        return APISERVER
    if type(act).__module__.startswith("kubeprop.model.controllers.nodelifecycle"):
        return "controller nodelifecycle"
    for attr, prefix in (("controller", "controller "), ("scheduler", ""), ("node", "kubelet ")):
        value = getattr(act, attr, None)
        if isinstance(value, str):
            return prefix + value
    return "other"


@attrs.frozen
class StepView:
    """One step: index (0 = initial state), action (None for step 0), lane, what changed,
    the cache lag if it changed (else None), and fingerprints replayed / recorded."""

    index: int
    action: Action | None
    lane: str
    changes: tuple[Change, ...]
    lag: str | None
    fingerprint: str
    recorded: str | None


def build_steps(result: ReplayResult) -> list[StepView]:
    """The steps of a replay, as far as it got."""
    ce, states = result.counterexample, result.states
    if not states:  # not replayed (a changed path-mode scenario)
        return []
    fps = result.fingerprints
    out = [StepView(0, None, "", (), lag_text(cache_lag(states[0])), fps[0], ce.fingerprints[0])]
    last_lag = cache_lag(states[0])
    for k in range(1, len(states)):
        act = ce.actions[k - 1]
        lag = cache_lag(states[k])
        shown = lag_text(lag) if lag != last_lag else None
        last_lag = lag
        recorded = ce.fingerprints[k] if k < len(ce.fingerprints) else None
        out.append(StepView(k, act, lane_of(act), changes(states[k - 1], states[k]), shown, fps[k], recorded))
    return out


def lanes(steps: list[StepView]) -> list[str]:
    """The lanes used, in a fixed order: API server, schedulers, controllers, kubelets, the rest."""
    used = {s.lane for s in steps if s.action is not None}

    def rank(lane: str) -> tuple[int, str]:
        order = [APISERVER, "scheduler", "controller ", "kubelet ", USER, FAULTS, TIME]
        for i, start in enumerate(order):
            if lane.startswith(start):
                return i, lane
        return len(order), lane

    return sorted(used | {APISERVER}, key=rank)


def change_json(change: Change) -> dict[str, Any]:
    """A change as JSON data."""
    return {"kind": change.kind, "subject": change.subject, "summary": change.summary,
            "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields]}


def result_json(result: ReplayResult, full: bool = False) -> dict[str, Any]:
    """A replay as JSON data: the verdict, why, the parameters it ran under that are not the
    defaults (`replayedUnder`, `kubeprop.counterexamples.replayed_under`), and every step with its changes."""
    from kubeprop.counterexamples.failed_requests import failed_requests  # (both use this module)
    from kubeprop.counterexamples.reliance import reliance, reliance_line

    ce = result.counterexample
    failed = failed_requests(result.model, result.states, ce.actions) if full else {}
    steps = []
    for s in build_steps(result):
        entry: dict[str, Any] = {"index": s.index, "action": None if s.action is None else to_json(s.action),
                                 "text": "initial state" if s.action is None else str(s.action), "lane": s.lane,
                                 "fingerprint": s.fingerprint, "recorded": s.recorded,
                                 "changes": [change_json(c) for c in s.changes], "cacheLag": s.lag}
        if full:
            entry["state"] = state_summary(result.states[s.index])
            entry["failedRequests"] = list(failed.get(s.index, ()))
        steps.append(entry)
    out: dict[str, Any] = {
        "file": result.file, "verdict": str(result.verdict), "reason": result.reason,
        "expected": None if result.expected is None else str(result.expected),
        "meetsExpectation": result.meets_expectation,
        "property": {"name": ce.property.name,  # the statement as replay resolved the property
                     "statement": (result.resolved or ce.property).statement},
        "violation": {"step": ce.violation.step, "recorded": ce.violation.message,
                      "now": None if result.violation is None else result.violation.message,
                      "objects": list(ce.violation.objects if result.violation is None
                                      else result.violation.objects),
                      "reliesOn": None if result.violation is None else reliance_line(
                          reliance(result.model, result.states[: ce.violation.step + 1], ce.actions))},
        "replayedUnder": under_json(replayed_under(result)), "driftStep": result.drift_step, "steps": steps,
    }
    shut = result.closure
    if ce.cycle_start is not None:  # a lasso: where its cycle closes (counterexamples/lasso.py)
        out["lasso"] = {"cycleStart": ce.cycle_start, "cycleEnd": len(ce.actions),
                        "closes": None if shut is None else shut.closes,
                        "repeats": None if shut is None else shut.repeats,
                        "seconds": None if shut is None else shut.seconds}
    return out
