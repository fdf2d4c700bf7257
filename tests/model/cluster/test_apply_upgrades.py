"""Three false alarms of `workload-steps-succeed` that the thirteenth audit found in `kubectl
apply` (scenarios in tests/model/data/apply/, the audit's own): each workload step succeeds on a
real cluster, and the run a user expects must not report it failing.

- recreate/: client-side apply switching a Deployment to `Recreate` — kubectl's three-way patch
  carries `$retainKeys: [type]` for `spec.strategy` (apps/v1 DeploymentSpec.Strategy is tagged
  `patchStrategy:"retainKeys"`), so the server drops the defaulted `rollingUpdate`
  (`staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`; `test/cmd/apply.sh` "kubectl
  apply should be able to clear defaulted fields");
- volswap/: a volume's source changing from emptyDir to configMap under the same name (core/v1
  PodSpec.Volumes, `patchStrategy:"merge,retainKeys"`);
- csa2ssa/: `kubectl apply`, then `kubectl apply --server-side` with a new image — the conflict
  with the fields client-side apply set is forgiven (`staging/src/k8s.io/apimachinery/pkg/util/
  managedfields/internal/lastappliedmanager.go`).
"""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.api import ssa
from kubeprop.model.api.objects import Deployment, ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "apply"
STEPS_SUCCEED = select(["workload-steps-succeed"])
KEY = ObjectKey("deployments.apps", "default", "web")


def _expected_run(name: str) -> ClusterState:
    """The scenario's expected run (every workload step taken), checked free of step failures."""
    model = build_model(load_scenario(DATA / name / "scenario.yaml"), parameters={"instantCaches": True})
    state = fair_run(model, initial_state(model), max_steps=600).state
    assert state.workload_next == len(model.scenario.spec.workload)
    found = first_violation(model, state, STEPS_SUCCEED)
    assert found is None, found.message
    return state


def _web(state: ClusterState) -> Deployment:
    web = state.store.get(KEY)
    assert isinstance(web, Deployment)
    return web


def test_switching_a_deployment_to_recreate_by_client_side_apply_clears_the_rolling_update() -> None:
    strategy = _web(_expected_run("recreate")).spec.strategy
    assert strategy.type == "Recreate" and strategy.rolling_update is None


def test_changing_a_volumes_source_by_client_side_apply_replaces_it() -> None:
    (volume,) = _web(_expected_run("volswap")).spec.template.spec.volumes
    assert volume.config_map is not None and volume.empty_dir is None


def test_server_side_apply_by_kubectl_takes_over_what_client_side_apply_set() -> None:
    web = _web(_expected_run("csa2ssa"))
    assert web.spec.template.spec.containers[0].image == "web:2"
    owners = {m for (m, _op, _sub), (_v, paths) in ssa.decode_managers(web.metadata.managed_fields).items()
              if any(ssa.render(p).endswith(".image") for p in paths)}
    assert owners == {"kubectl"}
