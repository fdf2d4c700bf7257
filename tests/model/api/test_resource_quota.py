"""The ResourceQuota admission plug-in on pods (`kubeprop.model.api.admission.resource_quota`)
against upstream: `pkg/quota/v1/evaluator/core/pods.go` (usage, Constraints, QuotaV1Pod),
`staging/src/k8s.io/component-helpers/resource/helpers.go` (PodRequests / PodLimits) and
`staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go` (CheckRequest's
messages). Trial 5 finding M2."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.admission import DEFAULT_PLUGINS, resource_quota
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec, PodStatus
from kubeprop.model.api.pod import ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.quota import charged, pod_limits, pod_requests
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store


def harness(hard: dict[str, str]) -> ApiHarness:
    scenario = bare_scenario()
    return ApiHarness(attrs.evolve(scenario, admission=(*DEFAULT_PLUGINS, resource_quota("default", hard))))


def container(name: str, requests: dict[str, str] | None = None, limits: dict[str, str] | None = None,
              **fields: Any) -> Container:
    res = ResourceRequirements(requests={k: Quantity.parse(v) for k, v in (requests or {}).items()},
                               limits={k: Quantity.parse(v) for k, v in (limits or {}).items()})
    return Container(name=name, image="app:1", resources=res, **fields)


def pod(name: str, *containers: Container, init: tuple[Container, ...] = (), **spec: Any) -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace="default"),
               spec=PodSpec(containers=containers, init_containers=init, **spec))


def create(api: ApiHarness, store: Store, obj: Pod, now: int = 1) -> tuple[Store, Response]:
    return api.send(store, Request(verb="create", user="admin", obj=obj), now)


def test_init_containers_count_as_the_max_of_init_and_app_containers() -> None:
    """The trial's init-heavy pod: PodRequests = max(init 2, app 100m) = 2 > the quota's 1."""
    api = harness({"requests.cpu": "1", "pods": "10"})
    heavy = pod("init-heavy", container("main", {"cpu": "100m"}), init=(container("init", {"cpu": "2"}),))
    _, response = create(api, api.base, heavy)
    assert response.code == 403
    assert response.message == ('pods "init-heavy" is forbidden: exceeded quota: default-quota, requested: '
                                'requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1')


def test_pod_requests_add_sidecars_and_overhead_and_limits_take_overhead_only_where_set() -> None:
    sidecar = container("proxy", {"cpu": "200m"}, restart_policy="Always")
    spec = pod("p", container("main", {"cpu": "300m"}, {"cpu": "1"}),
               init=(sidecar, container("setup", {"cpu": "400m", "memory": "1Gi"})),
               overhead={"cpu": Quantity.parse("50m"), "memory": Quantity.parse("10Mi")}).spec
    # app 300m + sidecar 200m = 500m < setup 400m + the sidecar started before it = 600m; + 50m overhead
    assert pod_requests(spec) == {"cpu": Quantity.parse("650m"), "memory": Quantity.parse("1034Mi")}
    assert pod_limits(spec) == {"cpu": Quantity.parse("1050m")}  # no memory limit: no overhead added there


def test_a_pod_without_the_tracked_requests_is_refused_naming_the_containers() -> None:
    api = harness({"requests.cpu": "4", "limits.memory": "4Gi"})
    bare = pod("no-requests", container("main"), container("side", {"cpu": "1"}, {"memory": "1Gi"}),
               init=(container("init", {"cpu": "1"}),))
    _, response = create(api, api.base, bare)
    assert response.code == 403
    assert response.message.endswith("failed quota: default-quota: must specify limits.memory for: init,main; "
                                     "requests.cpu for: main")


@pytest.mark.parametrize(("key", "message"), [
    ("cpu", "requested: cpu=2, used: cpu=1, limited: cpu=2"),
    ("limits.cpu", "requested: limits.cpu=2, used: limits.cpu=1, limited: limits.cpu=2"),
])
def test_the_cpu_alias_and_limits_are_enforced(key: str, message: str) -> None:
    api = harness({key: "2"})
    store, response = create(api, api.base, pod("a", container("main", {"cpu": "1"}, {"cpu": "1"})))
    assert response.ok, response.message
    _, response = create(api, store, pod("b", container("main", {"cpu": "2"}, {"cpu": "2"})))
    assert response.code == 403 and response.message.endswith(message)


def test_a_zero_request_is_not_checked_against_a_full_quota() -> None:
    """CheckRequest drops zero usage (RemoveZeros): a pod asking for cpu 0 fits a spent quota."""
    api = harness({"requests.cpu": "1"})
    store, response = create(api, api.base, pod("a", container("main", {"cpu": "1"})))
    assert response.ok
    _, response = create(api, store, pod("b", container("main", {"cpu": "0"})))
    assert response.ok, response.message


def test_a_pod_past_its_deletion_grace_period_no_longer_counts() -> None:
    """QuotaV1Pod: a pod deleted with grace 30 at t=1 gets deletionTimestamp 31; it is charged until
    31 + 30 = 61 and not after, so its replacement is admitted from t=62 (the model charged it for
    as long as it was stored: a create refused that upstream admits)."""
    api = harness({"pods": "1"})
    store = api.ok(api.base, Request(verb="create", user="admin", obj=pod("old", container("main"),
                                                                          node_name="worker-1")))
    store = api.ok(store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="old"), 1)
    _, response = create(api, store, pod("new", container("main")), now=61)
    assert response.code == 403 and response.message.endswith("requested: pods=1, used: pods=1, limited: pods=1")
    _, response = create(api, store, pod("new", container("main")), now=62)
    assert response.ok, response.message


def test_terminal_pods_leave_pods_but_stay_in_count_pods() -> None:
    done = pod("done", container("main"))
    done = attrs.evolve(done, status=PodStatus(phase="Succeeded"))
    assert not charged(done, 0)
    api = harness({"pods": "1", "count/pods": "1"})
    store = api.base.put(done, "ADDED")[0]
    _, response = create(api, store, pod("next", container("main")))
    assert response.code == 403 and response.message.endswith(
        "requested: count/pods=1, used: count/pods=1, limited: count/pods=1")


def test_a_key_the_pod_plug_in_cannot_count_is_refused() -> None:
    with pytest.raises(ValueError, match="services: not a pod resource"):
        resource_quota("default", {"services": "2"})
