"""Fixtures for the tests against a real etcd: a fresh three-member cluster per test (its store
starts at revision 1, like the model's), stopped and removed afterwards, also when the test fails.

The `slow` tests here run only when asked for (`-m slow`: tests/conftest.py). Tests here skip, saying
why, where etcd is not installed (Debian `etcd-server`; `.ci/run` installs
it) or, for partitions, where network namespaces cannot be made (not root).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from etcd_harness import EtcdCluster, Network, missing, netns_missing, start_cluster


def _started(network: Network, why_not: str | None) -> Iterator[EtcdCluster]:
    """A started cluster with this network layout, or the test skipped saying `why_not`."""
    if why_not is not None:
        pytest.skip(why_not)
    with start_cluster(network) as c:
        yield c


@pytest.fixture
def cluster() -> Iterator[EtcdCluster]:
    """Three members in this network namespace, on free loopback ports."""
    yield from _started("loopback", missing())


@pytest.fixture
def netns_cluster() -> Iterator[EtcdCluster]:
    """Three members, each in a network namespace of its own (partitions possible)."""
    yield from _started("netns", netns_missing())

