"""Worst-case files: the run that gave a time metric its worst value, as a counterexample file.

`kubeprop check --metrics` finds, per metric, the worst value over everything the engines explored
(`kubeprop.properties.metrics.worst_over`). For the interval metrics one state shows
(`kubeprop.properties.metrics_within.STATE_METRICS`: scheduling latency, replacement time,
eviction latency), a run whose worst interval lasted W seconds has a state where that interval had
been open W seconds, so it breaks `within(metric, W - 1)`. `record_worst` records the run up to
that state as an ordinary counterexample of the property `<metric>-within-<W-1>s`: `kubeprop
replay` shows it step by step and re-checks it (the property resolves by its name).
"""

from __future__ import annotations

from kubeprop.counterexamples.format_records import Counterexample
from kubeprop.counterexamples.trace import record, states_along
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.metrics import WorstCase
from kubeprop.properties.metrics_within import STATE_METRICS, within

__all__ = ["record_worst"]


def record_worst(model: ClusterModel, worst: WorstCase, where: str = "") -> Counterexample | None:
    """The worst case of a state metric as a counterexample of `<metric>-within-<W-1>s` (trace cut
    at the first state that breaks it); None for other metrics or a worst value under a second."""
    metric, seconds = worst.row.metric, worst.row.worst
    if metric not in STATE_METRICS or seconds < 1:
        return None
    prop = within(metric, seconds - 1)
    for index, state in enumerate(states_along(model, worst.trace)):
        violation = prop(model, state)
        if violation is not None:
            note = f"worst case of {metric}: {seconds} s" + (f", from {where}" if where else "")
            return record(model, worst.trace[:index], violation, prop=prop, engine="worst-case", note=note)
    return None
