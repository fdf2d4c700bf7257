"""`next_event` (bisection over the revision-ordered log) finds what a scan of the whole log finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.state.informer import ResourceCache, next_event


@given(st.lists(st.sampled_from(("pods", "nodes", "services")), max_size=30), st.integers(0, 35),
       st.sampled_from(("pods", "nodes", "services", "secrets")), st.booleans())
def test_next_event_is_the_first_later_event_of_the_resource(resources: list[str], delivered: int, resource: str,
                                                             stale: bool) -> None:
    events = tuple(WatchEvent("ADDED", ObjectKey(r, "", f"o{i}"), None, i + 2)  # type: ignore[arg-type]
                   for i, r in enumerate(resources))
    store = Store(revision=len(events) + 1, events=events)
    cache = ResourceCache(revision=delivered, stale=stale)
    scan = next((e for e in events if e.revision > delivered and e.key.resource == resource), None)
    assert next_event(store, cache, resource) == (None if stale else scan)
