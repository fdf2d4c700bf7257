"""The clusterrole-aggregation controller (kubeprop.model.controllers.clusterrole_aggregation) and
the aggregated default roles, against upstream's
`pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go` (syncClusterRole) and
`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go` (admin, edit, view and
system:aggregate-to-*).

audit15's false alarm: a user bound to `view` was refused a scale that a ClusterRole labelled
`rbac.authorization.k8s.io/aggregate-to-view` grants (tests/model/data/aggregation)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import yaml

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ApiObject, ClusterRole, ObjectKey, PolicyRule, decode_object
from kubeprop.model.api.rbac import RbacPolicy
from kubeprop.model.api.rbac_aggregation import aggregated_rules
from kubeprop.model.api.rbac_bootstrap import bootstrap_policy
from kubeprop.model.api.rbac_kinds import AggregationRule
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request, handle
from kubeprop.model.api.validation import validate_create
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.informers import Deliver
from kubeprop.model.controllers.base import Memoryless, Reconcile
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.component import Reconciliation
from kubeprop.model.state.informer import ObjectView

DATA = Path(__file__).parent.parent / "data" / "aggregation"
SCALE = PolicyRule(verbs=("get", "patch", "update"), api_groups=("apps",),
                   resources=("deployments", "deployments/scale"))
CONTROLLER = "clusterrole-aggregation"


def _scale_by_developer(model: ClusterModel, state: ClusterState) -> int:
    request = Request(verb="patch-scale", user="developer", resource="deployments.apps", namespace="default",
                      name="web", patch={"spec": {"replicas": 2}})
    return handle(state.store, request, model.api, state.clock).response.code


def _delivered(model: ClusterModel, state: ClusterState) -> ClusterState:
    """Every watch event in flight handed to the caches (the controller's handlers enqueue)."""
    while True:
        pending = [a for a in actions(model, state) if isinstance(a, Deliver)]
        if not pending:
            return state
        state = step(model, state, pending[0])


def _stored_rules(state: ClusterState, name: str) -> tuple[PolicyRule, ...] | None:
    role = state.store.get(ObjectKey("clusterroles.rbac.authorization.k8s.io", "", name))
    return role.rules if isinstance(role, ClusterRole) else None


def test_a_role_labelled_aggregate_to_view_reaches_view_edit_and_admin_one_sync_at_a_time() -> None:
    model = build_model(load_scenario(DATA))
    state = initial_state(model)
    queued = [a for a in actions(model, state) if isinstance(a, Reconcile) and a.controller == CONTROLLER]
    assert queued == [Reconcile(CONTROLLER, "admin"), Reconcile(CONTROLLER, "edit"), Reconcile(CONTROLLER, "view")]
    assert _scale_by_developer(model, state) == 403  # the window before the controller's sync
    for name in ("admin", "edit"):  # nothing to do for them yet: no write
        after = step(model, state, Reconcile(CONTROLLER, name))
        assert after.store.revision == state.store.revision
    state = _delivered(model, step(model, state, Reconcile(CONTROLLER, "view")))
    view = _stored_rules(state, "view")
    assert view is not None and view[0] == SCALE  # "scale-deployments" < "system:aggregate-to-view"
    assert _scale_by_developer(model, state) == 200
    state = _delivered(model, step(model, state, Reconcile(CONTROLLER, "edit")))  # view's write enqueued it
    edit = _stored_rules(state, "edit")
    assert edit is not None and SCALE in edit
    state = step(model, state, Reconcile(CONTROLLER, "admin"))
    admin = _stored_rules(state, "admin")
    assert admin is not None and SCALE in admin
    stored = state.store.get(ObjectKey("clusterroles.rbac.authorization.k8s.io", "", "edit"))
    assert isinstance(stored, ClusterRole) and stored.aggregation_rule is not None
    assert stored.metadata.labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"


def test_default_aggregated_roles_hold_upstreams_rules_in_the_controllers_order() -> None:
    roles = {r.metadata.name: r for r in bootstrap_policy() if isinstance(r, ClusterRole)}
    view, edit, admin = roles["view"], roles["edit"], roles["admin"]
    assert view.rules == roles["system:aggregate-to-view"].rules
    # edit selects system:aggregate-to-edit and view (labelled aggregate-to-edit), by name
    assert edit.rules == (*roles["system:aggregate-to-edit"].rules, *view.rules)
    # admin selects edit (labelled aggregate-to-admin) and system:aggregate-to-admin
    assert admin.rules == (*edit.rules, *roles["system:aggregate-to-admin"].rules)
    policy = RbacPolicy.from_any(bootstrap_policy())
    assert policy.cluster_roles["edit"].aggregation_rule is not None


def test_aggregated_rules_dedup_and_skip_the_role_itself() -> None:
    selector = LabelSelector(match_labels=FrozenMap({"agg": "yes"}))
    target = ClusterRole(metadata=ObjectMeta(name="t", labels=FrozenMap({"agg": "yes"})),
                         rules=(SCALE,), aggregation_rule=AggregationRule((selector, selector)))
    a = ClusterRole(metadata=ObjectMeta(name="b", labels=FrozenMap({"agg": "yes"})), rules=(SCALE,))
    other = PolicyRule(verbs=("get",), api_groups=("",), resources=("pods",))
    b = ClusterRole(metadata=ObjectMeta(name="a", labels=FrozenMap({"agg": "yes"})), rules=(other, SCALE))
    c = ClusterRole(metadata=ObjectMeta(name="c"), rules=(PolicyRule(verbs=("*",)),))
    assert aggregated_rules(target, [target, a, b, c]) == (other, SCALE)


def test_an_aggregation_rule_needs_a_valid_selector() -> None:
    """ValidateClusterRole (`pkg/apis/rbac/validation/validation.go`)."""
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "x"}}
    empty = decode_object({**body, "aggregationRule": {}})
    assert [(e.path, e.detail) for e in validate_create(empty)] == [
        (("aggregationRule", "clusterRoleSelectors"),
         "at least one clusterRoleSelector required if aggregationRule is non-nil")]
    bad = decode_object({**body, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b$"}}]}})
    assert [e.path for e in validate_create(bad)] == [("aggregationRule", "clusterRoleSelectors", 0, "matchLabels")]


OWN = """apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: own-aggregation}
manifests: [roles.yaml]
topology:
  nodes:
    - {name: worker-1, allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
users:
  - {name: admin, clusterRoles: [cluster-admin]}
applyAs: admin
"""
OWN_ROLES = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {example.com/aggregate-to-monitoring: "true"}}]
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: pods-reader
  labels: {example.com/aggregate-to-monitoring: "true"}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
"""


def test_a_users_aggregated_role_gets_exactly_the_selected_rules(tmp_path: Path) -> None:
    """A stored aggregated role: the controller's apply replaces its rules (its own are dropped, as
    upstream's controller owns them) and keeps its aggregationRule."""
    (tmp_path / "scenario.yaml").write_text(OWN)
    (tmp_path / "roles.yaml").write_text(OWN_ROLES)
    model = build_model(load_scenario(tmp_path))
    state = _delivered(model, step(model, initial_state(model), Reconcile(CONTROLLER, "monitoring")))
    stored = state.store.get(ObjectKey("clusterroles.rbac.authorization.k8s.io", "", "monitoring"))
    assert isinstance(stored, ClusterRole)
    assert stored.rules == (PolicyRule(verbs=("get", "list"), api_groups=("",), resources=("pods",)),)
    assert stored.aggregation_rule is not None
    assert Reconcile(CONTROLLER, "monitoring") in actions(model, state)  # its own write enqueued it again
    again = step(model, state, Reconcile(CONTROLLER, "monitoring"))
    assert again.store.revision == state.store.revision  # nothing left to do


@attrs.frozen
class RoleInstaller(Memoryless):
    """A user's operator that, as many do, installs a ClusterRole labelled aggregate-to-view for
    what its users may do (here: scale Deployments) when it sees a Deployment."""

    name: str = "role-installer"
    watches: tuple[str, ...] = ("deployments.apps",)
    identity: str = "admin"

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        return ("install",)

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        if view.get(ObjectKey("clusterroles.rbac.authorization.k8s.io", "", "scale-deployments")) is not None:
            return Reconciliation(memory=memory)
        role = decode_object(yaml.safe_load((DATA / "role.yaml").read_text()))
        return Reconciliation((Request(verb="create", user=self.identity, obj=role),), memory)


def test_a_role_a_users_controller_creates_is_aggregated(tmp_path: Path) -> None:
    """A ClusterRole only a user's controller creates (no ClusterRole in the manifests) reaches
    `view` too: the aggregation controller runs where a user's controller runs. Before, it ran only
    where the manifests held a ClusterRole, and the developer's scale stayed 403 for ever."""
    scenario = (DATA / "scenario.yaml").read_text().replace("manifests: [web.yaml, role.yaml]", "manifests: [web.yaml]")
    (tmp_path / "scenario.yaml").write_text(scenario)
    shutil.copy(DATA / "web.yaml", tmp_path / "web.yaml")
    model = build_model(load_scenario(tmp_path), controllers=(RoleInstaller(),))
    assert CONTROLLER in {c.name for c in model.controllers}
    start = initial_state(model)
    assert not [a for a in actions(model, start) if isinstance(a, Reconcile) and a.controller == CONTROLLER]
    assert _scale_by_developer(model, start) == 403
    end = settle(model, start, max_steps=400).state
    assert _stored_rules(end, "scale-deployments") is not None
    assert _scale_by_developer(model, end) == 200


def test_without_a_users_controller_or_a_cluster_role_the_controller_is_left_out(tmp_path: Path) -> None:
    scenario = (DATA / "scenario.yaml").read_text().replace("manifests: [web.yaml, role.yaml]", "manifests: [web.yaml]")
    (tmp_path / "scenario.yaml").write_text(scenario)
    shutil.copy(DATA / "web.yaml", tmp_path / "web.yaml")
    assert CONTROLLER not in {c.name for c in build_model(load_scenario(tmp_path)).controllers}
