"""Bootstrap order and rejections (user trial 7, F-UX1): a user's `roles` may name a namespace the
manifests create — its RoleBinding is sent right after that Namespace — and an object the API
server rejects is bad input naming the scenario field (`users[1].roles[0]`) or the manifest's
file:line, and the object; `kubeprop check` says so before any engine runs, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.properties.cli.main import main

SCENARIO = """\
apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {{name: tenants}}
manifests: [manifests]
users:
  - {{name: admin, clusterRoles: [cluster-admin]}}
  - name: tenant-b
    roles: [{{namespace: {namespace}, role: deployer}}]
applyAs: {apply_as}
"""
MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: team-b}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [create, get, list]}]
"""


def _scenario(tmp_path: Path, namespace: str = "team-b", apply_as: str = "admin") -> Path:
    (tmp_path / "manifests").mkdir(exist_ok=True)
    (tmp_path / "manifests" / "ns.yaml").write_text(MANIFESTS)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(namespace=namespace, apply_as=apply_as))
    return path


def test_a_users_role_in_a_manifest_namespace_is_bound_once_the_namespace_exists(tmp_path: Path) -> None:
    boot = bootstrap(load_scenario(_scenario(tmp_path)))
    assert not boot.rejected, [o.response.message for o in boot.rejected]
    order = [(o.origin, o.field, o.obj.metadata.name) for o in boot.outcomes[4:]]
    assert order == [("users", "users[0].clusterRoles[0]", "kubeprop:admin:cluster-admin"),
                     ("manifest", "", "team-a"), ("manifest", "", "team-b"),
                     ("users", "users[1].roles[0]", "kubeprop:tenant-b:deployer"), ("manifest", "", "deployer")]


def test_a_binding_into_a_missing_namespace_names_its_field_line_and_object(tmp_path: Path) -> None:
    model = build_model(load_scenario(_scenario(tmp_path, namespace="team-c")))
    with pytest.raises(ScenarioError) as refused:
        initial_state(model)
    assert str(refused.value) == (
        f'{tmp_path / "scenario.yaml"}:8: users[1].roles[0]: the API server rejected RoleBinding '
        'team-c/kubeprop:tenant-b:deployer: 404 NotFound: namespaces "team-c" not found')


def test_check_refuses_a_rejected_manifest_before_running_an_engine(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, apply_as="tenant-b")
    code = main(["check", str(path), "--budget", "5", "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "running" not in err and "Traceback" not in err
    # every rejection, in the order the objects were sent (report10: the cluster model stops at the first)
    manifests, forbidden = tmp_path / "manifests" / "ns.yaml", 'is forbidden: User "tenant-b" cannot create resource'
    assert err == ("kubeprop check: bad input:\n"
                   f'{manifests}:1: the API server rejected Namespace team-a: 403 Forbidden: namespaces "team-a" '
                   f'{forbidden} "namespaces" in API group "" at the cluster scope\n'
                   f'{manifests}:5: the API server rejected Namespace team-b: 403 Forbidden: namespaces "team-b" '
                   f'{forbidden} "namespaces" in API group "" at the cluster scope\n'
                   f'{tmp_path / "scenario.yaml"}:8: users[1].roles[0]: the API server rejected RoleBinding '
                   'team-b/kubeprop:tenant-b:deployer: 404 NotFound: namespaces "team-b" not found\n'
                   f'{manifests}:9: the API server rejected Role team-b/deployer: 403 Forbidden: '
                   f'roles.rbac.authorization.k8s.io "deployer" {forbidden} "roles" in API group '
                   '"rbac.authorization.k8s.io" in the namespace "team-b"\n')
