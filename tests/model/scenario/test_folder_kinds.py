"""A user's manifests folder with kinds beyond the control plane's behaviour: PriorityClasses
load as real objects, Ingress / IngressClass / NetworkPolicy are stored only (and named), and the
kinds whose absence would change the check are refused, each with its reason, all at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubeprop.model.api.manifests import ManifestError, parse_manifests
from kubeprop.model.api.objects import Ingress, IngressClass, NetworkPolicy, ObjectKey, Pod, PriorityClass
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.bootstrap import bootstrap
from kubeprop.model.scenario.load import ScenarioError, load_scenario

DATA = Path(__file__).parents[1] / "data" / "kinds"


def test_stored_folder_loads_and_bootstraps() -> None:
    scenario = load_scenario(DATA / "stored")
    kinds = [type(m.obj) for m in scenario.objects]
    assert PriorityClass in kinds and Ingress in kinds and IngressClass in kinds and NetworkPolicy in kinds
    assert scenario.stored_only == ("IngressClass nginx", "Ingress default/web", "NetworkPolicy default/allow-web")
    boot = bootstrap(scenario)
    assert not boot.rejected, [o.response.message for o in boot.rejected]
    policy = boot.store.get(ObjectKey("networkpolicies.networking.k8s.io", "default", "allow-web"))
    assert isinstance(policy, NetworkPolicy)
    assert policy.spec.policy_types == ("Ingress",)  # SetDefaults_NetworkPolicy
    ingress = boot.store.get(ObjectKey("ingresses.networking.k8s.io", "default", "web"))
    assert isinstance(ingress, Ingress) and ingress.metadata.generation == 1


def test_stored_folder_pods_get_their_class_priority() -> None:
    model = build_model(load_scenario(DATA / "stored"))
    state = fair_run(model, initial_state(model)).state
    pods = [p for p in state.store.list("pods", "default") if isinstance(p, Pod)]
    assert len(pods) == 2
    assert {(p.spec.priority_class_name, p.spec.priority) for p in pods} == {("web-critical", 1000)}
    assert all(p.spec.node_name for p in pods)


def test_refused_kinds_are_reported_at_once_with_their_reasons() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(DATA / "refused")
    problems = caught.value.problems
    assert [(p.line, p.field) for p in problems] == [(n, "kind") for n in (3, 7, 11, 15, 19, 23)]
    assert all(" is not modelled: the model " in p.message for p in problems)
    by_line = {p.line: p.message for p in problems}
    assert by_line[3].startswith("MutatingWebhookConfiguration (admissionregistration.k8s.io/v1) is not modelled: "
                                 "the model calls no admission webhooks")
    assert "write it as a ReplicaSet" in by_line[15]
    assert "calls no admission webhooks" in by_line[23]
    assert "stores no ResourceQuota" in by_line[7]


def test_other_versions_of_a_refused_kind_are_refused_alike() -> None:
    text = "apiVersion: node.k8s.io/v1beta1\nkind: RuntimeClass\nmetadata: {name: x}\n"
    with pytest.raises(ManifestError, match=r"RuntimeClass \(node\.k8s\.io/v1beta1\) is not modelled"):
        parse_manifests(text, "runtime.yaml")


def test_a_kind_nobody_knows_keeps_the_generic_message() -> None:
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    with pytest.raises(ManifestError, match=r"unknown kind Widget \(example\.com/v1\); known kinds: .*PriorityClass"):
        parse_manifests(text, "widget.yaml")


def test_a_scenario_file_among_manifests_says_how_to_check_it() -> None:
    """A fifth-trial user kept two scenario files in one folder and ran `kubeprop check FOLDER`: the
    folder is read as manifests, and 'unknown kind Scenario' did not say what to do."""
    text = "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmetadata: {name: s}\n"
    with pytest.raises(ManifestError, match=r"a kubeprop Scenario file among manifests: check it on its own "
                                            r"\(kubeprop check FILE\), or name it scenario.yaml"):
        parse_manifests(text, "scenario-a.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ("kind: Ingress\nmetadata: {name: w, namespace: default}\nspec: {ingressClassName: nginx}\n",
     "spec: Invalid value: null: either `defaultBackend` or `rules` must be specified"),
    ("kind: IngressClass\nmetadata: {name: c}\nspec: {}\n", "spec.controller: Required value"),
    ("kind: NetworkPolicy\nmetadata: {name: n, namespace: default}\nspec: {policyTypes: [Sideways]}\n",
     'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"'),
    ("kind: NetworkPolicy\nmetadata: {name: n, namespace: default}\nspec: {policyTypes: [Ingress, Egress, Ingress]}\n",
     "may not specify more than two policyTypes"),
])
def test_stored_only_kinds_get_the_cheap_upstream_checks(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "obj.yaml").write_text("apiVersion: networking.k8s.io/v1\n" + text)
    scenario = load_scenario(tmp_path)
    rejected = bootstrap(scenario).rejected
    assert len(rejected) == 1
    assert message in rejected[0].response.message


def test_stored_only_kinds_reject_unknown_spec_fields() -> None:
    text = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: w, namespace: default}\n"
            "spec: {backend: {serviceName: web}}\n")
    with pytest.raises(ManifestError, match=re.escape("spec.backend: unknown field; valid fields are: "
                                                      "defaultBackend, ingressClassName, rules, tls")):
        parse_manifests(text, "ing.yaml")
