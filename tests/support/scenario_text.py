"""Scenario-file text tests build their cases from: the header every scenario starts with, a
one-node scenario with workload steps (`workload_head`), and the manifests several tests apply (a
Deployment, a StatefulSet, a bare Pod, a custom kind)."""

HEAD = "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\n"
"""The first two lines of every scenario file."""


def deployment_head(replicas: int, namespace: str = "") -> str:
    """A Deployment `web` manifest whose pods are labelled app: web, up to its pod template's `spec`,
    which the caller appends (indented by four spaces); with `namespace`, the metadata names it."""
    metadata = f"{{name: web, namespace: {namespace}}}" if namespace else "{name: web}"
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {metadata}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
"""


APP = deployment_head(1) + "    spec: {containers: [{name: web, image: web:1}]}\n"
"""A Deployment `web` with one replica: the smallest manifest a scenario can apply."""


def statefulset_db(namespace: str, pod_spec: str = "{containers: [{name: db, image: db:1}]}") -> str:
    """A StatefulSet `db` manifest (one replica, service db, pods labelled app: db) in `namespace`,
    its pod template's spec written as `pod_spec` (YAML flow style)."""
    return f"""apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: {namespace}}}
spec:
  serviceName: db
  replicas: 1
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec: {pod_spec}
"""


ONE_WORKER = "topology: {nodes: [{name: worker-1, allocatable: {cpu: '2', memory: 2Gi, pods: '20'}}]}\n"
"""A scenario's topology of one node, worker-1, with room for a few small pods."""


def workload_head(name: str) -> str:
    """A scenario `name` that applies the manifests of folder `m` as admin (a cluster-admin) on one
    node (`ONE_WORKER`), up to `workload:`, whose steps the caller appends (indented by two spaces)."""
    return (f"{HEAD}metadata: {{name: {name}}}\nmanifests: [m]\n{ONE_WORKER}"
            "users: [{name: admin, clusterRoles: [cluster-admin]}]\napplyAs: admin\nworkload:\n")


def solo_pod(cpu: str = "100m") -> str:
    """A bare Pod `default/solo` (grace period 30 s) whose one container requests `cpu` and 64Mi."""
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: solo, namespace: default}}
spec:
  terminationGracePeriodSeconds: 30
  containers: [{{name: c, image: app:1, resources: {{requests: {{cpu: {cpu}, memory: 64Mi}}}}}}]
"""


def widgets_crd(short_names: str = "") -> str:
    """A namespaced custom kind Widget (widgets.example.com, any fields), with `short_names` (a YAML
    flow list) if given, then a Widget `default/w1`."""
    names = "{plural: widgets, singular: widget, kind: Widget" + (f", shortNames: {short_names}" if short_names else "")
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.example.com}}
spec:
  group: example.com
  scope: Namespaced
  names: {names}}}
  versions: [{{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object,
    x-kubernetes-preserve-unknown-fields: true}}}}}}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {{name: w1, namespace: default}}
spec: {{size: 1}}
"""
