"""`kubectl scale`: the request a `scale` step sends, with or without its preconditions.

Upstream `staging/src/k8s.io/kubectl/pkg/scale/scale.go` genericScaler.ScaleSimple, after
`staging/src/k8s.io/kubectl/pkg/cmd/scale/scale.go` RunScale (whose resource builder's GET of the
workload `kubeprop.model.cluster.workload` sends first):

- without a precondition (`--current-replicas` -1, its default, and no `--resource-version`) a
  "blind update": a JSON merge patch `{"spec": {"replicas": N}}` of `<resource>/scale` (verb
  `patch-scale`, RBAC `patch` on `deployments/scale`), no GET of the Scale;
- with one (`ScaleStep.current_replicas`, `ScaleStep.resource_version`) kubectl GETs the Scale
  (`get` on `deployments/scale`; its error, a 403 or 404, is the step's), checks the preconditions
  (`ScalePrecondition.validate`: replicas first, then the resource version; a failure is kubectl's
  own `error: Expected replicas to be 3, was 2`, `error: Expected resource version to be 7, was 9`,
  and nothing is written) and PUTs the Scale it read with `spec.replicas` set (verb `update-scale`,
  `update` on `deployments/scale`; the Scale's resourceVersion makes the write conditional).

kubectl retries the scale on a 409 conflict for five minutes (`Scale`: `NewRetryParams(1s, 5m)`,
`ScaleCondition`), reading and checking again each time. The model's step reads and writes in
one transition, so no write comes between the GET and the PUT: the retries end in the same place
as this single attempt at the state the step is taken in. The GET, when allowed, changes nothing
and is not sent (as the resource builder's GET: `workload_wait.refused`); a refused or failing one
is sent, so its response is the step's.

May import: the API server and its scale subresource, the scenario schema and the cluster state.
"""

from __future__ import annotations

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.server import Request, handle
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.schema import ScaleStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["SCALE_MANAGER", "has_precondition", "precondition_failure", "scale_request"]

SCALE_MANAGER = "kubectl-scale"
"""The field manager of `kubectl scale`'s writes."""


def has_precondition(scale: ScaleStep) -> bool:
    """Whether kubectl sets a ScalePrecondition (RunScale: `CurrentReplicas != -1 ||
    len(ResourceVersion) > 0`); without one it sends a blind update."""
    return scale.current_replicas != -1 or bool(scale.resource_version)


def precondition_failure(scale: ScaleStep, replicas: int, resource_version: str) -> str:
    """kubectl's error when the Scale read (`replicas`, `resource_version`) fails the step's
    preconditions (`ScalePrecondition.validate`, `PreconditionError.Error`); "" when they hold."""
    if scale.current_replicas != -1 and replicas != scale.current_replicas:
        return f"error: Expected replicas to be {scale.current_replicas}, was {replicas}"
    if scale.resource_version and resource_version != scale.resource_version:
        return f"error: Expected resource version to be {scale.resource_version}, was {resource_version}"
    return ""


def scale_request(model: ClusterModel, state: ClusterState, scale: ScaleStep, key: ObjectKey, user: str,
                  acting_as: str = "") -> Request | str:
    """What `kubectl scale` sends for `scale` on the workload at `key` (which exists), as `user`;
    the GET of the Scale is judged `--as acting_as`, as it would be sent. A string: kubectl's own
    error, nothing written. The request is returned without `--as` (the caller adds it)."""
    if not has_precondition(scale):
        return Request(verb="patch-scale", user=user, resource=key.resource, namespace=key.namespace, name=key.name,
                       patch={"spec": {"replicas": scale.replicas}}, field_manager=SCALE_MANAGER)
    get = Request(verb="get-scale", user=user, resource=key.resource, namespace=key.namespace, name=key.name)
    read = handle(state.store, evolve(get, impersonate=acting_as), model.api, state.clock).response
    if not read.ok or read.scale is None:
        return get  # sent: its 403, 404 (or a server that cannot answer) is the step's
    failure = precondition_failure(scale, read.scale.spec_replicas, read.scale.resource_version)
    if failure:
        return failure
    body = read.scale.encode()
    body["spec"] = {"replicas": scale.replicas}
    return evolve(get, verb="update-scale", patch=body, field_manager=SCALE_MANAGER)
