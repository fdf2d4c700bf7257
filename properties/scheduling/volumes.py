"""VolumeBinding for the scheduling checks: what the model's own plug-in
(`kubeprop.model.scheduler.volumebinding`) says of a pod's claims in a store, shared by the
properties that judge scheduling (`schedulable-pods-bound`, `scheduler-decisions-sound`) and by
`kubeprop schedule`, so none of them places a pod on a node its volumes refuse.

Upstream (`pkg/scheduler/framework/plugins/volumebinding/volume_binding.go`): PreFilter refuses a
pod on every node, UnschedulableAndUnresolvable, when a claim is missing, being deleted or Lost
(podHasPVCs) or when a claim is not fully bound and Immediate or pre-bound by `volumeName`
(`binder.go` GetPodVolumeClaims: "pod has unbound immediate PersistentVolumeClaims"); Filter
(`binder.go` FindPodVolumes, checkBoundClaims) refuses each node a bound claim's volume's
nodeAffinity does not match ("node(s) had volume node affinity conflict"), and, for an unbound
WaitForFirstConsumer claim, each node with neither a free matching volume nor a provisioner.
VolumeRestrictions (`pkg/scheduler/framework/plugins/volumerestrictions/volume_restrictions.go`,
`kubeprop.model.scheduler.volumerestrictions`) refuses every node to a pod naming a ReadWriteOncePod
claim another pod already uses ("node has pod using PersistentVolumeClaim with the same name and
ReadWriteOncePod access mode"): at most one pod per such claim (`StoredVolumes.claim_users`).

`kubeprop schedule` reads the scenario as given, before any controller ran: a StatefulSet pod's
missing claims are created as its controller would, before the pod (`_with_claims`); the claims
the PV controller binds at once are taken as bound (`_Bound`: the scheduler waits for that), an
Immediate claim a provisioner the model runs serves (the cluster class's, or that of a class the
scenario ships: `kubeprop check`'s rule, `kubeprop.model.cluster.provisioner`) to the volume it
would create (in the zone csi-provisioner would pick: `provisioner.volume_for_choice`, the model's
own function); an Immediate claim left unbound that no provisioner serves stays so
(`_never_bound`), and its pod is refused every node; a pod whose claims the plug-in still refuses
for a while only is left to the caller to name
(`ScenarioVolumes.unsettled`), its claims ignored. Pending pods that share a ReadWriteOncePod claim
no bound pod uses: the first in key order may take it, the others are refused (model choice: which
one wins is the scheduling queue's order; at most one of them is placed either way).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import attrs

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.core import PersistentVolume, PersistentVolumeClaim
from kubeprop.model.api.objects import ApiObject, Node, ObjectKey
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.server import ApiServerConfig, Request, handle
from kubeprop.model.api.storage import (
    CSI_DRIVERS,
    CSIDriver,
    StorageClass,
    claim_class,
    cluster_storage_class,
    find_storage_class,
    is_delay_binding,
    provisioner_choice,
)
from kubeprop.model.api.storage import RESOURCE as STORAGE_CLASSES
from kubeprop.model.api.store import Store
from kubeprop.model.api.volume import (
    ANN_BIND_COMPLETED,
    ANN_SELECTED_NODE,
    CLAIMS,
    VOLUMES,
    claim_ref,
    find_best_match,
    is_bound_to_claim,
    is_fully_bound,
    volume_mismatch,
)
from kubeprop.model.cluster.provisioner import provisions_without_node, volume_for_choice
from kubeprop.model.controllers.podutil import CONTROLLER_MANAGER_USER
from kubeprop.model.controllers.statefulset_pod import claim_objects, parent_and_ordinal
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.decide import pod_key
from kubeprop.model.scheduler.framework import VolumeCheck
from kubeprop.model.scheduler.nodeinfo import build_node_infos
from kubeprop.model.scheduler.volumebinding import (
    UNBOUND_IMMEDIATE,
    PodVolumes,
    claim_names,
    node_affinity_matches,
    pod_volumes,
)
from kubeprop.model.scheduler.volumerestrictions import RWOP_CONFLICT, claim_users
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.model.state.informer import ObjectView
from kubeprop.properties.scheduling.encode_records import SharedClaim

__all__ = ["ScenarioVolumes", "StoredVolumes", "refusals", "scenario_volumes", "stored_volumes"]


@attrs.frozen
class StoredVolumes(PodVolumes):
    """VolumeBinding's and VolumeRestrictions' PreFilter state for a pod, with the keys of the pods
    that already use one of its ReadWriteOncePod claims (`claim_users`: VolumeRestrictions refuses
    it every node while there is one)."""

    claim_users: tuple[str, ...] = ()


def stored_volumes(model: ClusterModel, store: ObjectView, pod: Pod) -> PodVolumes | None:
    """The volume plug-ins' PreFilter state for `pod` in the claims, volumes and StorageClasses of
    `store`, with the cluster's default class (`defaultStorageClass`), and the bound pods of the store
    that use one of its ReadWriteOncePod claims; None when it names no claim."""
    found = pod_volumes(store, pod, str(model.parameter("defaultStorageClass")))
    if found is None or found.prefilter is not None or not found.read_write_once_pod:
        return found
    nodes = [n for n in store.list("nodes") if isinstance(n, Node)]
    infos = build_node_infos(nodes, (p for p in store.list("pods") if isinstance(p, Pod)))
    return StoredVolumes(**attrs.asdict(found, recurse=False),
                         claim_users=claim_users(pod, found.read_write_once_pod, infos))


def refusals(found: PodVolumes | None, nodes: Iterable[Node]) -> FrozenMap[str, str]:
    """The nodes the volume plug-ins refuse (node name → reason): every node when VolumeBinding's
    PreFilter rejects the pod or, next, VolumeRestrictions' Filter (another pod uses a
    ReadWriteOncePod claim of it), else the nodes VolumeBinding's Filter rejects; none for a pod
    without claims."""
    if found is None:
        return EMPTY
    if found.prefilter is not None:
        return FrozenMap({n.metadata.name: found.prefilter for n in nodes})
    if isinstance(found, StoredVolumes) and found.claim_users:
        return FrozenMap({n.metadata.name: RWOP_CONFLICT for n in nodes})
    return FrozenMap({n.metadata.name: ", ".join(reasons) for n in nodes if (reasons := found.reasons(n))})


@attrs.frozen
class _Bound:
    """`store` as the scheduler sees it once the PV controller has run over it once (`pkg/controller/
    volume/persistentvolume/pv_controller.go`): each new free volume (phase Pending, as the API
    server creates it) Available (syncVolume); a claim
    pre-bound by `volumeName` bound to that volume when it names the claim, or is free and satisfies
    it (syncUnboundClaim, checkVolumeSatisfyClaim); any other unbound Immediate claim bound to its best
    free match (findBestMatchForClaim), or, with none, to the volume the cluster's provisioner
    would create for it (`provisioner.volume_for_choice`: an Immediate claim of a `zonal` class in
    the zone csi-provisioner picks by its name). Binding writes the volume's claimRef and the claim's
    volumeName and bind-completed. Model choice: claims are bound in key order (upstream's is the
    controller's queue's), which matters only where two claims want one volume."""

    store: ObjectView
    changed: dict[ObjectKey, ApiObject]

    @classmethod
    def of(cls, store: ObjectView, cluster_class: str) -> _Bound:
        changed: dict[ObjectKey, ApiObject] = {}
        for pv in store.list(VOLUMES):
            if isinstance(pv, PersistentVolume) and pv.spec.claim_ref is None and pv.status.phase in ("", "Pending"):
                changed[_key(pv)] = evolve(pv, status=evolve(pv.status, phase="Available"))
        view = cls(store, changed)
        classes, builtin = list(store.list(STORAGE_CLASSES)), cluster_storage_class(cluster_class)
        for claim in store.list(CLAIMS):
            if not isinstance(claim, PersistentVolumeClaim) or is_fully_bound(claim) \
                    or claim.metadata.deletion_timestamp is not None:
                continue
            if claim.spec.volume_name:
                volume: ApiObject | None = view.get(ObjectKey(VOLUMES, "", claim.spec.volume_name))
                fits = isinstance(volume, PersistentVolume) and (
                    is_bound_to_claim(volume, claim) or (volume.spec.claim_ref is None
                                                         and volume_mismatch(volume, claim) is None))
                found = volume if fits and isinstance(volume, PersistentVolume) else None
            elif not is_delay_binding(claim_class(claim.spec.storage_class_name), classes, builtin):
                found = find_best_match(claim, view.list(VOLUMES), False) \
                    or _provisioned(view, claim, classes, builtin, cluster_class)
            else:
                continue
            if found is not None:
                annotations = claim.metadata.annotations.set(ANN_BIND_COMPLETED, "yes")
                changed[_key(claim)] = evolve(claim, metadata=evolve(claim.metadata, annotations=annotations),
                                              spec=evolve(claim.spec, volume_name=found.metadata.name))
                changed[_key(found)] = evolve(found, spec=evolve(found.spec, claim_ref=claim_ref(claim)),
                                              status=evolve(found.status, phase="Bound"))
        return view

    def get(self, key: ObjectKey) -> ApiObject | None:
        return self.changed[key] if key in self.changed else self.store.get(key)

    def list(self, resource: str, namespace: str = "") -> Iterator[ApiObject]:
        for obj in self.store.list(resource, namespace):
            key = _key(obj) if resource in (CLAIMS, VOLUMES) else None
            yield self.changed[key] if key is not None and key in self.changed else obj

    def last_sync_resource_version(self, resource: str) -> str:
        return self.store.last_sync_resource_version(resource)

    def has_synced(self, resource: str) -> bool:
        return self.store.has_synced(resource)

    def awaits_relist(self, resource: str) -> bool:
        return self.store.awaits_relist(resource)


def _provisioned(view: ObjectView, claim: PersistentVolumeClaim, classes: Sequence[ApiObject],
                 builtin: StorageClass | None, cluster_class: str) -> PersistentVolume | None:
    """The volume a provisioner the model runs creates for the unbound Immediate `claim`
    (`_provisions_unselected`), as `kubeprop check`'s provisioner creates it
    (`provisioner.volume_for_choice`, the claim's class's CSIDriver object read as there): for a
    `zonal` or CSI driver's class, in the zone csi-provisioner picks by the claim's name
    (`provisioner_topology.immediate_zone`); None when none would."""
    cls = find_storage_class(classes, builtin, claim_class(claim.spec.storage_class_name))
    if cls is None or not _provisions_unselected(claim, cls, cluster_class):
        return None
    nodes = [n for n in view.list("nodes") if isinstance(n, Node)]
    driver = view.get(ObjectKey(CSI_DRIVERS, "", cls.provisioner))
    return volume_for_choice(cluster_class, nodes, claim, cls, driver if isinstance(driver, CSIDriver) else None)


def _provisions_unselected(claim: PersistentVolumeClaim, cls: StorageClass, cluster_class: str) -> bool:
    """Whether the model's provisioners provision `claim` of class `cls` with no selected node, as
    `provisioner.wanted` decides for an Immediate claim: its class's provisioner is one the model
    runs (`storage.provisioner_choice`: the cluster class's, and that of any class the scenario
    ships, taken as a CSI driver the user installed; not `kubernetes.io/no-provisioner`), it
    provisions without a node (`provisioner.provisions_without_node`: not rancher.io/local-path),
    and the claim has no `selector` (which every provisioner refuses)."""
    return claim.spec.selector is None and provisioner_choice(cls.provisioner, cluster_class) is not None \
        and provisions_without_node(cls.provisioner)


def _key(obj: ApiObject) -> ObjectKey:
    """A claim's or a volume's key."""
    if isinstance(obj, PersistentVolumeClaim):
        return ObjectKey(CLAIMS, obj.metadata.namespace, obj.metadata.name)
    return ObjectKey(VOLUMES, "", obj.metadata.name)


@attrs.frozen
class ScenarioVolumes:
    """`scenario_volumes`' answer: the plug-in's state for each pod with claims it can judge (pod
    key → state), and each pod whose claims it leaves out (pod key → the PreFilter's message); the
    cluster's default class (`defaultStorageClass`), whose provisioner provisions."""

    checks: FrozenMap[str, PodVolumes] = EMPTY
    unsettled: FrozenMap[str, str] = EMPTY
    cluster_class: str = ""
    drivers: FrozenMap[str, CSIDriver] = EMPTY
    """The scenario's CSIDriver objects by name (a driver with `attachRequired: false` makes volumes
    without topology: `provisioner.volume_for_choice`)."""

    def problem_volumes(self, nodes: Sequence[Node]) -> FrozenMap[str, FrozenMap[str, str]]:
        """The refusals of every judged pod on `nodes`, as `Problem.volumes` holds them."""
        out = {key: found for key, check in self.checks.items() if (found := refusals(check, nodes))}
        return FrozenMap(out)

    def shared_claims(self, nodes: Sequence[Node]) -> tuple[SharedClaim, ...]:
        """The unbound WaitForFirstConsumer claims without a selected node that two judged pods or
        more name (`SharedClaim`), in key order, each with where its one volume would reach for each
        node its first pod may be assumed onto (`_reach`)."""
        users: dict[tuple[str, str], list[str]] = {}
        claims: dict[tuple[str, str], tuple[PersistentVolumeClaim, PodVolumes]] = {}
        for key, check in self.checks.sorted_items():
            if check.prefilter is not None:
                continue
            for claim in check.to_bind:
                if ANN_SELECTED_NODE not in claim.metadata.annotations:
                    name = (claim.metadata.namespace, claim.metadata.name)
                    users.setdefault(name, []).append(key)
                    claims.setdefault(name, (claim, check))
        out = []
        for name, pods in sorted(users.items()):
            if len(pods) > 1:
                claim, check = claims[name]
                out.append(SharedClaim(f"the claim {name[0]}/{name[1]} (one volume for all its pods)", tuple(pods),
                                       _reach(claim, check, nodes, self.cluster_class, self.drivers)))
        return tuple(out)

    def reserve(self, checks: Mapping[str, VolumeCheck], key: str, node: Node) -> Mapping[str, VolumeCheck]:
        """The other pods' VolumeBinding state once `key` is placed on `node` (one-at-a-time
        scheduling, `workloads.greedy`): each claim its Reserve decided on (`PodVolumes.decisions`)
        bound to its one volume — the free volume matched there, or the one the cluster's provisioner
        makes for that selected node (`_volume_for`) — so a pod sharing the claim goes where that
        volume reaches. Upstream the assume cache first holds such a pod to the node itself
        (`kubeprop.model.scheduler.volumeassume`) until the binding lands and the claim's update
        retries it against the volume: where it ends up is where the volume reaches. A claim no
        provisioner serves stays as it was."""
        found = checks.get(key)
        if not isinstance(found, PodVolumes) or found.prefilter is not None or not found.to_bind:
            return checks
        pairs, claims = found.decisions(node)
        made = {(c.metadata.namespace, c.metadata.name): evolve(v, spec=evolve(v.spec, claim_ref=claim_ref(c)))
                for c, v in pairs}
        for claim in claims:
            volume = _volume_for(claim, found, node, self.cluster_class, self.drivers)
            if volume is not None:
                made[(claim.metadata.namespace, claim.metadata.name)] = volume
        out = dict(checks)
        for other, check in checks.items():
            if other != key and isinstance(check, PodVolumes) and check.prefilter is None and any(
                    (c.metadata.namespace, c.metadata.name) in made for c in check.to_bind):
                names = {(c.metadata.namespace, c.metadata.name) for c in check.to_bind} & set(made)
                taken = {made[n].metadata.name: made[n] for n in names}
                out[other] = attrs.evolve(
                    check, bound=(*check.bound, *(made[n] for n in sorted(names))),
                    to_bind=tuple(c for c in check.to_bind if (c.metadata.namespace, c.metadata.name) not in names),
                    volumes=tuple(taken.get(v.metadata.name, v) for v in check.volumes))
        return out


def _volume_for(claim: PersistentVolumeClaim, check: PodVolumes, node: Node, cluster_class: str,
                drivers: Mapping[str, CSIDriver]) -> PersistentVolume | None:
    """The volume a provisioner the model runs makes for `claim` with `node` selected, as `kubeprop
    check`'s does (`storage.provisioner_choice`, `provisioner.volume_for_choice`: a class the
    scenario ships is served by its CSI driver, in the selected node's zone), or None when no
    provisioner serves its class or the claim has a `selector`."""
    cls = find_storage_class(check.classes, check.builtin, claim_class(claim.spec.storage_class_name))
    if cls is None or claim.spec.selector is not None or provisioner_choice(cls.provisioner, cluster_class) is None:
        return None
    selected = claim.metadata.annotations.set(ANN_SELECTED_NODE, node.metadata.name)
    chosen = evolve(claim, metadata=evolve(claim.metadata, annotations=selected))
    return volume_for_choice(cluster_class, [node], chosen, cls, drivers.get(cls.provisioner))


def _reach(claim: PersistentVolumeClaim, check: PodVolumes, nodes: Sequence[Node], cluster_class: str,
           drivers: Mapping[str, CSIDriver]) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """For each node the claim's first pod may be assumed onto, the nodes the claim's one volume
    then reaches, anchors grouped by reach: the free volume FindPodVolumes matches there (a static
    binding), else the volume the cluster's provisioner makes for that selected node
    (`provisioner.volume_for_choice`, a shipped class's CSI driver included); every node where no
    provisioner serves it (its pods are refused there by the Filter anyway)."""
    everywhere = frozenset(n.metadata.name for n in nodes)
    groups: dict[frozenset[str], set[str]] = {}
    for node in nodes:
        volume = find_best_match(claim, check.volumes, True, fits_node=lambda v, n=node: node_affinity_matches(v, n)) \
            or _volume_for(claim, check, node, cluster_class, drivers)
        reach = everywhere if volume is None else frozenset(
            n.metadata.name for n in nodes if node_affinity_matches(volume, n))
        groups.setdefault(reach, set()).add(node.metadata.name)
    return tuple(sorted(((frozenset(a), r) for r, a in groups.items()), key=lambda d: sorted(d[0])))


def scenario_volumes(store: Store, pods: Iterable[Pod], cluster_class: str, api: ApiServerConfig,
                     now: int = 0) -> ScenarioVolumes:
    """VolumeBinding's verdicts for `pods` in the scenario as given (`store`, the cluster's default
    class `cluster_class`): a StatefulSet pod's claims created first if missing (`_with_claims`),
    claims bound as the PV controller binds them (`_Bound`); a pod the PreFilter still refuses for a while
    only is unsettled, its claims ignored."""
    chosen = sorted(pods, key=pod_key)
    view = _Bound.of(_with_claims(store, chosen, api, now), cluster_class)
    checks: dict[str, PodVolumes] = {}
    unsettled: dict[str, str] = {}
    users = _read_write_once_pod_users(view)
    for pod in chosen:
        found = pod_volumes(view, pod, cluster_class) if claim_names(pod) else None
        if found is None:
            continue
        if found.prefilter is None and found.read_write_once_pod:
            claims = [(pod.metadata.namespace, name) for name in sorted(found.read_write_once_pod)]
            holders = tuple(sorted({users[c] for c in claims if c in users}))
            if not holders:
                users.update({c: pod_key(pod) for c in claims})
            found = StoredVolumes(**attrs.asdict(found, recurse=False), claim_users=holders)
        if found.prefilter is None or (found.prefilter == UNBOUND_IMMEDIATE and _never_bound(view, pod, cluster_class)):
            checks[pod_key(pod)] = found
        else:
            unsettled[pod_key(pod)] = found.prefilter
    drivers = {d.metadata.name: d for d in view.list(CSI_DRIVERS) if isinstance(d, CSIDriver)}
    return ScenarioVolumes(FrozenMap(checks), FrozenMap(unsettled), cluster_class, FrozenMap(drivers))


def _read_write_once_pod_users(view: ObjectView) -> dict[tuple[str, str], str]:
    """(namespace, claim) → the key of a bound, non-terminal pod of `view` that names the claim, for
    every claim it names (VolumeRestrictions reads the access modes later, per pending pod)."""
    nodes = [n for n in view.list("nodes") if isinstance(n, Node)]
    users: dict[tuple[str, str], str] = {}
    for ni in build_node_infos(nodes, (p for p in view.list("pods") if isinstance(p, Pod))):
        for p in ni.pods:
            for name in claim_names(p):
                users.setdefault((p.metadata.namespace, name), pod_key(p))
    return users


def _with_claims(store: Store, pods: Iterable[Pod], api: ApiServerConfig, now: int) -> Store:
    """`store` with the claims of each StatefulSet pod that are not stored yet, created as the
    StatefulSet controller creates them before the pod (`pkg/controller/statefulset/
    stateful_pod_control.go` createPersistentVolumeClaims: `statefulset_pod.claim_objects`, sent as
    the controller manager through the model's API server `api`, whose admission gives a claim
    without a class the default one). A create the server refuses leaves the claim missing."""
    for pod in pods:
        owner = pod.metadata.controller_ref()
        if owner is None or owner.kind != "StatefulSet":
            continue
        sts = store.get(ObjectKey("statefulsets.apps", pod.metadata.namespace, owner.name))
        parent, ordinal = parent_and_ordinal(pod.metadata.name)
        if not isinstance(sts, StatefulSet) or parent != sts.metadata.name:
            continue
        for claim in claim_objects(sts, ordinal):
            if store.get(ObjectKey(CLAIMS, claim.metadata.namespace, claim.metadata.name)) is None:
                request = Request(verb="create", user=CONTROLLER_MANAGER_USER, resource=CLAIMS,
                                  namespace=claim.metadata.namespace, obj=claim)
                result = handle(store, request, api, now)
                store = result.store if result.response.ok else store
    return store


def _never_bound(view: ObjectView, pod: Pod, cluster_class: str) -> bool:
    """Whether every claim of `pod` that keeps the PreFilter refusing it (not bound, Immediate, once
    the PV controller has bound what it can: `_Bound`) stays so: no provisioner serves it (no
    class, a missing one, or `kubernetes.io/no-provisioner`), or it is pre-bound by `volumeName`
    (a pre-bound claim is never provisioned), or its provisioner never provisions it without a
    selected node (rancher.io/local-path) or with a `selector` (`_provisions_unselected`); the PV
    controller leaves it Pending ("no persistent volumes available for this claim"), so the
    scheduler refuses the pod until someone creates a volume."""
    classes, builtin = list(view.list(STORAGE_CLASSES)), cluster_storage_class(cluster_class)
    for name in claim_names(pod):
        claim = view.get(ObjectKey(CLAIMS, pod.metadata.namespace, name))
        if not isinstance(claim, PersistentVolumeClaim) or is_fully_bound(claim) or claim.spec.volume_name:
            continue
        class_name = claim_class(claim.spec.storage_class_name)
        found = find_storage_class(classes, builtin, class_name) if class_name else None
        if found is not None and _provisions_unselected(claim, found, cluster_class):
            return False
    return True
