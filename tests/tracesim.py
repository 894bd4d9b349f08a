"""A simulated chain of routers for the trace engine: literal packets, virtual time.

Each router answers a probe whose TTL ends at it with a time-exceeded that
quotes the probe, subject to a token bucket like Linux's (burst 6, one token
per `refill_ns`); the destination answers as a real host would (port
unreachable, echo reply, SYN-ACK). `loss` drops that share of the probes on
their way out and of the answers on their way back (a seeded draw), and
`fate` records, for every probe sent, what became of it: the oracle of
which probes got answers, kept apart from anything the engine decides.
`drop` loses chosen probes (by their index in `sent`) on the way out.
Nothing here touches a socket or a clock.
"""

from __future__ import annotations

import heapq
import random
import struct
from dataclasses import dataclass, field

from rawtools.engine import Received, Send
from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmp import with_icmp6_checksum
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, build_ip

MS = 1_000_000


def icmp_error(version: int, src: str, dst: str, typ: int, code: int, quoted: bytes,
               ttl: int = 64, rest: bytes = b"\0\0\0\0") -> bytes:
    """An ICMP(v6) error datagram from `src` to `dst` quoting `quoted`."""
    if version == 4:
        msg = bytes([typ, code, 0, 0]) + rest + quoted
        msg = msg[:2] + struct.pack("!H", inet_checksum(msg)) + msg[4:]
        return build_ip(src, dst, PROTO_ICMP, ttl, msg)
    msg = with_icmp6_checksum(src, dst, bytes([typ, code, 0, 0]) + rest + quoted)
    return build_ip(src, dst, PROTO_ICMP6, ttl, msg)


@dataclass
class SimNet:
    """host -> routers -> dst. `routers` are the addresses hop 1..n answer from."""

    version: int
    src: str
    dst: str
    routers: list[str]
    method: str
    rtt_ns: int = MS // 10
    silent: set[int] = field(default_factory=set)
    refill_ns: int | None = None  # None: no rate limit
    burst: int = 6
    dst_unreach: tuple[int, int] | None = None  # (type, code) instead of arriving
    dst_silent: bool = False
    loss: float = 0.0
    seed: int = 0
    drop: set[int] = field(default_factory=set)  # indices of probes lost on the way out
    late: int = 0  # how long after each deadline the loop wakes (0: on time)
    send_ns: int = 0  # how long one send takes (a live loop's sendto)
    errqueue: bool = False  # quotes rebuilt from an error queue: the TTL that arrived is 0
    clock: int = 1_000_000_000_000
    sent: list[Send] = field(default_factory=list)
    queue: list[tuple[int, int, bytes]] = field(default_factory=list)
    extra: list[tuple[int, bytes]] = field(default_factory=list)
    fate: list[str] = field(default_factory=list)  # per probe sent: see `send`
    _tokens: dict[int, tuple[float, int]] = field(default_factory=dict)
    _n: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _lost(self) -> bool:
        return self.loss > 0 and self._rng.random() < self.loss

    def _allow(self, node: int) -> bool:
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

    # -- Transport ---------------------------------------------------------------
    def send(self, send: Send) -> tuple[int, bytes | None]:
        """Send a probe. Its fate: "lost-out" or "lost-back" (the `loss` draw),
        "silent" (a silent node, or none), "limited" (no token) or "answered"."""
        self.sent.append(send)
        self.clock += self.send_ns
        proto = {"udp": PROTO_UDP, "tcp": PROTO_TCP}.get(
            self.method, PROTO_ICMP6 if self.version == 6 else PROTO_ICMP)
        wire = build_ip(self.src, send.dst, proto, send.ttl or 64, send.data)
        if self._lost() or len(self.sent) - 1 in self.drop:
            self.fate.append("lost-out")
            return self.clock, wire
        fate, answer = self._answer(send, proto)
        if answer is not None and self._lost():
            fate = "lost-back"
        elif answer is not None:
            self._push(*answer)
        self.fate.append(fate)
        return self.clock, wire

    def _answer(self, send: Send, proto: int) -> tuple[str, tuple[int, bytes] | None]:
        """What the network answers to a probe that arrived, and after how long."""
        hops = len(self.routers) + 1
        ttl = send.ttl or 64
        v6 = self.version == 6
        if ttl < hops:
            i = ttl
            if i in self.silent:
                return "silent", None
            if not self._allow(i):
                return "limited", None
            quoted = build_ip(self.src, send.dst, proto, 0 if self.errqueue else 1,
                              send.data)[: (48 if v6 else 28)]
            return "answered", (self.rtt_ns * i, icmp_error(
                self.version, self.routers[i - 1], self.src, 3 if v6 else 11, 0, quoted))
        if self.dst_silent:
            return "silent", None
        left = ttl - hops + 1
        quoted = build_ip(self.src, send.dst, proto, 0 if self.errqueue else left,
                          send.data)[: (48 if v6 else 28)]
        delay = self.rtt_ns * hops
        if self.dst_unreach is not None or self.method == "udp":
            if not self._allow(hops):
                return "limited", None
            if self.dst_unreach is not None:
                t, c = self.dst_unreach
                return "answered", (delay, icmp_error(self.version, self.routers[-1], self.src,
                                                      t, c, quoted))
            return "answered", (delay, icmp_error(self.version, self.dst, self.src,
                                                  1 if v6 else 3, 4 if v6 else 3, quoted))
        if self.method == "icmp":
            reply = bytes([129 if v6 else 0]) + send.data[1:]
            if v6:
                reply = with_icmp6_checksum(self.dst, self.src, reply)
                return "answered", (delay, build_ip(self.dst, self.src, PROTO_ICMP6,
                                                    64 - hops + 1, reply))
            reply = reply[:2] + b"\0\0" + reply[4:]
            reply = reply[:2] + struct.pack("!H", inet_checksum(reply)) + reply[4:]
            return "answered", (delay, build_ip(self.dst, self.src, PROTO_ICMP, 64 - hops + 1,
                                                reply))
        sport, dport, seq = struct.unpack_from("!HHI", send.data)
        seg = struct.pack("!HHIIBBHHH", dport, sport, 777, (seq + 1) & 0xFFFFFFFF, 0x50,
                          0x12, 8192, 0, 0)
        return "answered", (delay, build_ip(self.dst, self.src, PROTO_TCP, 64 - hops + 1, seg))

    def inject(self, delay: int, pkt: bytes) -> None:
        """Deliver an arbitrary datagram `delay` from now (noise, duplicates)."""
        self._push(delay, pkt)

    def wait(self, deadline: int | None, wake_fd: int | None = None) -> list[Received]:
        if self.late and deadline is not None:
            # A loop that sleeps through arrivals and wakes well past its deadline
            # (a busy machine): it reads everything that came meanwhile at once.
            wake = max(self.clock, deadline + self.late)
            out = []
            while self.queue and self.queue[0][0] <= wake:
                ts, _n, pkt = heapq.heappop(self.queue)
                out.append(Received(ts, pkt, "pcap"))
            self.clock = wake
            return out
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
