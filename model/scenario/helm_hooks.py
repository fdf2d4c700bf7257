"""Helm hooks among a scenario's manifests: which `helm install` creates, and the load note.

A scenario is often `helm template` output, which prints the chart's hooks after its manifest
unless `--no-hooks`, test hooks included unless `--skip-tests` (helm `pkg/cmd/template.go`,
`isTestHook`). `helm install` does not create them all as it creates the rest: `SortManifests`
(helm v3 `pkg/releaseutil/manifest_sorter.go` `manifestFile.sort`; v4
`pkg/release/v1/util/manifest_sorter.go`, the same rule) takes every object with a `helm.sh/hook`
annotation (v3 `pkg/release/hook.go` HookAnnotation) out of the release's manifest into its hooks;
an object whose annotation names any event helm does not know is dropped altogether, even beside
`pre-install` (the loop over its events stops at the first unknown one: "info: skipping unknown
hook", as `crd-install` of Helm 2 charts is); `Install.performInstall` (`pkg/action/install.go`)
then runs the `pre-install` hooks (`execHook(rel, release.HookPreInstall)`), creates the manifest
(and with `--wait` waits for it to be ready), and runs the `post-install` hooks. `test` hooks
(`test-success` too, Helm 2's name) are created only by `helm test`
(`pkg/action/release_testing.go`), the upgrade, rollback and delete hooks only by those commands.

So, faithfully to `helm install` of the chart, the loader (`skip_reason`, through
`manifests.read_manifests`' skip rule) leaves out, undecoded, every object whose hook events
name an event helm does not know, or neither `pre-install` nor `post-install`: a test Pod is not
created as a normal pod that the checker would then run. `kubeprop validate` and `kubeprop check` name each in a note
(`skipped_note`). An install hook (`pre-install`, `post-install`, say a migration Job) is kept
and created with the other objects in file order: the model does not run hooks in helm's phases
(before the manifest; after it) nor apply their `helm.sh/hook-delete-policy`, and says
so in a note too (`install_hooks_note`). Objects without the annotation are untouched, as are
the `apply` steps of the workload (which stand for `kubectl apply`, not for helm).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeprop.model.api.manifests import ManifestObject, Skipped
from kubeprop.model.api.objects import kind_info

HOOK_ANNOTATION = "helm.sh/hook"
"""helm `pkg/release/hook.go` HookAnnotation."""
KNOWN_EVENTS = frozenset({"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
                          "post-upgrade", "pre-rollback", "post-rollback", "test", "test-success"})
"""The event names helm's `SortManifests` knows (`manifest_sorter.go` events; `test-success` is
`test`)."""
INSTALL_EVENTS = frozenset({"pre-install", "post-install"})
"""The events `helm install` runs hooks for (`pkg/action/install.go` performInstall)."""


def hook_events(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The hook events an object's `helm.sh/hook` annotation names (split at commas, trimmed,
    lower-cased, as helm reads them), or None when it has none (not a string: not a hook)."""
    meta = data.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    value = annotations.get(HOOK_ANNOTATION) if isinstance(annotations, Mapping) else None
    if not isinstance(value, str):
        return None
    return tuple(event.strip().lower() for event in value.split(","))


def skip_reason(data: Mapping[str, Any]) -> str | None:
    """Why `helm install` would not create this object (the loader's skip rule), or None."""
    events = hook_events(data)
    if events is None:
        return None
    unknown = [event for event in events if event not in KNOWN_EVENTS]
    if unknown:  # before the install events: helm drops the object whatever else it names
        return f"helm.sh/hook {unknown[0]!r} is no hook event helm knows: helm drops the object"
    if INSTALL_EVENTS.intersection(events):
        return None
    if {"test", "test-success"}.intersection(events):
        return "a helm test hook: created by `helm test`, not by `helm install`"
    return f"a helm {', '.join(events)} hook: not created by `helm install`"


def skipped_note(skipped: Iterable[Skipped]) -> str | None:
    """The note naming every helm hook the loader left out, with file:line and why (None if none)."""
    items = [f"{s.label} ({s.file}:{s.line}: {s.reason})" for s in skipped]
    if not items:
        return None
    return ("note: left out, as `helm install` creates none of them (kubeprop models an install of the chart): "
            + "; ".join(items))


def install_hooks_note(objects: Iterable[ManifestObject]) -> str | None:
    """The note naming the manifests' `pre-install`/`post-install` hooks, created with the other
    objects in file order (None if there are none)."""
    hooks = []
    for m in objects:
        value = m.obj.metadata.annotations.get(HOOK_ANNOTATION)
        if value is not None:
            hooks.append(f"{kind_info(m.obj).kind} {m.obj.metadata.name} ({value}; {m.file}:{m.line})")
    if not hooks:
        return None
    return ("note: helm install hooks created with the other objects in file order (helm creates pre-install hooks "
            "before the manifest and post-install hooks after it, and deletes them by their "
            f"helm.sh/hook-delete-policy; not modelled): {', '.join(hooks)}")
