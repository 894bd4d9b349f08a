"""ICMP and ICMPv6: echo probes, and errors traced back to the probe they quote.

Every tool that waits for an answer from the network ends up here: ping reads
echo replies and router errors, trace reads time-exceeded and unreachables,
icmpd hands errors to the sockets whose datagrams caused them. The parsers take
whole IP datagrams (what a raw socket, a pcap or the error-queue synthesis in
the io layer hand over) and return one flat `Icmp` record, so matching a reply
to a probe never depends on which socket or file it came from.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

import dpkt

from rawtools.wire.checksum import checksum_ok, transport_checksum

ICMP_ECHOREPLY = 0
ICMP_UNREACH = 3
ICMP_ECHO = 8
ICMP_TIMXCEED = 11
ICMP_PARAMPROB = 12

ICMP6_UNREACH = 1
ICMP6_PACKET_TOO_BIG = 2
ICMP6_TIME_EXCEEDED = 3
ICMP6_PARAM_PROB = 4
ICMP6_ECHO = 128
ICMP6_ECHOREPLY = 129

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMP6 = 58

# Which (family, type) pairs carry a quoted datagram, and what they mean.
_ERROR_KIND = {
    (4, ICMP_UNREACH): "unreachable",
    (4, ICMP_TIMXCEED): "time-exceeded",
    (4, ICMP_PARAMPROB): "param-problem",
    (4, 4): "source-quench",
    (4, 5): "redirect",
    (6, ICMP6_UNREACH): "unreachable",
    (6, ICMP6_PACKET_TOO_BIG): "packet-too-big",
    (6, ICMP6_TIME_EXCEEDED): "time-exceeded",
    (6, ICMP6_PARAM_PROB): "param-problem",
}
_ECHO_KIND = {
    (4, ICMP_ECHO): "echo-request",
    (4, ICMP_ECHOREPLY): "echo-reply",
    (6, ICMP6_ECHO): "echo-request",
    (6, ICMP6_ECHOREPLY): "echo-reply",
}
# IPv6 extension headers that may sit between the fixed header and the
# transport header of a quoted datagram.
_IP6_EXT = {0, 43, 60, 135, 139, 140}
_IP6_FRAG = 44
_IP6_AH = 51


@dataclass(slots=True, frozen=True)
class Quote:
    """The offending datagram an ICMP error quotes: its IP header and what follows.

    Only the first 8 transport bytes are guaranteed (RFC 792); that is exactly
    enough for ports, ICMP id/seq, the UDP checksum and the TCP sequence number,
    which is what probes are identified by.
    """

    version: int
    src: str
    dst: str
    proto: int
    ttl: int
    ip_id: int
    length: int
    transport: bytes

    @property
    def ports(self) -> tuple[int, int] | None:
        """(sport, dport) of a quoted UDP or TCP header."""
        if self.proto in (PROTO_UDP, PROTO_TCP) and len(self.transport) >= 4:
            return struct.unpack_from("!HH", self.transport)
        return None

    @property
    def echo(self) -> tuple[int, int] | None:
        """(identifier, sequence) of a quoted echo request."""
        if self.proto in (PROTO_ICMP, PROTO_ICMP6) and len(self.transport) >= 8:
            kind = _ECHO_KIND.get((self.version, self.transport[0]))
            if kind == "echo-request":
                return struct.unpack_from("!HH", self.transport, 4)
        return None


@dataclass(slots=True, frozen=True)
class Icmp:
    """One received ICMP/ICMPv6 message with the IP fields the tools print.

    `ident`/`seq` are set for echo messages, `quote` for errors. `body` keeps the
    bytes after the 8-byte ICMP header so that later decoders (RFC 4884
    extensions) need not parse again. `mtu` is the next-hop MTU of "fragmentation
    needed" or "packet too big"; `pointer` that of a parameter problem.
    """

    version: int
    src: str
    dst: str
    ttl: int
    type: int
    code: int
    kind: str
    cksum_ok: bool
    ident: int | None = None
    seq: int | None = None
    payload: bytes = b""
    quote: Quote | None = None
    mtu: int | None = None
    pointer: int | None = None
    body: bytes = b""
    length: int = 0


def build_echo(version: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An echo request, ICMP header onwards, checksummed where the sender cannot.

    IPv4 needs the checksum from us; for ICMPv6 the kernel fills it in on both
    raw and datagram sockets (it covers a pseudo-header with the source address,
    which is the kernel's choice), so it stays zero here.
    """
    if version == 4:
        msg = dpkt.icmp.ICMP(type=ICMP_ECHO, code=0,
                             data=dpkt.icmp.ICMP.Echo(id=ident, seq=seq, data=payload))
        return bytes(msg)
    return struct.pack("!BBHHH", ICMP6_ECHO, 0, 0, ident, seq) + payload


def with_icmp6_checksum(src: str, dst: str, icmp6: bytes) -> bytes:
    """`icmp6` with its checksum computed: what the kernel put on the wire."""
    zeroed = icmp6[:2] + b"\0\0" + icmp6[4:]
    return zeroed[:2] + struct.pack("!H", transport_checksum(src, dst, PROTO_ICMP6, zeroed)) \
        + zeroed[4:]


def _ntop(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def ip6_transport(buf: bytes) -> tuple[int, int]:
    """(protocol, offset) of the transport header after IPv6 extension headers."""
    nxt, off = buf[6], 40
    while nxt in _IP6_EXT or nxt in (_IP6_FRAG, _IP6_AH):
        if off + 8 > len(buf):
            break
        if nxt == _IP6_FRAG:
            step = 8
        elif nxt == _IP6_AH:
            step = (buf[off + 1] + 2) * 4
        else:
            step = (buf[off + 1] + 1) * 8
        nxt = buf[off]
        off += step
    return nxt, off


def parse_quote(buf: bytes) -> Quote | None:
    """The datagram quoted in an ICMP error, or None if too short to identify."""
    if len(buf) < 20:
        return None
    version = buf[0] >> 4
    try:
        if version == 4:
            ip = dpkt.ip.IP(buf)
            start = ip.hl * 4
            return Quote(4, _ntop(ip.src), _ntop(ip.dst), ip.p, ip.ttl, ip.id, ip.len,
                         buf[start:start + 8])
        if version == 6 and len(buf) >= 40:
            nxt, off = ip6_transport(buf)
            plen = struct.unpack_from("!H", buf, 4)[0]
            return Quote(6, _ntop(buf[8:24]), _ntop(buf[24:40]), nxt, buf[7], 0, plen + 40,
                         buf[off:off + 8])
    except (dpkt.UnpackError, struct.error, ValueError):
        return None
    return None


def parse_icmp(version: int, src: str, dst: str, ttl: int, data: bytes) -> Icmp | None:
    """Decode an ICMP (version 4) or ICMPv6 message `data` received from `src`.

    Returns None for messages too short to have a header. The checksum is
    verified (ICMPv6 over its pseudo-header); a bad one is reported through
    `cksum_ok` so that callers can count it and skip it.
    """
    if len(data) < 8:
        return None
    typ, code = data[0], data[1]
    if version == 4:
        ok = checksum_ok(data)
    else:
        ok = transport_checksum(src, dst, PROTO_ICMP6, data) in (0, 0xFFFF)
    key = (version, typ)
    if key in _ECHO_KIND:
        ident, seq = struct.unpack_from("!HH", data, 4)
        return Icmp(version, src, dst, ttl, typ, code, _ECHO_KIND[key], ok, ident, seq,
                    payload=data[8:], length=len(data))
    kind = _ERROR_KIND.get(key)
    if kind is None:
        return Icmp(version, src, dst, ttl, typ, code, "other", ok, body=data[8:],
                    length=len(data))
    mtu = pointer = None
    if version == 4 and typ == ICMP_UNREACH and code == 4:
        mtu = struct.unpack_from("!H", data, 6)[0]
    elif version == 6 and typ == ICMP6_PACKET_TOO_BIG:
        mtu = struct.unpack_from("!I", data, 4)[0]
    elif typ == (ICMP_PARAMPROB if version == 4 else ICMP6_PARAM_PROB):
        pointer = data[4] if version == 4 else struct.unpack_from("!I", data, 4)[0]
    return Icmp(version, src, dst, ttl, typ, code, kind, ok, quote=parse_quote(data[8:]),
                mtu=mtu, pointer=pointer, body=data[8:], length=len(data))


def parse_ip(packet: bytes) -> Icmp | None:
    """Decode an IPv4 or IPv6 datagram carrying ICMP; None for anything else.

    The caller hands the whole datagram (a raw socket's read, a DLT_RAW pcap
    record, or a link frame already stripped), so the TTL and the addresses
    come from the real header.
    """
    if not packet:
        return None
    version = packet[0] >> 4
    try:
        if version == 4:
            ip = dpkt.ip.IP(packet)
            if ip.p != PROTO_ICMP or ip.offset & 0x1FFF:
                return None
            start = ip.hl * 4
            end = min(len(packet), ip.len) if ip.len >= start else len(packet)
            return parse_icmp(4, _ntop(ip.src), _ntop(ip.dst), ip.ttl, packet[start:end])
        if version == 6 and len(packet) >= 40:
            nxt, off = ip6_transport(packet)
            if nxt != PROTO_ICMP6:
                return None
            end = 40 + struct.unpack_from("!H", packet, 4)[0]
            return parse_icmp(6, _ntop(packet[8:24]), _ntop(packet[24:40]), packet[7],
                              packet[off:end])
    except (dpkt.UnpackError, struct.error, ValueError):
        return None
    return None
