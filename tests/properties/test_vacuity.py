"""Vacuity (issue 13 item 4): a property that could not have failed in a scenario, and a variant that
cannot show there, are said to be so — for the cluster model and for Raft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from scenario_text import HEAD, deployment_head

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.controllers.base import Memoryless
from kubeprop.model.raft.state import RaftConfig
from kubeprop.model.raft.system import with_variant
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.variants import VARIANTS
from kubeprop.properties.raft import INVARIANTS, VARIANT_BOUNDS, check_vacuity, variant_vacuity
from kubeprop.properties.registry import NEEDS_EXAMPLE, BadNeeds, Needs, Property, as_property, select
from kubeprop.properties.vacuity import (
    BUILTIN_NEEDS,
    VARIANT_NEEDS,
    VARIANT_TARGETS,
    own_controllers,
    possible_resources,
    unknown_needs,
    vacuity,
    vacuous_properties,
)
from kubeprop.properties.vacuity import variant_vacuity as cluster_variant_vacuity

DATA = Path(__file__).resolve().parents[1] / "model" / "data" / "variants"


def test_web_has_no_statefulset_so_identity_properties_are_vacuous() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    assert {"deployments.apps", "replicasets.apps", "pods", "services", "endpoints"} <= possible_resources(model)  # type: ignore[operator]
    vacuous = vacuous_properties(model, select())
    # workload-steps-finish: web's workload (scale, set image) has no command that waits
    assert set(vacuous) == {"one-running-pod-per-identity", "read-write-once-volume-on-one-node",
                            "workload-steps-finish"}
    assert "no StatefulSet" in vacuous["one-running-pod-per-identity"]


def test_db_has_no_deployment_so_rollout_properties_are_vacuous() -> None:
    model = build_model(load_scenario(DATA / "db.yaml"))
    vacuous = vacuous_properties(model, select())
    assert {"deployments-complete", "rollout-surge-bound", "replicaset-no-overcreation"} <= set(vacuous)
    assert "one-running-pod-per-identity" not in vacuous and "endpoints-ready-pods" not in vacuous


def test_feastflow_can_show_every_builtin_property() -> None:
    """Every one but `workload-steps-finish`: FeastFlow's workload (apply, scale, set image) runs no
    command that waits (maintenance/blocked.yaml shows it)."""
    assert list(vacuous_properties(build_model(load_scenario()), select())) == ["workload-steps-finish"]


def test_a_fault_the_property_needs_must_have_a_budget() -> None:
    needs = BUILTIN_NEEDS["pods-on-unknown-nodes-not-ready"]
    assert needs.faults == (("node_crash", "partition", "component_crash", "overload"),)
    web = build_model(load_scenario(DATA / "web.yaml"))  # partition: 1
    assert vacuity(web, select(["pods-on-unknown-nodes-not-ready"])[0]) is None
    tight = build_model(load_scenario(DATA / "tight.yaml"))  # no faults
    assert vacuity(tight, select(["pods-on-unknown-nodes-not-ready"])[0]) == (
        "no fault budget for nodeCrash or partition or componentCrash or overload (scenario `faults:`)")


@pytest.mark.parametrize("name", ["overload.yaml", "overload-max-inflight.yaml"])
def test_an_overload_that_refuses_heartbeats_can_make_a_node_unknown(name: str) -> None:
    """The audit: the property read "vacuous: no fault budget for nodeCrash or partition or
    componentCrash" on the overload scenarios, where a starved node's heartbeats are refused until the
    flood ends (`heartbeat_lost`) and the node goes Unknown — docs/release.md lists the bug of the
    node lifecycle controller the property found on them."""
    model = build_model(load_scenario(DATA / name))  # overload: 1, nothing else that loses a node
    assert not (model.budget.node_crash or model.budget.partition or model.budget.component_crash)
    assert vacuity(model, select(["pods-on-unknown-nodes-not-ready"])[0]) is None


def test_a_variant_that_cannot_show_is_named() -> None:
    web = build_model(load_scenario(DATA / "web.yaml"), variant="sts-split-brain")
    assert cluster_variant_vacuity(web) == ("variant sts-split-brain cannot show: no StatefulSet can exist (not in the "
                                            "manifests or workload steps, nor made by a built-in controller)")
    assert cluster_variant_vacuity(build_model(load_scenario(DATA / "web.yaml"), variant="rs-no-expectations")) is None
    assert set(VARIANT_NEEDS) == set(VARIANTS) - {"correct"} == set(VARIANT_TARGETS)
    # the property that catches a variant that cannot show says so, with the variant's reason
    db = build_model(load_scenario(DATA / "db.yaml"), variant="nodelifecycle-crash")  # partition, no componentCrash
    props = select(["pods-on-unknown-nodes-not-ready", "node-not-overcommitted"])
    assert vacuity(db, props[0]) is None  # the property itself can fail there (a partition loses a node)
    assert vacuous_properties(db, props) == {
        "pods-on-unknown-nodes-not-ready": "variant nodelifecycle-crash cannot show: no fault budget for "
                                           "componentCrash (scenario `faults:`)"}
    web = build_model(load_scenario(DATA / "web.yaml"), variant="nodelifecycle-crash")  # partition, componentCrash
    assert cluster_variant_vacuity(web) is None


def test_nodelifecycle_crash_may_show_where_an_overload_makes_a_node_unknown(tmp_path: Path) -> None:
    """The controller manager's crash (componentCrash) while an overload refuses a node's heartbeats."""
    scenario = _app_scenario(tmp_path, ("worker-1",), "faults: {componentCrash: 1, overload: 1}\n")
    assert cluster_variant_vacuity(build_model(load_scenario(scenario), variant="nodelifecycle-crash")) is None


def test_a_users_property_declares_its_needs() -> None:
    prop = as_property("mine", "s", "u", "safety", lambda m, s: None, needs=Needs(("statefulsets.apps",)))
    assert "StatefulSet" in (vacuity(build_model(load_scenario(DATA / "web.yaml")), prop) or "")
    assert vacuity(build_model(load_scenario(DATA / "db.yaml")), prop) is None


def test_a_needs_naming_no_kind_is_refused_with_the_qualified_name() -> None:
    """A misspelt resource would read as "no jobs can exist" (vacuous) where the property holds."""
    model = build_model(load_scenario(DATA / "web.yaml"))
    def prop(*names: str) -> Any:
        return as_property("mine", "s", "u", "safety", lambda m, s: None, needs=Needs(names))
    assert unknown_needs(model, [prop("statefulsets.apps", "jobs.batch", "pods", "pods/reapplied")]) == []
    problems = unknown_needs(model, [prop("jobs", "deployment", "statefulset.apps")])
    assert [p.split("did you mean ")[1] for p in problems] == ["'jobs.batch'?", "'deployments.apps'?",
                                                               "'statefulsets.apps'?"]
    assert all(p.startswith("property mine: Needs names resource ") for p in problems)


def test_a_needs_of_the_wrong_shape_is_refused_at_registration_and_by_the_check() -> None:
    """`as_property` (the decorators) refuses it as it is made; a `Property` built by hand skips that,
    and `unknown_needs` (the check, the gate) refuses it before anything runs (audit 20b, F3)."""
    model = build_model(load_scenario(DATA / "web.yaml"))
    def bare(needs: Any) -> Property:
        return Property("mine", "s", "u", lambda m, s: None, needs=needs)
    assert unknown_needs(model, [bare(Needs((1, None)))]) == [  # type: ignore[arg-type]
        "property mine: Needs names resource 1 (int), not a plain string such as 'jobs.batch'",
        "property mine: Needs names resource None (NoneType), not a plain string such as 'jobs.batch'"]
    assert unknown_needs(model, [bare(Needs("jobs.batch"))])[0].startswith(  # type: ignore[arg-type]
        "property mine: Needs' resources must be a tuple")
    assert unknown_needs(model, [bare(("pods",))]) == [  # was AttributeError in `vacuity` (exit 4)
        "property mine: needs must be a Needs value (kubeprop.properties.registry.Needs, "
        f"{NEEDS_EXAMPLE}), got ('pods',) (tuple); did you mean needs=Needs(('pods',))?"]
    with pytest.raises(BadNeeds, match=r"property mine \(tests\.properties\.test_vacuity\..*<lambda>\): needs must"):
        as_property("mine", "s", "u", "safety", lambda m, s: None, needs=("pods",))  # type: ignore[arg-type]


def test_a_controller_of_your_own_may_create_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    operator = Path(__file__).resolve().parents[2] / "examples" / "database_operator"
    monkeypatch.syspath_prepend(str(operator))
    model = build_model(load_scenario(operator / "scenario.yaml"))
    assert possible_resources(model) is None
    assert "one-running-pod-per-identity" not in vacuous_properties(model, select())


MAINTENANCE = Path(__file__).resolve().parents[1] / "model" / "data" / "maintenance"


def test_the_disruption_controller_is_built_in_not_your_own() -> None:
    """A scenario with a PodDisruptionBudget runs the built-in disruption controller (added only there); it
    was taken for a user's controller, so nothing was judged vacuous on any scenario with a PDB."""
    model = build_model(load_scenario(MAINTENANCE / "drained.yaml"))  # a Deployment and a PDB, no Service
    assert "disruption" in [c.name for c in model.controllers]
    assert own_controllers(model) == ()
    assert possible_resources(model) == {"nodes", "deployments.apps", "replicasets.apps", "pods",
                                         "poddisruptionbudgets.policy"}
    assert {"endpoints-ready-pods", "one-running-pod-per-identity"} <= set(vacuous_properties(model, select()))
    shop = build_model(load_scenario(DATA.parent / "catalogue" / "shop.yaml"))  # the catalogue's whole app, a PDB
    assert own_controllers(shop) == () and possible_resources(shop) is not None
    assert "variant sts-split-brain cannot show: no StatefulSet" in (
        cluster_variant_vacuity(build_model(load_scenario(MAINTENANCE / "drained.yaml"), variant="sts-split-brain"))
        or "")


def test_a_controller_of_your_own_named_like_a_built_in_one_is_your_own() -> None:
    @attrs.frozen
    class MyDisruption(Memoryless):
        name: str = "disruption"
        watches: tuple[str, ...] = ("pods",)

        def reconcile(self, key: str, view: Any) -> Any:
            raise NotImplementedError

    model = build_model(load_scenario(MAINTENANCE / "drained.yaml"), controllers=(MyDisruption(),))
    assert own_controllers(model) == ("disruption",)
    assert possible_resources(model) is None


def test_raft_checks_without_writes_or_reads_are_vacuous() -> None:
    quorum = VARIANT_BOUNDS["quorum-ceil"]
    config = RaftConfig(servers=4, max_term=1, max_log=0, history=True)
    assert dict(quorum.settings)["servers"] == 4 and quorum.target == "ElectionSafety"
    why = {c.name: check_vacuity(config, c) for c in INVARIANTS}
    assert why["AckedWritesDurable"] and why["Linearizable"] and why["ElectionSafety"] is None
    assert check_vacuity(RaftConfig(servers=1), INVARIANTS[0]) is not None


def test_raft_variants_that_cannot_differ_are_named() -> None:
    assert "⌈3/2⌉ = 2 is the majority" in (variant_vacuity(with_variant(RaftConfig(), "quorum-ceil"), "quorum-ceil")
                                          or "")
    assert variant_vacuity(RaftConfig(servers=4), "quorum-ceil") is None
    assert "no linearizable reads" in (variant_vacuity(RaftConfig(history=True), "follower-read") or "")
    assert variant_vacuity(RaftConfig(history=True, reads=1), "follower-read") is None
    assert "at least 3 terms" in (variant_vacuity(RaftConfig(max_term=2), "raft-figure8") or "")


APP = deployment_head(2) + """\
    spec:
      containers: [{name: c, image: nginx, readinessProbe: {httpGet: {path: /, port: 80}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
"""


def _app_scenario(folder: Path, nodes: tuple[str, ...], extra: str, app: str = APP) -> Path:
    """`folder` as a scenario applying `APP` (folder app/) as an admin, on `nodes` (each 2 CPUs,
    4Gi, 10 pods), with `extra` (a workload, a fault budget, parameters) appended."""
    (folder / "app").mkdir()
    (folder / "app" / "app.yaml").write_text(app)
    topology = ",\n          ".join(f"{{name: {n}, capacity: {{cpu: '2', memory: 4Gi, pods: '10'}}}}" for n in nodes)
    (folder / "scenario.yaml").write_text(
        HEAD + "metadata: {name: app}\nmanifests: [app]\n"
        "users: [{name: admin, clusterRoles: [cluster-admin]}]\n"
        f"topology:\n  nodes: [{topology}]\n" + extra)
    return folder


@pytest.mark.parametrize(("extra", "can_show"), [
    ("", False),
    ("workload:\n  - cordon: {node: worker-1}\n", False),
    ("workload:\n  - scale: {deployment: web, replicas: 1}\n", True),
    ("faults: {partition: 1}\n", True),
    ("parameters: {memoryPressureEvents: 1}\n", True),
    ("parameters: {diskPressureEvents: 1}\n", True),
    ("parameters: {pidPressureEvents: 1}\n", True),
])
def test_endpoints_terminating_cannot_show_where_no_pod_is_ever_deleted(tmp_path: Path, extra: str,
                                                                        can_show: bool) -> None:
    """The user trial: `--variant endpoints-terminating` on a manifest folder with no steps and no
    faults read "held" with no warning, though no pod ever terminates there."""
    model = build_model(load_scenario(_app_scenario(tmp_path, ("worker-1",), extra)), variant="endpoints-terminating")
    reason = cluster_variant_vacuity(model)
    assert (reason is None) == can_show, reason
    if not can_show:
        assert reason is not None and reason.startswith("variant endpoints-terminating cannot show: nothing can "
                                                        "delete a pod")
        assert "endpoints-ready-pods" in vacuous_properties(model, select(["endpoints-ready-pods"]))


@pytest.mark.parametrize(("extra", "can_show"), [
    ("", False),
    ("faults: {watchDrop: 1, requestFailure: 1}\n", False),
    ("workload:\n  - uncordon: {node: worker-1}\n", False),
    ("faults: {partition: 1}\n", True),
    ("faults: {nodeCrash: 1}\n", True),
    ("faults: {componentCrash: 1}\n", True),
    ("faults: {maintenance: 1}\n", True),
    ("faults: {overload: 1}\n", True),
    ("parameters: {memoryPressureEvents: 1}\n", True),
    ("parameters: {diskPressureEvents: 1}\n", True),
    ("parameters: {pidPressureEvents: 1}\n", True),
    ("workload:\n  - cordon: {node: worker-1}\n", True),
    ("workload:\n  - drain: {node: worker-1}\n", True),
])
def test_scheduler_ignores_taints_may_show_where_a_taint_can_appear(tmp_path: Path, extra: str,
                                                                     can_show: bool) -> None:
    """The user trial: "cannot show: no node has a taint" on a scenario with a partition budget, where the
    portfolio then found the variant: the node lifecycle controller taints a node that stops heartbeating
    (unreachable, not-ready), a cordoned one (unschedulable) and one under pressure (memory-pressure,
    disk-pressure, pid-pressure: the audit found the variant bind a pod to a memory-pressure taint where
    the warning said it could not show), so such a budget or step lets it show."""
    model = build_model(load_scenario(_app_scenario(tmp_path, ("worker-1", "worker-2"), extra)),
                        variant="scheduler-ignores-taints")
    reason = cluster_variant_vacuity(model)
    assert (reason is None) == can_show, reason
    if not can_show:
        assert reason is not None and reason.startswith(
            "variant scheduler-ignores-taints cannot show: no node can have a taint (none in the topology")
        assert "nodeCrash or partition or componentCrash or overload or maintenance" in reason
        assert "bindings-respect-hard-constraints" in vacuous_properties(model, select())


def test_scheduler_ignores_taints_may_show_on_web_whose_partition_taints_a_node() -> None:
    """web.yaml has untainted workers and `partition: 1`; the portfolio finds the variant there (a pod bound to
    a node tainted node.kubernetes.io/unreachable, found after 4.5 s of a 60 s budget), so it may show."""
    model = build_model(load_scenario(DATA / "web.yaml"), variant="scheduler-ignores-taints")
    assert not any(n.taints for n in model.scenario.spec.topology.nodes)
    assert cluster_variant_vacuity(model) is None


NO_SURGE = "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 25%}}\n"
HALF = "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 50%}}\n"
SET_IMAGE = "workload:\n  - setImage: {deployment: default/web, container: c, image: nginx:2}\n"


@pytest.mark.parametrize(("strategy", "extra", "can_show"), [
    ("", SET_IMAGE, False),  # the default 25% surge rounds up to 1
    (NO_SURGE, "", False),  # nothing changes the template: no rollout
    (NO_SURGE, SET_IMAGE, True),  # 25% of 2 rounds down to 0: both 0
    (NO_SURGE, "workload:\n  - rolloutRestart: {deployment: default/web}\n", True),  # a restart is a rollout
    ("  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}\n", SET_IMAGE, False),
    (HALF, SET_IMAGE, False),  # 50% of 2 rounds down to 1
    (HALF, "workload:\n  - scale: {deployment: web, replicas: 1}\n" + SET_IMAGE.removeprefix("workload:\n"), True),
    ("  strategy: {type: Recreate}\n", SET_IMAGE, False),
])
def test_rollout_fencepost_shows_only_where_both_fenceposts_can_resolve_to_zero(
        tmp_path: Path, strategy: str, extra: str, can_show: bool) -> None:
    """The user trial: `--variant rollout-fencepost` read "held" with no warning on a scenario whose
    maxSurge and maxUnavailable could never both resolve to 0 (ResolveFenceposts), where the variant
    changes nothing."""
    app = APP.replace("  template:\n", strategy + "  template:\n", 1)
    model = build_model(load_scenario(_app_scenario(tmp_path, ("worker-1", "worker-2"), extra, app)),
                        variant="rollout-fencepost")
    reason = cluster_variant_vacuity(model)
    assert (reason is None) == can_show, reason
    if not can_show:
        assert reason is not None and reason.startswith("variant rollout-fencepost cannot show: no rollout can")
        assert "deployments-complete" in vacuous_properties(model, select(["deployments-complete"]))


def test_rollout_fencepost_may_show_on_its_catalogue_scenario() -> None:
    path = DATA.parent / "catalogue" / "web-rollout.yaml"
    assert cluster_variant_vacuity(build_model(load_scenario(path), variant="rollout-fencepost")) is None


@pytest.mark.parametrize(("extra", "can_fail"), [
    ("", False),
    ("faults: {nodeCrash: 1}\n", False),
    ("workload:\n  - scale: {deployment: web, replicas: 1}\n", True),
    ("workload:\n  - cordon: {node: worker-1}\n", True),
])
def test_workload_steps_succeed_needs_a_workload_step(tmp_path: Path, extra: str, can_fail: bool) -> None:
    """Trial 21: on a manifest folder (no workload) `workload-steps-succeed` read "held (bounded)",
    though no kubectl command ran that could fail."""
    reason = vacuity(build_model(load_scenario(_app_scenario(tmp_path, ("worker-1",), extra))),
                     select(["workload-steps-succeed"])[0])
    assert (reason is None) == can_fail, reason
    if not can_fail:
        assert reason == "no workload step (the scenario's `workload:` is empty): there is no kubectl command to fail"


def test_a_manifest_folder_runs_no_workload_step(tmp_path: Path) -> None:
    _app_scenario(tmp_path, ("worker-1",), "")
    vacuous = vacuous_properties(build_model(load_scenario(tmp_path / "app")), select())
    assert {"workload-steps-succeed", "workload-steps-finish"} <= set(vacuous)
