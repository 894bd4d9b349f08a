"""IP headers read by rawtools.wire.ip, held to dpkt's reading of the same bytes.

The extension-header chains are laid out by hand from RFC 8200 (hop-by-hop,
routing, destination options: length in 8-octet units not counting the first;
fragment: always 8 octets) and RFC 4302 (AH: length in 4-octet units minus 2),
and dpkt, which walks the chain with its own code, says where the transport
header starts.
"""

from __future__ import annotations

import socket
import struct

import dpkt
import pytest

from rawtools.wire.ip import (
    PROTO_AH,
    PROTO_DSTOPTS,
    PROTO_FRAGMENT,
    PROTO_HOPOPTS,
    PROTO_ROUTING,
    PROTO_UDP,
    build_ipv4,
    build_ipv6,
    ip6_transport,
    parse_header,
)

SRC6, DST6 = "2001:db8::1", "2001:db8:0:3::2"
UDP = struct.pack("!HHHH", 40000, 33434, 12, 0) + b"data"


def ext(kind: int, nxt: int, units: int) -> bytes:
    """One extension header of `kind` whose next header is `nxt`, `units` in its own unit."""
    if kind == PROTO_FRAGMENT:
        return struct.pack("!BBHI", nxt, 0, 0, 0x12345678)
    if kind == PROTO_AH:
        return struct.pack("!BBHII", nxt, units, 0, 0x100, 1) + bytes(units * 4 - 4)
    # Hop-by-hop, routing, destination options: PadN fills the rest.
    body = (units + 1) * 8 - 2
    return bytes([nxt, units]) + bytes([1, body - 2]) + bytes(body - 2)


def chain(*headers: tuple[int, int]) -> bytes:
    """An IPv6 datagram with the given (kind, units) extension headers, then UDP."""
    kinds = [k for k, _ in headers]
    parts = b""
    for i, (kind, units) in enumerate(headers):
        nxt = kinds[i + 1] if i + 1 < len(kinds) else PROTO_UDP
        parts += ext(kind, nxt, units)
    first = kinds[0] if kinds else PROTO_UDP
    return build_ipv6(SRC6, DST6, first, 64, parts + UDP)


def dpkt_transport_offset(packet: bytes) -> tuple[int, int]:
    ip6 = dpkt.ip6.IP6(packet)
    return ip6.p, len(packet) - len(bytes(ip6.data))


@pytest.mark.parametrize("headers", [
    (),
    ((PROTO_HOPOPTS, 0),),
    ((PROTO_HOPOPTS, 2),),
    ((PROTO_FRAGMENT, 0),),
    ((PROTO_AH, 4),),
    ((PROTO_AH, 7),),
    ((PROTO_DSTOPTS, 1), (PROTO_ROUTING, 0)),
    ((PROTO_HOPOPTS, 0), (PROTO_FRAGMENT, 0), (PROTO_DSTOPTS, 3)),
    ((PROTO_HOPOPTS, 1), (PROTO_AH, 4), (PROTO_FRAGMENT, 0)),
])
def test_the_transport_header_after_extension_headers(headers):
    packet = chain(*headers)
    assert ip6_transport(packet) == dpkt_transport_offset(packet) \
        == (PROTO_UDP, len(packet) - len(UDP))
    h = parse_header(packet)
    assert (h.proto, h.offset, h.length) == (PROTO_UDP, len(packet) - len(UDP), len(packet))


def test_a_chain_ending_exactly_at_the_buffer_end_is_walked():
    # A quote cut right after an 8-byte fragment header still says what follows it.
    packet = chain((PROTO_FRAGMENT, 0))[:40 + 8]
    assert ip6_transport(packet) == (PROTO_UDP, 48)


def test_a_chain_cut_inside_a_header_stops_before_it():
    packet = chain((PROTO_HOPOPTS, 0), (PROTO_DSTOPTS, 0))[:40 + 8 + 7]
    assert ip6_transport(packet) == (PROTO_DSTOPTS, 48)


def test_the_ipv6_header_of_a_quote_starts_anywhere():
    packet = b"\xaa" * 12 + chain((PROTO_HOPOPTS, 0))
    assert ip6_transport(packet, 12) == (PROTO_UDP, 12 + 48)


def test_ipv6_has_no_ipv4_only_fields():
    h = parse_header(chain())
    assert (h.version, h.ttl, h.ident, h.fragment_offset) == (6, 64, 0, 0)


@pytest.mark.parametrize("mf, offset_units", [(False, 0), (True, 0), (True, 185), (False, 8191)])
def test_ipv4_fragment_offset_in_bytes(mf, offset_units):
    ip = dpkt.ip.IP(src=socket.inet_aton("198.18.0.1"), dst=socket.inet_aton("198.18.3.2"),
                    p=PROTO_UDP, ttl=9, id=0xABCD, data=UDP)
    ip.mf, ip.offset = int(mf), offset_units  # dpkt's offset is in 8-octet units
    h = parse_header(bytes(ip))
    # The flags (MF here) are not part of the offset; dpkt's own reading agrees.
    assert h.fragment_offset == dpkt.ip.IP(bytes(ip)).offset * 8 == offset_units * 8
    assert struct.unpack_from("!H", bytes(ip), 6)[0] == (0x2000 if mf else 0) | offset_units
    assert (h.ident, h.ttl, h.proto) == (0xABCD, 9, PROTO_UDP)


def test_build_ipv4_is_read_back_by_dpkt():
    raw = build_ipv4("198.18.0.1", "198.18.3.2", PROTO_UDP, 33, UDP, ident=77)
    ip = dpkt.ip.IP(raw)
    assert (ip.len, ip.id, ip.ttl, ip.p, bytes(ip.data)) == (20 + len(UDP), 77, 33, 17, UDP)
    assert socket.inet_ntoa(ip.src) == "198.18.0.1" and (ip.df, ip.mf, ip.offset) == (0, 0, 0)
    assert dpkt.in_cksum(raw[:20]) == 0


def test_build_ipv6_is_read_back_by_dpkt():
    raw = build_ipv6(SRC6, DST6, PROTO_UDP, 5, UDP)
    ip6 = dpkt.ip6.IP6(raw)
    assert (ip6.plen, ip6.nxt, ip6.hlim, bytes(ip6.data)) == (len(UDP), 17, 5, UDP)
    assert socket.inet_ntop(socket.AF_INET6, ip6.dst) == DST6


@pytest.mark.parametrize("src, dst, proto, ttl, ident, payload", [
    ("198.18.0.1", "198.18.3.2", PROTO_UDP, 1, 0, b""),
    ("198.19.255.9", "198.18.200.200", 1, 255, 0xFFFF, UDP),
])
def test_build_ipv4_is_byte_for_byte_dpkts(src, dst, proto, ttl, ident, payload):
    """dpkt packs the same header with its own code (TOS 0, DF clear, its own checksum):
    every byte must agree, the TOS and checksum included."""
    ref = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, ttl=ttl,
                     id=ident, data=payload)
    assert build_ipv4(src, dst, proto, ttl, payload, ident) == bytes(ref)


def test_build_ipv6_is_byte_for_byte_dpkts():
    """Traffic class and flow label 0, as dpkt's default version/class/label word says."""
    ref = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, SRC6),
                       dst=socket.inet_pton(socket.AF_INET6, DST6), nxt=PROTO_UDP, hlim=7,
                       plen=len(UDP), data=UDP)
    assert build_ipv6(SRC6, DST6, PROTO_UDP, 7, UDP) == bytes(ref)


def test_build_ip_chooses_the_family_by_the_address_form():
    from rawtools.wire.ip import build_ip
    assert build_ip(SRC6, DST6, PROTO_UDP, 7, UDP)[0] >> 4 == 6
    assert build_ip("198.18.0.1", "198.18.3.2", PROTO_UDP, 7, UDP)[0] >> 4 == 4
    assert build_ip("::ffff:198.18.0.1", "::1", PROTO_UDP, 7, UDP)[0] >> 4 == 6


def test_headers_with_nothing_after_them_are_still_read():
    """A header alone (20 bytes of IPv4, 40 of IPv6) is a whole datagram: a zero-length
    payload, as dpkt reads it too; one byte less is not a header."""
    v4 = bytes(dpkt.ip.IP(src=socket.inet_aton("198.18.0.1"), dst=socket.inet_aton("198.18.3.2"),
                          p=PROTO_UDP, ttl=3))
    v6 = build_ipv6(SRC6, DST6, 59, 3, b"")  # RFC 8200: next header 59, nothing follows
    assert len(v4) == 20 and len(v6) == 40
    h4, h6 = parse_header(v4), parse_header(v6)
    assert (h4.version, h4.offset, h4.length, h4.ttl) == (4, 20, 20, 3)
    assert (h6.version, h6.proto, h6.offset, h6.length, h6.ttl) == (6, 59, 40, 40, 3)
    assert parse_header(v4[:19]) is None and parse_header(v6[:39]) is None
    assert parse_header(b"") is None


@pytest.mark.parametrize("ihl", [0, 1, 4])
def test_an_ipv4_header_length_under_five_words_is_not_a_header(ihl):
    # RFC 791: IHL counts 32-bit words and is at least 5.
    raw = bytearray(build_ipv4("198.18.0.1", "198.18.3.2", PROTO_UDP, 3, UDP))
    raw[0] = 0x40 | ihl
    assert parse_header(bytes(raw)) is None


def test_ipv4_options_move_the_transport_header():
    """IHL 6: a 4-byte option (NOP NOP NOP EOL) before UDP, as dpkt reads the header."""
    ip = dpkt.ip.IP(src=socket.inet_aton("198.18.0.1"), dst=socket.inet_aton("198.18.3.2"),
                    p=PROTO_UDP, ttl=3, opts=b"\x01\x01\x01\x00", data=UDP)
    ip.hl = 6  # dpkt packs the options but leaves IHL to the caller
    raw = bytes(ip)
    assert dpkt.ip.IP(raw).hl == 6
    h = parse_header(raw)
    assert (h.offset, h.length, h.src, h.dst) == (24, 24 + len(UDP), "198.18.0.1", "198.18.3.2")


def test_versions_other_than_4_and_6_are_not_ip():
    raw = bytearray(build_ipv4("198.18.0.1", "198.18.3.2", PROTO_UDP, 3, UDP))
    for version in (0, 5, 7, 15):
        raw[0] = version << 4 | 5
        assert parse_header(bytes(raw)) is None, version


def test_build_ipv4_without_an_ident_is_dpkts_default_header():
    """The datagrams wrapped around what the kernel hid (error queue, ICMP sockets) are
    built without an ident: 0, as dpkt builds a header it was given none for."""
    ref = dpkt.ip.IP(src=socket.inet_aton("198.18.0.1"), dst=socket.inet_aton("198.18.3.2"),
                     p=PROTO_UDP, ttl=9, data=UDP)
    assert build_ipv4("198.18.0.1", "198.18.3.2", PROTO_UDP, 9, UDP) == bytes(ref)
    assert dpkt.ip.IP(bytes(ref)).id == 0
