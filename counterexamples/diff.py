"""What changed between two cluster states, as data (rendering lives in render.py / render_html.py).

A step's changes are grouped by subject: API objects (created, changed with a field-level diff
of their encoded form, deleted), each kubelet's actual pods and containers, each scheduler's and
controller's memory, and the cluster itself (clock, partitions, components down, faults spent, a
maintenance whose drain failed).
Cache lag — how many watch events each component has not yet received, per resource — is
reported whenever it changes. Summaries give one line per object for full-state views.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs

from kubeprop.model.api.objects import ApiObject, encode_object, kind_info
from kubeprop.model.api.pod import Pod
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.cluster.maintenance import maintenance_state
from kubeprop.model.controllers.daemonset_util import target_node_name
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.cluster import ClusterState

IGNORED_FIELDS = ("metadata.resourceVersion", "metadata.managedFields")
"""Paths left out of object diffs: they change on every write and say nothing on their own."""
MAX_FIELDS = 12

ChangeKind = Literal["created", "changed", "deleted"]


@attrs.frozen
class FieldChange:
    """One leaf field: its path and its value before and after (None = absent)."""

    path: str
    before: str | None
    after: str | None


@attrs.frozen
class Change:
    """One subject that changed in a step (an API object, a kubelet, a controller, the cluster)."""

    kind: ChangeKind
    subject: str
    summary: str = ""
    fields: tuple[FieldChange, ...] = ()


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Quantity):
        return str(value)
    return str(value)


LIST_KEYS: tuple[tuple[str, ...], ...] = (("name",), ("type",), ("key", "effect"), ("key",))
"""What names a list element in a path, first that the element has: a name (containers, ports,
volumes), a type (conditions, unique by type), a taint's key and effect (a Node's taints are unique
by the pair, `ValidateNodeTaints` in pkg/apis/core/validation/validation.go: a second taint of one
key with another effect is another taint, not a changed effect; a toleration with both reads the
same), a key alone. Two elements still named alike take their index too (`[name#1]`)."""


def _label(item: Any, index: int) -> tuple[str, tuple[str, ...]]:
    """How a list element is named in a path: (its `LIST_KEYS` values, `key:effect` for two,
    those attributes) when it has them, else (its index, ())."""
    for attrs_ in LIST_KEYS:
        values = [item.get(a) if isinstance(item, Mapping) else getattr(item, a, None) for a in attrs_]
        texts = [v for v in values if isinstance(v, str) and v]
        if len(texts) == len(attrs_):
            return ":".join(texts), attrs_
    return str(index), ()


def _labels(items: tuple[Any, ...] | list[Any]) -> list[tuple[str, tuple[str, ...]]]:
    """Each element's `_label`, those that two elements share with the element's index added
    (`env[HTTP_PORT#3]`): one path never stands for two elements."""
    labels = [_label(v, i) for i, v in enumerate(items)]
    seen = [label for label, _ in labels]
    return [(f"{label}#{i}", by) if by and seen.count(label) > 1 else (label, by)
            for i, (label, by) in enumerate(labels)]


_ZONE_KEY = re.compile(r"^(.*):\x00:(.*)$", re.DOTALL)
"""The node lifecycle controller's zone key, `region:\\x00:zone` (`utilnode.GetZoneKey`,
staging/src/k8s.io/component-helpers/node/topology/helpers.go; model/controllers/nodelifecycle_rules)."""


def readable_key(key: str) -> str:
    """A map key as a user reads it: a zone key (`_ZONE_KEY`) as its zone (`region/zone` where the
    node has a region too), any other key as it is."""
    zone = _ZONE_KEY.match(key)
    if zone is None:
        return key
    region, name = zone.groups()
    return f"{region}/{name}" if region else name


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Leaf paths of a value (attrs classes, FrozenMaps/dicts, tuples/lists) → their text, as
    `status.conditions[Ready].status`. Empty containers are left out, so they read as absent."""
    out: dict[str, str] = {}
    _flatten(value, prefix, out)
    return out


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Quantity)


def _join(prefix: str, name: str) -> str:
    if not _IDENT.match(name):
        return f"{prefix}[{name}]"
    return f"{prefix}.{name}" if prefix else name


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            if field.eq:
                _flatten(getattr(value, field.name), _join(prefix, field.name), out)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(v, _join(prefix, readable_key(str(k))), out)
    elif isinstance(value, tuple | list) and value and all(_scalar(v) for v in value):
        out[prefix] = "[" + ", ".join(_fmt(v) for v in value) + "]"
    elif isinstance(value, tuple | list):
        for v, (label, by) in zip(value, _labels(value), strict=True):
            inner: dict[str, str] = {}
            _flatten(v, f"{prefix}[{label}]", inner)
            for n, attr in enumerate(by):  # what the label says, while two fields are left to show (an
                if len(inner) > (1 if n == 0 else 2):  # element of two or more is one `added (…)` change)
                    inner.pop(_join(f"{prefix}[{label}]", attr), None)
            out.update(inner)
    elif isinstance(value, frozenset | set):
        if value:
            out[prefix] = "{" + ", ".join(sorted(_fmt(v) for v in value)) + "}"
    else:
        out[prefix] = _fmt(value)


def _element_prefixes(path: str) -> list[str]:
    """The prefixes of a path that end at a list or map element (`a[x]`, `a[x].b[y]`), shortest first."""
    return [path[:i + 1] for i, ch in enumerate(path) if ch == "]"]


def _collapse(added: dict[str, str], present: dict[str, str], word: str) -> tuple[dict[str, str], list[FieldChange]]:
    """Group the fields of whole elements that appear (or vanish) into one change each."""
    known = {p for key in present for p in _element_prefixes(key)}
    groups: dict[str, list[str]] = {}
    for key in added:
        element = next((p for p in _element_prefixes(key) if p not in known), None)
        groups.setdefault(element or key, []).append(key)
    rest: dict[str, str] = {}
    collapsed: list[FieldChange] = []
    for element, keys in groups.items():
        if len(keys) < 2:
            rest.update({k: added[k] for k in keys})
            continue
        shown = ", ".join(f"{k[len(element):].lstrip('.')}={added[k]}" for k in keys[:4])
        text = f"{word} ({shown}{', …' if len(keys) > 4 else ''})"
        collapsed.append(FieldChange(element, None, text) if word == "added" else FieldChange(element, text, None))
    return rest, collapsed


def field_diff(before: Any, after: Any, ignore: tuple[str, ...] = ()) -> tuple[FieldChange, ...]:
    """Leaf fields that differ between two values (by path); a list or map element that appears
    or vanishes as a whole is one change."""
    old, new = flatten(before), flatten(after)
    old = {k: v for k, v in old.items() if not k.startswith(ignore)}
    new = {k: v for k, v in new.items() if not k.startswith(ignore)}
    added, out_added = _collapse({k: v for k, v in new.items() if k not in old}, old, "added")
    removed, out_removed = _collapse({k: v for k, v in old.items() if k not in new}, new, "removed")
    out = [FieldChange(k, old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]]
    out += [FieldChange(k, None, v) for k, v in added.items()] + out_added
    out += [FieldChange(k, v, None) for k, v in removed.items()] + out_removed
    return tuple(sorted(out, key=lambda f: f.path))


def object_name(obj: ApiObject) -> str:
    """`Kind ns/name` (or `Kind name` for cluster-scoped objects)."""
    meta = obj.metadata
    where = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
    return f"{kind_info(obj).kind} {where}"


def _get(data: Any, *path: str) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, Mapping) else None
    return data


def _conditions(data: Mapping[str, Any]) -> str:
    conds = _get(data, "status", "conditions") or []
    return " ".join(f"{c.get('type')}={c.get('status')}" for c in conds if isinstance(c, Mapping))


def _unscheduled(obj: ApiObject) -> str:
    """'(unscheduled)', naming the node a daemon pod is for (its required node affinity on
    metadata.name, `daemonset_util.target_node_name`) when it has one."""
    target = target_node_name(obj) if isinstance(obj, Pod) else None
    return f"(unscheduled, for node {target})" if target else "(unscheduled)"


def summary(obj: ApiObject) -> str:
    """One line about an object: what matters about its kind (pod phase/node/readiness, node
    conditions and taints, workload replica counts, endpoint addresses)."""
    data = encode_object(obj)
    kind = data.get("kind")
    spec, status = data.get("spec") or {}, data.get("status") or {}
    deleting = " deleting" if _get(data, "metadata", "deletionTimestamp") is not None else ""
    if kind == "Pod":
        return (f"{status.get('phase', 'Pending')} on {spec.get('nodeName') or _unscheduled(obj)}"
                f" {_conditions(data)}{deleting}").strip()
    if kind == "Node":
        taints = ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in spec.get("taints", []))
        cordon = " unschedulable" if spec.get("unschedulable") else ""
        return f"{_conditions(data)}{cordon}" + (f" taints [{taints}]" if taints else "")
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        counts = " ".join(f"{k.removesuffix('Replicas') or 'replicas'}={v}" for k, v in status.items()
                          if k.endswith("eplicas"))
        return f"spec.replicas={spec.get('replicas')} {counts}{deleting}".strip()
    if kind == "Endpoints":
        ready = [_get(a, "targetRef", "name") or a.get("ip") for s in data.get("subsets", [])
                 for a in s.get("addresses", [])]
        waiting = [_get(a, "targetRef", "name") or a.get("ip") for s in data.get("subsets", [])
                   for a in s.get("notReadyAddresses", [])]
        return f"ready [{', '.join(ready)}] notReady [{', '.join(waiting)}]"
    if kind == "Service":
        selector = ", ".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items())
        return f"selector {selector or '(none)'}"
    return f"{_conditions(data)}{deleting}".strip()


def describe(obj: ApiObject) -> str:
    """`Kind ns/name: summary` (without the colon when there is nothing to summarise)."""
    text = summary(obj)
    return f"{object_name(obj)}: {text}" if text else object_name(obj)


def _object_changes(before: ClusterState, after: ClusterState) -> Iterator[Change]:
    old, new = before.store.objects, after.store.objects
    if old is new:
        return
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if a is b or a == b:
            continue
        if a is None and b is not None:
            yield Change("created", object_name(b), summary(b))
        elif b is None and a is not None:
            yield Change("deleted", object_name(a), summary(a))
        elif a is not None and b is not None:
            fields = field_diff(encode_object(a), encode_object(b), IGNORED_FIELDS)
            if fields:
                yield Change("changed", object_name(b), summary(b), fields)


def _map_changes(title: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is b or a == b:
            continue
        fields = field_diff(a, b)
        if fields:
            yield Change("changed", f"{title} {name}", "", fields)


CLUSTER_FIELDS = ("clock", "partitioned", "down", "heartbeat_lost", "armed_failures", "faults", "quiesced",
                  "workload_next")


def _cluster_view(state: ClusterState) -> dict[str, Any]:
    """The cluster fields shown as changes; an API server flood and an etcd backup as one line each;
    a failed maintenance as kubectl's message (`maintenance[node]`), while it lasts."""
    view = {f: getattr(state, f) for f in CLUSTER_FIELDS}
    for name, value in (("overload", state.overload), ("etcd_backup", state.etcd_backup)):
        if value is not None:
            view[name] = str(value)
    failed = maintenance_state(state).failed
    if failed:
        view["maintenance"] = dict(failed.sorted_items())
    return view


def changes(before: ClusterState, after: ClusterState) -> tuple[Change, ...]:
    """Everything that changed from `before` to `after`, API objects first."""
    out = list(_object_changes(before, after))
    out += _map_changes("kubelet", before.kubelets, after.kubelets)
    out += _map_changes("scheduler", before.schedulers, after.schedulers)
    out += _map_changes("controller", before.controllers, after.controllers)
    cluster = _cluster_view(before), _cluster_view(after)
    fields = field_diff(*cluster)
    if fields:
        out.append(Change("changed", "cluster", "", fields))
    return tuple(out)


def cache_lag(state: ClusterState) -> dict[str, dict[str, int]]:
    """Per component, per resource: watch events not yet delivered (only non-zero entries;
    a cache whose watch was dropped counts -1: it waits for a relist)."""
    out: dict[str, dict[str, int]] = {}
    for component, informer in state.informers.items():
        lags = {r: n for r, n in informer.lag(state.store).items() if n}
        lags.update({r: -1 for r, c in informer.resources.items() if c.stale})
        if lags:
            out[component] = dict(sorted(lags.items()))
    return out


def lag_text(lag: Mapping[str, Mapping[str, int]]) -> str:
    """`controller-manager: pods 2, replicasets.apps 1; scheduler: pods 1` (or `all caught up`)."""
    if not lag:
        return "all caught up"
    parts = []
    for component, resources in lag.items():
        items = ", ".join(f"{r} {'stale (relist)' if n < 0 else n}" for r, n in resources.items())
        parts.append(f"{component}: {items}")
    return "; ".join(parts)


def state_summary(state: ClusterState) -> list[str]:
    """The whole state, one line per object and component (for `--full` and the HTML page)."""
    lines = [f"clock {state.clock}s, store revision {state.store.revision}"]
    lines += [describe(o) for _, o in state.store.objects.sorted_items() if not _boring(o)]
    for node, kubelet in state.kubelets.items():
        pods: FrozenMap[str, Any] = getattr(kubelet, "pods", FrozenMap())
        for key, pod in pods.items():
            running = "/".join(f"{c.name}{'+' if c.running else '-'}{'R' if c.ready else ''}" for c in pod.containers)
            lines.append(f"kubelet {node}: {key} [{running}]" + (" terminating" if pod.terminating else ""))
    for name, ctrl in state.controllers.items():
        queue = getattr(ctrl, "queue", ())
        if queue:
            lines.append(f"controller {name}: queue [{', '.join(queue)}]")
    for name, sched in state.schedulers.items():
        assumed: FrozenMap[str, str] = getattr(sched, "assumed", FrozenMap())
        if assumed:
            lines.append(f"scheduler {name}: assumed " + ", ".join(f"{k}→{v}" for k, v in assumed.items()))
    for label, value in (("down", state.down), ("partitioned", state.partitioned)):
        if value:
            lines.append(f"{label}: {', '.join(sorted(value))}")
    for node, why in maintenance_state(state).failed.sorted_items():
        lines.append(f"maintenance of {node} failed (node left cordoned): {why}")
    lag = cache_lag(state)
    if lag:
        lines.append(f"caches behind: {lag_text(lag)}")
    return lines


_BORING = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Namespace", "ServiceAccount")


def _boring(obj: ApiObject) -> bool:
    return kind_info(obj).kind in _BORING


def find_object(state: ClusterState, name: str) -> ApiObject | None:
    """The stored object a violation names as `Kind ns/name` (None if absent)."""
    for _, obj in state.store.objects.sorted_items():
        if object_name(obj) == name:
            return obj
    return None


__all__ = [
    "Change",
    "FieldChange",
    "cache_lag",
    "changes",
    "describe",
    "field_diff",
    "find_object",
    "flatten",
    "lag_text",
    "state_summary",
    "summary",
]
