"""`spec.os` and kubelet admission's OS checks (`pkg/kubelet/lifecycle/predicate.go` Admit,
rejectPodAdmissionBasedOnOSSelector / rejectPodAdmissionBasedOnOSField): the scheduler ignores the
field, the kubelet refuses a pod whose OS is not its own — Failed, reason PodOSNotSupported (or
PodOSSelectorNodeLabelDoesNotMatch for the pod label `kubernetes.io/os`)."""

from __future__ import annotations

import attrs
from cluster_harness import make_model

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.codec import decode, encode
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodOS, PodSpec
from kubeprop.model.api.validation import validate_create, validate_update
from kubeprop.model.kubelet import component as kl
from kubeprop.model.state.cluster import ClusterModel

from .test_kubelet import NODE, POD, api_pod, bound_state, runtime, step, web_pod


def os_pod(os_name: str | None, label: str | None = None) -> Pod:
    pod = web_pod()
    spec = attrs.evolve(pod.spec, os=None if os_name is None else PodOS(name=os_name))
    labels = {} if label is None else {"kubernetes.io/os": label}
    return attrs.evolve(pod, spec=spec, metadata=attrs.evolve(pod.metadata, labels=labels))


def windows_nodes(model: ClusterModel) -> ClusterModel:
    """The same model whose topology nodes are declared `kubernetes.io/os: windows`."""
    topology = model.scenario.spec.topology
    nodes = tuple(attrs.evolve(n, labels={**n.labels, "kubernetes.io/os": "windows"}) for n in topology.nodes)
    spec = attrs.evolve(model.scenario.spec, topology=attrs.evolve(topology, nodes=nodes))
    return attrs.evolve(model, scenario=attrs.evolve(model.scenario, spec=spec))


def reported(model: ClusterModel, pod: Pod) -> tuple[str, str, str]:
    state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
    state = step(model, state, kl.SyncPodStatus(NODE, POD))
    got = api_pod(state)
    assert got is not None
    return got.status.phase, got.status.reason, got.status.message


def test_a_windows_pod_on_a_linux_node_is_rejected_with_pod_os_not_supported() -> None:
    model = make_model()
    assert reported(model, os_pod("windows")) == (
        "Failed", "PodOSNotSupported", "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS")


def test_a_pod_of_the_node_os_or_without_os_runs() -> None:
    model = make_model()
    for pod in (os_pod("linux"), os_pod(None), os_pod("linux", label="linux")):
        state = step(model, bound_state(model, pod), kl.StartPod(NODE, POD))
        assert runtime(state).rejected is None and runtime(state).containers[0].running
    assert reported(windows_nodes(model), os_pod("windows"))[0] == "Running"
    assert reported(windows_nodes(model), os_pod("linux"))[1] == "PodOSNotSupported"


def test_the_os_label_of_the_pod_is_checked_first() -> None:
    """rejectPodAdmissionBasedOnOSSelector reads the pod's labels (not its node selector) and comes
    before the OS field check."""
    model = make_model()
    assert reported(model, os_pod("windows", label="windows")) == (
        "Failed", "PodOSSelectorNodeLabelDoesNotMatch",
        "Pod was rejected: Failed to admit pod as the `kubernetes.io/os` label doesn't match node label")


def test_the_field_decodes_and_absent_leaves_fingerprints_alone() -> None:
    spec = decode(PodSpec, {"containers": [{"name": "a", "image": "b"}], "os": {"name": "windows"}}, ())
    assert spec.os == PodOS(name="windows") and encode(spec)["os"] == {"name": "windows"}
    plain = PodSpec(containers=(Container(name="a", image="b"),))
    assert "os" not in encode(plain)
    assert fingerprint(plain) == "81fbd5dc83bc9a7f"  # as before the field existed


def _pod(os_name: str | None) -> Pod:
    container = Container(name="a", image="b", image_pull_policy="IfNotPresent")
    return Pod(metadata=ObjectMeta(name="web", namespace="default"),
               spec=PodSpec(containers=(container,), restart_policy="Always",
                            os=None if os_name is None else PodOS(name=os_name)))


def test_validation_names_linux_or_windows_and_the_field_is_immutable() -> None:
    assert validate_create(_pod("linux")) == [] and validate_create(_pod(None)) == []
    assert [str(e) for e in validate_create(_pod("darwin"))] == [
        'spec.os: Unsupported value: "darwin": supported values: "linux", "windows"']
    assert [str(e) for e in validate_create(_pod(""))] == ["spec.os.name: Required value: cannot be empty"]
    assert validate_update(_pod("windows"), _pod("linux")) != []
