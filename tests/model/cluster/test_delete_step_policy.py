"""A `delete` step without `propagationPolicy` sends Background, as kubectl always sends its
`--cascade` (default background: `staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go`
`options.PropagationPolicy = &o.CascadingStrategy`). The model used to send none, so an object's
`orphan` finalizer decided (`store.go` shouldOrphanDependents: an explicit policy first, then the
finalizers): the audit's StatefulSet with `finalizers: [orphan]` left its pod running where
upstream's garbage collector deletes it, and `wait --for=delete` on that pod hung."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_text import workload_head

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.workload import _requests
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel

ORPHANING = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default, "
             "finalizers: [orphan]}\ndata: {a: '1'}\n")
KEY = ObjectKey("configmaps", "default", "cfg")


def _model(tmp: Path, policy: str) -> ClusterModel:
    (tmp / "m").mkdir()
    (tmp / "m" / "cfg.yaml").write_text(ORPHANING)
    flag = f", propagationPolicy: {policy}" if policy else ""
    (tmp / "scenario.yaml").write_text(workload_head("policy") + f"  - delete: {{kind: ConfigMap, name: cfg{flag}}}\n")
    return build_model(load_scenario(tmp / "scenario.yaml"))


@pytest.mark.parametrize(("policy", "sent"), [("", "Background"), ("Background", "Background"),
                                               ("Foreground", "Foreground"), ("Orphan", "Orphan")])
def test_the_delete_carries_kubectls_cascade(tmp_path: Path, policy: str, sent: str) -> None:
    model = _model(tmp_path, policy)
    (request,) = _requests(model, initial_state(model), 0)
    assert not isinstance(request, str) and request.verb == "delete" and request.propagation_policy == sent


def test_kubectls_default_overrides_an_orphan_finalizer(tmp_path: Path) -> None:
    """Background drops the `orphan` finalizer (`deletionFinalizersForGarbageCollection`): with no
    other finalizer the object goes at once, where the finalizer used to keep it for the GC."""
    model = _model(tmp_path, "")
    state = step(model, initial_state(model), UserStep(0))
    assert state.store.get(KEY) is None


def test_an_explicit_orphan_keeps_the_finalizer(tmp_path: Path) -> None:
    model = _model(tmp_path, "Orphan")
    state = step(model, initial_state(model), UserStep(0))
    kept = state.store.get(KEY)
    assert kept is not None and kept.metadata.finalizers == ("orphan",) and kept.metadata.deletion_timestamp is not None
