"""A user's operator with an informer cache of its own (`kubeprop.model.controllers.processes`).

The scenario is trial21's (tests/model/data/own_cache): a "crash recycler" deletes a db pod whose
container restarted, by name, so that the StatefulSet makes a fresh one. Run as its own process
(`controllerCaches: {recycler: own}`) its pod cache lags the controller manager's, and a reconcile on
it can delete the fresh db-0 the StatefulSet controller made after the old one was gone. On the
controller manager's shared cache it cannot: the StatefulSet controller recreates db-0 only once
that cache saw the old one gone, and so did the recycler. With the UID precondition the stale
delete is refused (409) and the fresh pod lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.informers import components
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.processes import own_processes, process_of
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.state.actions import CrashComponent, CrashContainer, Deliver, Quiesce, RestartComponent, Tick
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "own_cache"
OPERATOR = "operator/recycler"
DB0 = ObjectKey("pods", "default", "db-0")


@pytest.fixture(autouse=True)
def recycler_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with user_folder(monkeypatch, DATA):
        yield


def _model(name: str, parameters: dict[str, object] | None = None) -> ClusterModel:
    return build_model(load_scenario(DATA / name), parameters=parameters)


def _db0(state: ClusterState) -> Pod | None:
    pod = state.store.objects.get(DB0)
    return pod if isinstance(pod, Pod) else None


def _restarted(pod: Pod | None) -> bool:
    return pod is not None and any(cs.restart_count > 0 for cs in pod.status.container_statuses)


def _ready(pod: Pod | None) -> bool:
    return pod is not None and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def _fresh_deleted(state: ClusterState) -> bool:
    """The user's property: a db pod whose containers never restarted is being deleted."""
    pod = _db0(state)
    return (pod is not None and pod.metadata.deletion_timestamp is not None and bool(pod.status.container_statuses)
            and all(cs.restart_count == 0 for cs in pod.status.container_statuses))


Held = Callable[[ClusterState, object], bool]


def _run(model: ClusterModel, state: ClusterState, held: Held, until: Callable[[ClusterState], bool],
         limit: int = 300) -> ClusterState:
    """Take the first enabled action `held` does not hold back (no Quiesce, no fault but the one
    container crash, as soon as db-0 is Ready; time only when nothing else is left) until `until` holds."""
    for _ in range(limit):
        if until(state):
            return state
        crash_now = state.faults.container_crash == 0 and _ready(_db0(state))
        enabled = actions(model, state)
        chosen = next((a for a in enabled if not isinstance(a, Tick | Quiesce) and not held(state, a)
                       and isinstance(a, CrashContainer) == crash_now), None)
        chosen = chosen or next((a for a in enabled if isinstance(a, Tick)), None)
        assert chosen is not None, "nothing left to take"
        state = step(model, state, chosen)
    raise AssertionError("limit reached")


def _recycler(act: object) -> bool:
    return isinstance(act, Reconcile) and act.controller == "recycler"


def _operator_delivery(act: object) -> bool:
    return isinstance(act, Deliver) and act.component == OPERATOR


def _stale_schedule(model: ClusterModel) -> ClusterState:
    """The schedule of the hazard: the recycler sees db-0 restarted and reconciles only after the
    kubelet reported on db-0 again, its cache still before that report; it deletes db-0; the report
    then reaches its cache (enqueueing db-0 again), and it reconciles only once the StatefulSet's
    fresh db-0 runs on a node — on a cache that still shows the old, restarted pod."""
    state = initial_state(model)
    # 1. until the recycler's cache shows db-0 restarted, its reconciles wait (and so does the
    # readiness probe of the restarted container: the kubelet reports the restart first)
    state = _run(model, state, lambda s, a: _recycler(a) or (_probe(a) and s.faults.container_crash == 1),
                 lambda s: _restarted(model_view(model, s)))
    # 2. its cache waits too, until the kubelet wrote db-0's status again
    state = _run(model, state, lambda s, a: _recycler(a) or _operator_delivery(a), lambda s: _behind(model, s))
    # 3. the recycler deletes db-0 from its cache (the new report not in it yet)
    state = _run(model, state, lambda s, a: not _recycler(a), lambda s: _db0(s) is not None
                 and _db0(s).metadata.deletion_timestamp is not None)  # type: ignore[union-attr]
    # 4. the report reaches its cache: db-0 queued again
    state = _run(model, state, lambda s, a: not _operator_delivery(a),
                 lambda s: "default/db-0" in s.controllers["recycler"].queue)
    cached = model_view(model, state)
    assert cached is not None and _restarted(cached) and cached.metadata.deletion_timestamp is None
    # 5. the rest of the cluster goes on: the old db-0 goes, the fresh one is created and runs
    state = _run(model, state, lambda s, a: _recycler(a) or _operator_delivery(a), _fresh_running)
    # 6. the recycler reconciles db-0 from its stale cache
    assert Reconcile("recycler", "default/db-0") in actions(model, state)
    return step(model, state, Reconcile("recycler", "default/db-0"))


def _probe(act: object) -> bool:
    return type(act).__name__ == "ProbeResult"


def _behind(model: ClusterModel, state: ClusterState) -> bool:
    """The store holds a newer db-0, not being deleted, than the recycler's cache."""
    pod, cached = _db0(state), model_view(model, state)
    return (pod is not None and cached is not None and pod.metadata.deletion_timestamp is None
            and pod.metadata.resource_version != cached.metadata.resource_version)


def _fresh_running(state: ClusterState) -> bool:
    """The StatefulSet's fresh db-0 runs: its containers never restarted and have a status."""
    pod = _db0(state)
    return pod is not None and not _restarted(pod) and bool(pod.status.container_statuses)


def model_view(model: ClusterModel, state: ClusterState) -> Pod | None:
    """db-0 as the recycler's own cache holds it."""
    pod = state.informers[process_of(model, "recycler")].get(DB0)
    return pod if isinstance(pod, Pod) else None


def test_the_operator_runs_with_a_cache_of_its_own() -> None:
    model = _model("scenario.yaml")
    assert own_processes(model) == (OPERATOR,) and process_of(model, "statefulset") == CONTROLLER_MANAGER
    assert OPERATOR in components(model)
    state = initial_state(model)
    assert sorted(state.informers[OPERATOR].resources) == ["pods"]  # its watches only
    shared = _model("scenario-shared.yaml")
    assert own_processes(shared) == () and OPERATOR not in initial_state(shared).informers


def test_a_stale_own_cache_deletes_the_fresh_pod() -> None:
    state = _stale_schedule(_model("scenario.yaml"))
    assert _fresh_deleted(state)


def test_the_uid_precondition_keeps_the_fresh_pod() -> None:
    state = _stale_schedule(_model("scenario-fixed.yaml"))
    pod = _db0(state)
    assert pod is not None and not _restarted(pod) and pod.metadata.deletion_timestamp is None
    assert not _fresh_deleted(state)


def test_on_the_shared_cache_the_schedule_cannot_be_followed() -> None:
    """Without a cache of its own the recycler reads the controller manager's (`model_view` is that
    cache then): no delivery of its own can be held back while the StatefulSet controller acts, so
    the schedule stalls where the recycler's cache would have to stay behind the store."""
    model = _model("scenario-shared.yaml")
    assert process_of(model, "recycler") == CONTROLLER_MANAGER
    with pytest.raises(AssertionError, match=r"nothing left to take|limit reached"):
        _stale_schedule(model)


def test_the_operator_crashes_and_restarts_on_its_own() -> None:
    budgeted = _model("scenario.yaml")
    state = initial_state(budgeted)
    assert OPERATOR in _crashable(budgeted)
    down = step(budgeted, state, CrashComponent(OPERATOR))
    assert OPERATOR not in down.informers and "recycler" in down.controllers
    assert not any(_recycler(a) or _operator_delivery(a) for a in actions(budgeted, down))
    assert down.informers[CONTROLLER_MANAGER] is state.informers[CONTROLLER_MANAGER]
    up = step(budgeted, down, RestartComponent(OPERATOR))
    assert sorted(up.informers[OPERATOR].resources) == ["pods"]
    cm_down = step(budgeted, state, CrashComponent(CONTROLLER_MANAGER))
    assert cm_down.controllers["recycler"] is state.controllers["recycler"]
    assert cm_down.informers[OPERATOR] is state.informers[OPERATOR]


def _crashable(model: ClusterModel) -> tuple[str, ...]:
    from kubeprop.model.cluster.faults import crashable

    return crashable(model)


def test_bad_cache_choices_are_problems_of_the_scenario(tmp_path: Path) -> None:
    """`controllerCaches` values and names, and the parameter, are checked at load: all at once."""
    text = (DATA / "scenario.yaml").read_text().replace(
        "controllerCaches: {recycler: own}",
        "controllerCaches: {recycler: mine, stranger: own}\nparameters: {userControllerCache: private}")
    bad = _beside_manifests(tmp_path, text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(bad)
    messages = "\n".join(str(p) for p in raised.value.problems)
    assert "controllerCaches.recycler" in messages and "'mine'" in messages
    assert "no controller 'stranger'" in messages
    assert "userControllerCache" in messages and "private" in messages


def test_check_refuses_a_bad_cache_choice_with_exit_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    text = (DATA / "scenario.yaml").read_text().replace("{recycler: own}", "{recycler: separate}")
    bad = _beside_manifests(tmp_path, text)
    done = subprocess.run([sys.executable, "-m", "kubeprop.properties.cli", "validate", str(bad)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(DATA)}, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "controllerCaches.recycler" in done.stdout + done.stderr and "Traceback" not in done.stderr


def _beside_manifests(folder: Path, text: str) -> Path:
    """`text` as a scenario file in `folder`, with a copy of the recycler's manifests beside it."""
    import shutil

    shutil.copytree(DATA / "manifests", folder / "manifests")
    path = folder / "scenario.yaml"
    path.write_text(text)
    return path
