"""Exploration engines over the model's `actions`/`step`: breadth-first search (`bfs`), swarm random
walks (`walk`), Hypothesis stateful testing (`stateful`), shrinking (`shrink`), the Raft explorer
(`raft`), the common configuration and results (`engine`), the series of independent runs that PCT
and in-process walks share (`series`), urgent search for time bounds and worst-case metrics
(`urgent`). Engines are pure functions of (model, config) → result.

May import: `kubeprop.model`, `kubeprop.properties` (the property registry).
"""
