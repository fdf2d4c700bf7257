"""Hypothesis strategies for API objects and API server requests.

For property tests of kubeprop itself and of users' own controllers: mostly-valid objects (so
they reach the interesting stages of the pipeline) with a controlled share of invalid ones, and
arbitrary requests for robustness properties ("the API server answers every request with a
status, never an exception"). Importable without pytest.
"""

from __future__ import annotations

from hypothesis import strategies as st

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import (
    ApiObject,
    ConfigMap,
    Container,
    Deployment,
    DeploymentSpec,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ResourceRequirements,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import VERBS, Request
from kubeprop.model.api.strategies import dns1123_labels, labels
from kubeprop.model.frozen import FrozenMap

__all__ = ["api_objects", "configmaps", "containers", "deployments", "pods", "requests", "services"]

NAMESPACES = ("default", "kube-system", "team-a")


def _names() -> st.SearchStrategy[str]:
    return st.one_of(dns1123_labels(max_size=12), st.sampled_from(["", "Bad_Name", "-x", "a" * 300]))


def resource_lists() -> st.SearchStrategy[FrozenMap[str, Quantity]]:
    """cpu/memory maps with small exact quantities (occasionally negative: invalid)."""
    cpu = st.integers(min_value=-10, max_value=4000).map(Quantity.from_milli)
    memory = st.integers(min_value=0, max_value=4096).map(lambda mi: Quantity.parse(f"{mi}Mi"))
    return st.fixed_dictionaries({}, optional={"cpu": cpu, "memory": memory}).map(FrozenMap)


def containers() -> st.SearchStrategy[Container]:
    """Containers with a name, an image and resource requests/limits."""
    return st.builds(
        Container,
        name=st.one_of(dns1123_labels(max_size=10), st.just("")),
        image=st.sampled_from(["nginx:1.27", "busybox", "app:latest", ""]),
        resources=st.builds(ResourceRequirements, requests=resource_lists(), limits=resource_lists()),
    )


def _metadata(namespaced: bool = True) -> st.SearchStrategy[ObjectMeta]:
    return st.builds(
        ObjectMeta,
        name=_names(),
        namespace=st.sampled_from(NAMESPACES) if namespaced else st.just(""),
        labels=labels(),
    )


def pods() -> st.SearchStrategy[Pod]:
    """Pods with one to three containers, sometimes pre-bound to a node."""
    spec = st.builds(
        PodSpec,
        containers=st.lists(containers(), min_size=0, max_size=3).map(tuple),
        node_name=st.sampled_from(["", "", "worker-1"]),
        restart_policy=st.sampled_from(["", "Always", "Never", "Sometimes"]),
        termination_grace_period_seconds=st.one_of(st.none(), st.integers(-5, 60)),
    )
    return st.builds(Pod, metadata=_metadata(), spec=spec)


def deployments() -> st.SearchStrategy[Deployment]:
    """Deployments whose selector usually matches the template labels."""

    def build(meta: ObjectMeta, replicas: int | None, app: str, matching: bool, container: Container) -> Deployment:
        selector = LabelSelector(match_labels=FrozenMap({"app": app}))
        template_labels = {"app": app if matching else app + "-other"}
        template = PodTemplateSpec(ObjectMeta(labels=template_labels), PodSpec(containers=(container,)))
        return Deployment(metadata=meta, spec=DeploymentSpec(replicas=replicas, selector=selector, template=template))

    return st.builds(
        build, _metadata(), st.one_of(st.none(), st.integers(-1, 20)), dns1123_labels(max_size=8),
        st.booleans(), containers(),
    )


def configmaps() -> st.SearchStrategy[ConfigMap]:
    """ConfigMaps with a few data keys."""
    data = st.dictionaries(st.sampled_from(["a", "b.conf", "bad key"]), st.text(max_size=5), max_size=3)
    return st.builds(ConfigMap, metadata=_metadata(), data=data.map(FrozenMap))


def services() -> st.SearchStrategy[Service]:
    """ClusterIP or headless Services selecting `app`."""
    spec = st.builds(
        ServiceSpec,
        selector=st.just(FrozenMap({"app": "web"})),
        ports=st.lists(st.builds(ServicePort, port=st.integers(0, 70000)), max_size=2).map(tuple),
        cluster_ip=st.sampled_from(["", "None"]),
    )
    return st.builds(Service, metadata=_metadata(), spec=spec)


def api_objects() -> st.SearchStrategy[ApiObject]:
    """Any of the object strategies above."""
    return st.one_of(pods(), deployments(), configmaps(), services())


def requests(users: tuple[str, ...] = ("admin", "developer", "nobody")) -> st.SearchStrategy[Request]:
    """Arbitrary API requests: any verb, user, resource, name, object and options."""
    return st.builds(
        Request,
        verb=st.sampled_from(VERBS),
        user=st.sampled_from(users),
        resource=st.sampled_from(["", "pods", "deployments.apps", "configmaps", "services", "widgets.example.com"]),
        namespace=st.sampled_from(("", *NAMESPACES)),
        name=st.one_of(st.just(""), dns1123_labels(max_size=8)),
        obj=st.one_of(st.none(), api_objects()),
        node_name=st.sampled_from(["", "worker-1", "worker-9"]),
        dry_run=st.booleans(),
        grace_period_seconds=st.one_of(st.none(), st.integers(-2, 30)),
        propagation_policy=st.sampled_from([None, "Background", "Foreground", "Orphan"]),
    )
