"""A user's operator as a process of its own, as the searches and the overload model see it:
`footprint.component_of` names its process (`operator/<name>`), so the search around the fair run
counts a crash of it between two of its steps as Sieve's intermediate state and takes its reconcile
before its own write reached its cache as a targeted deviation; and an API server flood treats it as
the client it is (max-in-flight may starve it alone; its relists carry its credentials; its
leader-election renewal must get through). On trial21's recycler (tests/model/data/own_cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.api.server import Request
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.footprint import component_of
from kubeprop.model.cluster.overload import StartOverload, Starve, component_user, refusal
from kubeprop.model.controllers.base import Reconcile, SyncInformer
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import CrashComponent, Deliver
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState
from kubeprop.properties.explore.around_cost import deviation_cost, fault_costs
from kubeprop.properties.overload import SYSTEM_FLOWS_NOT_STARVED

DATA = Path(__file__).parents[1] / "data" / "own_cache"
OPERATOR = "operator/recycler"
DB0 = "default/db-0"


@pytest.fixture(autouse=True)
def recycler_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _model(name: str, parameters: dict[str, object] | None = None) -> ClusterModel:
    return build_model(load_scenario(DATA / name), parameters=parameters)


def test_an_operators_steps_are_its_own_process() -> None:
    own, shared = _model("scenario.yaml"), _model("scenario-shared.yaml")
    for act in (Reconcile("recycler", DB0), SyncInformer("recycler", "pods")):
        assert component_of(act, own) == OPERATOR
        assert component_of(act, shared) == CONTROLLER_MANAGER
    assert component_of(Reconcile("statefulset", "default/db"), own) == CONTROLLER_MANAGER
    assert component_of(Deliver(OPERATOR, "pods", 3), own) == OPERATOR


def test_a_crash_between_two_of_its_steps_is_an_intermediate_state() -> None:
    """The cheapest fault (cost 1) is the crash of the process whose actor took the last step and
    takes the next: for the recycler with a cache of its own, that process is `operator/recycler`
    (the controller manager's crash there is an ordinary fault, cost 2)."""
    own, shared = _model("scenario.yaml"), _model("scenario-shared.yaml")
    last, fair = Reconcile("recycler", DB0), Reconcile("recycler", "default/db-1")
    assert fault_costs(fair, last, own)(CrashComponent(OPERATOR)) == 1
    assert deviation_cost(CrashComponent(OPERATOR), fair, last, own) == 1
    assert fault_costs(fair, last, own)(CrashComponent(CONTROLLER_MANAGER)) == 2
    assert fault_costs(fair, last, shared)(CrashComponent(CONTROLLER_MANAGER)) == 1


def _restarted_in_its_cache(model: ClusterModel) -> ClusterState:
    """From the initial state, the first enabled actions but the recycler's and the operator's
    deliveries, the container of db-0 crashing once it is Ready, until the operator's cache shows
    db-0 restarted (its delete of db-0 then enabled)."""
    state = initial_state(model)
    for _ in range(400):
        cached = state.informers[OPERATOR].resources["pods"].objects.get(_db0_key())
        if cached is not None and any(cs.restart_count for cs in cached.status.container_statuses):
            return state
        enabled = actions(model, state)
        crash = next((a for a in enabled if type(a).__name__ == "CrashContainer"), None)
        ready = state.store.objects.get(_db0_key())
        if crash is not None and ready is not None and any(
                c.type == "Ready" and c.status == "True" for c in ready.status.conditions):
            state = step(model, state, crash)
            continue
        chosen = next((a for a in enabled if type(a).__name__ not in ("Tick", "Quiesce", "CrashContainer")
                       and not (isinstance(a, Reconcile) and a.controller == "recycler")), None)
        chosen = chosen or next(a for a in enabled if type(a).__name__ == "Tick")
        state = step(model, state, chosen)
    raise AssertionError("db-0 never showed restarted in the operator's cache")


def _db0_key() -> object:
    from kubeprop.model.api.objects import ObjectKey

    return ObjectKey("pods", "default", "db-0")


def test_its_reconcile_before_its_own_write_came_back_is_targeted() -> None:
    """Sieve's stale read: where the fair run delivers the recycler's own delete to its own cache,
    the recycler reconciling first is a targeted deviation (the delivery is `operator/recycler`'s,
    and so is the reconcile)."""
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.explore.around import _Node, _Search
    from kubeprop.properties.explore.engine import EngineConfig
    from kubeprop.properties.explore.incremental import Checker

    model = _model("scenario.yaml")
    before = _restarted_in_its_cache(model)
    delete = Reconcile("recycler", DB0)
    assert delete in actions(model, before)
    after = step(model, before, delete)
    assert after.store.revision > before.store.revision  # the recycler wrote (its delete)
    fair = Deliver(OPERATOR, "pods", after.store.revision)
    config = EngineConfig()
    with memoised(model) as cache:
        search = _Search(model, config, Checker(model, config.safety()), None, cache)
        root = _Node(before, None, None, 0, 0)
        node = _Node(after, root, delete, 1, 0)
        assert search.targeted(node, Reconcile("recycler", DB0), fair)
        assert not search.targeted(node, Reconcile("statefulset", "default/db"), fair)


def _flooding(tmp_path: Path, parameters: str) -> ClusterModel:
    """The recycler's scenario with a flood in its fault budget and `parameters`."""
    import shutil

    shutil.copytree(DATA / "manifests", tmp_path / "manifests")
    text = (DATA / "scenario.yaml").read_text().replace("properties:", f"parameters: {parameters}\nproperties:")
    (tmp_path / "scenario.yaml").write_text(text.replace("faults:", "faults:\n  overload: 1", 1))
    return build_model(load_scenario(tmp_path / "scenario.yaml"))


RELIST = Request(verb="list", user="", resource="pods")


def test_max_in_flight_may_starve_the_operator_alone(tmp_path: Path) -> None:
    """With max-in-flight the operator's process races for seats on its own connections: starved,
    its relists and its renewal are refused while the controller manager's get through; the
    controller manager starved, the operator's get through."""
    model = _flooding(tmp_path, "{apiPriorityAndFairness: false}")
    flooded = step(model, initial_state(model), StartOverload())
    assert Starve(OPERATOR) in actions(model, flooded)
    assert SYSTEM_FLOWS_NOT_STARVED.check(model, flooded) is None
    starved = step(model, flooded, Starve(OPERATOR))
    assert refusal(model, starved, "", RELIST, OPERATOR) is not None
    assert refusal(model, starved, "", RELIST, CONTROLLER_MANAGER) is None
    refused = SYSTEM_FLOWS_NOT_STARVED.check(model, starved)
    assert refused is not None and "Lease kube-system/recycler" in refused.message, refused
    cm_starved = step(model, flooded, Starve(CONTROLLER_MANAGER))
    assert refusal(model, cm_starved, "", RELIST, OPERATOR) is None
    refused = SYSTEM_FLOWS_NOT_STARVED.check(model, cm_starved)
    assert refused is not None and "Lease kube-system/kube-controller-manager" in refused.message, refused


def test_a_shared_operator_is_starved_with_the_controller_manager(tmp_path: Path) -> None:
    """Compiled into the controller manager it has no connections nor election of its own."""
    model = _flooding(tmp_path, "{apiPriorityAndFairness: false}")
    text = (tmp_path / "scenario.yaml").read_text().replace("{recycler: own}", "{recycler: shared}")
    (tmp_path / "scenario.yaml").write_text(text)
    model = build_model(load_scenario(tmp_path / "scenario.yaml"))
    flooded = step(model, initial_state(model), StartOverload())
    assert Starve(OPERATOR) not in actions(model, flooded)
    assert SYSTEM_FLOWS_NOT_STARVED.check(model, flooded) is None


def test_its_relists_carry_its_own_credentials(tmp_path: Path) -> None:
    """An operator's reflectors list with its controller's identity, not as the API server's
    exempt loopback client (`system:apiserver`): APF classifies them as its reconciles."""
    model = _flooding(tmp_path, "{}")
    assert component_user(model, OPERATOR) == "system:kube-controller-manager"  # the recycler's `identity`
