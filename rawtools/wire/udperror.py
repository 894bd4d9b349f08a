"""ICMP errors about UDP datagrams, read at fixed offsets: icmpd's per-packet path.

icmpd reads every ICMP error that reaches the host and must keep up with
thousands a second while it hands them to clients. The general parser
(`wire.icmp.parse_ip`) walks extension headers, decodes every message type
and builds records for all of them; most of that is wasted on the one shape
icmpd serves, and it costs about 15 us a packet. This reads that shape
directly: an IPv4 header without options or an IPv6 header without
extension headers, carrying an ICMP error of a forwarded type whose checksum
is right, quoting an IPv4 or IPv6 header (the same rule) and at least the 8
bytes of a UDP header. Anything else returns None, and the caller falls
back to the general parser, which says what the packet was instead.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

from rawtools.wire.checksum import ones_sum, pseudo_header_raw
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_UDP

# ICMP destination unreachable, source quench, time exceeded; ICMPv6
# destination unreachable, packet too big, time exceeded.
_TYPES4 = frozenset({3, 4, 11})
_TYPES6 = frozenset({1, 2, 3})
_H = struct.Struct("!H")
_I = struct.Struct("!I")
_QUOTE_MIN4 = 20 + 8 + 20 + 8
_QUOTE_MIN6 = 40 + 8 + 40 + 8


class UdpError(NamedTuple):
    """An ICMP error quoting a UDP datagram, with what icmpd forwards.

    `src`/`sport` are the quoted datagram's source (the local socket it came
    from), `dst`/`dport` where it was going; `offender` sent the error, with
    `ttl`; `mtu` is the next-hop MTU of fragmentation-needed or packet-too-big
    (None otherwise); `quote` the quoted bytes, IP header first.
    """

    version: int
    type: int
    code: int
    ttl: int
    offender: str
    mtu: int | None
    src: str
    sport: int
    dst: str
    dport: int
    quote: bytes


def read_udp_error(packet: bytes) -> UdpError | None:
    """The UDP error `packet` carries, or None when it is not in the common shape."""
    if not packet:
        return None
    first = packet[0]
    if first == 0x45:
        return _v4(packet)
    if first >> 4 == 6:
        return _v6(packet)
    return None


def _v4(p: bytes) -> UdpError | None:
    total = _H.unpack_from(p, 2)[0]
    if (p[9] != PROTO_ICMP or len(p) < _QUOTE_MIN4 or _H.unpack_from(p, 6)[0] & 0x3FFF
            or total < _QUOTE_MIN4):
        return None
    msg = p[20:total]
    typ = msg[0]
    if typ not in _TYPES4 or ones_sum(msg) != 0xFFFF:
        return None
    quote = msg[8:]
    qhl = (quote[0] & 0x0F) * 4
    if quote[0] >> 4 != 4 or qhl < 20 or quote[9] != PROTO_UDP or len(quote) < qhl + 8:
        return None
    code = msg[1]
    mtu = _H.unpack_from(msg, 6)[0] if typ == 3 and code == 4 else None
    sport, dport = struct.unpack_from("!HH", quote, qhl)
    ntop = socket.inet_ntop
    af = socket.AF_INET
    return UdpError(4, typ, code, p[8], ntop(af, p[12:16]), mtu, ntop(af, quote[12:16]), sport,
                    ntop(af, quote[16:20]), dport, quote)


def _v6(p: bytes) -> UdpError | None:
    if p[6] != PROTO_ICMP6 or len(p) < _QUOTE_MIN6:
        return None
    end = 40 + _H.unpack_from(p, 4)[0]
    msg = p[40:end]
    typ = msg[0]
    if typ not in _TYPES6 or len(msg) < 8 + 40 + 8:
        return None
    if ones_sum(pseudo_header_raw(p[8:24], p[24:40], PROTO_ICMP6, len(msg)) + msg) != 0xFFFF:
        return None
    quote = msg[8:]
    if quote[0] >> 4 != 6 or quote[6] != PROTO_UDP:
        return None
    mtu = _I.unpack_from(msg, 4)[0] if typ == 2 else None
    sport, dport = struct.unpack_from("!HH", quote, 40)
    ntop = socket.inet_ntop
    af = socket.AF_INET6
    return UdpError(6, typ, msg[1], p[7], ntop(af, p[8:24]), mtu, ntop(af, quote[8:24]), sport,
                    ntop(af, quote[24:40]), dport, quote)


def quote_checksum_ok(quote: bytes) -> bool | None:
    """Whether the quoted UDP checksum matches the quoted bytes (None: cannot tell).

    Only a quote holding the whole datagram can be checked, and a zero field
    (IPv4's "no checksum") checks nothing. A datagram with a right checksum
    sums, field included, to 0xffff over its pseudo-header and itself.
    """
    if quote[0] >> 4 == 6:
        off, src, dst = 40, quote[8:24], quote[24:40]
    else:
        off, src, dst = (quote[0] & 0x0F) * 4, quote[12:16], quote[16:20]
    ulen, field = struct.unpack_from("!HH", quote, off + 4)
    if field == 0 or ulen < 8 or len(quote) < off + ulen:
        return None
    return ones_sum(pseudo_header_raw(src, dst, PROTO_UDP, ulen) + quote[off:off + ulen]) \
        == 0xFFFF
