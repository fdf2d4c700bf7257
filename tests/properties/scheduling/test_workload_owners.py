"""`kubeprop schedule`'s pods are owned as the model's controllers own theirs
(`properties/scheduling/workloads.py` desired_pods): a Deployment's by the new ReplicaSet its
controller creates (`pkg/controller/deployment/sync.go` getNewReplicaSet: `<deployment>-<hash>`,
pod-template-hash on the pods, the Deployment as the ReplicaSet's controller), not by the
Deployment itself as before; explanations still name the Deployment."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs
from cluster_harness import settled

from kubeprop.model.api.admission import AdmissionPlugin, AdmissionRequest
from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.controllers.deployment_util import POD_TEMPLATE_HASH_LABEL
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.scheduling.workloads import desired_pods

WEB = Path(__file__).resolve().parents[2] / "model" / "data" / "scale" / "scenario.yaml"


def _owned(pods: Iterable[Pod]) -> set[tuple[str, str, str]]:
    """(controller kind, controller name, pod-template-hash) of each pod."""
    out = set()
    for pod in pods:
        ref = pod.metadata.controller_ref()
        assert ref is not None
        out.add((ref.kind, ref.name, pod.metadata.labels.get(POD_TEMPLATE_HASH_LABEL, "")))
    return out


def test_a_deployments_pods_are_owned_by_the_replicaset_its_controller_creates() -> None:
    model, after = settled(WEB)
    made = [r for r in after.store.list("replicasets.apps") if isinstance(r, ReplicaSet)]
    assert len(made) == 1
    running = [p for p in after.store.list("pods") if isinstance(p, Pod)]
    start = initial_state(build_model(load_scenario(WEB)))
    desired = desired_pods(start.store, model.api, {"web": 3})
    assert len(desired.pending) == 3 and desired.refused == {}
    expected = {("ReplicaSet", made[0].metadata.name, made[0].metadata.labels[POD_TEMPLATE_HASH_LABEL])}
    assert _owned(desired.pending) == _owned(running) == expected
    web = start.store.get(ObjectKey("deployments.apps", "default", "web"))
    assert isinstance(web, Deployment)
    owners = {ref.uid for p in desired.pending if (ref := p.metadata.controller_ref()) is not None}
    assert len(owners) == 1 and web.metadata.uid not in owners
    assert dict(desired.workloads) == {owners.pop(): "Deployment default/web"}


def test_a_refused_replicaset_leaves_its_pods_uncreated() -> None:
    """An admission plug-in that refuses ReplicaSets: the Deployment's pods never exist (upstream
    its controller's create fails, and no ReplicaSet creates them), each listed as refused."""
    def no_replicasets(req: AdmissionRequest) -> str | None:
        return "no ReplicaSets here" if isinstance(req.obj, ReplicaSet) else None

    model = build_model(load_scenario(WEB))
    api = attrs.evolve(model.api, admission=(*model.api.admission, AdmissionPlugin("NoRS", validate=no_replicasets)))
    desired = desired_pods(initial_state(model).store, api, {"web": 2})
    assert desired.pending == ()
    assert sorted(desired.refused) == ["default/web-0", "default/web-1"]
    assert all(m.startswith("its ReplicaSet is refused: 403 Forbidden: ") and "no ReplicaSets here" in m
               for m in desired.refused.values())
