"""The standing false-alarm campaign: every engine on the correct model, over every shipped
scenario, with faults on, for a fixed budget each; a table of scenario × engine × seconds, states
and result.

Run: `python benchmarks/bench_false_alarms.py [--seconds 10] [--engines portfolio,bfs,...]
[--only SUBSTRING] [--seed N] [--faults K] [--out DIR]` (exit 1 when a violation is left
unexplained). `--seed` (default 0) is every engine's seed, so other seeds reach other
interleavings of the randomised engines; `--faults` (default 1) raises each general fault to K.
Counterexamples go under `DIR/seed-N` (`DIR/seed-N-faults-K` when K is not 1).

The scenarios are FeastFlow, every scenario file under the tests' data folders and every example's
(`shipped_scenarios`: `examples/*/scenario*.yaml`). "Faults on": each scenario keeps its own fault
budget and gets at least one (`--faults K`: K) of each general fault (node crash, partition,
container crash, component crash, watch drop, request failure) — written into a copy of its folder,
so that every counterexample is recorded from a scenario file that replays as it is. Every violation
found is classified (`classify`):

- `upstream`: a known behaviour of real Kubernetes (`kubeprop.properties.upstream_behaviour`),
  reported as such by `kubeprop check`;
- `intended`: the scenario demonstrates a user's bug on purpose (`INTENDED`, with the reason), or
  does so after a cause the trace shows (`INTENDED_WITH_CAUSE`: a fault, a failing liveness probe);
- `FALSE ALARM`: anything else — a model bug until shown otherwise.

`tests/properties/test_false_alarms.py` (marker `false_alarms`) runs the same campaign at a small
budget and fails on a false alarm.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import yaml

from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.model.kubelet.actions import ProbeResult
from kubeprop.model.scenario.load import feastflow_path
from kubeprop.model.state.actions import INJECTED_FAULTS
from kubeprop.properties.cli.flagtypes import int_in
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.registry import PROPERTIES, select
from kubeprop.properties.upstream_behaviour import match

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("portfolio", "around", "faults", "perturb", "pct", "bfs", "walk", "hypothesis", "lasso")
"""Every engine `kubeprop check` offers (lasso: the fair strategy; lasso-exhaustive explores the
same cycles more slowly)."""

GENERAL_FAULTS = {"nodeCrash": 1, "partition": 1, "containerCrash": 1, "componentCrash": 1, "watchDrop": 1,
                  "requestFailure": 1}
"""The fault budget every scenario gets at least (FeastFlow's own)."""

MAX_FAULTS = 9
"""The most of each general fault `--faults` asks for (each one multiplies the interleavings)."""

MAX_SHRINK_STEPS = 20_000
"""Steps shrinking one trace may replay and judge (default `engine.MAX_SHRINK_STEPS`, 100,000): a
never-settling scenario makes each replay run the whole fair continuation, so the smaller bound
keeps a cell near its budget (until the fourteenth round: at most 300 replays; not measured since)."""

_DATA = "tests/model/data/"
_INTENDED_BY_SCENARIO: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (_DATA + "binding/dual.yaml", ("node-not-overcommitted", "scheduler-decisions-sound"),
     "two scheduler instances without leader election (the dual-scheduler hazard, on purpose): each binds "
     "from its own cache, so pods bound by the two can request more than the node has (the kubelet then "
     "refuses one, OutOfcpu: pkg/kubelet/lifecycle/predicate.go); a pod whose binding failed waits out its "
     "error back-off (pkg/scheduler/backend/queue/backoff_queue.go) while the other instance binds into "
     "the room its own cache still shows"),
    (_DATA + "daemonset/surge-hostport/scenario.yaml", ("daemonsets-ready",),
     "a DaemonSet with maxSurge and a hostPort (a user trial's manifest, on purpose): the surge pod cannot be "
     "placed next to the old pod, which holds the port (pkg/scheduler/framework/plugins/nodeports), so the "
     "update never finishes; upstream's docs say the two cannot be used together"),
    (_DATA + "impersonation/scenario.yaml", ("workload-steps-succeed",),
     "the docs' example of `as` (docs/scenario.md): the first step impersonates developer, whom RBAC lets only "
     "view the namespace, so its scale is refused, 403, as upstream's authorizer refuses it "
     "(plugin/pkg/auth/authorizer/rbac/rbac.go)"),
    (_DATA + "refused/quota.yaml", ("deployments-complete", "workloads-ready"),
     "the namespace's ResourceQuota admits one pod of the two (quota_rules.py, on purpose): the ReplicaSet "
     "controller's create of the second is refused, 403 exceeded quota, at every retry "
     "(plugin/pkg/admission/resourcequota/controller.go), so the rollout never completes"),
    (_DATA + "variants/overload-max-inflight.yaml", ("system-flows-not-starved",),
     "API Priority and Fairness turned off (--enable-priority-and-fairness=false, on purpose: docs/overload.md): "
     "the max-in-flight filter has one pool of seats, so the flood refuses the kubelets' heartbeats too, 429 "
     "(staging/src/k8s.io/apiserver/pkg/server/filters/maxinflight.go)"),
    ("tests/properties/explore/data/eviction-loop/scenario.yaml", ("deployments-complete", "workloads-ready"),
     "the web Deployment asks for more CPU than the untainted node has (on purpose: the scenario shows a "
     "periodic taint-eviction loop), so its rollout never completes"),
    ("tests/properties/explore/data/leader/scenario.yaml", ("at-most-one-leader",),
     "the user's first, buggy leader-labelling operator (leader_operator.py LEADER, keyed by pod: two pods "
     "each see no leader in the cache and both label themselves); scenario-fixed.yaml is the fixed one"),
    ("tests/properties/explore/data/tenant/scenario.yaml", ("tenant-no-orphaned-registration",),
     "the user's buggy tenant operator (tenant_operator.py BUGGY_FINALIZER removes its finalizer before "
     "deleting the registration); scenario-fixed.yaml is the fixed one"),
    ("tests/properties/scheduling/data/priority/capacity.yaml", ("deployments-complete", "workloads-ready"),
     "the capacity planner's cluster (trial 10): once the low-priority batch pods sit on n1 and n2 (the order "
     "pods arrive in is the environment's), a critical web pod preempts the `polite` pod, not a batch pod whose "
     "PDB the eviction would violate (reprieved first: default_preemption.go SelectVictimsOnNode), and the "
     "recreated polite pod, preemptionPolicy Never, finds no node with 300m and may not evict: it stays Pending, "
     "as upstream (PodEligibleToPreemptOthers)"),
    ("tests/properties/scheduling/data/priority/unknown-class/scenario.yaml",
     ("deployments-complete", "workloads-ready"),
     "the pod template names a PriorityClass that does not exist (on purpose): the Priority admission plug-in "
     "refuses every pod the ReplicaSet creates (plugin/pkg/admission/priority/admission.go)"),
    (_DATA + "kubelet/missing-config/never.yaml", ("deployments-complete", "workloads-ready"),
     "the container's ConfigMap never exists: upstream the kubelet never creates the container "
     "(CreateContainerConfigError, pkg/kubelet/kubelet_pods.go makeEnvironmentVariables), so the pod is "
     "never Ready"),
    (_DATA + "kubelet/missing-config/scenario.yaml", ("deployments-complete", "workloads-ready"),
     "judged with the user stopped before the step that creates the container's ConfigMap: the pod then "
     "waits in CreateContainerConfigError for ever, as upstream (pkg/kubelet/kubelet_pods.go "
     "makeEnvironmentVariables)"),
    (_DATA + "kubelet/pressure/terminating.yaml", ("workload-steps-succeed",),
     "the scenario's memory-pressure event may come before batch turns Ready: the kubelet evicts batch (no "
     "memory request, lowest priority: pkg/kubelet/eviction/helpers.go rankMemoryPressure), so the user's "
     "`kubectl wait --for=condition=Ready pod/batch` times out, as it would upstream (the scenario says so)"),
    (_DATA + "waits-rbac/scenario.yaml", ("workload-steps-succeed",),
     "trial 10 s2f on purpose: `viewer` may GET the Deployment but not LIST it, and `kubectl rollout status` "
     "LISTs it (watchtools.UntilWithSync, staging/src/k8s.io/kubectl/pkg/cmd/rollout/rollout_status.go): "
     "refused, so it times out"),
    (_DATA + "volume-refusals/drain-local/scenario.yaml", ("workloads-ready",),
     "the scenario's own finding (trial 11): the drained StatefulSet pod's claim is bound to a node-local volume "
     "on the cordoned node, so the recreated pod stays Pending (volume node affinity conflict, "
     "pkg/scheduler/framework/plugins/volumebinding/binder.go checkBoundClaims; the node unschedulable) until "
     "an uncordon the scenario never does"),
    (_DATA + "kubelet/missing-volume/never.yaml", ("deployments-complete", "workloads-ready"),
     "the pod's configMap volume names a ConfigMap that never exists: upstream the volume manager never "
     "mounts it (FailedMount, pkg/volume/configmap/configmap.go SetUpAt) and SyncPod creates no container "
     "(pkg/kubelet/volumemanager/volume_manager.go WaitForAttachAndMount), so the pod is never Ready"),
    (_DATA + "kubelet/missing-volume/scenario.yaml", ("deployments-complete", "workloads-ready"),
     "judged with the user stopped before the step that creates the pod's ConfigMap: the pod then stays "
     "ContainerCreating for ever, its configMap volume not mounted, as upstream (FailedMount, "
     "pkg/kubelet/volumemanager/volume_manager.go WaitForAttachAndMount)"),
    ("tests/properties/cli/data/slow-init/scenario.yaml", ("workload-steps-succeed",),
     "the docs' example of `relies on:` (docs/cli.md): an init container the application may keep running "
     "past `rollout status --timeout=30s` (how long an application takes is the environment's choice), so "
     "the command times out and exits 1, as kubectl does"),
    (_DATA + "variants/restore.yaml",
     ("schedulable-pods-bound", "deployments-complete", "workloads-ready", "settles", "replicaset-no-overcreation",
      "endpoints-match-ready-pods"),
     "etcd restored with the etcd steps alone (no --bump-revision, components not restarted), against "
     "Kubernetes' documented procedure: clients see resourceVersions go backwards (reported as upstream "
     "behaviour: etcd-restore-rewinds-resource-versions), a pod bound after "
     "the backup stays assumed in the scheduler that is not restarted, so it stays Pending "
     "(durationToExpireAssumedPod = 0), and the Endpoints controller, which remembers the resourceVersion "
     "its last update replaced, meets that version again on an object written after the restore (the "
     "revision was not bumped, so it is reused) and takes its cache for stale on every retry, forever "
     "(pkg/controller/endpoint/endpoints_tracker.go IsStale: equal resourceVersion); the ReplicaSet "
     "controller, its caches and expectations not reset, creates pods for a restored ReplicaSet whose "
     "pods it has not yet relisted; a Deployment synced after the backup, whose writes the restore "
     "took back before its informers delivered them, gets no event and is not synced again until the "
     "informers resync, 12 to 24 h later (cmd/kube-controller-manager/app/controllermanager.go "
     "ResyncPeriod; the model has no resync); "
     "restore-procedure.yaml is the fixed one (docs/restore.md)"),
    (_DATA + "descheduler/duplicates.yaml", ("no-eviction-loop",),
     "RemoveDuplicates without nodeFit evicts a replica that can only land back on its node "
     "(docs/descheduler.md; duplicates-nodefit.yaml is the fixed one)"),
    (_DATA + "environment/headroom.yaml", ("deployments-complete", "workloads-ready"),
     "the fourth replica fits no node: worker-2 is reserved and the headroom rule taints the full worker-1"),
    (_DATA + "hpa/queueing.yaml", ("replicas-stable",),
     "the HPA oscillates on the scenario's queueing load (docs/hpa.md, docs/tutorial.md)"),
    (_DATA + "livelock/fighting.yaml", ("replicas-stable", "settles"),
     "two user controllers own spec.replicas of one Deployment and fight"),
    (_DATA + "variants/tight.yaml", ("workloads-ready",),
     "room for exactly one 100m pod; the ReplicaSet wants two"),
    *((_DATA + f"kinds/{name}.yaml", ("workloads-ready",),
       "the PriorityClass examples: a 1-CPU worker holds two 400m batch pods or one of them and the 500m urgent "
       "pod, not all three; once the urgent pod is applied (it preempts a batch pod, or with preemptionPolicy "
       "Never takes the room first) the batch ReplicaSet stays one pod short, and its replacement cannot preempt "
       "a pod of higher priority (pkg/scheduler/framework/plugins/defaultpreemption)")
      for name in ("preempt", "never", "preempt-delete")),
    ("tests/properties/cli/data/greedy/scenario.yaml", ("deployments-complete", "workloads-ready"),
     "the scheduler spreads the first two pods and no node is left for the 600m one (the greedy-vs-joint "
     "example of kubeprop schedule, docs/scheduling.md)"),
    ("examples/team_properties/scenario.yaml", ("eu-data-stays-in-eu",),
     "the team's manifests lack the node selector their own property asks for (the worked example of "
     "docs/properties.md)"),
    ("examples/migration_operator/scenario.yaml", ("one-migration-per-generation",),
     "the user's operator as first written: a requeued reconcile before its own pod reached the cache creates "
     "a second migration pod (docs/controllers.md; scenario-fixed.yaml is the fixed one)"),
    ("examples/migration_operator/scenario-recorded.yaml", ("ready-generations-migrate",),
     "the user's second version records the generation before creating the pod, so a crash or a failed "
     "request between the two leaves it unmigrated (docs/controllers.md; scenario-fixed.yaml is the fixed one)"),
    ("examples/ledger_operator/scenario.yaml", ("recorded-pods-in-ledger",),
     "the user's operator writes the ledger back without its resourceVersion, so a write from a stale cache "
     "drops an entry (docs/controllers.md; scenario-fixed.yaml is the fixed one)"),
    ("examples/restart_operator/scenario.yaml", ("restarts-counted",),
     "the user's operator counts restarts from the stops it happens to see, so a restart it never saw "
     "stopped is never counted (docs/controllers.md; scenario-fixed.yaml is the fixed one)"),
    (_DATA + "maintenance/blocked.yaml", ("drains-complete", "workload-steps-finish"),
     "the PodDisruptionBudget allows no disruption, so the drain retries its eviction forever "
     "(docs/disruption.md; drained.yaml is the fixed one)"),
    (_DATA + "maintenance/blocked-timeout.yaml", ("workload-steps-succeed",),
     "blocked.yaml's drain with --timeout=60s: kubectl gives up after a minute and exits 1 (docs/disruption.md)"),
    (_DATA + "kubelet/finalizer/waits.yaml", ("workload-steps-finish",),
     "kubectl delete waits (--wait, its default) for a pod whose finalizer nobody removes: the kubelet "
     "finishes it and DELETEs it with grace 0, the finalizer keeps it, and kubectl waits for ever, as "
     "upstream (scenario.yaml is the --wait=false one)"),
    (_DATA + "namespace/trial.yaml", ("workload-steps-succeed",),
     "the user's script sets the image of a Deployment in the namespace its first step deleted: kubectl delete "
     "namespace waits until the namespace controller has removed the Deployment and the namespace, so "
     "kubectl set image gets the API server's 404 (`Error from server (NotFound): deployments.apps \"web\" not "
     "found`), as upstream (tests/model/controllers/test_namespace.py)"),
    *((_DATA + f"cache_sync/{name}.yaml", ("controllers-caches-synced",),
       "the user's operator lacks the list permission its informers need (at the scope they list), so its "
       "reflector's LIST is refused for ever and WaitForCacheSync never returns, as upstream "
       "(client-go/tools/cache/reflector.go; docs/controllers.md)")
      for name in ("nolist", "namespaced", "role-only", "scoped-nodes", "scoped-two")),
    *((_DATA + f"cache_sync/{name}.yaml", ("controllers-caches-synced",),
       "the permission comes in the user's last step; judged with the user stopped before it (docs/properties.md) "
       "the operator's informers never sync, as upstream")
      for name in ("granted", "scoped-granted")),
    (_DATA + "maintenance/refused.yaml", ("workload-steps-succeed",),
     "kubectl drain without --force refuses a Pod no controller owns, so its first step fails on purpose "
     "(its second, forced, drain succeeds)"),
)
INTENDED: dict[tuple[str, str], str] = {
    (scenario, prop): reason for scenario, props, reason in _INTENDED_BY_SCENARIO for prop in props}
"""(scenario path relative to the repository, property) → why the scenario violates it on purpose."""


def has_cause(trace: Sequence[Any]) -> bool:
    """Whether `trace` holds a cause the user can see: an injected fault, or a container failing
    its liveness probe (the application's, not the cluster's)."""
    return any(isinstance(act, tuple(INJECTED_FAULTS))
               or (isinstance(act, ProbeResult) and act.probe == "liveness" and not act.success) for act in trace)


INTENDED_WITH_CAUSE: dict[tuple[str, str], str] = {
    (_DATA + "waits/api-rollout.yaml", "workload-steps-succeed"):
        "the Deployment's 60 s progress deadline is short on purpose: after a fault or a failing liveness "
        "probe in the trace (a crashed node's pod is replaced only after the 40 s node-monitor grace period "
        "and the eviction; a container failing liveness restarts after a back-off) the new pods are not "
        "available within 60 s, the Deployment controller marks ProgressDeadlineExceeded and kubectl rollout "
        "status exits 1, as upstream (pkg/controller/deployment/progress.go). A run with no such cause may "
        "not hold the new pods that long: time waits for prompt work (docs/engines.md, Time; it did not "
        "before the sixteenth round, the false alarm test_the_clock_waits_for_a_controller_with_queued_work "
        "covers)",
    (_DATA + "volume-refusals/drain-local/scenario.yaml", "workload-steps-succeed"):
        "kubectl drain --timeout=60s waits for the evicted pod to be gone; after a fault in the trace (the "
        "node partitioned, or crashed, so its kubelet never confirms the termination) the pod stays "
        "Terminating past the timeout and drain exits 1, as upstream (staging/src/k8s.io/kubectl/pkg/drain/"
        "drain.go waitForDelete)",
    (_DATA + "waits/wait-available.yaml", "workload-steps-succeed"):
        "kubectl wait's default 30 s timeout (staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go) is shorter than "
        "what the one node needs to run the pod after a fault in the trace (a partition keeps the kubelet from "
        "the pod, a crashed node restarts later), so the wait times out and exits 1, as upstream; without such a "
        "cause it was the eighth trial's false alarm (test_a_wait_with_kubectls_default_timeout_is_clean_"
        "without_a_fault)",
    **{(_DATA + f"outages/{name}.yaml", "workload-steps-succeed"):
       "rollout status --timeout=300s after a fault in the trace: a partitioned node's pods are replaced only "
       "after the node-monitor grace period (40 s) and the pods' default 300 s not-ready/unreachable "
       "tolerations (plugin/pkg/admission/defaulttolerationseconds; pkg/controller/tainteviction), which "
       "together outlast the timeout, as upstream" for name in ("kinds", "shop-rollout")},
}
"""(scenario, property) → why the scenario violates it, only for a trace with a cause (`has_cause`): the
same violation without one is still a false alarm."""


@attrs.frozen
class Finding:
    """One violation of one cell, classified."""

    property: str
    message: str
    verdict: str
    """`upstream: NAME`, `intended: REASON` or `FALSE ALARM`."""
    path: Path | None = None
    steps: int = 0


@attrs.frozen
class Cell:
    """One scenario × engine run."""

    scenario: str
    engine: str
    seconds: float
    states: int
    result: str
    findings: tuple[Finding, ...] = ()

    @property
    def false_alarms(self) -> tuple[Finding, ...]:
        """The findings neither upstream behaviour nor intended."""
        return tuple(f for f in self.findings if f.verdict == "FALSE ALARM")


@attrs.frozen
class Setup:
    """What every cell of one campaign shares besides its budget: the engines' seed, the count of
    each general fault, the walk worker processes."""

    seed: int = 0
    faults: int = 1
    workers: int = 1

    @property
    def folder(self) -> str:
        """The folder (under `--out`) the campaign's counterexamples go to: it names the seed, and the
        fault count when not 1."""
        return f"seed-{self.seed}" + (f"-faults-{self.faults}" if self.faults != 1 else "")


def engine_config(setup: Setup) -> EngineConfig:
    """The engines' configuration: `kubeprop check`'s defaults, with the campaign's seed and walk
    processes and at most `MAX_SHRINK_STEPS` steps to shrink a trace (the one place this campaign
    names EngineConfig fields)."""
    return EngineConfig(seed=setup.seed, workers=setup.workers, max_shrink_steps=MAX_SHRINK_STEPS)


def shipped_scenarios() -> list[Path]:
    """FeastFlow, then every scenario file of the tests' data folders and of the examples (each
    `scenario*.yaml`: a user's first version, its fix, …)."""
    found = [feastflow_path()]
    for pattern in ("tests/**/data/**/*.yaml", "examples/*/scenario*.yaml"):
        for path in sorted(ROOT.glob(pattern)):
            if _is_scenario(path):
                found.append(path)
    return found


def _is_scenario(path: Path) -> bool:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return False
    return isinstance(doc, dict) and doc.get("kind") == "Scenario"


def label(path: Path) -> str:
    """A scenario's name in the table: its path from the repository root (FeastFlow by name)."""
    if path == feastflow_path():
        return "feastflow"
    return str(path.relative_to(ROOT))


def _tree_root(path: Path) -> Path:
    """The folder to copy with a scenario: the tests' `data` folder it lies in (scenarios there share
    manifest folders), else its own folder."""
    for parent in path.parents:
        if parent.name == "data":
            return parent
    return path.parent


@contextmanager
def faults_on(path: Path, count: int = 1) -> Iterator[Path]:
    """A copy of the scenario (with the folder it reads from) whose fault budget has at least
    `count` of each general fault; its own folder is put on the import path for its modules."""
    root = _tree_root(path)
    with tempfile.TemporaryDirectory(prefix="kubeprop-fa-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy)
        target = copy / path.relative_to(root)
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        faults = dict(doc.get("faults") or {})
        for kind, least in GENERAL_FAULTS.items():
            faults[kind] = max(int(faults.get(kind, 0)), least * count)
        doc["faults"] = faults
        target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        sys.path.insert(0, str(path.parent))
        try:
            yield target
        finally:
            sys.path.remove(str(path.parent))


def classify(scenario: str, report: CheckReport, found: Any) -> Finding:
    """One discovery as a finding (see the module docstring)."""
    violation = found.violation
    steps = len(found.trace)
    behaviour = match(report.model, violation, found.trace)
    if behaviour is not None:
        verdict = f"upstream: {behaviour.name}"
    elif (scenario, violation.property) in INTENDED:
        verdict = f"intended: {INTENDED[scenario, violation.property]}"
    elif (scenario, violation.property) in INTENDED_WITH_CAUSE and has_cause(found.trace):
        verdict = f"intended: {INTENDED_WITH_CAUSE[scenario, violation.property]}"
    else:
        verdict = "FALSE ALARM"
    return Finding(violation.property, violation.message, verdict, found.path, steps)


def run_cell(path: Path, engine: str, seconds: float, setup: Setup, out: Path) -> Cell:
    """One engine on one scenario (faults on) for `seconds`; every discovery classified. The
    property registry is as before afterwards, as if the check ran in a process of its own: a
    scenario's properties module registers its properties when imported, and they would otherwise
    be checked on every later scenario (docs/properties.md)."""
    select()  # the built-ins registered first, so that they are among what is kept
    registered = dict(PROPERTIES)
    try:
        return _run_cell(path, engine, seconds, setup, out)
    finally:
        PROPERTIES.clear()
        PROPERTIES.update(registered)


def _run_cell(path: Path, engine: str, seconds: float, setup: Setup, out: Path) -> Cell:
    name = label(path)
    began = time.perf_counter()
    (out / setup.folder).mkdir(parents=True, exist_ok=True)  # the campaign's own folders (check makes the last)
    try:
        with faults_on(path, setup.faults) as copy:
            report = check(copy, engine=engine, budget=seconds, seed=setup.seed, config=engine_config(setup),
                           save_to=out / setup.folder / name.replace("/", "_"), all_discoveries=True)
            findings = tuple(classify(name, report, d) for d in report.found)
    except Exception as err:  # a crash is a finding of its own, never a pass
        return Cell(name, engine, time.perf_counter() - began, 0, f"crashed: {type(err).__name__}: {err}",
                    (Finding("(crash)", str(err), "FALSE ALARM"),))
    stats = report.stats
    states = (getattr(stats, "distinct", 0) or getattr(stats, "steps", 0)) if stats is not None else 0
    result = f"{len(findings)} violated" if findings else f"held ({report.exit_reason})"
    return Cell(name, engine, time.perf_counter() - began, states, result, findings)


def campaign(scenarios: Sequence[Path], engines: Sequence[str], seconds: float, setup: Setup, out: Path,
             progress: bool = False) -> list[Cell]:
    """Every scenario × engine cell."""
    cells = []
    for path in scenarios:
        for engine in engines:
            cell = run_cell(path, engine, seconds, setup, out)
            if progress:
                sys.stderr.write(f"{cell.scenario} {cell.engine}: {cell.result} ({cell.seconds:.1f} s)\n")
                for f in cell.findings:
                    sys.stderr.write(f"    {f.property}: {f.verdict.partition(':')[0]}; {f.path}\n")
            cells.append(cell)
    return cells


def render(cells: Sequence[Cell], seconds: float, setup: Setup = Setup()) -> str:
    """The campaign's seed and faults, the table, then every finding with its verdict, then the totals."""
    width = max((len(c.scenario) for c in cells), default=8) + 2
    lines = [f"seed {setup.seed}, {setup.faults} of each general fault, {seconds:g} s per cell", "",
             f"{'scenario':<{width}}{'engine':<12}{'seconds':>8}{'states':>10}  result"]
    for c in cells:
        lines.append(f"{c.scenario:<{width}}{c.engine:<12}{c.seconds:>8.1f}{c.states:>10,}  {c.result}")
    lines.append("")
    for c in cells:
        for f in c.findings:
            lines.append(f"{c.scenario} [{c.engine}] {f.property} ({f.steps} steps): {f.message}")
            lines.append(f"    {f.verdict}" + (f"; {f.path}" if f.path else ""))
    scenarios = len({c.scenario for c in cells})
    engines = len({c.engine for c in cells})
    alarms = sum(len(c.false_alarms) for c in cells)
    upstream = sum(f.verdict.startswith("upstream") for c in cells for f in c.findings)
    intended = sum(f.verdict.startswith("intended") for c in cells for f in c.findings)
    total = sum(c.seconds for c in cells)
    lines.append(f"\ncampaign (seed {setup.seed}, faults {setup.faults}): {scenarios} scenarios × {engines} engines "
                 f"× {seconds:g} s "
                 f"({total / 60:.1f} min of wall time): {alarms} false alarms, {upstream} upstream behaviours, "
                 f"{intended} intended")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="budget per cell (default 10)")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated (default {','.join(ENGINES)})")
    parser.add_argument("--only", action="append", default=[], help="only scenarios whose path contains this")
    parser.add_argument("--workers", type=int, default=1, help="walk worker processes (default 1)")
    parser.add_argument("--seed", type=int_in(-(2**63), 2**64 - 1), default=0,
                        help="every engine's seed, as `kubeprop check --seed` (default 0)")
    parser.add_argument("--faults", type=int_in(1, MAX_FAULTS), default=1,
                        help="how many of each general fault every scenario gets at least (default 1)")
    parser.add_argument("--out", type=Path, default=Path("kubeprop-out/false-alarms"),
                        help="where counterexample files go")
    args = parser.parse_args(argv)
    scenarios = [p for p in shipped_scenarios() if not args.only or any(s in label(p) for s in args.only)]
    setup = Setup(seed=args.seed, faults=args.faults, workers=args.workers)
    cells = campaign(scenarios, args.engines.split(","), args.seconds, setup, args.out, progress=True)
    print(render(cells, args.seconds, setup))
    return 1 if any(c.false_alarms for c in cells) else 0


if __name__ == "__main__":
    sys.exit(main())
