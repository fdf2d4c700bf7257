"""What a controller can see of its cache's freshness (issue 13 item 6): the informer's
LastSyncResourceVersion and HasSynced, per resource, for lagging caches and instant ones."""

from __future__ import annotations

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ConfigMap, object_key
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.controllers.podutil import cache_revision
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import CONTROLLER_MANAGER
from kubeprop.model.state.informer import InformerState, ObjectView, deliver, next_event, start_informer

SCENARIO = load_scenario()
STORE = bootstrap(SCENARIO).store


def _freshness(view: ObjectView, resource: str) -> tuple[str, bool]:
    return view.last_sync_resource_version(resource), view.has_synced(resource)


def test_an_informer_reports_the_revision_it_has_delivered_up_to() -> None:
    informer = start_informer(STORE, ("configmaps",))
    assert _freshness(informer, "configmaps") == (str(STORE.revision), True)
    assert _freshness(informer, "secrets") == ("", False)  # not watched: never synced
    cm = ConfigMap(metadata=ObjectMeta(name="fresh", namespace="default"))
    store = handle(STORE, Request(verb="create", user="system:admin", obj=cm),
                   ApiServerConfig(users=SCENARIO.users, admission=SCENARIO.admission), 0).store
    written = store.get(object_key(cm))
    assert written is not None
    rv = written.metadata.resource_version
    # the write is not in the cache yet: its resourceVersion is newer than the cache's
    assert int(informer.last_sync_resource_version("configmaps")) < int(rv)
    event = next_event(store, informer.resources["configmaps"], "configmaps")
    assert event is not None
    cache = deliver(informer.resources["configmaps"], event)
    fresh = InformerState(informer.resources.set("configmaps", cache))
    assert fresh.last_sync_resource_version("configmaps") == rv
    assert cache_revision(fresh, "configmaps") == int(rv)


def test_a_store_read_directly_is_always_synced_at_its_revision() -> None:
    assert _freshness(STORE, "pods") == (str(STORE.revision), True)
    assert cache_revision(STORE, "pods") == STORE.revision


def test_the_controller_managers_cache_in_a_lagging_model() -> None:
    model = build_model(SCENARIO, parameters={"instantCaches": False})
    state = initial_state(model)
    view = state.informers[CONTROLLER_MANAGER]
    assert view.has_synced("pods") and view.has_synced("deployments.apps")
    assert int(view.last_sync_resource_version("pods")) <= state.store.revision
