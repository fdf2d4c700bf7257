"""Deprecated: moved to `kubeprop.model.state.informer` (kubeprop 0.2). This alias will be removed in 0.3."""

from kubeprop.model._moved import alias

alias(__name__, "kubeprop.model.state.informer")
