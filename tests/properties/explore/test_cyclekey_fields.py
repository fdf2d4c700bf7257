"""Every time-valued field of the model's state is abstracted in the lasso's cycle key.

A field holding an absolute model time (a deadline, a `*_at`) that `FIELD_RULES` does not list is
kept as its raw value, so two states a cycle apart never compare equal and the lasso search cannot
close a cycle through it. This test finds such fields by name in every attrs class of
`kubeprop.model`, so a component that adds one has to list it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import warnings

import attrs

import kubeprop.model
from kubeprop.model.frozen import FrozenMap
from kubeprop.properties.explore.cyclekey import FIELD_RULES, TIME_FIRST, _Context, _encode_ruled

TIME_NAMED = re.compile(r"(_at|deadline|timestamp|_time|_due)$")
NOT_STATE = frozenset({("PodSample", "start_time"), ("HorizontalPodAutoscalerStatusV1", "last_scale_time")})
"""Time-named fields of classes that are computed from a state, never kept in one."""


def _time_named_fields() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for info in pkgutil.walk_packages(kubeprop.model.__path__, "kubeprop.model."):
        with warnings.catch_warnings():  # the moved modules' shims warn; they define no class
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == module.__name__:
                found.update((obj.__name__, f.name) for f in attrs.fields(obj) if TIME_NAMED.search(f.name))
    return found


def test_every_time_named_state_field_has_a_cycle_key_rule() -> None:
    missing = sorted(_time_named_fields() - set(FIELD_RULES) - NOT_STATE)
    assert missing == []


def test_the_kill_deadline_and_pressure_times_are_times() -> None:
    for field in [("ContainerRuntime", "kill_deadline"), ("KubeletState", "memory_pressure_at"),
                  ("Drain", "deadline"), ("ZoneTainter", "ready_at")]:
        assert FIELD_RULES[field] == "time"


def test_a_detach_wait_is_keyed_by_its_age_not_its_time() -> None:
    """The attach/detach controller's waits hold (detach requested at, pod UID): two states a
    cycle apart, the same wait as old in each, have the same key; a younger wait does not."""
    assert FIELD_RULES[("AttachDetachMemory", "waits")] == TIME_FIRST

    def key(clock: int, requested: int) -> str:
        ctx = _Context(clock=clock, horizon=10_000, suffixes={})
        return _encode_ruled(FrozenMap({"worker-1|default/data": (requested, "u")}), ctx, TIME_FIRST, None)

    assert key(1_000, 900) == key(1_340, 1_240)
    assert key(1_000, 900) != key(1_000, 950)
