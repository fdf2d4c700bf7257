"""The ledger operator's property, as its user writes it: a pod marked as recorded is in the ledger.

It reads the API server's truth (`state.store`), never a cache, and it is a safety property: the
operator adds the entry before it marks the pod, so the property holds on every state of a correct
run, and `kubeprop check` checks it on every state it reaches. The scenario names this module under
`properties:`.
"""

from __future__ import annotations

from ledger_operator import LEDGER_NAME, RECORDED

from kubeprop.model.api.objects import ConfigMap, ObjectKey
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Needs, Violation, safety


@safety("recorded-pods-in-ledger", "A pod marked as recorded has its entry in its namespace's ledger.",
        "examples/ledger_operator", needs=Needs(("pods",)))
def recorded_pods_in_ledger(model: ClusterModel, state: ClusterState) -> Violation | str | None:
    """An entry lost after its pod was marked is never written again."""
    for pod in state.store.list("pods"):
        if RECORDED not in pod.metadata.annotations:
            continue
        ledger = state.store.get(ObjectKey("configmaps", pod.metadata.namespace, LEDGER_NAME))
        if not isinstance(ledger, ConfigMap) or pod.metadata.name not in ledger.data:
            return (f"Pod {pod.metadata.namespace}/{pod.metadata.name} is marked as recorded but the ledger "
                    f"has no entry for it")
    return None
