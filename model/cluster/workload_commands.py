"""The kubectl command line each workload step stands for, for messages and reports
(`describe`), and how a step names its workload (`workload_ref`, `target`).

May import: the API's type registry, the scenario schema and `workload_wait`'s own command text.
"""

from __future__ import annotations

from kubeprop.model.api.server import resolve_type
from kubeprop.model.cluster import workload_wait
from kubeprop.model.scenario.schema import (
    RolloutRestartStep,
    RolloutStatusStep,
    ScaleStep,
    SetImageStep,
    WorkloadStep,
)

__all__ = ["CASCADE_FLAGS", "CLIENT_SIDE_APPLY_MANAGER", "SERVER_SIDE_APPLY_MANAGER", "WORKLOAD_KINDS", "describe",
           "target", "workload_ref"]

WORKLOAD_KINDS = {"deployment": "deployments.apps", "statefulset": "statefulsets.apps",
                  "replicaset": "replicasets.apps", "daemonset": "daemonsets.apps"}
CASCADE_FLAGS = {"Foreground": " --cascade=foreground", "Orphan": " --cascade=orphan"}
"""The `kubectl delete` flag of a step's `propagationPolicy`, as kubectl spells it
(`staging/src/k8s.io/kubectl/pkg/cmd/delete/delete_flags.go` parseCascadingFlag: background,
foreground, orphan); Background is kubectl's default, so it is left out as a user would type it."""
CLIENT_SIDE_APPLY_MANAGER = "kubectl-client-side-apply"
SERVER_SIDE_APPLY_MANAGER = "kubectl"


def target(ref: str) -> tuple[str, str]:
    """(namespace, name) of a step's `NAMESPACE/NAME` or `NAME` (namespace `default`)."""
    namespace, _, name = ref.rpartition("/")
    return namespace or "default", name


def workload_ref(step: ScaleStep | SetImageStep | RolloutStatusStep | RolloutRestartStep) -> tuple[str, str]:
    """(resource, reference) of the one workload field a step sets; ("", "") if none."""
    for field, resource in WORKLOAD_KINDS.items():
        ref = getattr(step, field, "")
        if ref:
            return resource, ref
    return "", ""


def describe(step: WorkloadStep) -> str:
    """The kubectl command a step stands for, for messages (with `--as USER` when the step has `as`)."""
    command = _command(step)
    return f"{command} --as {step.as_}" if step.as_ else command


def _command(step: WorkloadStep) -> str:
    """`describe` before `--as`."""
    options = step.apply_options
    if options is not None:
        mode = f" --server-side --field-manager={options.field_manager or SERVER_SIDE_APPLY_MANAGER}" + (
            " --force-conflicts" if options.force else "") if options.server_side else ""
        return f"kubectl apply -f {options.path}{mode}"
    if step.wait is not None:
        return workload_wait.describe(step, (step.wait.kind.lower(), step.wait.namespace, step.wait.name))
    if step.rollout_status is not None:
        kind = next((f for f in WORKLOAD_KINDS if getattr(step.rollout_status, f, "")), "workload")
        namespace, name = target(workload_ref(step.rollout_status)[1])
        return workload_wait.describe(step, (kind, namespace, name))
    if step.rollout_restart is not None:
        kind = next((f for f in WORKLOAD_KINDS if getattr(step.rollout_restart, f, "")), "workload")
        namespace, name = target(workload_ref(step.rollout_restart)[1])
        return f"kubectl rollout restart {kind}/{name} -n {namespace}"
    named = step.scale or step.set_image
    if named is not None:
        kind = next((field for field in WORKLOAD_KINDS if getattr(named, field, "")), "workload")
        namespace, name = target(workload_ref(named)[1])
        if step.scale is not None:
            return f"kubectl scale {kind}/{name} -n {namespace} --replicas={step.scale.replicas}" + _preconditions(
                step.scale)
        assert step.set_image is not None
        return f"kubectl set image {kind}/{name} -n {namespace} {step.set_image.container}={step.set_image.image}"
    if step.cordon is not None or step.uncordon is not None:
        verb, node_step = ("cordon", step.cordon) if step.cordon is not None else ("uncordon", step.uncordon)
        return f"kubectl {verb} {node_step.node if node_step else ''}"
    if step.drain is not None:
        how = step.drain
        switches = ((" --delete-emptydir-data", how.delete_emptydir_data), (" --force", how.force),
                    (" --disable-eviction", how.disable_eviction))
        flags = "".join(flag for flag, on in switches if on)
        timeout = f" --timeout={how.timeout_seconds}s" if how.timeout_seconds else ""
        return f"kubectl drain {how.node} --ignore-daemonsets{flags}{timeout}"
    assert step.delete is not None
    deleted = step.delete
    cascade = CASCADE_FLAGS.get(deleted.propagation_policy, "")
    no_wait = "" if deleted.wait else " --wait=false"
    return (f"kubectl delete {deleted.kind} {deleted.name}{_namespace_flag(deleted.kind, deleted.namespace)}{cascade}"
            f"{no_wait}")


def _preconditions(scale: ScaleStep) -> str:
    """` --current-replicas=N --resource-version=RV`, the flags of the preconditions a `scale` sets."""
    current = f" --current-replicas={scale.current_replicas}" if scale.current_replicas != -1 else ""
    return current + (f" --resource-version={scale.resource_version}" if scale.resource_version else "")


def _namespace_flag(kind: str, namespace: str) -> str:
    """` -n NAMESPACE`, left out for a built-in cluster-scoped kind (a node, a namespace), as a user
    would type the command; kept for a custom kind, whose scope the command line cannot tell."""
    info = resolve_type(kind, ())
    return "" if info is not None and not info.namespaced else f" -n {namespace}"
