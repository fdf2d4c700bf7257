"""A user's load-balancer registration controller: it sets the pods' readiness gate.

A pod with `spec.readinessGates: [{conditionType: example.com/lb-registered}]` is Ready only once
its `status.conditions` hold `example.com/lb-registered` with status True: the kubelet keeps Ready
False, reason ReadinessGatesNotReady, until then (`pkg/kubelet/status/generate.go`
GeneratePodReadyCondition), and only Ready pods are ready addresses of a Service's Endpoints and
EndpointSlices, and available replicas of a Deployment. Upstream the condition is set by the
controller the gate is for: the AWS Load Balancer Controller, for one, sets
`target-health.elbv2.k8s.aws/<binding>` True once the pod's IP is a healthy target of its load
balancer. Nothing else sets it; a gate nobody sets keeps the pod out of service for ever.

`LbRegistration` stands for such a controller: it registers a pod once its containers are ready
(its ContainersReady condition: the load balancer's health check passing) and deregisters it when
they no longer are, by an `update-status` of the pod carrying the cached resourceVersion, so a
decision taken on a stale copy is refused (409) and retried once the cache has caught up instead
of overwriting the kubelet's newer status. `LB_REGISTRATION_PATCH` sends a `patch-status` instead:
a strategic merge patch of `status.conditions` (merged by type) naming only its condition, which
leaves the rest of the status alone and needs no resourceVersion (what upstream's
`util.PatchPodStatus` sends, `pkg/util/pod/pod.go`). The kubelet keeps the condition when it writes the
pod's status (`pkg/kubelet/status/status_manager.go` mergePodStatus keeps the conditions it does
not own) and writes Ready=True at its next status sync.

Run it with this folder on the import path:
`PYTHONPATH=examples/lb_gate kubeprop check examples/lb_gate/scenario.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import Condition, find_condition, set_condition
from kubeprop.model.api.objects import ApiObject, ObjectKey, Pod
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless
from kubeprop.model.state.component import Reconciliation
from kubeprop.model.state.informer import ObjectView

GATE = "example.com/lb-registered"
"""The readiness gate's condition type."""


def gated(pod: Pod) -> bool:
    """The pod waits for this controller's condition."""
    return any(g.condition_type == GATE for g in pod.spec.readiness_gates)


def healthy(pod: Pod) -> bool:
    """The load balancer's health check passes: the pod has an IP, is not being deleted, and its
    containers are ready."""
    ready = find_condition(pod.status.conditions, "ContainersReady")
    return bool(pod.status.pod_ip) and pod.metadata.deletion_timestamp is None \
        and ready is not None and ready.status == "True"


@attrs.frozen
class LbRegistration(Memoryless):
    """The controller (see the module docstring): every decision from the view alone."""

    name: str = "lb-registration"
    watches: tuple[str, ...] = ("pods",)
    identity: str = "system:kube-controller-manager"
    patch: bool = False
    """Write the condition by `patch-status` rather than `update-status`."""

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """A gated pod: its own key."""
        if isinstance(obj, Pod) and gated(obj):
            return (f"{obj.metadata.namespace}/{obj.metadata.name}",)
        return ()

    def reconcile(self, view: ObjectView, key: str, memory: object, now: int) -> Reconciliation:
        """Set the gate's condition True while the pod is healthy, False once it no longer is (a
        pod never registered keeps no condition)."""
        namespace, _, name = key.rpartition("/")
        pod = view.get(ObjectKey("pods", namespace, name))
        if not isinstance(pod, Pod) or not gated(pod):
            return Reconciliation(memory=memory)
        current = find_condition(pod.status.conditions, GATE)
        want = "True" if healthy(pod) else "False"
        if (current is None and want == "False") or (current is not None and current.status == want):
            return Reconciliation(memory=memory)
        reason = "Registered" if want == "True" else "Deregistered"
        condition = Condition(type=GATE, status=want, reason=reason, last_transition_time=now)
        if self.patch:
            request = Request(verb="patch-status", user=self.identity, resource="pods", namespace=namespace,
                              name=name, patch={"status": {"conditions": [encode(condition)]}}, patch_type="strategic")
            return Reconciliation((request,), memory)
        updated = attrs.evolve(pod, status=attrs.evolve(
            pod.status, conditions=set_condition(pod.status.conditions, condition)))
        return Reconciliation((Request(verb="update-status", user=self.identity, obj=updated),), memory)


LB_REGISTRATION = LbRegistration()
"""The controller, as the scenario names it (`lb_gate_controller:LB_REGISTRATION`)."""

LB_REGISTRATION_PATCH = LbRegistration(patch=True)
"""The same writing by `patch-status`."""
