"""A simulated network of per-flow load balancers for the MDA engine: literal packets, virtual time.

The topology is a literal graph, `{node: [next hops]}` from "host" to the
destination, and is the oracle of the tests: the engine must find its nodes
hop by hop and its edges. Each node with several next hops picks one by a
hash of the flow identifier it reads from the probe's own bytes (the
destination port of UDP, the source port of TCP, the checksum of ICMP echo:
the fields a router hashes), salted per node, so a flow keeps its path and
different flows spread, as behind a real ECMP router. Nothing here uses the
code under test to decide a path.

Routers answer a probe whose TTL ends at them with a time-exceeded quoting
it, subject to a token bucket like Linux's (burst 6, one token per
`refill_ns`) when `refill_ns` is set; nodes in `silent` never answer; the
destination answers as a host (port unreachable, echo reply, SYN-ACK).
"""

from __future__ import annotations

import hashlib
import heapq
import struct
from dataclasses import dataclass, field

from oracles import dpkt_checksum
from tracesim import icmp_error

from rawtools.engine import Received, Send
from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmp import with_icmp6_checksum
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, build_ip

MS = 1_000_000
PROTO = {"udp": PROTO_UDP, "tcp": PROTO_TCP}


@dataclass
class MultiNet:
    """Paths from `src` through `graph` (starting at graph["host"]) to `dst`."""

    version: int
    src: str
    dst: str
    graph: dict[str, list[str]]
    method: str
    salt: int = 0
    rtt_ns: int = MS // 10
    silent: set[str] = field(default_factory=set)
    refill_ns: int | None = None
    burst: int = 6
    clock: int = 1_000_000_000_000
    sent: list[Send] = field(default_factory=list)
    queue: list[tuple[int, int, bytes]] = field(default_factory=list)
    _tokens: dict[str, tuple[float, int]] = field(default_factory=dict)
    _n: int = 0

    @property
    def proto(self) -> int:
        return PROTO.get(self.method, PROTO_ICMP6 if self.version == 6 else PROTO_ICMP)

    def flow_key(self, data: bytes) -> int:
        """The hashed field, read as a router reads it (ICMPv6's checksum filled in as the
        kernel fills it, by dpkt here)."""
        if self.method == "icmp" and self.version == 6:
            return dpkt_checksum(self.src, self.dst, PROTO_ICMP6, data[:2] + b"\0\0" + data[4:])
        return int(struct.unpack_from("!H", data, 0 if self.method == "tcp" else 2)[0])

    def path(self, key: int) -> list[str]:
        """Nodes a flow crosses after the host, the destination last."""
        out, node = [], "host"
        while node != self.dst:
            nxt = self.graph[node]
            digest = hashlib.sha256(f"{self.salt}/{node}/{key}".encode()).digest()
            node = nxt[int.from_bytes(digest[:8], "big") % len(nxt)]
            out.append(node)
        return out

    def _allow(self, node: str) -> bool:
        if self.refill_ns is None:
            return True
        tokens, last = self._tokens.get(node, (float(self.burst), self.clock))
        tokens = min(float(self.burst), tokens + (self.clock - last) / self.refill_ns)
        ok = tokens >= 1
        self._tokens[node] = (tokens - 1 if ok else tokens, self.clock)
        return ok

    def _push(self, delay: int, pkt: bytes) -> None:
        self._n += 1
        heapq.heappush(self.queue, (self.clock + delay, self._n, pkt))

    def _quote(self, data: bytes, ttl_left: int) -> bytes:
        return build_ip(self.src, self.dst, self.proto, ttl_left, data)[
            : 48 if self.version == 6 else 28]

    # -- Transport ---------------------------------------------------------------
    def send(self, send: Send) -> tuple[int, bytes | None]:
        self.sent.append(send)
        ttl = send.ttl or 64
        wire = build_ip(self.src, send.dst, self.proto, ttl, send.data)
        path = self.path(self.flow_key(send.data))
        v6 = self.version == 6
        if ttl < len(path):
            node = path[ttl - 1]
            if node not in self.silent and self._allow(node):
                self._push(self.rtt_ns * ttl, icmp_error(
                    self.version, node, self.src, 3 if v6 else 11, 0, self._quote(send.data, 1)))
            return self.clock, wire
        if self.dst in self.silent or not self._allow(self.dst):
            return self.clock, wire
        delay = self.rtt_ns * len(path)
        back = 64 - len(path) + 1
        if self.method == "udp":
            self._push(delay, icmp_error(self.version, self.dst, self.src, 1 if v6 else 3,
                                         4 if v6 else 3,
                                         self._quote(send.data, ttl - len(path) + 1)))
        elif self.method == "icmp":
            reply = bytes([129 if v6 else 0]) + send.data[1:]
            if v6:
                reply = with_icmp6_checksum(self.dst, self.src, reply)
            else:
                reply = reply[:2] + b"\0\0" + reply[4:]
                reply = reply[:2] + struct.pack("!H", inet_checksum(reply)) + reply[4:]
            self._push(delay, build_ip(self.dst, self.src, self.proto, back, reply))
        else:
            sport, dport, seq = struct.unpack_from("!HHI", send.data)
            seg = struct.pack("!HHIIBBHHH", dport, sport, 777, (seq + 1) & 0xFFFFFFFF, 0x50,
                              0x12, 8192, 0, 0)
            self._push(delay, build_ip(self.dst, self.src, PROTO_TCP, back, seg))
        return self.clock, wire

    def wait(self, deadline: int | None, wake_fd: int | None = None) -> list[Received]:
        if self.queue and (deadline is None or self.queue[0][0] <= deadline):
            ts, _n, pkt = heapq.heappop(self.queue)
            self.clock = max(self.clock, ts)
            return [Received(ts, pkt, "pcap")]
        if deadline is None:
            raise RuntimeError("engine waits forever with nothing in flight")
        self.clock = max(self.clock, deadline)
        return []

    def now(self) -> int:
        return self.clock

    def close(self) -> None:
        pass
