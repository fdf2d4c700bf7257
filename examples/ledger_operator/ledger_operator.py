"""A user's operator with a lost-update bug: it writes a whole object back without its resourceVersion.

The operator keeps a ledger of finished report pods: when a pod labelled `example.com/ledger:
"true"` has Succeeded, it adds an entry for it to the ConfigMap `ledger` in the pod's namespace
(`data[<pod name>] = "Succeeded"`), then marks the pod as recorded (the annotation
`example.com/recorded`), so that it never records a pod twice. `ledger_properties.py` says that a
pod marked as recorded is in the ledger.

`LEDGER` is the first version, written the way a "create or update" helper writes it: it builds the
desired ConfigMap from scratch — name, namespace, the cached entries plus the new one — and PUTs
it. An object built from scratch carries no `metadata.resourceVersion`, and for built-in kinds an
update without one is unconditional: the API server writes it over whatever is stored
(`staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go` Update:
`doUnconditionalUpdate := newResourceVersion == 0 && e.UpdateStrategy.AllowUnconditionalUpdate()`;
the ConfigMap strategy allows it, `pkg/registry/core/configmap/strategy.go`). When the
operator reconciles the second pod before its cache has seen its own write for the first pod, it
writes back the ledger without the first pod's entry — and the first pod, already marked, is never
recorded again. Last write wins.

`LEDGER_FIXED` is the fix: the update carries the cached resourceVersion, so a write made from a
stale cache is refused with 409 Conflict, the reconcile stops there (the pod is not marked), and
the key is requeued until the cache has caught up. (For custom resources the API server insists:
an update without a resourceVersion is 422 Invalid: `customResourceStrategy` does not allow
unconditional updates, `staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go`.)

Run it with this folder on the import path:
`PYTHONPATH=examples/ledger_operator kubeprop check examples/ledger_operator/scenario.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ConfigMap, ObjectKey, Pod, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.state.informer import ObjectView

LEDGER_LABEL = "example.com/ledger"
"""The label that opts a pod in."""
RECORDED = "example.com/recorded"
"""The annotation on a pod the operator has recorded."""
LEDGER_NAME = "ledger"
"""The ConfigMap that holds the ledger, in each pod's namespace."""


def desired_ledger(cached: ConfigMap, pod: Pod, guarded: bool) -> ConfigMap:
    """The ledger with the pod's entry added, built from scratch; with `guarded`, carrying the
    cached resourceVersion (an optimistic-concurrency precondition)."""
    metadata: dict[str, Any] = {"name": LEDGER_NAME, "namespace": pod.metadata.namespace}
    if guarded:
        metadata["resourceVersion"] = cached.metadata.resource_version
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {**cached.data, pod.metadata.name: "Succeeded"}}
    ledger = decode_object(body)
    assert isinstance(ledger, ConfigMap)
    return ledger


@attrs.frozen
class LedgerOperator(Memoryless):
    """The operator as a `Controller` (see the module docstring): `guarded` is the fix."""

    name: str = "ledger"
    watches: tuple[str, ...] = ("pods", "configmaps")
    identity: str = "system:kube-controller-manager"
    guarded: bool = False

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """A labelled pod: its own key (changes of the ledger itself wake nothing)."""
        if isinstance(obj, Pod) and obj.metadata.labels.get(LEDGER_LABEL) == "true":
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """A Succeeded pod not yet recorded: add it to the ledger, then mark it."""
        namespace, _, name = key.rpartition("/")
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or pod.status.phase != "Succeeded" or RECORDED in pod.metadata.annotations:
            return Reconciliation(memory=memory)
        ledger = view.get(ObjectKey("configmaps", namespace, LEDGER_NAME))
        if not isinstance(ledger, ConfigMap):
            return Reconciliation(memory=memory, requeue=True)
        write = Request(verb="update", user=self.identity, obj=desired_ledger(ledger, pod, self.guarded))
        mark = Request(verb="patch", user=self.identity, resource="pods", namespace=namespace, name=name,
                       patch={"metadata": {"annotations": {RECORDED: "true"}}})
        return Reconciliation((write, mark), memory)


LEDGER = LedgerOperator()
"""The first version: the ledger written back without a resourceVersion (last write wins)."""

LEDGER_FIXED = LedgerOperator(guarded=True)
"""The fix: the cached resourceVersion on the write, so a stale one is refused (409 Conflict)."""
