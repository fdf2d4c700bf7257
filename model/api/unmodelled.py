"""Kinds the model refuses on purpose, and why: each would change what the checker sees.

A manifest folder often holds kinds the model has no behaviour for. Those no modelled component
reads are stored as data (`kubeprop.model.api.networking`); the kinds here are different: upstream
a controller or an admission plug-in acts on them, creating pods or changing what the API server
admits, so checking the folder without them would check another cluster. Loading refuses them,
naming the missing behaviour and what the user can do instead. Upstream sources:
`cmd/kube-controller-manager/app/controllermanager.go` (the controllers:
replicationcontroller, resourcequota), `pkg/kubeapiserver/options/plugins.go` (the default admission plug-ins:
LimitRanger, ResourceQuota, RuntimeClass, the webhook and ValidatingAdmissionPolicy plug-ins),
`staging/src/k8s.io/apiserver/pkg/util/flowcontrol` (APF reads FlowSchemas and priority levels).
"""

from __future__ import annotations

from typing import Final

UNMODELLED_KINDS: Final[dict[tuple[str, str], str]] = {
    ("", "ReplicationController"): (
        "the model has no ReplicationController controller: its pods would be missing from the check; write it "
        "as a ReplicaSet (the same replicas and template, with spec.selector.matchLabels)"),
    ("", "ResourceQuota"): (
        "the model stores no ResourceQuota and has no quota controller: objects the quota would refuse would "
        "be created; remove it from the folder, or give its spec.hard to the quota admission plug-in in a "
        "scenario file (admission:, built with kubeprop.model.api.admission.resource_quota; see docs/apiserver.md) "
        "unless it has scopes or a scopeSelector: the plug-in counts every pod of the namespace, so a scoped "
        "quota's spec.hard given to it would refuse pods the real quota admits"),
    ("", "LimitRange"): (
        "the model has no LimitRanger admission plug-in: the default requests and limits it would give "
        "containers would be missing, so the scheduler would see other requests; remove it from the folder, "
        "or write those requests and limits into the pod templates"),
    ("node.k8s.io", "RuntimeClass"): (
        "the model has no RuntimeClass admission or scheduling: the pod overhead, node selector and "
        "tolerations it adds would be missing; remove it from the folder (and runtimeClassName from the pods, "
        "which is refused too) and write those into the pod templates"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): (
        "the model calls no admission webhooks: requests the webhook would refuse would be admitted; remove it "
        "from the folder, or write its decision as an admission plug-in (admission:, see docs/scenario.md)"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): (
        "the model calls no admission webhooks: objects the webhook would change would be stored as written; "
        "remove it from the folder, or write its change as an admission plug-in (admission:, see docs/scenario.md)"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): (
        "the model evaluates no CEL admission policies: requests the policy would refuse would be admitted; "
        "remove it from the folder, or write it as an admission plug-in (admission:, see docs/scenario.md)"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): (
        "the model evaluates no CEL admission policies: requests the bound policy would refuse would be "
        "admitted; remove it from the folder, or write the policy as an admission plug-in (admission:)"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"): (
        "the model evaluates no CEL admission policies: objects the policy would change would be stored as "
        "written; remove it from the folder, or write it as an admission plug-in (admission:)"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): (
        "the model's API server uses only the bootstrap API Priority and Fairness configuration: requests "
        "would be classified as if it were absent; remove it from the folder"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): (
        "the model's API server uses only the bootstrap API Priority and Fairness configuration: requests "
        "would be limited as if it were absent; remove it from the folder"),
}
"""(API group, kind) → why the model refuses the kind and what the user can do instead."""


def unmodelled_reason(api_version: str, kind: str) -> str | None:
    """Why `kind` of `api_version` (any version of its group) is refused, or None if it is not one
    of the refused kinds."""
    group = api_version.rpartition("/")[0]
    return UNMODELLED_KINDS.get((group, kind))
