"""Scenario-file text the loader tests build their cases from: the header every scenario starts
with, and Deployment manifests."""

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
