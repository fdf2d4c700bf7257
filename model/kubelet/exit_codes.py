"""The exit codes a container that ends by itself, or exits on SIGTERM, is offered
(`ContainerExit.exit_code`, `StopGracefully.exit_code`): 0 and one representative of each class of
non-zero codes the scenario can tell apart.

What reads a container's exit code, upstream (v1.33):

- the runtime's container status: `pkg/kubelet/kuberuntime/helpers.go` toKubeContainerStatus copies
  the CRI status's `ExitCode` and `Reason` (the runtime's: Completed for 0, Error otherwise, unless
  OOMKilled), and `pkg/kubelet/kubelet_pods.go` convertToAPIContainerStatuses publishes them as
  `state.terminated.exitCode`/`reason` (`kubeprop.model.kubelet.status`);
- the restart decision: `pkg/kubelet/container/helpers.go` ShouldContainerBeRestarted — restartPolicy
  Never never restarts, OnFailure restarts on any code but 0, Always on any; and the pod's phase,
  Succeeded only if every container exited 0 (`pkg/kubelet/kubelet_pods.go` getPhase): both see 0
  or non-zero only;
- a Job's pod failure policy: `pkg/controller/job/pod_failure_policy.go` matchPodFailurePolicy →
  getMatchingContainerFromList: a terminated container (of the requirement's `containerName`, any
  container or init container when unset) whose exit code is not 0 and for which
  isOnExitCodesOperatorMatching holds — `In`: the code is among the values, `NotIn`: it is not
  (`kubeprop.model.controllers.job_policy`).

So two non-zero codes behave alike everywhere unless some `onExitCodes` requirement that applies to
the container has one among its values and not the other: the classes are the codes 1–255 grouped by
which requirements' values hold them (a requirement's operator only flips its answer). The model offers
the smallest code of each class — 1 for the class of codes in no requirement's values ("any other
code", when 1 is in none) — so without any podFailurePolicy the choices are exactly 0 and 1.

The requirements read are those of every Job and CronJob (its `jobTemplate`) the scenario creates —
in its manifests and its workload steps (`ClusterModel.workload_objects`) — in the container's
namespace, whose `containerName` is the container's or unset: what a pod of the container's name may
be judged by. Not the Job that owns the pod: its owner is in the API, and reading it would make every
`ContainerExit` depend on the store; the scenario's templates are fixed, so the choices are a function
of the model and the pod's key only (no read: the footprint and the enabled-actions cache are
unchanged). A container of a pod of another Job (or none) of the namespace may be offered a code its
own Job cannot tell from 1: a real exit still, only one state more. Left out: a Job a user's
controller creates with a policy the scenario's objects do not hold (its codes still read 0 or 1).

A container that exits on SIGTERM (its pod stopping: `StopGracefully`; killed for a failed probe:
`ContainerExit`, `kubeprop.model.kubelet.kill`) is offered the same classes, with 143 standing for
its own (`on_sigterm`): a process the signal ends exits 143 (128 + 15), one that handles it exits with
whatever code it chooses — 0, or any failing code (`kuberuntime_container.go` killContainer only
signals). Without any podFailurePolicy that is 0 and 143.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kubeprop.model.api.batch import Job, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.kubelet.actions import MAX_EXIT_CODE
from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE
from kubeprop.model.state.cluster import ClusterModel

__all__ = ["ExitCodes", "classes", "exit_code_requirements", "exit_codes", "representatives"]

OTHER = 1
"""The representative of "any other code": the code of a generic failure."""


def _policies(objects: Iterable[Any]) -> Iterator[tuple[str, PodFailurePolicy]]:
    """(namespace, podFailurePolicy) of every Job and CronJob template among `objects`."""
    for obj in objects:
        if isinstance(obj, Job):
            policy = obj.spec.pod_failure_policy
        elif isinstance(obj, CronJob):
            policy = obj.spec.job_template.spec.pod_failure_policy
        else:
            continue
        if policy is not None:
            yield obj.metadata.namespace or "default", policy


def exit_code_requirements(objects: Iterable[Any]) -> tuple[tuple[str, PodFailurePolicyOnExitCodesRequirement], ...]:
    """(namespace, requirement) of every `onExitCodes` rule of the Jobs and CronJob templates among
    `objects`, in their order, without repeats."""
    found = ((namespace, rule.on_exit_codes) for namespace, policy in _policies(objects) for rule in policy.rules
             if rule.on_exit_codes is not None)
    return tuple(dict.fromkeys(found))


def classes(requirements: Iterable[PodFailurePolicyOnExitCodesRequirement]) -> tuple[tuple[int, ...], ...]:
    """The non-zero codes 1–255 grouped by which of `requirements`' values hold them, each class in
    ascending order, the classes by their smallest code."""
    value_sets = [frozenset(r.values) for r in requirements]
    groups: dict[tuple[bool, ...], list[int]] = {}
    for code in range(1, MAX_EXIT_CODE + 1):
        groups.setdefault(tuple(code in values for values in value_sets), []).append(code)
    return tuple(sorted(tuple(g) for g in groups.values()))


def representatives(requirements: Iterable[PodFailurePolicyOnExitCodesRequirement],
                    preferred: int = OTHER) -> tuple[int, ...]:
    """One code of each class (`classes`), ascending: `preferred` for its class, `OTHER` for its
    class, the smallest of the others."""
    return tuple(sorted(next((code for code in (preferred, OTHER) if code in group), group[0])
                        for group in classes(requirements)))


class ExitCodes:
    """The non-zero codes offered to a container that ends by itself or exits on SIGTERM, by
    namespace and container name (computed once each: the model is fixed). Built once per model
    (`exit_codes`)."""

    def __init__(self, requirements: tuple[tuple[str, PodFailurePolicyOnExitCodesRequirement], ...]) -> None:
        self.requirements = requirements
        self._offered: dict[tuple[str, str, int], tuple[int, ...]] = {}

    def non_zero(self, namespace: str, container: str) -> tuple[int, ...]:
        """The failing codes offered to container `container` of a pod in `namespace` that ends by
        itself (just `OTHER` when no requirement applies to it)."""
        return self._representatives(namespace, container, OTHER)

    def on_sigterm(self, namespace: str, container: str) -> tuple[int, ...]:
        """The failing codes offered to the container when it exits on SIGTERM: those of `non_zero`
        with `SIGTERM_EXIT_CODE` for its class (just 143 when no requirement applies to it)."""
        return self._representatives(namespace, container, SIGTERM_EXIT_CODE)

    def _representatives(self, namespace: str, container: str, preferred: int) -> tuple[int, ...]:
        key = (namespace, container, preferred)
        found = self._offered.get(key)
        if found is None:
            found = self._offered[key] = representatives(
                (r for ns, r in self.requirements if ns == namespace and r.container_name in (None, container)),
                preferred)
        return found


def exit_codes(model: ClusterModel) -> ExitCodes:
    """The model's `ExitCodes`, from the Jobs and CronJobs of its scenario's manifests and workload
    steps (built on first use, then kept with the model: `ClusterModel.derived`)."""
    found = model.derived.get(__name__)
    if not isinstance(found, ExitCodes):
        objects = [*(m.obj for m in model.scenario.objects), *(o for step in model.workload_objects for o in step)]
        found = model.derived[__name__] = ExitCodes(exit_code_requirements(objects))
    return found
