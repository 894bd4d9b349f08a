"""Matching ICMP errors to the UDP sockets clients registered: icmpd's logic, sans I/O.

Fed registrations and ICMP packets, the engine yields deliveries; it never
sends. The daemon drives it from its selector loop, a replay from a pcap,
the unit tests from literal bytes (see `rawtools.engine` for the contract).

A registration is a socket's family, local address and port. An error
quoting a UDP datagram from (address, port) goes to every registration of
exactly that address and port, and to those bound to the wildcard address
on that port (which send from any address of the host); an IPv6 socket
without IPV6_V6ONLY takes IPv4 errors too, as it sends IPv4 datagrams. So
two sockets on one port and different addresses stay apart, while a
socket shared by two processes (each proved it holds it by passing it)
is served to both.

The quote also tells whether a middlebox rewrote the datagram on its way
(`rawtools.wire.icmpdmsg.Rewrite`): a source that is none of this host's
addresses (when the session told the engine which those are), a UDP length
that disagrees with the IP length, a checksum that does not match a quote
long enough to verify it.
"""

from __future__ import annotations

import errno
from collections import defaultdict
from collections.abc import Iterable

from rawtools.engine import Received, Send
from rawtools.tools.icmpd.events import Delivered, IcmpdEvent, Malformed, Unmatched
from rawtools.values import frozen
from rawtools.wire.icmp import (
    ICMP6_PACKET_TOO_BIG,
    ICMP6_TIME_EXCEEDED,
    ICMP6_UNREACH,
    ICMP6_UNREACH_NOPORT,
    ICMP_SOURCEQUENCH,
    ICMP_TIMXCEED,
    ICMP_UNREACH,
    ICMP_UNREACH_NEEDFRAG,
    ICMP_UNREACH_PORT,
    parse_ip,
)
from rawtools.wire.icmpdmsg import IcmpError, Rewrite
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_UDP, parse_header
from rawtools.wire.udp import check_udp, fragment
from rawtools.wire.udperror import UdpError, quote_checksum_ok, read_udp_error

# The errors forwarded (RFC 792 / 4443 types), per IP version.
FORWARDED = {4: frozenset({ICMP_UNREACH, ICMP_TIMXCEED, ICMP_SOURCEQUENCH}),
             6: frozenset({ICMP6_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED})}
WILDCARD = {4: "0.0.0.0", 6: "::"}


def error_errno(version: int, typ: int, code: int) -> int:
    """What a connected socket would report: UNP's mapping for icmpd."""
    if version == 4 and typ == ICMP_UNREACH:
        if code == ICMP_UNREACH_PORT:
            return errno.ECONNREFUSED
        if code == ICMP_UNREACH_NEEDFRAG:
            return errno.EMSGSIZE
    if version == 6:
        if typ == ICMP6_UNREACH and code == ICMP6_UNREACH_NOPORT:
            return errno.ECONNREFUSED
        if typ == ICMP6_PACKET_TOO_BIG:
            return errno.EMSGSIZE
    return errno.EHOSTUNREACH


@frozen
class Registration:
    """A registered UDP socket: `reg` is the daemon's number for it, `tag` the client's.

    `dual` marks an IPv6 socket that also sends IPv4 (IPV6_V6ONLY off).
    """

    reg: int
    client: int
    tag: int
    version: int
    addr: str
    port: int
    dual: bool = False


def _mapped(addr: str) -> str:
    return f"::ffff:{addr}"


class IcmpdEngine:
    """Routes each forwarded ICMP error to the registrations its quote names."""

    def __init__(self, local_addresses: Iterable[str] = ()) -> None:
        self._by_key: dict[tuple[int, str, int], dict[int, Registration]] = defaultdict(dict)
        self._regs: dict[int, Registration] = {}
        self._events: list[IcmpdEvent] = []
        self.local_addresses = frozenset(local_addresses)
        self.stopped = False
        self.delivered = 0
        self.unmatched = 0
        self.malformed = 0
        self.ignored = 0

    # -- registrations -----------------------------------------------------
    def register(self, r: Registration) -> None:
        self._regs[r.reg] = r
        self._by_key[(r.version, r.addr, r.port)][r.reg] = r

    def unregister(self, reg: int) -> Registration | None:
        r = self._regs.pop(reg, None)
        if r is not None:
            key = (r.version, r.addr, r.port)
            bucket = self._by_key[key]
            bucket.pop(reg, None)
            if not bucket:
                del self._by_key[key]
        return r

    def registrations(self) -> list[Registration]:
        return list(self._regs.values())

    def set_local_addresses(self, addresses: Iterable[str]) -> None:
        """The host's addresses, for telling a rewritten source (empty: do not judge)."""
        self.local_addresses = frozenset(addresses)

    # -- the contract ------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stopped

    def poll(self, now_ns: int) -> list[Send]:
        return []

    def sent(self, send: Send, ts_ns: int) -> None:
        """Never called: the engine sends nothing."""

    def next_deadline(self) -> int | None:
        return None

    def take_events(self) -> list[IcmpdEvent]:
        out, self._events = self._events, []
        return out

    def stop(self, now_ns: int) -> None:
        self.stopped = True

    def received(self, pkt: Received) -> None:
        found = read_udp_error(pkt.packet) or self._general(pkt)
        if found is None:
            return
        matches = self._lookup(found.version, found.src, found.sport)
        if not matches:
            self.unmatched += 1
            self._events.append(Unmatched(pkt.ts_ns, found.version, found.type, found.code,
                                          found.offender, found.src, found.sport, found.dst,
                                          found.dport, found.mtu))
            return
        rewritten = self._rewrites(found)
        err = error_errno(found.version, found.type, found.code)
        for r in matches:
            e = IcmpError(r.tag, found.version, found.type, found.code, err, found.dst,
                          found.dport, found.offender, found.ttl, found.mtu, pkt.ts_ns,
                          found.src, found.sport, rewritten)
            self.delivered += 1
            self._events.append(Delivered(r.client, r.reg, e))

    def _general(self, pkt: Received) -> UdpError | None:
        """The general parser's reading of what the fixed-offset one declined.

        Errors with IP options or IPv6 extension headers are delivered from
        here; everything else is counted as ignored (not an error icmpd
        forwards, or not about UDP) or malformed, with the reason.
        """
        msg = parse_ip(pkt.packet)
        if msg is None:
            h = parse_header(pkt.packet)
            if h is not None and h.proto not in (PROTO_ICMP, PROTO_ICMP6):
                self.ignored += 1
                return None
            self._malformed(pkt.ts_ns, "not a readable ICMP message")
            return None
        if msg.type not in FORWARDED[msg.version]:
            self.ignored += 1
            return None
        if not msg.cksum_ok:
            self._malformed(pkt.ts_ns, f"bad ICMP checksum from {msg.src}")
            return None
        q = msg.quote
        if q is None or q.proto != PROTO_UDP or q.ports is None:
            if q is None:
                self._malformed(pkt.ts_ns, f"ICMP error from {msg.src} quotes no datagram")
            else:
                self.ignored += 1
            return None
        sport, dport = q.ports
        return UdpError(msg.version, msg.type, msg.code, msg.ttl, msg.src, msg.mtu, q.src, sport,
                        q.dst, dport, msg.body)

    # -- matching ----------------------------------------------------------
    def _lookup(self, version: int, src: str, port: int) -> list[Registration]:
        get = self._by_key.get
        found: list[Registration] = []
        keys = [(version, src, port), (version, WILDCARD[version], port)]
        if version == 4:
            keys += [(6, _mapped(src), port), (6, "::", port)]
        for key in keys:
            bucket = get(key)
            if bucket:
                found.extend(r for r in bucket.values() if r.version == version or r.dual)
        return found

    def _rewrites(self, found: UdpError) -> tuple[Rewrite, ...]:
        out: list[Rewrite] = []
        if self.local_addresses and found.src not in self.local_addresses:
            out.append("source-address")
        quoted = found.quote
        h = parse_header(quoted)
        if h is not None and len(quoted) >= h.offset + 8:
            ulen = int.from_bytes(quoted[h.offset + 4:h.offset + 6], "big")
            if h.offset + ulen != h.length and fragment(quoted, h.version) == (0, False):
                out.append("udp-length")
            elif quote_checksum_ok(quoted) is False:
                # Wrong, or the sender's partial sum left to offload: only the
                # full judgement tells a rewrite from an unfinished checksum.
                check = check_udp(bytes(quoted))
                if check is not None and check.reason == "mismatch":
                    out.append("udp-checksum")
        return tuple(out)

    def _malformed(self, ts_ns: int, reason: str) -> None:
        self.malformed += 1
        self._events.append(Malformed(ts_ns, reason))
