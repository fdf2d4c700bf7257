"""`kubectl rollout restart`: the request a `rolloutRestart` workload step sends.

kubectl (`staging/src/k8s.io/kubectl/pkg/cmd/rollout/rollout_restart.go` RunRestart, v1.33) GETs
the workload through its resource builder (`Latest()`; the step's GET and its 404 or 403 are
`kubeprop.model.cluster.workload`'s, as for `scale` and `setImage`), then asks the object
restarter (`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/objectrestarter.go`
defaultObjectRestarter) for the changed object:

- a Deployment whose `spec.paused` is true is refused: `can't restart paused deployment (run
  rollout resume first)`, which RunRestart reports as `error: deployments.apps "web" …`, nothing
  sent;
- a Deployment, DaemonSet or StatefulSet gets its pod template annotation
  `kubectl.kubernetes.io/restartedAt` set to the current time in RFC 3339 (`time.Now().Format
  (time.RFC3339)`; here the model's clock, written in UTC);
- any other kind is `restarting is not supported` (the scenario's checks offer only those three).

The difference of the two objects (`set.CalculatePatches`) is sent as a strategic merge patch with
field manager `kubectl-rollout` (`AddFieldManagerFlagVar(…, "kubectl-rollout")`), so the RBAC verb
is `patch` on the workload. A template that already carries that annotation with that very second
gives an empty patch: RunRestart records `failed to create patch for NAME: empty patch` and still
sends `{}`, which changes nothing — the model records the failure and sends nothing.

A new template hash follows from the changed template, so the Deployment controller (or the
StatefulSet or DaemonSet controller) rolls the pods out again, as `kubectl rollout restart` does.
"""

from __future__ import annotations

from typing import Any

from kubeprop.model.api.apps import Deployment
from kubeprop.model.api.cron_schedule import to_rfc3339
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.state.cluster import ClusterState

__all__ = ["RESTARTED_AT_ANNOTATION", "ROLLOUT_MANAGER", "restart_request"]

RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
"""The pod template annotation `kubectl rollout restart` sets (objectrestarter.go)."""
ROLLOUT_MANAGER = "kubectl-rollout"
"""The field manager of `kubectl rollout restart`'s patch (rollout_restart.go NewCmdRolloutRestart)."""
PAUSED_REFUSAL = "can't restart paused deployment (run rollout resume first)"
"""objectrestarter.go's refusal of a paused Deployment."""


def restart_request(state: ClusterState, key: ObjectKey, user: str) -> list[Request | str]:
    """The requests of `kubectl rollout restart` on the workload at `key`, which exists: kubectl's
    own error for a paused Deployment or an empty patch, else the strategic merge patch of the
    template's `restartedAt` annotation with the model's time."""
    current = state.store.get(key)
    template = getattr(getattr(current, "spec", None), "template", None)
    where = f"{key.resource} {_go_quote(key.name)}"
    if current is None or template is None:
        return [f"error: {where} restarting is not supported"]
    if isinstance(current, Deployment) and current.spec.paused:
        return [f"error: {where} {PAUSED_REFUSAL}"]
    now = to_rfc3339(state.clock)
    if template.metadata.annotations.get(RESTARTED_AT_ANNOTATION) == now:
        return [f"error: failed to create patch for {key.name}: empty patch"]
    patch: dict[str, Any] = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: now}}}}}
    return [Request(verb="patch", user=user, resource=key.resource, namespace=key.namespace, name=key.name,
                    patch=patch, patch_type="strategic", field_manager=ROLLOUT_MANAGER)]


def _go_quote(text: str) -> str:
    """Go's `%q` of a Kubernetes name (its characters need no escape)."""
    return f'"{text}"'
