"""kubeprop.model: what the Kubernetes control plane is, as pure data and pure functions.

Everything here is deterministic and side-effect free, except manifest and scenario loading
(which read files). States and API objects are frozen attrs values.
"""
