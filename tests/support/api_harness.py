"""The real API server over one scenario's bootstrapped store, for tests that play controllers,
the scheduler, the kubelet and users by direct requests."""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

from kubeprop.model.api.admission import DEFAULT_PLUGINS
from kubeprop.model.api.objects import ObjectKey, decode_object
from kubeprop.model.api.server import ApiServerConfig, Request, Response, Result, handle
from kubeprop.model.api.store import Store
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ADMIN, Scenario, default_scenario_file, load_scenario
from kubeprop.model.scenario.schema import UserDecl

Stored = TypeVar("Stored")


def stored_as(store: Store, key: ObjectKey, kind: type[Stored]) -> Stored:
    """The object `store` holds at `key`, which must be a `kind`."""
    obj = store.get(key)
    assert isinstance(obj, kind), obj
    return obj


def bare_scenario(*others: UserDecl) -> Scenario:
    """The bare-manifest-folder scenario with no manifests: three workers, the default admission
    chain, a user `admin` bound to cluster-admin, then `others`."""
    admin = UserDecl(name="admin", cluster_roles=("cluster-admin",))
    spec = attrs.evolve(default_scenario_file("unused"), manifests=(), users=(admin, *others))
    return Scenario("test", "test", spec, (), "0" * 64, admission=DEFAULT_PLUGINS)


@attrs.frozen
class ApiHarness:
    """A scenario's users and admission chain as the API server's configuration (without the model
    parameters' touches), and the store its bootstrap leaves."""

    scenario: Scenario
    config: ApiServerConfig = attrs.field(init=False)
    base: Store = attrs.field(init=False)

    @config.default
    def _config(self) -> ApiServerConfig:
        return ApiServerConfig(users=self.scenario.users, admission=self.scenario.admission)

    @base.default
    def _base(self) -> Store:
        return bootstrap(self.scenario).store

    def handle(self, store: Store, request: Request, now: int = 1) -> Result:
        """One request through the whole pipeline (authentication to storage) at time `now`."""
        return handle(store, request, self.config, now)

    def send(self, store: Store, request: Request, now: int = 1) -> tuple[Store, Response]:
        """One request: the new store and the response."""
        result = self.handle(store, request, now)
        return result.store, result.response

    def ok(self, store: Store, request: Request, now: int = 1) -> Store:
        """One request that must succeed: the new store."""
        store, response = self.send(store, request, now)
        assert response.ok, response.message
        return store

    def created(self, body: dict[str, Any]) -> Store:
        """The bootstrapped store after the scenario's admin creates `body` (a manifest), which must
        succeed."""
        return self.ok(self.base, Request(verb="create", user=ADMIN, obj=decode_object(body)))

    def sync(self, ctl: Any, store: Store, key: str, memory: Any,
             now: int = 1) -> tuple[Store, Any, tuple[Request, ...]]:
        """One sync of `key` by `ctl` from `memory`, reading `store` as its cache; its requests sent
        in order at time `now`, each must succeed or be a 404, and each answer observed. The new
        store, the new memory and the requests."""
        decision = ctl.reconcile(store, key, memory, now)
        memory = decision.memory
        for request in decision.requests:
            store, response = self.send(store, request, now)
            assert response.ok or response.code == 404, (request, response.message)
            memory = ctl.observe(memory, request, response)
        return store, memory, tuple(decision.requests)

    def reconcile(self, ctl: Any, store: Store, key: str, now: int = 1,
                  must_succeed: bool = False) -> tuple[Store, tuple[Request, ...]]:
        """One reconcile of `key` by `ctl` from its initial memory, reading `store` as an instant
        cache; its requests applied in order at time `now` until one fails (`must_succeed`: every
        one must succeed). The new store and every request the reconcile made."""
        decision = ctl.reconcile(store, key, ctl.initial_memory(), now)
        for request in decision.requests:
            store, response = self.send(store, request, now)
            assert response.ok or not must_succeed, response.message
            if not response.ok:
                break
        return store, tuple(decision.requests)


def feastflow() -> ApiHarness:
    """The built-in FeastFlow scenario's API server."""
    return ApiHarness(load_scenario())
