"""A dependency-free etcd v3 client: the server's HTTP/JSON gateway (`/v3/kv/put`, `/v3/kv/range`,
`/v3/kv/txn`) over a TCP or Unix socket with `http.client`.

Why not a library: `etcd3` on PyPI is unmaintained and pins an old protobuf; `etcdctl` costs a
process (≈20 ms) per operation and hides the revisions a compare-and-swap needs behind its own
output format. The gateway is part of the packaged server (3.4: `/v3/…`), speaks the same
KV/Txn messages as gRPC (keys and values base64, 64-bit numbers as strings) and answers with the
response header's revision, which is what the linearizability checker compares.

Results use the model's shapes (`kubeprop.model.raft.kv`): a write → ("ok"|"failed", revision),
a read → (value, mod_revision), ("", 0) for an absent key.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from kubeprop.model.raft.kv import Op, Result


class ClientError(Exception):
    """The request failed or timed out: for a write, the outcome is unknown."""


@dataclass(frozen=True)
class Endpoint:
    """A member's client address: a loopback TCP port or a Unix socket path."""

    port: int = 0
    unix: str = ""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(self.timeout)
            s.connect(self.path)
        except OSError:
            s.close()
            raise
        self.sock = s


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.b64decode(text).decode()


class GatewayClient:
    """One keep-alive connection to one member; any failure closes it (the next call reconnects),
    so a late answer to a timed-out request can never be taken for the answer to the next one."""

    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Drop the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.endpoint.unix:
                self._conn = _UnixConnection(self.endpoint.unix, self.timeout)
            else:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.endpoint.port, timeout=self.timeout)
        return self._conn

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body; the JSON answer, or ClientError (timeout, refused, gRPC error)."""
        try:
            conn = self._connection()
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise ClientError(f"{type(e).__name__}: {e}") from None
        try:
            answer: dict[str, Any] = json.loads(data)
        except ValueError:
            self.close()
            raise ClientError(f"HTTP {response.status}: {data[:200]!r}") from None
        if response.status != 200 or "error" in answer:
            self.close()
            raise ClientError(str(answer.get("error", answer.get("message", answer))))
        return answer

    def put(self, key: str, value: str) -> Result:
        """Put key=value: ("ok", the new revision)."""
        answer = self.post("/v3/kv/put", {"key": _b64(key), "value": _b64(value)})
        return ("ok", int(answer["header"]["revision"]))

    def cas(self, key: str, value: str, expect: int) -> Result:
        """Txn If(mod_revision(key) == expect) Then put key=value: ("ok"|"failed", revision)."""
        answer = self.post("/v3/kv/txn", {
            "compare": [{"key": _b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": str(expect)}],
            "success": [{"request_put": {"key": _b64(key), "value": _b64(value)}}],
        })
        return ("ok" if answer.get("succeeded") else "failed", int(answer["header"]["revision"]))

    def read(self, key: str, serializable: bool) -> Result:
        """Range one key, linearizable (ReadIndex) or serializable (the member's local state):
        (value, mod_revision), ("", 0) when absent."""
        answer = self.post("/v3/kv/range", {"key": _b64(key), "serializable": serializable})
        kvs = answer.get("kvs", [])
        if not kvs:
            return ("", 0)
        return (_unb64(kvs[0].get("value", "")), int(kvs[0]["mod_revision"]))

    def run(self, op: Op) -> Result:
        """The model's client operation against this member: a put, a compare-and-swap or a read."""
        if op.kind == "put":
            return self.put(op.key, op.value)
        if op.kind == "cas":
            return self.cas(op.key, op.value, op.expect)
        return self.read(op.key, serializable=op.mode == "serializable")

    def status(self) -> tuple[str, str, int]:
        """(this member's id, the leader's id as it knows it, its Raft term) from
        `/v3/maintenance/status`."""
        answer = self.post("/v3/maintenance/status", {})
        return (str(answer["header"]["member_id"]), str(answer.get("leader", "0")),
                int(answer.get("raftTerm", 0)))

    def revision(self, serializable: bool = True) -> int:
        """The member's store revision (a range's response header)."""
        answer = self.post("/v3/kv/range", {"key": _b64("revision-probe"), "serializable": serializable})
        return int(answer["header"]["revision"])
