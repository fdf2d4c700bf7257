"""The cluster's state and the contracts components are written against: `ClusterState` and
`ClusterModel` (`cluster`), action values (`actions`), informer caches and views (`informer`), the
`Controller` protocol (`component`).

May import: `kubeprop.model.api`, `kubeprop.model.frozen` (and the scenario for type hints only).
"""
