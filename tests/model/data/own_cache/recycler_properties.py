"""The user's property: the recycler never deletes a db pod that has not restarted (a fresh pod)."""
from kubeprop.model.api.objects import Pod
from kubeprop.properties.registry import Needs, safety


@safety("fresh-db-pods-not-deleted", "A db pod whose containers never restarted is not being deleted.",
        "team policy", needs=Needs(("pods",)))
def fresh_db_pods_not_deleted(model, state):
    for pod in state.store.list("pods", "default"):
        if not isinstance(pod, Pod) or pod.metadata.labels.get("app") != "db":
            continue
        if pod.metadata.deletion_timestamp is not None and pod.status.container_statuses \
                and all(cs.restart_count == 0 for cs in pod.status.container_statuses):
            return (f"fresh pod {pod.metadata.name} (uid {pod.metadata.uid}) is being deleted",
                    (f"Pod default/{pod.metadata.name}",))
    return None
