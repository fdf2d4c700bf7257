"""The composition: the whole cluster as one pure transition system.

`build_model`, `initial_state`, `actions` and `step` (in `compose`) put the components together;
`informers` delivers watch events, `faults` holds time and faults, `workload` the user's steps,
`drive` the deterministic fair driver.

May import: every other package of `kubeprop.model` except `raft`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeprop.model.cluster.compose import actions, build_model, initial_state, iter_actions, step

__all__ = ["actions", "build_model", "initial_state", "iter_actions", "step"]


def __getattr__(name: str) -> Any:
    """A public name, imported from `compose` on first use (PEP 562): importing a light module of
    this package (`workload_commands`) does not import `compose` and what it needs."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("kubeprop.model.cluster.compose"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
