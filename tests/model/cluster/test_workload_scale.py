"""`kubectl scale --current-replicas=N --resource-version=RV` (`kubeprop.model.cluster.workload_scale`)
against upstream `staging/src/k8s.io/kubectl/pkg/scale/scale.go` ScaleSimple and ScalePrecondition:
with a precondition kubectl GETs the Scale, checks it (replicas first, then the resource version;
`PreconditionError`: `Expected replicas to be 3, was 1`) and PUTs the Scale it read; without one
it PATCHes blindly. And the step's fields as a scenario writes them: bad values are refused, each
naming its field (exit 2)."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from cli_run import kubeprop
from scenario_text import workload_head

from kubeprop.model.api.apps import Deployment
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.workload_commands import describe
from kubeprop.model.scenario.load import Scenario, ScenarioError, load_scenario
from kubeprop.model.scenario.schema import ScaleStep, WorkloadStep
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterState

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scale" / "preconditions.yaml"
WEB = ObjectKey("deployments.apps", "default", "web")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SCENARIO)


def _scaled(scenario: Scenario, scale: ScaleStep, user: str = "scaler") -> tuple[ClusterState, ClusterState]:
    """The initial state and the state after the one workload step, `scale` as `user`."""
    spec = attrs.evolve(scenario.spec, workload=(WorkloadStep(scale=scale, as_=user),))
    model = build_model(attrs.evolve(scenario, spec=spec))
    start = initial_state(model)
    return start, step(model, start, UserStep(0))


def _web(state: ClusterState) -> Deployment:
    web = state.store.get(WEB)
    assert isinstance(web, Deployment)
    return web


def test_a_precondition_that_holds_scales(scenario: Scenario) -> None:
    """--current-replicas=1 on a Deployment of 1, --resource-version its own: the PUT writes 2."""
    start, _ = _scaled(scenario, ScaleStep(deployment="default/web", replicas=2))
    version = _web(start).metadata.resource_version
    for scale in (ScaleStep(deployment="default/web", replicas=2, current_replicas=1),
                  ScaleStep(deployment="default/web", replicas=2, resource_version=version),
                  ScaleStep(deployment="default/web", replicas=2, current_replicas=1, resource_version=version)):
        _, after = _scaled(scenario, scale)
        assert dict(after.workload_errors) == {}, scale
        assert _web(after).spec.replicas == 2 and _web(after).metadata.resource_version != version


@pytest.mark.parametrize(("current", "version", "error"), [
    (3, "", "error: Expected replicas to be 3, was 1"),
    (-1, "999", "error: Expected resource version to be 999, was {rv}"),
    (0, "999", "error: Expected replicas to be 0, was 1"),  # replicas are checked first
])
def test_a_precondition_that_fails_is_kubectls_error_and_writes_nothing(
        scenario: Scenario, current: int, version: str, error: str) -> None:
    start, after = _scaled(scenario, ScaleStep(deployment="default/web", replicas=2, current_replicas=current,
                                               resource_version=version))
    assert dict(after.workload_errors) == {0: error.format(rv=_web(start).metadata.resource_version)}
    assert after.store.revision == start.store.revision and after.workload_next == 1


@pytest.mark.parametrize(("user", "refused"), [
    # patch-only may GET and PATCH deployments/scale, not update it: upstream's Scales().Update
    ("patch-only", "update"),
    # unread may write deployments/scale but not GET it: upstream's Scales().Get comes first
    ("unread", "get"),
])
def test_with_a_precondition_kubectl_gets_the_scale_and_puts_it_back(scenario: Scenario, user: str,
                                                                     refused: str) -> None:
    """The blind scale (a PATCH) succeeds; with a precondition the refused GET or PUT is the step's."""
    _, blind = _scaled(scenario, ScaleStep(deployment="default/web", replicas=2), user)
    assert dict(blind.workload_errors) == {} and _web(blind).spec.replicas == 2
    _, checked = _scaled(scenario, ScaleStep(deployment="default/web", replicas=2, current_replicas=1), user)
    assert dict(checked.workload_errors) == {0: (
        f'403 Forbidden: deployments.apps "web" is forbidden: User "{user}" cannot {refused} resource '
        '"deployments/scale" in API group "apps" in the namespace "default"')}
    assert _web(checked).spec.replicas == 1


def test_the_command_line_names_the_preconditions() -> None:
    scale = ScaleStep(deployment="web", replicas=2, current_replicas=0, resource_version="42")
    assert describe(WorkloadStep(scale=scale)) == (
        "kubectl scale deployment/web -n default --replicas=2 --current-replicas=0 --resource-version=42")
    assert describe(WorkloadStep(scale=ScaleStep(deployment="web", replicas=2))) == (
        "kubectl scale deployment/web -n default --replicas=2")


BAD = """\
  - scale: {deployment: web, replicas: 1, currentReplicas: -2, resourceVersion: "01"}
  - scale: {deployment: web, replicas: 1, currentReplicas: 2147483648, resourceVersion: 7}
  - scale: {deployment: web, replicas: 1, currentReplicas: two, resourceVersion: "rv-3"}
"""


def test_bad_preconditions_are_refused_each_naming_its_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "app.yaml").write_text((SCENARIO.parent / "web.yaml").read_text())
    path = tmp_path / "scenario.yaml"
    path.write_text(workload_head("bad-scale") + BAD)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    never = "(kubectl --resource-version compares it as text: any other value never holds)"
    kubectl = "(kubectl --current-replicas; -1, its default: no precondition)"
    assert [f"{p.line}: {p.field}: {p.message}" for p in info.value.problems] == [
        f"9: workload[0].scale.currentReplicas: must be between -1 and 2,147,483,647, got -2 {kubectl}",
        "9: workload[0].scale.resourceVersion: must be a resourceVersion as the API server issues them, a positive "
        f"whole number written as a string such as \"42\", got '01' {never}",
        "10: workload[1].scale.resourceVersion: expected a string, got number 7",
        f"10: workload[1].scale.currentReplicas: must be between -1 and 2,147,483,647, got 2147483648 {kubectl}",
        "11: workload[2].scale.currentReplicas: expected an integer, got string 'two'",
        "11: workload[2].scale.resourceVersion: must be a resourceVersion as the API server issues them, a "
        f"positive whole number written as a string such as \"42\", got 'rv-3' {never}",
    ]
    code, _, err = kubeprop(capsys, "validate", str(path))
    assert code == 2 and err.count("workload[") == 6
