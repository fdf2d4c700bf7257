"""The composition: the whole cluster as one pure transition system.

`build_model`, `initial_state`, `actions` and `step` (in `compose`) put the components together;
`informers` delivers watch events, `faults` holds time and faults, `workload` the user's steps,
`drive` the deterministic fair driver.

May import: every other package of `kubeprop.model` except `raft`.
"""

from kubeprop.model.cluster.compose import actions, build_model, initial_state, iter_actions, step

__all__ = ["actions", "build_model", "initial_state", "iter_actions", "step"]
