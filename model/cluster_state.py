"""Deprecated: moved to `kubeprop.model.state.cluster` (kubeprop 0.2). This alias will be removed in 0.3."""

from kubeprop.model._moved import alias

alias(__name__, "kubeprop.model.state.cluster")
