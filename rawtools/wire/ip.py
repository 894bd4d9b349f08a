"""IPv4 and IPv6 headers: the protocol numbers, one parser, and building them around a payload.

Every consumer of a datagram (the replay transport telling ours from theirs,
the tracer reading a TCP answer, the session learning a recording's probe,
the ICMP parser) needs the same few facts: version, addresses, protocol,
TTL or hop limit, and where the transport header starts, past IPv6
extension headers. `parse_header` gives exactly those, so no caller slices
header bytes by hand.

Building is for what the kernel hides from us: datagram and raw ICMPv6
sockets hand over the ICMP message without its IP header, and the error
queue hands over our own datagram plus a few numbers. Wrapping them back into
IP datagrams lets one parser, one recorder (DLT_RAW pcap) and one replay
path serve every socket type. The two fixed headers are packed here with
struct (tests check them byte for byte against dpkt's): a live tool builds
one for every probe it sends, and loading dpkt for that cost a trace some
50 ms between its first probe and the next, a round trip on a real path.
"""

from __future__ import annotations

import socket
import struct

from rawtools.values import frozen
from rawtools.wire.checksum import inet_checksum

# IP protocol numbers (IANA), in dpkt's naming habit.
PROTO_HOPOPTS = 0
PROTO_ICMP = 1
PROTO_IGMP = 2
PROTO_IPIP = 4
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6 = 41
PROTO_ROUTING = 43
PROTO_FRAGMENT = 44
PROTO_GRE = 47
PROTO_ESP = 50
PROTO_AH = 51
PROTO_ICMP6 = 58
PROTO_NONE = 59
PROTO_DSTOPTS = 60
PROTO_OSPF = 89
PROTO_PIM = 103
PROTO_VRRP = 112
PROTO_SCTP = 132
PROTO_MOBILITY = 135
PROTO_HIP = 139
PROTO_SHIM6 = 140

IP4_HEADER_LEN = 20
IP6_HEADER_LEN = 40

# IPv6 extension headers that may stand between the fixed header and the
# transport header, each sized in 8-byte units after its first 8 bytes;
# the fragment header is always 8 bytes and AH counts 4-byte units.
_IP6_EXT = frozenset({PROTO_HOPOPTS, PROTO_ROUTING, PROTO_DSTOPTS, PROTO_MOBILITY, PROTO_HIP,
                      PROTO_SHIM6})
_V4_FIXED = struct.Struct("!BBHHHBBH4s4s")
_V6_FIXED = struct.Struct("!IHBB16s16s")


@frozen
class IpHeader:
    """The facts of an IPv4 or IPv6 header every tool asks for.

    `proto` is the transport protocol after any IPv6 extension headers and
    `offset` where its header starts; `length` is the datagram length the
    header claims (IPv4 total length, IPv6 payload length plus 40);
    `fragment_offset` is non-zero for a non-first fragment (whose transport
    header is elsewhere).
    """

    version: int
    src: str
    dst: str
    proto: int
    ttl: int
    offset: int
    length: int
    ident: int = 0
    fragment_offset: int = 0


def ip6_transport(buf: bytes | bytearray, start: int = 0) -> tuple[int, int]:
    """(protocol, offset) of the transport header after IPv6 extension headers.

    A chain cut short stops at the last whole header it could read.
    """
    nxt, off, _frag = ip6_chain(buf, start)
    return nxt, off


def ip6_chain(buf: bytes | bytearray, start: int = 0) -> tuple[int, int, int | None]:
    """(protocol, offset) of the transport header and the fragment header's offset (or None).

    The one walk of an IPv6 extension chain: the transport header and the
    fragment header are found the same way, and a chain cut short stops at
    the last whole header it could read.
    """
    nxt, off, frag = buf[start + 6], start + IP6_HEADER_LEN, None
    while nxt in _IP6_EXT or nxt in (PROTO_FRAGMENT, PROTO_AH):
        if off + 8 > len(buf):
            break
        if nxt == PROTO_FRAGMENT:
            frag, step = off, 8
        elif nxt == PROTO_AH:
            step = (buf[off + 1] + 2) * 4
        else:
            step = (buf[off + 1] + 1) * 8
        nxt = buf[off]
        off += step
    return nxt, off, frag


def parse_header(packet: bytes | bytearray) -> IpHeader | None:
    """The header of an IPv4 or IPv6 datagram; None when too short or not IP."""
    if not packet:
        return None
    version = packet[0] >> 4
    if version == 4 and len(packet) >= IP4_HEADER_LEN:
        vihl, _tos, tlen, ident, frag, ttl, proto, _ck, s, d = _V4_FIXED.unpack_from(packet)
        hl = (vihl & 0xF) * 4
        if hl < IP4_HEADER_LEN:
            return None
        return IpHeader(4, socket.inet_ntop(socket.AF_INET, s),
                        socket.inet_ntop(socket.AF_INET, d), proto, ttl, hl, tlen, ident,
                        (frag & 0x1FFF) * 8)
    if version == 6 and len(packet) >= IP6_HEADER_LEN:
        _vtf, plen, _nxt, hlim, s, d = _V6_FIXED.unpack_from(packet)
        proto, off = ip6_transport(packet)
        return IpHeader(6, socket.inet_ntop(socket.AF_INET6, s),
                        socket.inet_ntop(socket.AF_INET6, d), proto, hlim, off,
                        plen + IP6_HEADER_LEN)
    return None


def build_ipv4(src: str, dst: str, proto: int, ttl: int, payload: bytes, ident: int = 0) -> bytes:
    """An IPv4 datagram with a correct header checksum, DF clear, no options."""
    hdr = _V4_FIXED.pack(0x45, 0, IP4_HEADER_LEN + len(payload), ident, 0, ttl, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:] + payload


def build_ipv6(src: str, dst: str, nxt: int, hlim: int, payload: bytes) -> bytes:
    """An IPv6 datagram with no extension headers."""
    return _V6_FIXED.pack(0x60000000, len(payload), nxt, hlim,
                          socket.inet_pton(socket.AF_INET6, src),
                          socket.inet_pton(socket.AF_INET6, dst)) + payload


def build_ip(src: str, dst: str, proto: int, ttl: int, payload: bytes) -> bytes:
    """IPv4 or IPv6 by the form of the addresses."""
    if ":" in src:
        return build_ipv6(src, dst, proto, ttl, payload)
    return build_ipv4(src, dst, proto, ttl, payload)
