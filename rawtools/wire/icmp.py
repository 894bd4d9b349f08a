"""ICMP and ICMPv6: echo probes, and errors traced back to the probe they quote.

Every tool that waits for an answer from the network ends up here: ping reads
echo replies and router errors, trace reads time-exceeded and unreachables,
icmpd hands errors to the sockets whose datagrams caused them. The parsers take
whole IP datagrams (what a raw socket, a pcap or the error-queue synthesis in
the io layer hand over) and return one flat `Icmp` record, so matching a reply
to a probe never depends on which socket or file it came from.
"""

from __future__ import annotations

import struct

from rawtools.values import frozen
from rawtools.wire.checksum import checksum_ok, inet_checksum, transport_checksum
from rawtools.wire.ip import (
    PROTO_ICMP,
    PROTO_ICMP6,
    PROTO_TCP,
    PROTO_UDP,
    parse_header,
)

# ICMP (RFC 792) types and the codes the tools act on.
ICMP_ECHOREPLY = 0
ICMP_UNREACH = 3
ICMP_SOURCEQUENCH = 4
ICMP_REDIRECT = 5
ICMP_ECHO = 8
ICMP_TIMXCEED = 11
ICMP_PARAMPROB = 12
ICMP_UNREACH_NET = 0
ICMP_UNREACH_HOST = 1
ICMP_UNREACH_PROTOCOL = 2
ICMP_UNREACH_PORT = 3
ICMP_UNREACH_NEEDFRAG = 4
ICMP_UNREACH_SRCFAIL = 5
ICMP_UNREACH_NET_UNKNOWN = 6
ICMP_UNREACH_HOST_UNKNOWN = 7
ICMP_UNREACH_ISOLATED = 8
ICMP_UNREACH_NET_PROHIB = 9
ICMP_UNREACH_HOST_PROHIB = 10
ICMP_UNREACH_TOSNET = 11
ICMP_UNREACH_TOSHOST = 12
ICMP_UNREACH_FILTER_PROHIB = 13
ICMP_UNREACH_HOST_PRECEDENCE = 14
ICMP_UNREACH_PRECEDENCE_CUTOFF = 15
ICMP_TIMXCEED_INTRANS = 0
ICMP_TIMXCEED_REASS = 1

# ICMPv6 (RFC 4443) types and codes.
ICMP6_UNREACH = 1
ICMP6_PACKET_TOO_BIG = 2
ICMP6_TIME_EXCEEDED = 3
ICMP6_PARAM_PROB = 4
ICMP6_ECHO = 128
ICMP6_ECHOREPLY = 129
ICMP6_UNREACH_NOROUTE = 0
ICMP6_UNREACH_ADMIN = 1
ICMP6_UNREACH_BEYONDSCOPE = 2
ICMP6_UNREACH_ADDR = 3
ICMP6_UNREACH_NOPORT = 4
ICMP6_UNREACH_POLICY = 5
ICMP6_UNREACH_REJECT = 6
ICMP6_TIME_EXCEED_TRANSIT = 0
ICMP6_TIME_EXCEED_REASSEMBLY = 1

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Literal

    IcmpKind = Literal["echo-request", "echo-reply", "unreachable", "time-exceeded",
                       "param-problem", "source-quench", "redirect", "packet-too-big",
                       "other"]

# Which (family, type) pairs carry a quoted datagram, and what they mean.
_ERROR_KIND: dict[tuple[int, int], IcmpKind] = {
    (4, ICMP_UNREACH): "unreachable",
    (4, ICMP_TIMXCEED): "time-exceeded",
    (4, ICMP_PARAMPROB): "param-problem",
    (4, ICMP_SOURCEQUENCH): "source-quench",
    (4, ICMP_REDIRECT): "redirect",
    (6, ICMP6_UNREACH): "unreachable",
    (6, ICMP6_PACKET_TOO_BIG): "packet-too-big",
    (6, ICMP6_TIME_EXCEEDED): "time-exceeded",
    (6, ICMP6_PARAM_PROB): "param-problem",
}
_ECHO_KIND: dict[tuple[int, int], IcmpKind] = {
    (4, ICMP_ECHO): "echo-request",
    (4, ICMP_ECHOREPLY): "echo-reply",
    (6, ICMP6_ECHO): "echo-request",
    (6, ICMP6_ECHOREPLY): "echo-reply",
}


@frozen
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


@frozen
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
    kind: IcmpKind
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
    which is the kernel's choice), so it stays zero here. Packed by hand, not
    with dpkt: loading dpkt would cost `ping -c 1` 70 ms before its first probe
    (the tests build the same message with dpkt to check it).
    """
    if version == 4:
        msg = struct.pack("!BBHHH", ICMP_ECHO, 0, 0, ident, seq) + payload
        return msg[:2] + struct.pack("!H", inet_checksum(msg)) + msg[4:]
    return struct.pack("!BBHHH", ICMP6_ECHO, 0, 0, ident, seq) + payload


def with_icmp6_checksum(src: str, dst: str, icmp6: bytes) -> bytes:
    """`icmp6` with its checksum computed: what the kernel put on the wire."""
    zeroed = icmp6[:2] + b"\0\0" + icmp6[4:]
    return zeroed[:2] + struct.pack("!H", transport_checksum(src, dst, PROTO_ICMP6, zeroed)) \
        + zeroed[4:]


def parse_quote(buf: bytes) -> Quote | None:
    """The datagram quoted in an ICMP error, or None if too short to identify."""
    h = parse_header(buf)
    if h is None or h.offset > len(buf):
        return None
    return Quote(h.version, h.src, h.dst, h.proto, h.ttl, h.ident, h.length,
                 buf[h.offset:h.offset + 8])


def parse_icmp(version: int, src: str, dst: str, ttl: int, data: bytes) -> Icmp | None:
    """Decode an ICMP (version 4) or ICMPv6 message `data` received from `src`.

    Returns None for messages too short to have a header. The checksum is
    verified (ICMPv6 over its pseudo-header); a bad one is reported through
    `cksum_ok` so that callers can count it and skip it.
    """
    if len(data) < 8:
        return None
    typ, code = data[0], data[1]
    # ICMPv6: a good sum over the pseudo-header complements to 0, never to 0xFFFF (that
    # needs a ones' complement sum of 0, which only all-zero words give, and the
    # pseudo-header always holds next header 58).
    ok = (checksum_ok(data) if version == 4
          else transport_checksum(src, dst, PROTO_ICMP6, data) == 0)
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
    if version == 4 and typ == ICMP_UNREACH and code == ICMP_UNREACH_NEEDFRAG:
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
    h = parse_header(packet)
    if h is None or h.fragment_offset:
        return None
    if h.proto != (PROTO_ICMP if h.version == 4 else PROTO_ICMP6):
        return None
    end = h.length
    if h.version == 4 and h.length < h.offset:
        end = len(packet)  # a zero total length, as captures of offloaded sends show
    return parse_icmp(h.version, h.src, h.dst, h.ttl, packet[h.offset:end])


# Appended for the sniff decoder, which names these messages too (dpkt's
# names; RFC 792 and 950 for ICMP, RFC 4861 and 3810 for ICMPv6).
ICMP_TSTAMP = 13
ICMP_TSTAMPREPLY = 14
ICMP_MASKREPLY = 18
ICMP6_MLD_QUERY = 130
ICMP6_ND_NEIGHBOR_SOLICIT = 135
ICMP6_ND_NEIGHBOR_ADVERT = 136
ICMP6_ND_REDIRECT = 137
ICMP6_MLDV2_REPORT = 143
