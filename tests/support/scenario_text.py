"""Scenario-file text the loader tests build their cases from: the header every scenario starts
with, and a one-replica Deployment manifest."""

HEAD = "apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\n"
"""The first two lines of every scenario file."""

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
"""
"""A Deployment `web` with one replica: the smallest manifest a scenario can apply."""
