"""The Kubernetes API: objects (frozen attrs kinds), quantities, names, selectors, the codec,
manifests with line numbers, and the API server as a pure function (authentication, RBAC,
defaults, admission, validation, the store and its watch log).

May import: `kubeprop.model.frozen` only.
"""
