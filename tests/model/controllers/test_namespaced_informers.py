"""A user's controller whose informers watch some namespaces only (its `namespaces`; upstream
`informers.WithNamespace`, controller-runtime's `cache.Options.DefaultNamespaces`):
`kubeprop.model.controllers.cache_sync`. Its LISTs go to `/api/v1/namespaces/NS/...`, so the common
operator pattern — one namespace, a Role and a RoleBinding — syncs; it reads and acts on those
namespaces only; a cluster-scoped resource it watches is still listed at the cluster scope."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from user_modules import user_folder

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.controllers.base import Reconcile, SyncInformer, scoped
from kubeprop.model.controllers.cache_sync import informer_target, informers
from kubeprop.model.errors import InputError
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState, view
from kubeprop.model.state.component import namespaces_problem
from kubeprop.model.state.informer import NamespacedView
from kubeprop.properties.cache_sync import never_synced
from kubeprop.properties.cli.main import main

DATA = Path(__file__).parents[1] / "data" / "cache_sync"
WEB_CONFIG = ObjectKey("configmaps", "default", "web-config")
API_CONFIG = ObjectKey("configmaps", "other", "api-config")
API = ObjectKey("deployments.apps", "other", "api")
OPERATOR = "config-operator"


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _model(name: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / name), parameters=dict(parameters))


def _run(model: ClusterModel, state: ClusterState | None = None) -> list[ClusterState]:
    """Every state of the settled run from `state` (the initial state by default)."""
    start = initial_state(model) if state is None else state
    run = settle(model, start, max_steps=400)
    assert not run.exhausted
    states = [start]
    for act in run.trace:
        states.append(step(model, states[-1], act))
    assert states[-1] == run.state
    return states


@pytest.mark.parametrize("instant", [False, True])
def test_a_namespaced_controller_with_a_role_syncs_and_reconciles_in_its_namespace(instant: bool) -> None:
    model = _model("scoped.yaml", instantCaches=instant)
    start = initial_state(model)
    (operator,) = (c for c in model.controllers if c.name == OPERATOR)
    assert informers(start.store, operator) == ("namespaces/default/deployments.apps", "namespaces/default/configmaps")
    assert start.controllers[OPERATOR].unsynced == ()
    assert start.controllers[OPERATOR].queue == ("default/web",)
    end = _run(model)[-1]
    assert end.store.get(WEB_CONFIG) is not None
    assert end.store.get(API_CONFIG) is None
    assert never_synced(model, end) is None


def test_it_neither_sees_nor_acts_on_another_namespace() -> None:
    """A ClusterRole would allow the operator everywhere; watching `default` only, it never reads,
    enqueues or creates anything for namespace `other` — which the same operator watching every
    namespace does (so the test can fail)."""
    model = _model("scoped-cluster-rbac.yaml")
    states = _run(model)
    assert all("other/api" not in s.controllers[OPERATOR].queue for s in states)
    assert states[-1].store.get(WEB_CONFIG) is not None and states[-1].store.get(API_CONFIG) is None
    (operator,) = (c for c in model.controllers if c.name == OPERATOR)
    shared = view(model, states[-1], CONTROLLER_MANAGER)
    mine = scoped(operator, shared)
    assert shared.get(API) is not None and mine.get(API) is None
    assert [d.metadata.name for d in shared.list("deployments.apps")] == ["web", "api"]
    assert [d.metadata.name for d in mine.list("deployments.apps")] == ["web"]
    assert list(mine.list("deployments.apps", "other")) == []
    assert [n.metadata.name for n in mine.list("nodes")] == ["worker-1"]  # (cluster-scoped: all of them)
    assert scoped(operator, shared) is mine  # (the same view again: decisions are remembered by it)
    everywhere = build_model(load_scenario(DATA / "scoped-cluster-rbac.yaml"),
                             controllers=(attrs.evolve(operator, namespaces=()),))
    assert _run(everywhere)[-1].store.get(API_CONFIG) is not None


def test_the_cluster_wide_controller_with_only_a_role_still_never_syncs() -> None:
    """The same Role and RoleBinding, informers of every namespace: upstream's 403 for the
    cluster-scope LIST, as before."""
    model = _model("role-only.yaml")
    assert initial_state(model).controllers[OPERATOR].unsynced == ("deployments.apps", "configmaps")
    end = _run(model)[-1]
    assert end.store.get(WEB_CONFIG) is None
    message = never_synced(model, end)
    assert message is not None
    assert message[0] == (
        "controller 'config-operator' never reconciles: its deployments.apps informer never syncs "
        "(WaitForCacheSync does not return) because the reflector's LIST as 'cfg-operator' fails: failed to list "
        'deployments.apps: deployments.apps is forbidden: User "cfg-operator" cannot list resource "deployments" '
        'in API group "apps" at the cluster scope')


def test_each_namespace_has_its_own_informers_and_the_workers_wait_for_all() -> None:
    """The Role is in `default` only: the informers of `other` never sync, so the operator
    reconciles nothing, not even in `default` (WaitForCacheSync waits for every informer)."""
    model = _model("scoped-two.yaml")
    start = initial_state(model)
    assert start.controllers[OPERATOR].unsynced == ("namespaces/other/deployments.apps", "namespaces/other/configmaps")
    assert informer_target("namespaces/other/deployments.apps") == ("deployments.apps", "other")
    assert not any(isinstance(a, Reconcile | SyncInformer) and a.controller == OPERATOR for a in actions(model, start))
    end = _run(model)[-1]
    assert end.store.get(WEB_CONFIG) is None
    message = never_synced(model, end)
    assert message is not None and "its deployments.apps informer of namespace 'other' never syncs" in message[0]
    assert message[0].endswith('cannot list resource "deployments" in API group "apps" in the namespace "other"')


def test_a_role_bound_later_syncs_each_informer_of_its_namespace() -> None:
    model = _model("scoped-granted.yaml")
    start = initial_state(model)
    assert start.controllers[OPERATOR].unsynced == ("namespaces/default/deployments.apps",
                                                    "namespaces/default/configmaps")
    assert not any(isinstance(a, SyncInformer) for a in actions(model, start))
    bound = step(model, start, UserStep(0))
    syncs = [a for a in actions(model, bound) if isinstance(a, SyncInformer)]
    assert syncs == [SyncInformer(OPERATOR, "namespaces/default/deployments.apps"),
                     SyncInformer(OPERATOR, "namespaces/default/configmaps")]
    synced = step(model, step(model, bound, syncs[0]), syncs[1])
    assert synced.controllers[OPERATOR].unsynced == ()
    assert synced.controllers[OPERATOR].queue == ("default/web",)  # (not other/api: not listed)
    end = _run(model, synced)[-1]
    assert end.store.get(WEB_CONFIG) is not None and end.store.get(API_CONFIG) is None
    assert never_synced(model, end) is None


def test_the_memoised_actions_are_the_plain_ones() -> None:
    model = _model("scoped-granted.yaml")
    start = initial_state(model)
    bound = step(model, start, UserStep(0))
    plain = (actions(model, start), actions(model, bound))
    with memoised(model):
        assert (actions(model, start), actions(model, bound)) == plain


def test_a_cluster_scoped_resource_is_listed_at_the_cluster_scope() -> None:
    """Upstream a namespaced factory's node informer lists every node (`informers/core/v1/
    interface.go` Nodes(): no namespace), so the Role in `default` does not allow it; a ClusterRole
    for nodes does."""
    model = _model("scoped-nodes.yaml")
    start = initial_state(model)
    assert start.controllers[OPERATOR].unsynced == ("nodes",)
    message = never_synced(model, _run(model)[-1])
    assert message is not None and message[0].endswith(
        'failed to list nodes: nodes is forbidden: User "cfg-operator" cannot list resource "nodes" in API group "" '
        "at the cluster scope")
    allowed = _model("scoped-nodes-allowed.yaml")
    (operator,) = (c for c in allowed.controllers if c.name == OPERATOR)
    first = initial_state(allowed)
    assert informers(first.store, operator) == (
        "namespaces/default/deployments.apps", "namespaces/default/configmaps", "nodes")
    assert first.controllers[OPERATOR].unsynced == ()
    end = _run(allowed)[-1]
    assert end.store.get(WEB_CONFIG) is not None and never_synced(allowed, end) is None


def test_malformed_declarations_are_refused_naming_the_controller() -> None:
    import config_operator as ops  # (the user's module, on the path)

    assert namespaces_problem(ops.OPERATOR) is None and namespaces_problem(ops.SCOPED_TWO) is None
    assert namespaces_problem(object()) is None  # (no `namespaces`: every namespace)
    expected = {
        "BAD_EMPTY": "controller 'config-operator': namespaces[0] is empty: name a namespace",
        "BAD_STRING": "controller 'config-operator': namespaces must be a list of namespace names, such as "
                      "('shop',) (leave it out for every namespace), not string 'default'",
        "BAD_NAME": "controller 'config-operator': namespaces[0] 'Default' is not a valid namespace name: "
                    "a lowercase RFC 1123 label must consist of",
        "BAD_TWICE": "controller 'config-operator': namespaces[1] 'default' is listed twice",
    }
    for name, start in expected.items():
        problem = namespaces_problem(getattr(ops, name))
        assert problem is not None and problem.startswith(start), (name, problem)
    with pytest.raises(InputError, match=r"namespaces\[0\] is empty"):
        build_model(load_scenario(DATA / "scoped.yaml"), controllers=(ops.BAD_EMPTY,))


BAD_SCENARIO = """\
# A malformed declaration: an empty namespace name.
apiVersion: kubeprop.dev/v1alpha1
kind: Scenario
metadata: {name: cache-sync-bad-empty}
manifests: [app]
users:
  - {name: admin, clusterRoles: [cluster-admin]}
  - {name: cfg-operator}
applyAs: admin
controllers: ["config_operator:BAD_EMPTY"]
"""


def test_a_malformed_declaration_in_a_scenario_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    """Written here, not shipped: every scenario of the tests' data folders must load
    (`bench_false_alarms.shipped_scenarios`)."""
    shutil.copytree(DATA / "app", tmp_path / "app")
    scenario = tmp_path / "bad-empty.yaml"
    scenario.write_text(BAD_SCENARIO, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad-empty\.yaml:10: controllers\[0\]: controller 'config-operator': "
                                            r"namespaces\[0\] is empty"):
        load_scenario(scenario)
    assert main(["check", str(scenario), "--budget", "1"]) == 2
    err = capsys.readouterr().err
    assert "bad-empty.yaml:10: controllers[0]: controller 'config-operator': namespaces[0] is empty" in err
    assert "Traceback" not in err


def test_the_view_keeps_cluster_scoped_objects_and_the_namespaces_objects() -> None:
    model = _model("scoped-cluster-rbac.yaml")
    store = initial_state(model).store
    mine = NamespacedView(store, ("other",))
    assert mine.get(API) is not None and mine.get(ObjectKey("deployments.apps", "default", "web")) is None
    assert [d.metadata.name for d in mine.list("deployments.apps")] == ["api"]
    assert [n.metadata.name for n in mine.list("namespaces")] == [n.metadata.name for n in store.list("namespaces")]
    assert mine.has_synced("deployments.apps") == store.has_synced("deployments.apps")
    assert mine.last_sync_resource_version("deployments.apps") == store.last_sync_resource_version("deployments.apps")
