"""A user's controller whose identity may not LIST what it watches never syncs its informers, so it
never reconciles (`kubeprop.model.controllers.cache_sync`; upstream `reflector.go` ListAndWatch
retries the refused LIST with back-off for ever and `shared_informer.go` WaitForCacheSync never
returns). Before, the model authorized only a controller's writes: its reads came from the shared
cache unchecked, and an operator with create but no list created its ConfigMap (user trial 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.controllers.base import Reconcile, SyncInformer
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cache_sync import never_synced
from kubeprop.properties.modules import checked_properties

DATA = Path(__file__).parents[1] / "data" / "cache_sync"
CATALOGUE = Path(__file__).parents[1] / "data" / "catalogue"
CONFIG = ObjectKey("configmaps", "default", "web-config")
LIST_CONFIGMAPS = ('configmaps is forbidden: User "cfg-operator" cannot list resource "configmaps" in API group "" '
                   "at the cluster scope")
LIST_DEPLOYMENTS = ('deployments.apps is forbidden: User "cfg-operator" cannot list resource "deployments" in API '
                    'group "apps" at the cluster scope')


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _model(name: str) -> ClusterModel:
    return build_model(load_scenario(DATA / name))


def _settled(model: ClusterModel, state: ClusterState | None = None) -> ClusterState:
    run = settle(model, initial_state(model) if state is None else state, max_steps=400)
    assert not run.exhausted
    return run.state


def test_an_operator_that_may_not_list_never_reconciles() -> None:
    model = _model("nolist.yaml")
    start = initial_state(model)
    assert start.controllers["config-operator"].unsynced == ("deployments.apps", "configmaps")
    assert not any(isinstance(a, Reconcile | SyncInformer) and a.controller == "config-operator"
                   for a in actions(model, start))
    end = _settled(model)
    assert end.store.get(CONFIG) is None
    message = never_synced(model, end)
    assert message is not None and LIST_DEPLOYMENTS in message[0]
    assert "config-operator" in message[0] and "WaitForCacheSync" in message[0]


def test_a_correct_role_reconciles_and_the_property_holds() -> None:
    model = _model("correct.yaml")
    assert initial_state(model).controllers["config-operator"].unsynced == ()
    end = _settled(model)
    assert end.store.get(CONFIG) is not None
    assert never_synced(model, end) is None


def test_list_without_watch_still_syncs() -> None:
    """Upstream the LIST populates the store (`syncWith` → Replace: HasSynced), the refused WATCH
    only makes the reflector LIST again after its back-off."""
    model = _model("list-only.yaml")
    assert initial_state(model).controllers["config-operator"].unsynced == ()
    assert _settled(model).store.get(CONFIG) is not None


def test_a_role_in_one_namespace_does_not_allow_the_cluster_wide_list() -> None:
    """The edit role bound in `default` allows list there, not at the cluster scope an informer of
    every namespace LISTs at (RoleBindings are visited only for a namespaced request)."""
    model = _model("namespaced.yaml")
    end = _settled(model)
    assert end.store.get(CONFIG) is None
    message = never_synced(model, end)
    assert message is not None and LIST_DEPLOYMENTS in message[0]


def test_the_informers_sync_once_the_role_is_bound() -> None:
    """No binding at first; the workload's step binds a correct role. The reflector's next retry
    succeeds: one SyncInformer per informer, then the operator reconciles the Deployment."""
    model = _model("granted.yaml")
    start = initial_state(model)
    assert start.controllers["config-operator"].unsynced == ("deployments.apps", "configmaps")
    assert not any(isinstance(a, SyncInformer) for a in actions(model, start))
    bound = step(model, start, UserStep(0))
    syncs = [a for a in actions(model, bound) if isinstance(a, SyncInformer)]
    assert syncs == [SyncInformer("config-operator", "deployments.apps"), SyncInformer("config-operator", "configmaps")]
    synced = step(model, step(model, bound, syncs[0]), syncs[1])
    assert synced.controllers["config-operator"].unsynced == ()
    assert "default/web" in synced.controllers["config-operator"].queue
    end = _settled(model, synced)
    assert end.store.get(CONFIG) is not None and never_synced(model, end) is None


def test_the_memoised_actions_see_the_binding() -> None:
    """The incremental cache keys the controllers' actions on the stored objects while an informer
    waits to sync: the same answer as without it."""
    model = _model("granted.yaml")
    start = initial_state(model)
    bound = step(model, start, UserStep(0))
    plain = (actions(model, start), actions(model, bound))
    with memoised(model):
        assert (actions(model, start), actions(model, bound)) == plain


def test_the_property_is_checked_by_default_only_where_an_identity_is_not_trusted() -> None:
    names = {p.name for p in checked_properties(load_scenario(DATA / "nolist.yaml"))}
    assert "controllers-caches-synced" in names
    builtin_only = {p.name for p in checked_properties(load_scenario(CATALOGUE / "web.yaml"))}
    assert "controllers-caches-synced" not in builtin_only


def test_built_in_controllers_are_never_unsynced() -> None:
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    state = initial_state(model)
    assert all(getattr(c, "unsynced", ()) == () for c in state.controllers.values())
    assert not any(isinstance(a, SyncInformer) for a in actions(model, state))
