"""The harness itself: members start and answer, revisions follow the model's store, every
process, folder and namespace is gone afterwards (also after a failure), faults take effect."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from etcd_client import ClientError
from etcd_harness import EtcdCluster, missing, netns_missing, remove_stale_namespaces, start_cluster
from etcd_workload import leader_index

from kubeprop.model.raft.kv import Op, Store, apply_op


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    return {line.split()[0] for line in out.splitlines() if line.split()}


def test_revisions_follow_the_models_store(cluster: EtcdCluster) -> None:
    """Put, a failed and a successful compare-and-swap, reads: etcd's answers are the ones
    `kubeprop.model.raft.kv.apply_op` computes from the empty store (revision 1)."""
    ops = [Op("put", "k", "a"), Op("cas", "k", "b", expect=5), Op("cas", "k", "b", expect=2),
           Op("read", "k", mode="linearizable"), Op("read", "k", mode="serializable"), Op("read", "absent")]
    store = Store()
    with cluster.client(1) as c:
        for op in ops:
            store, expected = apply_op(store, op)
            assert c.run(op) == expected, op


def test_every_member_has_its_own_data_folder(cluster: EtcdCluster) -> None:
    folders = [m.folder / "data" for m in cluster.members]
    assert len(set(folders)) == 3 and all((f / "member" / "wal").is_dir() for f in folders)
    assert leader_index(cluster) in (0, 1, 2)


def test_cleanup_after_a_failure() -> None:
    if (reason := missing()) is not None:
        pytest.skip(reason)
    with pytest.raises(RuntimeError, match="boom"), start_cluster("loopback") as c:
        pids = [m.proc.pid for m in c.members if m.proc is not None]
        root = c.root
        raise RuntimeError("boom")
    assert not root.exists()
    assert not any(_alive(pid) for pid in pids)


def test_kill_restart_and_pause(cluster: EtcdCluster) -> None:
    """SIGKILL stops a member's answers until it is restarted on its data; SIGSTOP until SIGCONT."""
    with cluster.client(0) as c:
        c.put("k", "before")
    cluster.kill(2)
    with cluster.client(2, 0.5) as dead, pytest.raises(ClientError):
        dead.read("k", serializable=True)
    cluster.restart(2)
    cluster.wait_ready([2])
    with cluster.client(2) as back:
        assert back.read("k", serializable=False)[0] == "before"
    cluster.pause(1)
    with cluster.client(1, 0.5) as paused, pytest.raises(ClientError, match="timed out"):
        paused.read("k", serializable=True)
    cluster.resume(1)
    with cluster.client(1) as resumed:
        assert resumed.read("k", serializable=True)[0] == "before"


def test_partition_cuts_peers_but_not_clients(netns_cluster: EtcdCluster) -> None:
    """An isolated member still answers its clients from its own state, but cannot reach the
    others: a linearizable read there fails; after healing it catches up. Namespaces are removed."""
    c = netns_cluster
    names = {m.netns for m in c.members} | {c.hub}
    assert names <= _namespaces()
    lead = leader_index(c)
    follower = (lead + 1) % 3
    c.isolate(follower)
    with c.client(lead) as w:
        w.put("k", "during")
    with c.client(follower, 1.5) as r:
        assert r.read("k", serializable=True) == ("", 0)
        with pytest.raises(ClientError):
            r.read("k", serializable=False)
    c.heal(follower)
    deadline = time.monotonic() + 15
    with c.client(follower, 1.0) as r:
        while True:
            try:
                if r.read("k", serializable=False)[0] == "during":
                    break
            except ClientError:
                pass
            assert time.monotonic() < deadline, "the healed member did not catch up in 15 s"
    c.stop()
    assert not names & _namespaces()


def test_stale_namespaces_of_dead_processes_are_removed() -> None:
    if (reason := netns_missing()) is not None:
        pytest.skip(reason)
    never = int(Path("/proc/sys/kernel/pid_max").read_text())  # pids are below pid_max
    name = f"kpe{never}x0h"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    remove_stale_namespaces()
    assert name not in _namespaces()
