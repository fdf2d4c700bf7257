"""`next_event` (bisection over the revision-ordered log) finds what a scan of the whole log finds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.api.store import Store, WatchEvent
from kubeprop.model.state.informer import ResourceCache, event_index, next_event


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


@given(st.lists(st.tuples(st.sampled_from(("append", "append", "append", "compact", "revisit")),
                          st.sampled_from(("pods", "nodes", "services")), st.integers(0, 40)), max_size=40))
def test_the_index_built_from_the_last_log_is_the_index_of_the_log(ops: list[tuple[str, str, int]]) -> None:
    """Logs grown one write at a time are indexed from the last log's index, compacted or revisited
    ones afresh or from memory: each answers like a scan, for every resource and revision."""
    logs: list[tuple[WatchEvent, ...]] = [()]
    revision = 1
    for op, resource, n in ops:
        events = logs[-1]
        if op == "append":
            revision += 1
            events = (*events, WatchEvent("ADDED", ObjectKey(resource, "", f"o{n}"), None, revision))  # type: ignore[arg-type]
        elif op == "compact":
            events = tuple(e for e in events if e.revision > n)
        else:
            events = logs[n % len(logs)]
        logs.append(events)
        index = event_index(events)
        fresh: dict[str, list[WatchEvent]] = {}
        for e in events:
            fresh.setdefault(e.key.resource, []).append(e)
        assert {r: list(es) for r, (_, es) in index.items()} == fresh
        assert all(revisions == tuple(e.revision for e in es) for revisions, es in index.values())
        store = Store(revision=revision, events=events)
        for res in ("pods", "nodes", "services", "secrets"):
            for delivered in range(0, revision + 1, 3):
                scan = next((e for e in events if e.revision > delivered and e.key.resource == res), None)
                assert next_event(store, ResourceCache(revision=delivered), res) == scan
