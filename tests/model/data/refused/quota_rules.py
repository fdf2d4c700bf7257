"""A ResourceQuota on namespace team-a that admits one pod (`kubeprop.model.api.admission.resource_quota`):
the ReplicaSet controller's create of the second pod is refused with 403 for good."""

from kubeprop.model.api.admission import AdmissionPlugin, resource_quota


def one_pod() -> AdmissionPlugin:
    """At most one pod in team-a (`hard: {pods: "1"}`)."""
    return resource_quota("team-a", {"pods": "1"})
