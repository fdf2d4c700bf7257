"""The descheduler (kubernetes-sigs/descheduler) as a component: a timer that runs its policy —
the Deschedule strategies (RemovePodsViolatingNodeTaints, RemovePodsViolatingNodeAffinity), then
the Balance ones (RemoveDuplicates, RemovePodsViolatingTopologySpreadConstraint,
LowNodeUtilization) — and evicts through the Eviction API the pods its DefaultEvictor allows.

Modules: `evictor` (DefaultEvictor, NodeFit), `strategies` (the five strategies as pure functions
of a cluster snapshot), `component` (the timer, the run, the actions).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.scheduler`,
`kubeprop.model.scenario` (for type hints), `kubeprop.model.frozen`.
"""
