"""A user's first operator: label exactly one pod of a StatefulSet `role=leader`.

StatefulSets labelled `example.com/leader-election: "true"` get one pod labelled
`example.com/role: leader`. First version (LEADER): keyed by pod; a Ready pod becomes leader when
the cache shows no leader among its siblings. Fixed version (LEADER_FIXED): keyed by StatefulSet,
the leader is always the lowest-ordinal pod, patches carry the cached resourceVersion.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ObjectKey, Pod, StatefulSet
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.controllers.podutil import is_pod_ready
from kubeprop.model.state.informer import ObjectView

ELECTION = "example.com/leader-election"
ROLE = "example.com/role"


def owner_sts(pod: ApiObject) -> str | None:
    for ref in pod.metadata.owner_references:
        if ref.controller and ref.kind == "StatefulSet":
            return ref.name
    return None


def siblings(view: ObjectView, namespace: str, sts: str) -> list[Pod]:
    return sorted((p for p in view.list("pods", namespace) if isinstance(p, Pod) and owner_sts(p) == sts),
                  key=lambda p: p.metadata.name)


def label_patch(pod: Pod, identity: str, role: str | None, with_rv: bool) -> Request:
    meta: dict[str, Any] = {"labels": {ROLE: role}}
    if with_rv:
        meta["resourceVersion"] = pod.metadata.resource_version
    return Request(verb="patch", user=identity, resource="pods", namespace=pod.metadata.namespace,
                   name=pod.metadata.name, patch={"metadata": meta})


@attrs.frozen
class LeaderOperator(Memoryless):
    name: str = "leader-labeler"
    watches: tuple[str, ...] = ("statefulsets.apps", "pods")
    identity: str = "system:kube-controller-manager"
    fixed: bool = False

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        ns = obj.metadata.namespace
        if isinstance(obj, StatefulSet):
            if self.fixed and obj.metadata.labels.get(ELECTION) == "true":
                return (f"{ns}/{obj.metadata.name}",)
            return ()
        sts = owner_sts(obj)
        if sts is None:
            return ()
        return (f"{ns}/{sts}",) if self.fixed else (f"{ns}/{obj.metadata.name}",)

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        return self._by_sts(view, key, memory) if self.fixed else self._by_pod(view, key, memory)

    def _by_pod(self, view: ObjectView, key: str, memory: Any) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or not is_pod_ready(pod) or pod.metadata.deletion_timestamp is not None:
            return Reconciliation(memory=memory)
        sts_name = owner_sts(pod)
        sts = view.get(ObjectKey("statefulsets.apps", namespace, sts_name or ""))
        if not isinstance(sts, StatefulSet) or sts.metadata.labels.get(ELECTION) != "true":
            return Reconciliation(memory=memory)
        if any(p.metadata.labels.get(ROLE) == "leader" for p in siblings(view, namespace, sts.metadata.name)):
            return Reconciliation(memory=memory)
        return Reconciliation((label_patch(pod, self.identity, "leader", with_rv=False),), memory)

    def _by_sts(self, view: ObjectView, key: str, memory: Any) -> Reconciliation:
        namespace, _, name = key.rpartition("/")
        sts = view.get(ObjectKey("statefulsets.apps", namespace, name))
        if not isinstance(sts, StatefulSet) or sts.metadata.labels.get(ELECTION) != "true":
            return Reconciliation(memory=memory)
        pods = siblings(view, namespace, name)
        if not pods:
            return Reconciliation(memory=memory)
        chosen = min(pods, key=lambda p: int(p.metadata.name.rsplit("-", 1)[1]))
        demote = [label_patch(p, self.identity, None, with_rv=True) for p in pods
                  if p is not chosen and p.metadata.labels.get(ROLE) == "leader"]
        promote = [] if chosen.metadata.labels.get(ROLE) == "leader" else \
            [label_patch(chosen, self.identity, "leader", with_rv=True)]
        return Reconciliation(tuple(demote + promote), memory)


LEADER = LeaderOperator()
LEADER_FIXED = LeaderOperator(fixed=True)
