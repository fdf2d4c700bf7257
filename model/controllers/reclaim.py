"""The PV controller's reclaimVolume: what happens to a Released volume, by its reclaim policy.

Upstream: `pkg/controller/volume/persistentvolume/pv_controller.go` reclaimVolume,
deleteVolumeOperation, doDeleteVolume, findDeletablePlugin (with HonorPVReclaimPolicy, on by
default since v1.31 and GA in v1.33), and the hostPath plug-in's deleter
(`pkg/volume/hostpath/host_path.go` hostPathDeleter.Delete).

- **Retain**: nothing; the volume stays Released, bound to the claim that is gone, until an
  administrator deletes it or clears its `claimRef`.
- **Delete**: findDeletablePlugin, then the deleter:
  - a volume annotated `pv.kubernetes.io/provisioned-by` with an external provisioner's name (not
    `kubernetes.io/…`), or a CSI volume: "External deleter for volume requested, ignoring": the
    volume stays Released until its external provisioner deletes it (the cluster's provisioner:
    the environment action `DeleteVolume`, `kubeprop.model.cluster.provisioner`);
  - a hostPath volume: the hostPath deleter removes its directory only when its path matches
    `/tmp/.+` (an unanchored match, as Go's `regexp.MatchString`), and the controller then DELETEs
    the volume; any other path fails: phase Failed with the message `host_path deleter only
    supports /tmp/.+ but received provided <path>`;
  - any other volume (local, nfs): no deletable plug-in: phase Failed, `error getting deleter
    volume plugin for volume "<name>": no deletable volume plugin matched`.
  A Failed volume is tried again at each sync, which fails the same way (no write: its phase and
  message are unchanged).
- **Recycle** (deprecated): loading refuses a manifest that asks for it
  (`kubeprop.model.api.core.PersistentVolumeSpec`); a volume a scenario's own controller creates
  with it stays Released: the recycler pod is not modelled.

Model choices: upstream's delete runs as an asynchronous operation that reads the volume again
(a live GET, isVolumeReleased); the model sends its request in the same sync, from the same cached
volume. The in-tree plug-ins named `kubernetes.io/…` in `provisioned-by` are found by the volume's
source, as for a volume without the annotation (the model provisions nothing in-tree).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kubeprop.model.api.core import PersistentVolume, PersistentVolumeStatus
from kubeprop.model.api.server import Request
from kubeprop.model.api.volume import ANN_PROVISIONED_BY
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.evolve import evolve

HOST_PATH_DELETABLE = re.compile("/tmp/.+")
"""The hostPath deleter's test of the path (`regexp.MustCompile("/tmp/.+")`, matched anywhere)."""


def external_deleter(volume: PersistentVolume) -> bool:
    """findDeletablePlugin returns no plug-in: an external provisioner's volume, or a CSI volume."""
    provisioner = volume.metadata.annotations.get(ANN_PROVISIONED_BY, "")
    if provisioner and not provisioner.startswith("kubernetes.io/"):
        return True
    return volume.spec.csi is not None


def delete_failure(volume: PersistentVolume) -> str | None:
    """doDeleteVolume's error for a volume with an in-tree deleter, or None when it deletes it."""
    source = volume.spec.host_path
    if source is not None:
        path = str(source.get("path", "")) if isinstance(source, Mapping) else ""
        if HOST_PATH_DELETABLE.search(path):
            return None
        return f"host_path deleter only supports /tmp/.+ but received provided {path}"
    name = volume.metadata.name
    return f'error getting deleter volume plugin for volume "{name}": no deletable volume plugin matched'


def reclaim_volume(volume: PersistentVolume, written: bool) -> list[Request]:
    """reclaimVolume for a Released (or Failed) volume; `written`: an earlier request of the same
    sync updated the volume, so a status write carries no resourceVersion (the controller sends
    the object that write returned)."""
    if volume.spec.persistent_volume_reclaim_policy != "Delete" or external_deleter(volume):
        return []
    failure = delete_failure(volume)
    if failure is None:
        return [Request(verb="delete", user=CONTROLLER_MANAGER_USER, resource="persistentvolumes",
                        name=volume.metadata.name)]
    if volume.status.phase == "Failed" and volume.status.message == failure:
        return []
    failed = evolve(volume, status=PersistentVolumeStatus(phase="Failed", message=failure))
    if written:
        failed = evolve(failed, metadata=evolve(failed.metadata, resource_version=""))
    return [Request(verb="update-status", user=CONTROLLER_MANAGER_USER, obj=failed)]
