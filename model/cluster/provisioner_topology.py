"""Where csi-provisioner puts a volume it provisions without a selected node (Immediate binding).

`kubernetes-csi/external-provisioner` `pkg/controller/topology.go` GenerateAccessibilityRequirements,
with the provisioner's `--immediate-topology` (default true) and a driver that reports
accessibility constraints (the GCE PD CSI driver, the model's `zonal` provisioner): the requisite
topologies are the class's `allowedTopologies` flattened (`flatten`: each OR of values distributed
over the AND of keys), else every topology of the cluster's nodes that carry the driver's topology
key (`aggregateTopologies`; the model's zonal driver uses `topology.kubernetes.io/zone`), sorted
(`topologyTerm.compare`) and deduplicated; the preferred list is that list rotated by
`getPVCNameHashAndIndexOffset(claim name)` — FNV-1 (32-bit) of the name, or, for a name ending in
`-<number>` (a StatefulSet's `<claim>-<set>-<ordinal>`), of the part between the last two dashes,
plus that number — so a StatefulSet's volumes go round the zones. The driver creates a zonal
volume in the first preferred topology, and the volume's node affinity is that topology
(GenerateVolumeNodeAffinity). No node with the key (and no allowedTopologies) leaves the volume
without affinity, as the model does for a zone-less scenario elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kubeprop.model.api.objects import Node

ZONE_LABEL = "topology.kubernetes.io/zone"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MAX_UINT32 = 0xFFFFFFFF

Term = tuple[tuple[str, str], ...]
"""A topology term: (key, value) segments sorted by key, then value (`topologyTerm.sort`)."""


def fnv1_32(text: str) -> int:
    """Go's `hash/fnv` New32 (FNV-1, not 1a) over the UTF-8 bytes of `text`."""
    value = _FNV_OFFSET
    for byte in text.encode():
        value = (value * _FNV_PRIME) & _MAX_UINT32
        value ^= byte
    return value


def _parse_uint32(text: str) -> int | None:
    """strconv.ParseUint(text, 10, 32): ASCII digits only, at most MaxUint32."""
    if not text or any(c not in "0123456789" for c in text):
        return None
    number = int(text)
    return number if number <= _MAX_UINT32 else None


def name_hash_and_index(name: str) -> tuple[int, int]:
    """getPVCNameHashAndIndexOffset (also `pkg/volume/util/util.go` in-tree): the hash of the
    claim's base name and its StatefulSet ordinal offset (0 when the name ends in no number)."""
    hashed, index = name, 0
    head, dash, tail = name.rpartition("-")
    ordinal = _parse_uint32(tail) if dash else None
    if ordinal is not None:
        index, hashed = ordinal, head
        if "-" in head:
            hashed = head.rpartition("-")[2]
    return fnv1_32(hashed), index


def flatten(allowed_topologies: Iterable[Any]) -> list[Term]:
    """`flatten`: each TopologySelectorTerm's OR of values distributed over its AND of keys, the
    terms OR'd together. A key with no values restarts the distribution, as upstream's loop does."""
    final: list[Term] = []
    for selector_term in allowed_topologies:
        old: list[list[tuple[str, str]]] = []
        for expression in selector_term.get("matchLabelExpressions", ()):
            key = str(expression.get("key", ""))
            new: list[list[tuple[str, str]]] = []
            for value in expression.get("values", ()):
                new += [[(key, str(value))]] if not old else [[*term, (key, str(value))] for term in old]
            old = new
        final += [tuple(sorted(term)) for term in old]
    return final


def _compare_key(term: Term) -> tuple[int, Term]:
    """topologyTerm.compare: shorter first, then segment by segment."""
    return len(term), term


def requisite(allowed_topologies: Sequence[Any], nodes: Iterable[Node]) -> list[Term]:
    """The requisite topologies, sorted and deduplicated (module docstring)."""
    if allowed_topologies:
        terms = flatten(allowed_topologies)
    else:
        terms = [((ZONE_LABEL, n.metadata.labels[ZONE_LABEL]),) for n in nodes if ZONE_LABEL in n.metadata.labels]
    return sorted(set(terms), key=_compare_key)


def immediate_zone(claim_name: str, allowed_topologies: Sequence[Any], nodes: Iterable[Node]) -> Term | None:
    """The first preferred topology for an Immediate claim named `claim_name`, or None when there
    is no topology to choose from."""
    terms = requisite(allowed_topologies, nodes)
    if not terms:
        return None
    hashed, index = name_hash_and_index(claim_name)
    return terms[((hashed + index) & _MAX_UINT32) % len(terms)]
