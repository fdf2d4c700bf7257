"""A workload step's `as` (`kubectl --as USER`): the step's requests impersonate a declared user,
against upstream `staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go` (the sender
must be allowed `impersonate` on `users`; the request then goes on as USER, groups only
`system:authenticated`) and kubectl's `--as` flag. Loading refuses an `as` naming no declared user
(every such step at once, each at its line, exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubeprop.model.api.impersonation import acting_as, impersonate
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.rbac_authn import UserInfo
from kubeprop.model.api.server import Request, handle, rbac_policy
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.workload_commands import describe
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.state.actions import UserStep

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "model" / "data" / "impersonation"
SCENARIO = DATA / "scenario.yaml"
WEB = ObjectKey("deployments.apps", "default", "web")


def _with(tmp_path: Path, replace: dict[str, str]) -> Path:
    text = SCENARIO.read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "web.yaml").write_text((DATA / "web.yaml").read_text())
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_each_step_runs_as_its_user() -> None:
    """Step 1 impersonates developer (view): its patch of the scale subresource is refused by RBAC,
    as developer, naming `deployments/scale` as upstream's forbiddenMessage does. Step 2 runs as
    admin: replicas 3."""
    model = build_model(load_scenario(SCENARIO))
    state = initial_state(model)
    state = step(model, state, UserStep(0))
    assert state.workload_errors[0] == (
        '403 Forbidden: deployments.apps "web" is forbidden: User "developer" cannot patch resource '
        '"deployments/scale" in API group "apps" in the namespace "default"')
    state = step(model, state, UserStep(1))
    assert 1 not in state.workload_errors
    web = state.store.get(WEB)
    assert web is not None and web.spec.replicas == 3
    assert describe(model.scenario.spec.workload[0]).endswith("--replicas=2 --as developer")


def test_the_sender_must_be_allowed_to_impersonate(tmp_path: Path) -> None:
    """developer (edit in default: it may create the Deployment) sends and asks to act as admin:
    the impersonation filter refuses it, as upstream words it; admin (cluster-admin) may
    impersonate anyone."""
    model = build_model(load_scenario(_with(tmp_path, {"applyAs: admin": "applyAs: developer",
                                                       "clusterRole: view": "clusterRole: edit",
                                                       "    as: developer": "    as: admin"})))
    state = step(model, initial_state(model), UserStep(0))
    assert state.workload_errors[0] == ('403 Forbidden: users "admin" is forbidden: User "developer" cannot '
                                        'impersonate resource "users" in API group "" at the cluster scope')
    policy = rbac_policy(state.store)
    admin = UserInfo("admin", ("system:authenticated",))
    assert impersonate(admin, "developer", policy) == UserInfo("developer", ("system:authenticated",))
    assert impersonate(admin, "system:serviceaccount:ci:bot", policy) == UserInfo(
        "system:serviceaccount:ci:bot", ("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"))
    refused = impersonate(UserInfo("developer", ("system:authenticated",)), "system:serviceaccount:ci:bot", policy)
    assert refused == ('serviceaccounts "bot" is forbidden: User "developer" cannot impersonate resource '
                       '"serviceaccounts" in API group "" in the namespace "ci"')


def test_the_impersonated_user_carries_no_declared_group(tmp_path: Path) -> None:
    """kubectl --as sends the name only: a group the scenario declares for the user (bound to the
    power to scale) does not come along, so the step is still refused; without `as` the sender's
    own identity is used."""
    path = _with(tmp_path, {"  - name: developer\n": "  - name: developer\n    groups: [system:masters]\n"})
    model = build_model(load_scenario(path))
    state = step(model, initial_state(model), UserStep(0))
    assert state.workload_errors[0].startswith('403 Forbidden: deployments.apps "web" is forbidden: User "developer"')
    get = Request(verb="get", user="admin", resource="deployments.apps", namespace="default", name="web",
                  impersonate="developer")
    assert handle(state.store, get, model.api, 0).response.code == 200  # view may get
    assert acting_as("developer").groups == ("system:authenticated",)


def test_an_unknown_user_is_refused_with_every_problem_at_once(tmp_path: Path) -> None:
    path = _with(tmp_path, {"    as: developer": "    as: developr",
                            "  - scale: {deployment: default/web, replicas: 3}":
                            "  - scale: {deployment: default/web, replicas: 3}\n    as: ops"})
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    text = str(raised.value)
    lines = path.read_text().splitlines()
    first = next(n for n, line in enumerate(lines, 1) if "as: developr" in line)
    second = next(n for n, line in enumerate(lines, 1) if "as: ops" in line)
    assert (f"{path}:{first}: workload[0].as: no user 'developr'; users: admin, developer (kubectl --as: a user of "
            "the scenario's users:)") in text
    assert f"{path}:{second}: workload[1].as: no user 'ops'; users: admin, developer" in text
    done = subprocess.run([sys.executable, "-m", "kubeprop.properties.cli", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "workload[0].as: no user 'developr'" in done.stderr and "workload[1].as: no user 'ops'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_scenario_without_as_is_read_as_before() -> None:
    """The field is optional: a step without it runs as applyAs alone (no impersonation)."""
    scenario = load_scenario(SCENARIO)
    assert [s.as_ for s in scenario.spec.workload] == ["developer", ""]
    model = build_model(scenario)
    state = step(model, initial_state(model), UserStep(1))
    web = state.store.get(WEB)
    assert web is not None and web.spec.replicas == 3 and not state.workload_errors


@pytest.mark.parametrize("command", ["cordon: {node: worker-1}", "drain: {node: worker-1}"])
def test_node_steps_act_as_their_user_too(tmp_path: Path, command: str) -> None:
    """`kubectl cordon|drain NODE --as developer`: the node's GET that comes before the cordon's
    patch (`drain.go` Complete, `cordon.go`) is developer's, refused (view in default only)."""
    path = _with(tmp_path, {"  - scale: {deployment: default/web, replicas: 2}": f"  - {command}"})
    model = build_model(load_scenario(path))
    state = step(model, initial_state(model), UserStep(0))
    assert 'nodes "worker-1" is forbidden: User "developer" cannot get resource "nodes"' in state.workload_errors[0]


@pytest.mark.parametrize(("group", "code"), [("system:authenticated", 403), ("system:unauthenticated", 200)])
def test_impersonating_anonymous_is_unauthenticated(group: str, code: int) -> None:
    """`--as system:anonymous` goes on with the group system:unauthenticated alone (WithImpersonation's
    `username != user.Anonymous` test), so a binding for system:authenticated does not apply to it,
    one for system:unauthenticated does (audit 10: the model gave it system:authenticated)."""
    from api_harness import ApiHarness, bare_scenario

    from kubeprop.model.api.meta import ObjectMeta
    from kubeprop.model.api.rbac_kinds import ClusterRoleBinding, RoleRef, Subject

    assert acting_as("system:anonymous") == UserInfo("system:anonymous", ("system:unauthenticated",))
    api = ApiHarness(bare_scenario())
    binding = ClusterRoleBinding(metadata=ObjectMeta(name="everyone-views"),
                                 subjects=(Subject(kind="Group", name=group, api_group="rbac.authorization.k8s.io"),),
                                 role_ref=RoleRef("rbac.authorization.k8s.io", "ClusterRole", "view"))
    store = api.ok(api.base, Request(verb="create", user="admin", obj=binding))
    listing = Request(verb="list", user="admin", resource="deployments.apps", namespace="default",
                      impersonate="system:anonymous")
    response = api.handle(store, listing).response
    assert response.code == code, response.message
    if code == 403:
        assert response.message == ('deployments.apps is forbidden: User "system:anonymous" cannot list resource '
                                    '"deployments" in API group "apps" in the namespace "default"')
