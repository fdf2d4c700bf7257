"""The ServiceAccount admission plug-in (`kubeprop.model.api.admission_serviceaccount`) against
upstream `plugin/pkg/admission/serviceaccount/admission.go` (Admit / Validate / getServiceAccount).

Trial 9 finding M1: a Deployment whose pods name a ServiceAccount that does not exist was accepted
and its rollout completed; upstream every pod create is 403, the ReplicaSet reports FailedCreate
and the rollout never completes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.admission import DEFAULT_PLUGINS, SERVICE_ACCOUNT
from kubeprop.model.api.core import ServiceAccount
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Namespace, Pod, PodSpec
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.evolve import evolve
from kubeprop.properties.cli.main import main


def _pod(name: str, account: str = "", namespace: str = "default", **annotations: str) -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace=namespace, annotations=annotations),
               spec=PodSpec(containers=(Container(name="main", image="app:1"),), service_account_name=account))


def _create(api: ApiHarness, store: Store, obj: object) -> tuple[Store, Response]:
    return api.send(store, Request(verb="create", user="admin", obj=obj))  # type: ignore[arg-type]


def test_the_plugin_is_default_enabled_right_after_namespace_lifecycle() -> None:
    """AllOrderedPlugins (`pkg/kubeapiserver/options/plugins.go`): NamespaceLifecycle, then ServiceAccount."""
    names = [p.name for p in DEFAULT_PLUGINS]
    assert names[:2] == ["NamespaceLifecycle", "ServiceAccount"]
    assert SERVICE_ACCOUNT in DEFAULT_PLUGINS


def test_a_pod_naming_a_missing_service_account_is_forbidden() -> None:
    api = ApiHarness(bare_scenario())
    store, response = _create(api, api.base, _pod("web", "web-sa"))
    assert response.code == 403 and response.reason == "Forbidden"
    assert response.message == ('pods "web" is forbidden: error looking up service account default/web-sa: '
                                'serviceaccount "web-sa" not found')
    assert not [p for p in store.list("pods", "default") if p.metadata.name == "web"]


def test_a_pod_naming_an_existing_service_account_is_created() -> None:
    api = ApiHarness(bare_scenario())
    store, response = _create(api, api.base, ServiceAccount(metadata=ObjectMeta(name="web-sa", namespace="default")))
    assert response.ok, response
    _, response = _create(api, store, _pod("web", "web-sa"))
    assert response.ok, response
    assert isinstance(response.obj, Pod) and response.obj.spec.service_account_name == "web-sa"


def test_an_account_of_another_namespace_does_not_count() -> None:
    api = ApiHarness(bare_scenario())
    store = api.ok(api.base, Request(verb="create", user="admin", obj=Namespace(metadata=ObjectMeta(name="other"))))
    store = api.ok(store, Request(verb="create", user="admin",
                                  obj=ServiceAccount(metadata=ObjectMeta(name="web-sa", namespace="other"))))
    _, response = _create(api, store, _pod("web", "web-sa"))
    assert response.code == 403 and "default/web-sa" in response.message


@pytest.mark.parametrize("account", ["", "default"])
def test_a_pod_naming_no_account_runs_as_default_which_is_always_present(account: str) -> None:
    """A pod naming no account is checked as `default`, which is treated as present in every
    namespace, a brand-new one too; the model stores the field as written (the module docstring
    says why both)."""
    api = ApiHarness(bare_scenario())
    store = api.ok(api.base, Request(verb="create", user="admin", obj=Namespace(metadata=ObjectMeta(name="fresh"))))
    for namespace in ("default", "fresh"):
        _, response = _create(api, store, _pod("web", account, namespace))
        assert response.ok, response
        assert isinstance(response.obj, Pod) and response.obj.spec.service_account_name == account


def test_mirror_pods_may_not_name_an_account() -> None:
    api = ApiHarness(bare_scenario())
    mirror = {"kubernetes.io/config.mirror": "abc"}
    _, response = _create(api, api.base, _pod("static", "default", **mirror))
    assert response.code == 403 and response.message.endswith("a mirror pod may not reference service accounts")
    _, response = _create(api, api.base, _pod("static", **mirror))
    assert response.ok and isinstance(response.obj, Pod) and response.obj.spec.service_account_name == ""


def test_admit_refuses_before_the_name_is_generated() -> None:
    """Admit is mutating: it refuses before generateName is resolved, so the 403 names the prefix
    (`admission.NewForbidden` → extractResourceName falls back to GetGenerateName), as a
    ReplicaSet's pods are named in their FailedCreate (audit 10)."""
    api = ApiHarness(bare_scenario())
    pod = Pod(metadata=ObjectMeta(generate_name="web-7d8b-", namespace="default"),
              spec=PodSpec(containers=(Container(name="main", image="app:1"),), service_account_name="web-sa"))
    store, response = _create(api, api.base, pod)
    assert response.code == 403
    assert response.message == ('pods "web-7d8b-" is forbidden: error looking up service account default/web-sa: '
                                'serviceaccount "web-sa" not found')
    assert store.revision == api.base.revision


def test_mutating_admission_refuses_before_validation() -> None:
    """An invalid pod naming a missing account: upstream's mutating admission runs before the
    strategy's validation (`create.go`: Admit, then `BeforeCreate`), so 403, not 422."""
    api = ApiHarness(bare_scenario())
    invalid = _pod("web", "web-sa")
    invalid = evolve(invalid, spec=evolve(invalid.spec, containers=(Container(name="main", image=""),)))
    _, response = _create(api, api.base, invalid)
    assert response.code == 403 and "serviceaccount \"web-sa\" not found" in response.message
    _, response = _create(api, api.base, evolve(invalid, spec=evolve(invalid.spec, service_account_name="")))
    assert response.code == 422


APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web-sa
      containers:
      - name: web
        image: nginx:1.27
        resources: {requests: {cpu: 100m, memory: 64Mi}}
"""


def test_the_trial_deployment_never_completes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The ReplicaSet's creates are refused (FailedCreate): deployments-complete is violated on the
    fair run (it held before); with the ServiceAccount among the manifests it holds."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "app.yaml").write_text(APP)
    code = main(["check", str(folder), "--engine", "around", "--budget", "10", "--property", "deployments-complete",
                 "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "deployments-complete  VIOLATED" in out
    (folder / "sa.yaml").write_text(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web-sa, namespace: default}\n")
    code = main(["check", str(folder), "--engine", "around", "--budget", "10", "--property", "deployments-complete",
                 "--out", str(tmp_path / "out2")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
