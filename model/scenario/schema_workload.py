"""Scenario file sections: the workload's steps (`workload:`), each a kubectl command — `apply`,
`scale`, `set image`, `delete`, `rollout status`, `rollout restart`, `wait` — and `WorkloadStep`,
one of them (with `cordon`, `drain`, `uncordon` from `schema_addons`). Split from `schema`, which
re-exports every name here; docs/scenario.md describes every field."""

from __future__ import annotations

import attrs

from kubeprop.model.scenario.schema_addons import DrainStep, NodeStep
from kubeprop.model.scenario.wait_for import parse_jsonpath


@attrs.frozen
class ScaleStep:
    """`kubectl scale <kind>/<namespace>/<name> --replicas=N`: exactly one of the three targets.
    Optional preconditions (`staging/src/k8s.io/kubectl/pkg/scale/scale.go` ScalePrecondition):
    `currentReplicas` (`--current-replicas`; -1, kubectl's default, sets none) and `resourceVersion`
    (`--resource-version`; "" sets none); with either, kubectl reads the Scale and writes it back
    only if they hold (`kubeprop.model.cluster.workload_scale`)."""

    deployment: str = ""
    statefulset: str = ""
    replicaset: str = ""
    replicas: int = 0
    current_replicas: int = attrs.field(default=-1, metadata={"fingerprint": "omit-if-default"})
    resource_version: str = attrs.field(default="", metadata={"fingerprint": "omit-if-default"})


@attrs.frozen
class SetImageStep:
    """`kubectl set image <kind>/<name> CONTAINER=IMAGE`: a workload's container gets a new image;
    exactly one of the targets (kubectl sets the image of every kind with a pod template:
    `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/updatepodspec.go`; a Job's template is
    immutable, so the model offers the four workload kinds)."""

    deployment: str = ""
    statefulset: str = ""
    container: str = ""
    image: str = ""
    daemonset: str = attrs.field(default="", metadata={"fingerprint": "omit-if-default"})
    replicaset: str = attrs.field(default="", metadata={"fingerprint": "omit-if-default"})


@attrs.frozen
class DeleteStep:
    """`kubectl delete <kind> <name>` with an optional propagation policy (`--cascade`) and
    `wait` (`--wait`, kubectl's default true: the command returns once the object is gone)."""

    kind: str = ""
    name: str = ""
    namespace: str = "default"
    propagation_policy: str = ""
    wait: bool = True


@attrs.frozen
class RolloutStatusStep:
    """`kubectl rollout status <kind>/<namespace>/<name> [--timeout=Ns]`: exactly one target;
    `timeoutSeconds` 0 (kubectl's default) waits for ever (`kubeprop.model.cluster.workload_wait`)."""

    deployment: str = ""
    statefulset: str = ""
    daemonset: str = ""
    timeout_seconds: int = 0


@attrs.frozen
class RolloutRestartStep:
    """`kubectl rollout restart <kind>/<namespace>/<name>`: exactly one target (kubectl restarts a
    Deployment, DaemonSet or StatefulSet: `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/
    objectrestarter.go`), by a strategic merge patch of its pod template's
    `kubectl.kubernetes.io/restartedAt` annotation (`kubeprop.model.cluster.workload_restart`)."""

    deployment: str = ""
    statefulset: str = ""
    daemonset: str = ""


@attrs.frozen
class WaitStep:
    """`kubectl wait --for=<for> <kind>/<name> -n <namespace> [--timeout=Ns]`: `for` is
    `condition=NAME[=VALUE]`, `jsonpath=EXPRESSION[=VALUE]` (a simple field path:
    `kubeprop.model.scenario.wait_for`) or `delete`; `timeoutSeconds` defaults to kubectl's 30, 0
    checks once, -1 waits for ever (kubectl: a week)."""

    kind: str = ""
    name: str = ""
    namespace: str = "default"
    for_: str = ""
    timeout_seconds: int = 30


def parse_for(text: str) -> tuple[str, str, str] | None:
    """A `wait` step's `for`, as kubectl reads `--for` (`staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go`
    conditionFuncFor): ("delete", "", ""), ("condition", NAME, VALUE; VALUE "true" when not given),
    ("jsonpath", EXPRESSION, VALUE; VALUE "" for any value: `kubeprop.model.scenario.wait_for`), or
    None for what the model does not run (`create`, a jsonpath beyond a simple field path) or
    kubectl refuses (`wait_for.parse_jsonpath` says why)."""
    if text.lower() == "delete":
        return "delete", "", ""
    if text.startswith("condition="):
        name, equals, value = text[len("condition="):].partition("=")
        if name:
            return "condition", name, value if equals else "true"
    if text.startswith("jsonpath="):
        parsed = parse_jsonpath(text[len("jsonpath="):])
        if not isinstance(parsed, str):
            return "jsonpath", *parsed
    return None


@attrs.frozen
class ApplyStep:
    """`kubectl apply -f PATH` with options: `serverSide` (`--server-side`), `fieldManager`
    (`--field-manager`; default `kubectl-client-side-apply`, or `kubectl` with serverSide) and
    `force` (`--force-conflicts`, server-side only)."""

    path: str = ""
    server_side: bool = False
    field_manager: str = ""
    force: bool = False


@attrs.frozen
class WorkloadStep:
    """One user action of the workload: exactly one action field is set. `apply` is a path
    (client-side apply) or an `ApplyStep`. `as_` (`as`, optional): `kubectl --as USER`, a user the
    scenario declares: the step's requests, sent by `applyAs`, impersonate that user
    (`kubeprop.model.api.impersonation`)."""

    apply: str | ApplyStep = ""
    scale: ScaleStep | None = None
    set_image: SetImageStep | None = None
    delete: DeleteStep | None = None
    cordon: NodeStep | None = None
    drain: DrainStep | None = None
    uncordon: NodeStep | None = None
    rollout_status: RolloutStatusStep | None = None
    wait: WaitStep | None = None
    as_: str = attrs.field(default="", metadata={"fingerprint": "omit-if-default"})
    rollout_restart: RolloutRestartStep | None = attrs.field(default=None,
                                                             metadata={"fingerprint": "omit-if-default"})

    @property
    def apply_options(self) -> ApplyStep | None:
        """The apply step's options (a bare path is client-side apply), or None for other steps."""
        if isinstance(self.apply, ApplyStep):
            return self.apply
        return ApplyStep(path=self.apply) if self.apply else None

    @property
    def apply_path(self) -> str:
        """The manifests an apply step reads ("" for other steps)."""
        options = self.apply_options
        return options.path if options is not None else ""
