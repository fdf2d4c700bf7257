"""The FitError message the scheduler writes into a pod's PodScheduled condition and events.

Source: `pkg/scheduler/framework/types.go` (FitError.Error, master ~v1.35) in
`kubernetes/kubernetes`: "0/<all nodes> nodes are available:" then either " <PreFilter
message>." or " <histogram>." where the histogram counts every reason of every node's status as
"<count> <reason>", sorted as *strings* (so "10 ..." sorts before "2 ..."), joined by ", "; then
" <PostFilter message>" when there is one (preemption's ends with its own ".").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from kubeprop.model.scheduler.filters import FilterStatus

__all__ = ["fit_error_message"]


def fit_error_message(
    num_all_nodes: int,
    statuses: Mapping[str, FilterStatus],
    prefilter_message: str = "",
    postfilter_message: str = "",
) -> str:
    """FitError.Error() for `num_all_nodes` nodes whose failures are `statuses` (node -> status)."""
    message = f"0/{num_all_nodes} nodes are available:"
    if prefilter_message:
        message += f" {prefilter_message}."
    else:
        reasons: Counter[str] = Counter()
        for status in statuses.values():
            reasons.update(status.reasons)
        histogram = sorted(f"{count} {reason}" for reason, count in reasons.items())
        if histogram:
            message += f" {', '.join(histogram)}."
    if postfilter_message:
        message += f" {postfilter_message}"
    return message
