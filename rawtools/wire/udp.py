"""UDP datagrams built whole, IP header included, and the checksum of a received one judged.

udpcksum (UNP section 29.7) asks a server a question and reads the UDP
checksum of its answer off the wire. Only a capture shows that field: a UDP
socket hands over the payload of datagrams the kernel already accepted, and
the kernel drops the very datagrams whose checksum is wrong. So the verdict
is computed here, from the captured bytes alone, and tested with literal ones.

The field of a received datagram holds one of:

- the checksum over the pseudo-header, header and payload: valid;
- 0, "not computed": allowed by IPv4 (SO_NO_CHECK senders), forbidden by
  IPv6 (RFC 8200: receivers drop it, UDP_NO_CHECK6_TX senders aside);
- the ones'-complement sum of the pseudo-header alone, not inverted: the
  sender's kernel left the rest to transmit checksum offload, and the
  datagram was captured before any hardware finished it (a veth pair, a
  container or a VM on the capturing machine). Nothing can be concluded
  about the server's stack from it; the receiving kernel trusts it unchecked;
- anything else: invalid, with the value it should have been.

A datagram cut short by the capture, or the first fragment of a larger one,
cannot be verified: the checksum covers bytes we do not have.
"""

from __future__ import annotations

import struct
from typing import Literal

from rawtools.values import frozen
from rawtools.wire.checksum import inet_checksum, ones_sum, pseudo_header_raw
from rawtools.wire.ip import (
    PROTO_UDP,
    build_ipv4,
    build_ipv6,
    ip6_chain,
    parse_header,
)
from rawtools.wire.probes import udp_header

Verdict = Literal["valid", "invalid", "disabled", "unverifiable"]
"""What a received checksum field proves about the datagram."""

Reason = Literal["computed", "mismatch", "zero", "offload", "truncated", "fragment", "length"]
"""Why that verdict: the field matched, differed, was 0, held the offload
pseudo-header sum, the capture was cut short, the datagram was a first
fragment, or the UDP length field did not fit the IP payload."""

UDP_HEADER_LEN = 8
MAX_PAYLOAD = 65535 - 20 - UDP_HEADER_LEN
"""The largest UDP payload an IPv4 datagram can carry (IPv6 allows 20 bytes more)."""

_UDP = struct.Struct("!HHHH")
_IP4_MF = 0x2000


@frozen
class UdpProbe:
    """A UDP datagram we send with our own IP header (IP_HDRINCL / IPV6_HDRINCL).

    `ident` is the IPv4 identification (IPv6 has none in its fixed header);
    `zero_checksum` sends the field as 0, "not computed" (udpcksum -0).
    """

    version: int
    src: str
    dst: str
    sport: int
    dport: int
    payload: bytes
    ident: int = 0
    ttl: int = 64
    zero_checksum: bool = False

    def segment(self) -> bytes:
        """UDP header and payload; the checksum is 0xffff where it computes to 0."""
        if self.zero_checksum:
            return _UDP.pack(self.sport, self.dport, UDP_HEADER_LEN + len(self.payload), 0) \
                + self.payload
        return udp_header(self.src, self.dst, self.sport, self.dport, self.payload)

    def datagram(self) -> bytes:
        """The whole IP datagram, exactly as it leaves."""
        if self.version == 6:
            return build_ipv6(self.src, self.dst, PROTO_UDP, self.ttl, self.segment())
        return build_ipv4(self.src, self.dst, PROTO_UDP, self.ttl, self.segment(), self.ident)


@frozen
class UdpCheck:
    """A received UDP datagram's addresses, sizes and checksum verdict.

    `ip_length` is the datagram length its IP header claims and `captured`
    how many of those bytes we have; `field` is the checksum as received,
    `expected` the one the datagram should carry (None when it cannot be
    computed), `pseudo_sum` the offload value (the pseudo-header's sum).
    """

    version: int
    src: str
    dst: str
    sport: int
    dport: int
    ttl: int
    ip_length: int
    udp_length: int
    captured: int
    field: int
    expected: int | None
    pseudo_sum: int
    verdict: Verdict
    reason: Reason

    @property
    def checksums_on(self) -> bool:
        """UNP's question: did the sender put anything in the field at all."""
        return self.field != 0

    @property
    def payload_length(self) -> int:
        return max(0, self.udp_length - UDP_HEADER_LEN)


def _addresses(packet: bytes, version: int) -> tuple[bytes, bytes]:
    if version == 6:
        return packet[8:24], packet[24:40]
    return packet[12:16], packet[16:20]


def fragment(packet: bytes, version: int) -> tuple[int, bool]:
    """(fragment offset, more fragments) of an IPv4 datagram or an IPv6 fragment header."""
    if version == 4:
        word = struct.unpack_from("!H", packet, 6)[0]
        return (word & 0x1FFF) * 8, bool(word & _IP4_MF)
    frag = ip6_chain(packet)[2]
    if frag is None:
        return 0, False
    word = struct.unpack_from("!H", packet, frag + 2)[0]
    return word & 0xFFF8, bool(word & 1)


def check_udp(packet: bytes) -> UdpCheck | None:
    """Judge the UDP checksum of an IP datagram; None if it carries no readable UDP header.

    Bytes past the IP header's length (link-layer padding) are ignored; an
    IPv4 total length of 0 (what captures of segmentation-offloaded sends
    show) stands for "all that was captured".
    """
    h = parse_header(packet)
    if h is None or h.proto != PROTO_UDP or len(packet) < h.offset + UDP_HEADER_LEN:
        return None
    frag_offset, more = fragment(packet, h.version)
    if frag_offset:
        return None
    sport, dport, ulen, field = _UDP.unpack_from(packet, h.offset)
    ip_length = h.length if h.length >= h.offset else len(packet)
    captured = min(len(packet), ip_length)
    src, dst = _addresses(packet, h.version)
    psum = ones_sum(pseudo_header_raw(src, dst, PROTO_UDP, ulen))
    expected: int | None = None
    verdict: Verdict
    reason: Reason
    if field == 0:
        verdict, reason = ("invalid" if h.version == 6 else "disabled"), "zero"
    elif more:
        verdict, reason = "unverifiable", "fragment"
    elif ulen < UDP_HEADER_LEN or h.offset + ulen > ip_length:
        verdict, reason = "invalid", "length"
    elif h.offset + ulen > captured:
        verdict, reason = "unverifiable", "truncated"
    else:
        seg = packet[h.offset:h.offset + ulen]
        zeroed = seg[:6] + b"\0\0" + seg[8:]
        expected = inet_checksum(pseudo_header_raw(src, dst, PROTO_UDP, ulen) + zeroed) or 0xFFFF
        if field == expected:
            verdict, reason = "valid", "computed"
        elif field % 0xFFFF == psum % 0xFFFF:
            verdict, reason = "unverifiable", "offload"
        else:
            verdict, reason = "invalid", "mismatch"
    return UdpCheck(h.version, h.src, h.dst, sport, dport, h.ttl, ip_length, ulen, captured,
                    field, expected, psum, verdict, reason)

