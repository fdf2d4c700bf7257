"""A team's property that real v1.33 keeps while its namespace is deleted (OrderedNamespaceDeletion)."""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.objects import Pod
from kubeprop.properties.registry import Needs, safety


@safety("pods-keep-their-network-policy",
        "While a pod of team-a exists, team-a's NetworkPolicy default-deny exists.",
        "team policy (KEP-5080's motivation)", needs=Needs(("pods",)))
def pods_keep_their_network_policy(model: Any, state: Any) -> tuple[str, tuple[str, ...]] | None:
    """The first pod of team-a left without the namespace's NetworkPolicy, if any."""
    pods = [p for p in state.store.list("pods", "team-a") if isinstance(p, Pod)]
    policies = list(state.store.list("networkpolicies.networking.k8s.io", "team-a"))
    if pods and not policies:
        return (f"pod team-a/{pods[0].metadata.name} exists but NetworkPolicy default-deny is gone",
                (f"Pod team-a/{pods[0].metadata.name}",))
    return None
