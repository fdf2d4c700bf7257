"""The ServiceAccount admission plug-in: a pod runs as a ServiceAccount that exists.

Upstream: `plugin/pkg/admission/serviceaccount/admission.go` (v1.33), default-enabled, ordered
right after NamespaceLifecycle (`pkg/kubeapiserver/options/plugins.go` AllOrderedPlugins). On a
pod CREATE (no subresource):

- Admit (mutating): a pod that names no ServiceAccount gets `serviceAccountName: default`
  (model: read as `default`, not written; below);
- Admit and Validate look the account up (`getServiceAccount`: the informer's lister, then a
  live GET) and refuse the create when it does not exist: 403 Forbidden, `pods "NAME" is
  forbidden: error looking up service account NS/NAME: serviceaccount "NAME" not found`. A
  ReplicaSet's pod creates then fail (FailedCreate) and its Deployment's rollout never completes,
  which is what a helm release-name mismatch in `serviceAccountName` does on a real cluster;
- a mirror pod (annotation `kubernetes.io/config.mirror`) is not defaulted, and is refused if it
  names a ServiceAccount (Admit calls Validate: "a mirror pod may not reference service accounts").

Admit is a mutating plug-in's: it runs in the mutating phase (`AdmissionPlugin.admit`), before
the create's name is generated (`rest.BeforeCreate`) and before validation, so its 403 names a
pod created with `generateName` by that prefix (`admission.NewForbidden` → extractResourceName:
`pods "web-7d8b-" is forbidden: …`, a ReplicaSet's pods) and a pod both invalid and naming a
missing account gets the 403, not the 422. Validate (`validate`) checks again after validation,
which in the model only refuses what a later mutating plug-in (a scenario's own) changed.

The `default` ServiceAccount is treated as always present, in every namespace. Upstream the
serviceaccounts controller (`pkg/controller/serviceaccount/serviceaccounts_controller.go`) creates
it when a namespace is added, so a pod created in a brand-new namespace can race it; but the
plug-in itself absorbs that race: for `default` only, `getServiceAccount` retries the live GET 10
times, 100-200 ms apart (`numAttempts = 10`, "it should be auto-created by the controller"),
while the controller's create is a single write on the namespace's ADDED event. Modelling the
controller would put a ServiceAccount object into every namespace of every state (and a race the
plug-in's retries hide in practice) for no property the model checks. So: a pod naming `default`
(or nothing) is admitted; any other name must be a stored ServiceAccount of the pod's namespace.
The model reads the store directly (the lister and the live GET agree in the model's atomic
request). Model choice: a pod that names no account is checked as `default` but stored as written
(`serviceAccountName` empty), not defaulted: nothing the model runs reads the field, and writing
it would change every stored pod, so every recorded counterexample state (the corpus would all
replay STALE) for no verdict; `kubeprop validate` therefore shows no `default
spec.serviceAccountName=default` line. The rest of Admit — mounting the token volume (projected volume with the
kube-root-ca.crt ConfigMap), copying the account's imagePullSecrets, the
`kubernetes.io/enforce-mountable-secrets` checks — is not modelled (nothing the model runs reads
them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.api.pod import MIRROR_POD_ANNOTATION

if TYPE_CHECKING:
    from kubeprop.model.api.admission import AdmissionRequest

NAME = "ServiceAccount"
DEFAULT_SERVICE_ACCOUNT = "default"
"""`DefaultServiceAccountName`: the account a pod that names none runs as."""


def _applies(req: AdmissionRequest) -> bool:
    """`shouldIgnore` and the CREATE check: a pod create, not through a subresource."""
    return req.operation == "CREATE" and req.resource == "pods" and not req.subresource and isinstance(req.obj, Pod)


def _is_mirror(pod: Pod) -> bool:
    return MIRROR_POD_ANNOTATION in pod.metadata.annotations


def service_account_missing(req: AdmissionRequest, name: str) -> bool:
    """`getServiceAccount` finding nothing: `name` is not `default` (always present, module
    docstring) and no ServiceAccount `name` is stored in the request's namespace."""
    if name == DEFAULT_SERVICE_ACCOUNT:
        return False
    return req.store.get(ObjectKey("serviceaccounts", req.namespace, name)) is None


def validate(req: AdmissionRequest) -> str | None:
    """Admit's refusal and Validate: a mirror pod names no ServiceAccount; any other pod's account
    exists."""
    pod = req.obj
    if not _applies(req) or not isinstance(pod, Pod):
        return None
    name = pod.spec.service_account_name
    if _is_mirror(pod):
        return "a mirror pod may not reference service accounts" if name else None
    name = name or DEFAULT_SERVICE_ACCOUNT
    if service_account_missing(req, name):
        return f'error looking up service account {req.namespace}/{name}: serviceaccount "{name}" not found'
    return None


__all__ = ["DEFAULT_SERVICE_ACCOUNT", "NAME", "service_account_missing", "validate"]
