"""The part of a fair continuation a convergence counterexample shows: up to where it is stuck.

A convergence violation is judged where the fair, fault-free continuation of the trace settles
(`convergence.settled_violation`), and its file shows that continuation after the trace
(`counterexamples.trace.record_result`), so that replaying it ends in a state the property fails
in. A continuation that never settles — a timer that keeps firing, such as a NoExecute taint that
a Deployment's pods tolerate for `tolerationSeconds`: its pod is evicted, recreated and evicted
again on the same node every period, as `TaintEvictionController` does upstream
(pkg/controller/tainteviction/taint_eviction.go, processPodOnNode / getMinTolerationTime) — runs
until its tick bound (`settle_ticks`, 100 ticks), and is shown whole: a user trial's drain
counterexample had 2 actions and 1,405 of continuation, eighteen rounds of an eviction loop
that had nothing to do with the violation.

`shown_continuation` cuts it at the first state where only time can move the cluster (the fair
policy's next action is a `Tick`: nothing else is enabled, `drive.FairPolicy`), provided the
property fails there with the violation the judgement found at the end, and fails on every state
after it in the judged continuation. The file then ends in the state a user expects to see —
everything the controllers could do is done, and the property fails — and the claim it makes
stays the one judged: from there the property never held again for the whole continuation. A
continuation with no such state (one on which the property held again after its last quiet
state, or failed otherwise) is shown whole, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.cluster.compose import step
from kubeprop.model.state.actions import Action, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Property


def shown_continuation(model: ClusterModel, start: ClusterState, continuation: Sequence[Action],
                       prop: Property) -> tuple[Action, ...]:
    """The prefix of `continuation` (a fair continuation from `start` on whose end `prop` fails)
    to its first quiet state (next action a `Tick`) on which `prop` fails with the violation of
    the end and after which it never holds: the whole `continuation` if there is none."""
    states = [start]
    for act in continuation:
        states.append(step(model, states[-1], act))
    found = [prop(model, state) for state in states]
    last = found[-1]
    if last is None:
        return tuple(continuation)
    failing_from = len(found) - 1  # the first state of the suffix on which `prop` fails throughout
    while failing_from > 0 and found[failing_from - 1] is not None:
        failing_from -= 1
    for at in range(failing_from, len(continuation)):
        if isinstance(continuation[at], Tick) and found[at] == last:
            return tuple(continuation[:at])
    return tuple(continuation)
