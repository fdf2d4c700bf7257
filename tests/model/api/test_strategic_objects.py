"""A strategic merge patch merged into the frozen object field by field (`strategic_objects`) gives
what the long way gives — the stored object's JSON patched and decoded whole — on random patches of
the stored objects of random runs (scalars set, removed or of the wrong type, maps merged, keyed
lists merged item by item, items deleted and reordered, set lists grown and shrunk, unknown fields,
other directives), and on the status patches the scheduler, the node lifecycle controller and the
Job controller send; and what the long way refuses or resets is left to it."""

from __future__ import annotations

import copy
import itertools
import random
from pathlib import Path
from typing import Any

from random_runs import mostly_fair_run

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.objects import ApiObject, CustomObject, decode_object, encode_object, kind_info
from kubeprop.model.api.strategic import PatchError, list_key, strategic_merge_patch
from kubeprop.model.api.strategic_objects import merged_object
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import feastflow_path, load_scenario

CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "catalogue"


def _objects(path: Path, seed: int, length: int) -> list[ApiObject]:
    """The distinct stored objects of built-in kinds along a run that follows the fair policy mostly."""
    model = build_model(load_scenario(path))
    found: dict[int, ApiObject] = {}
    for state in itertools.islice(mostly_fair_run(model, random.Random(seed), length, 0.8), 1, None):
        found.update((id(o), o) for o in state.store.objects.values() if not isinstance(o, CustomObject))
    return list(found.values())


def _scalar(rng: random.Random, value: Any) -> Any:
    """Another value for a scalar: mostly of its type, now and then of another."""
    if rng.random() < 0.1:
        return rng.choice([7, "seven", True, [1], {"x": 1}])
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice([1, 2, 30])
    if isinstance(value, str):
        return rng.choice(["", value + "x", "Unknown", "True", "1Gi"])
    return value


def _list_patch(rng: random.Random, field: str, items: list[Any], key: str | None, out: dict[str, Any]) -> None:
    """A patch of a list into `out`: keyed items changed, added, deleted, reordered; set items added
    or removed; an atomic list replaced."""
    if key is not None and items and all(isinstance(i, dict) and key in i for i in items):
        item = rng.choice(items)
        choice = rng.randrange(4)
        if choice == 0:
            patched = [{key: item[key], **_map_patch(rng, item, depth=2)}]
        elif choice == 1:
            patched = [{**copy.deepcopy(item), key: f"{item[key]}-new" if isinstance(item[key], str) else 9999}]
        elif choice == 2:
            patched = [{key: item[key], "$patch": "delete"}]
        else:
            patched = [{key: item[key]}]
        out[field] = patched
        if rng.random() < 0.4:
            order = [{key: i[key]} for i in items]
            rng.shuffle(order)
            out[f"$setElementOrder/{field}"] = order
    elif key == "$set" or (items and all(isinstance(i, str) for i in items)):
        if rng.random() < 0.5 and items:
            out[f"$deleteFromPrimitiveList/{field}"] = [rng.choice(items), "absent"]
        else:
            out[field] = [*items[:1], "example.com/added"]
    else:
        out[field] = copy.deepcopy(items[:1]) if rng.random() < 0.5 else []


def _map_patch(rng: random.Random, body: dict[str, Any], depth: int, names: tuple[str, ...] = (),
               kind: str = "") -> dict[str, Any]:
    """A random patch of the JSON map `body` (field path `names` in an object of `kind`)."""
    patch: dict[str, Any] = {}
    keys = [k for k in body if k not in ("apiVersion", "kind")]
    for field in rng.sample(keys, min(len(keys), rng.randint(1, 2))):
        value = body[field]
        roll = rng.random()
        if roll < 0.12:
            patch[field] = None
        elif isinstance(value, dict) and depth > 0:
            patch[field] = _map_patch(rng, value, depth - 1, (*names, field), kind)
        elif isinstance(value, list):
            _list_patch(rng, field, value, list_key((*names, field), kind), patch)
        elif isinstance(value, dict):
            patch[field] = {"added": "x"} if roll < 0.5 else {}
        else:
            patch[field] = _scalar(rng, value)
    roll = rng.random()
    if roll < 0.05:
        patch["bogusField"] = 1
    elif roll < 0.08:
        patch["$patch"] = "replace"
    elif roll < 0.1:
        patch["$retainKeys"] = sorted(patch)
    return patch


def _long_way(obj: ApiObject, patch: Any, kind: str) -> ApiObject | None:
    try:
        return decode_object(strategic_merge_patch(encode_object(obj), patch, kind))
    except (DecodeError, PatchError):
        return None


def _same(obj: ApiObject, patch: Any) -> bool:
    """Both ways agree where the fast one answers; whether it answered."""
    kind = kind_info(obj).kind
    fast = merged_object(obj, patch, kind)
    if fast is None:
        return False
    slow = _long_way(obj, patch, kind)
    assert slow is not None, patch
    assert fast == slow, patch
    assert encode_object(fast) == encode_object(slow), patch
    return True


def test_random_patches_merge_alike_both_ways() -> None:
    rng, answered, asked = random.Random(5), 0, 0
    objects = _objects(feastflow_path(), seed=1, length=120) + _objects(CATALOGUE / "db.yaml", seed=2, length=80)
    for obj in objects:
        body = encode_object(obj)
        for _ in range(16):
            patch = _map_patch(rng, body, depth=4, kind=kind_info(obj).kind)
            answered += _same(obj, patch)
            asked += 1
    assert asked > 1_000 and answered > asked // 3, (answered, asked)  # most patches name known fields


def test_the_components_status_patches_merge_alike_both_ways() -> None:
    objects = _objects(feastflow_path(), seed=3, length=150)
    pods = [o for o in objects if kind_info(o).kind == "Pod"]
    condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}
    target = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
              "lastTransitionTime": 12}
    patches = [
        {"status": {"conditions": [condition]}},
        {"status": {"conditions": [condition], "nominatedNodeName": "node-1"}},
        {"status": {"nominatedNodeName": None}},
        {"metadata": {"uid": "uid-1"}, "status": {"conditions": [target]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["batch.kubernetes.io/job-tracking"]}},
    ]
    assert pods
    for pod in pods:
        for patch in patches:
            assert _same(pod, patch)


def test_what_the_long_way_would_refuse_or_reset_is_left_to_it() -> None:
    """A refused value (a PersistentVolume's Recycle policy), an object with a model-only field set (a
    StatefulSet's revision template, which decoding resets) and a directive over an object field are
    not merged the fast way."""
    objects = _objects(CATALOGUE / "db.yaml", seed=4, length=60)
    volumes = [o for o in objects if kind_info(o).kind == "PersistentVolume"]
    sets = [o for o in objects if isinstance(o, StatefulSet)]
    assert volumes and sets
    for volume in volumes:
        patch = {"spec": {"persistentVolumeReclaimPolicy": "Recycle"}}
        assert _long_way(volume, patch, "PersistentVolume") is None
        assert not _same(volume, patch)
    for sts in sets:
        rolling = evolve(sts, status=evolve(sts.status, current_revision_template=sts.spec.template))
        patch = {"status": {"replicas": 1}}
        slow = _long_way(rolling, patch, "StatefulSet")
        assert slow is not None and slow.status.current_revision_template is None  # type: ignore[attr-defined]
        assert not _same(rolling, patch)
    pod = next(o for o in _objects(feastflow_path(), seed=4, length=30) if kind_info(o).kind == "Pod")
    nonsense = {"status": {"phase": "Running"}, "$deleteFromPrimitiveList/status": ["phase"]}  # (a map made a list)
    assert _long_way(pod, nonsense, "Pod") is None
    assert not _same(pod, nonsense)
