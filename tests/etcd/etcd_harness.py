"""A real three-member etcd cluster for tests: start, faults, stop, with every process and folder
cleaned up.

Members run Debian's `etcd-server` (3.4.x) from a private temporary folder, one data folder each.
Two network layouts:

- `loopback`: every member in this network namespace, peers on free 127.0.0.1 ports, clients on
  free 127.0.0.1 ports. Faults: SIGKILL + restart, SIGSTOP/SIGCONT.
- `netns`: every member in a network namespace of its own, joined to a private hub namespace
  (a bridge) by a veth pair; peers talk over that bridge (addresses inside the hub only), clients
  reach a member through a Unix socket in its folder, which crosses namespaces. Besides the faults
  above, `isolate(i)` takes member i's veth down in the hub: a real partition of its peer traffic
  that leaves its clients connected (so a stale read from it can be shown). Needs root.

Every wait is bounded; a member started here dies with the test process (PR_SET_PDEATHSIG), and
namespaces left by a test process that no longer runs are removed on the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from etcd_client import ClientError, Endpoint, GatewayClient

Network = Literal["loopback", "netns"]
PREFIX = "kpe"
"""Namespace names start with kpe<pid>x: the pid tells whether their owner still runs."""
HUB_NET = "10.233.0"
"""The peer subnet inside each cluster's own hub namespace; nothing outside it can route there."""
START_TIMEOUT = 30.0
HEARTBEAT_MS = 100
ELECTION_MS = 1000


def missing() -> str | None:
    """Why a real cluster cannot run here, or None."""
    if shutil.which("etcd") is None:
        return "etcd is not installed (Debian: apt-get install etcd-server etcd-client; .ci/run does this)"
    return None


def netns_missing() -> str | None:
    """Why the `netns` layout (partitions) cannot run here, or None."""
    if (reason := missing()) is not None:
        return reason
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "partitions need root and iproute2 (network namespaces with veth pairs)"
    name = f"{PREFIX}{os.getpid()}probe"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, timeout=10)
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    return None if made.returncode == 0 else f"cannot create a network namespace: {made.stderr.strip()}"


def free_port(taken: set[int] | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now and that is not in `taken` (to
    which it is added): the kernel may hand out a port it just freed again, and two members given
    one port make etcd refuse the cluster ("has duplicate url", seen once in CI)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if taken is None or port not in taken:
            if taken is not None:
                taken.add(port)
            return port


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies (prctl PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)


class _Spawner:
    """One long-lived thread starts every member: PR_SET_PDEATHSIG fires when the *thread* that
    started a child ends, so a member restarted from a short-lived thread (the nemesis) would
    be killed with it."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[tuple[Callable[[], subprocess.Popen[bytes]], queue.Queue[object]]] = queue.Queue()
        threading.Thread(target=self._serve, name="etcd-spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job, answer = self.jobs.get()
            try:
                answer.put(job())
            except Exception as e:  # handed back to the caller
                answer.put(e)

    def start(self, job: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        answer: queue.Queue[object] = queue.Queue()
        self.jobs.put((job, answer))
        got = answer.get(timeout=30)
        if isinstance(got, Exception):
            raise got
        assert isinstance(got, subprocess.Popen)
        return got


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _start(job: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
    return _spawner.start(job)


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def remove_stale_namespaces() -> None:
    """Delete kpe<pid>x… namespaces whose test process no longer runs."""
    if shutil.which("ip") is None:
        return
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        pid = name[len(PREFIX):].split("x")[0] if name.startswith(PREFIX) else ""
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


@dataclass
class Member:
    """One etcd member: its folder, URLs, namespace (netns layout) and running process."""

    index: int
    folder: Path
    peer_url: str
    client_url: str
    endpoint: Endpoint
    netns: str = ""
    proc: subprocess.Popen[bytes] | None = None
    paused: bool = False
    isolated: bool = False

    @property
    def name(self) -> str:
        return f"etcd-{self.index + 1}"


@dataclass
class EtcdCluster:
    """A running cluster; use `start_cluster`, which also stops it."""

    network: Network
    root: Path
    members: list[Member] = field(default_factory=list)
    hub: str = ""
    log: list[str] = field(default_factory=list)

    # --- processes ------------------------------------------------------------------------------
    def _command(self, m: Member) -> list[str]:
        cluster = ",".join(f"{x.name}={x.peer_url}" for x in self.members)
        etcd = [
            "etcd", "--name", m.name, "--data-dir", str(m.folder / "data"),
            "--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url,
            "--listen-client-urls", m.client_url, "--advertise-client-urls", m.client_url,
            "--initial-cluster", cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", self.root.name, "--heartbeat-interval", str(HEARTBEAT_MS),
            "--election-timeout", str(ELECTION_MS), "--logger", "zap", "--log-outputs", "stderr",
        ]
        return ["ip", "netns", "exec", m.netns, *etcd] if m.netns else etcd

    def _spawn(self, m: Member) -> None:
        if m.endpoint.unix:  # a killed member leaves its socket file, which would block the bind
            Path(m.endpoint.unix).unlink(missing_ok=True)
        command = self._command(m)

        def popen() -> subprocess.Popen[bytes]:
            with open(m.folder / "etcd.log", "ab") as out:
                return subprocess.Popen(command, cwd=m.folder, stdout=out, stderr=out,
                                        stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        m.proc = _start(popen)
        m.paused = False

    def client(self, i: int, timeout: float = 2.0) -> GatewayClient:
        """A v3 HTTP/JSON gateway client of member i."""
        return GatewayClient(self.members[i].endpoint, timeout)

    def wait_ready(self, members: list[int], timeout: float = START_TIMEOUT) -> None:
        """Until each listed member answers a linearizable read (so a leader exists)."""
        deadline = time.monotonic() + timeout
        for i in members:
            while True:
                proc = self.members[i].proc
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{self.members[i].name} exited {proc.returncode}:\n{self.tail(i)}")
                try:
                    with self.client(i, 1.0) as c:
                        c.read("ready-probe", serializable=False)
                    break
                except ClientError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{self.members[i].name} not ready in {timeout}s:\n{self.tail(i)}") from None
                    time.sleep(0.1)

    def tail(self, i: int, lines: int = 15) -> str:
        """The last lines of member i's log."""
        path = self.members[i].folder / "etcd.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # --- faults ---------------------------------------------------------------------------------
    def _signal(self, i: int, sig: signal.Signals) -> None:
        proc = self.members[i].proc
        if proc is None or proc.poll() is not None:
            raise RuntimeError(f"{self.members[i].name} is not running")
        proc.send_signal(sig)

    def kill(self, i: int) -> None:
        """SIGKILL member i and reap it (its data folder stays)."""
        self._signal(i, signal.SIGKILL)
        proc = self.members[i].proc
        assert proc is not None
        proc.wait(timeout=10)
        self.members[i].proc = None
        self.log.append(f"kill {self.members[i].name}")

    def restart(self, i: int) -> None:
        """Start a killed member again on its data folder (returns without waiting for it)."""
        if self.members[i].proc is not None:
            raise RuntimeError(f"{self.members[i].name} is running")
        self._spawn(self.members[i])
        self.log.append(f"restart {self.members[i].name}")

    def pause(self, i: int) -> None:
        """SIGSTOP member i, and wait (bounded) until the kernel shows it stopped: the signal is
        delivered asynchronously, and a busy machine could otherwise let one more request through."""
        self._signal(i, signal.SIGSTOP)
        proc = self.members[i].proc
        deadline = time.monotonic() + 5.0
        while proc is not None and time.monotonic() < deadline and _process_state(proc.pid) not in ("T", "t"):
            time.sleep(0.01)
        self.members[i].paused = True
        self.log.append(f"pause {self.members[i].name}")

    def resume(self, i: int) -> None:
        """SIGCONT member i."""
        self._signal(i, signal.SIGCONT)
        self.members[i].paused = False
        self.log.append(f"resume {self.members[i].name}")

    def isolate(self, i: int) -> None:
        """Cut member i's peer link (netns layout only); its clients stay connected."""
        if self.network != "netns":
            raise RuntimeError("partitions need the netns layout")
        _ip("-n", self.hub, "link", "set", f"p{i}", "down")
        self.members[i].isolated = True
        self.log.append(f"isolate {self.members[i].name}")

    def heal(self, i: int) -> None:
        """Restore member i's peer link."""
        _ip("-n", self.hub, "link", "set", f"p{i}", "up")
        self.members[i].isolated = False
        self.log.append(f"heal {self.members[i].name}")

    # --- teardown -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Kill every member (continuing paused ones first), delete namespaces and folders."""
        for m in self.members:
            if m.proc is not None and m.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    m.proc.send_signal(signal.SIGCONT)
                    m.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    m.proc.wait(timeout=10)
            m.proc = None
        for name in [m.netns for m in self.members if m.netns] + ([self.hub] if self.hub else []):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


_counter = iter(range(1_000_000))


def _layout(cluster: EtcdCluster, size: int) -> None:
    """Folders, URLs and (netns) namespaces and links for `size` members."""
    tag = f"{PREFIX}{os.getpid()}x{next(_counter)}"
    if cluster.network == "netns":
        cluster.hub = f"{tag}h"
        _ip("netns", "add", cluster.hub)
        _ip("-n", cluster.hub, "link", "set", "lo", "up")
        _ip("-n", cluster.hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", cluster.hub, "link", "set", "br0", "up")
    taken: set[int] = set()  # the ports given to this cluster's members so far
    for i in range(size):
        folder = cluster.root / f"m{i + 1}"
        folder.mkdir()
        if cluster.network == "netns":
            ns = f"{tag}m{i}"
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{i}", "netns", cluster.hub)
            _ip("-n", ns, "addr", "add", f"{HUB_NET}.{i + 1}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", cluster.hub, "link", "set", f"p{i}", "master", "br0", "up")
            peer, client = f"http://{HUB_NET}.{i + 1}:2380", "unix://c:0"
            endpoint = Endpoint(unix=str(folder / "c:0"))
        else:
            ns, peer = "", f"http://127.0.0.1:{free_port(taken)}"
            port = free_port(taken)
            client, endpoint = f"http://127.0.0.1:{port}", Endpoint(port=port)
        cluster.members.append(Member(i, folder, peer, client, endpoint, ns))


@contextlib.contextmanager
def start_cluster(network: Network = "loopback", size: int = 3):  # type: ignore[no-untyped-def]
    """A started cluster (every member ready), stopped and removed on exit, also on failure."""
    remove_stale_namespaces()
    cluster = EtcdCluster(network, Path(tempfile.mkdtemp(prefix="kpe-")))
    try:
        _layout(cluster, size)
        for m in cluster.members:
            cluster._spawn(m)
        cluster.wait_ready(list(range(size)))
        yield cluster
    finally:
        cluster.stop()


def bounded(deadline: float, step: Callable[[], bool], pause: float = 0.05) -> bool:
    """Call `step` until it returns True or `deadline` (monotonic) passes; whether it succeeded."""
    while time.monotonic() < deadline:
        if step():
            return True
        time.sleep(pause)
    return False


def _process_state(pid: int) -> str:
    """The state letter of /proc/PID/stat (R, S, T, …), or "" when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else ""
