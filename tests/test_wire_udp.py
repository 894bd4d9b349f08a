"""udpcksum's datagram builder and checksum judge at their edges, read back by dpkt.

The recorded replies in test_udpcksum_wire.py cover the verdicts users meet;
these build the rare shapes (fragments behind extension headers, headers
that claim too little, the largest datagram) with dpkt or by hand from RFC
791 / 768 / 8200 and check what the judge makes of them.
"""

from __future__ import annotations

import socket
import struct

import dpkt
import pytest

from rawtools.wire.ip import PROTO_AH, PROTO_FRAGMENT, PROTO_HOPOPTS, PROTO_UDP, build_ipv6
from rawtools.wire.udp import MAX_PAYLOAD, UdpProbe, check_udp, fragment

SRC4, DST4 = "198.18.0.1", "198.18.1.3"
SRC6, DST6 = "2001:db8::1", "2001:db8:0:1::3"


def probe4(payload: bytes = b"query", **kw: object) -> UdpProbe:
    return UdpProbe(4, SRC4, DST4, 40000, 53, payload, **kw)  # type: ignore[arg-type]


def test_the_largest_payload_fills_an_ipv4_datagram() -> None:
    # RFC 791: the total length field is 16 bits; 20 of them are the header, 8 UDP's.
    raw = probe4(b"\0" * MAX_PAYLOAD).datagram()
    assert len(raw) == 0xFFFF == struct.unpack_from("!H", raw, 2)[0]
    assert dpkt.ip.IP(raw).udp.ulen == 0xFFFF - 20


def test_a_probe_by_default_has_id_0_ttl_64_and_a_checksum() -> None:
    ip = dpkt.ip.IP(probe4().datagram())
    assert (ip.id, ip.ttl) == (0, 64)
    assert ip.udp.sum != 0


def test_a_zero_checksum_probe_still_says_its_length() -> None:
    ip = dpkt.ip.IP(probe4(b"12345", zero_checksum=True, ident=9).datagram())
    assert (ip.udp.sum, ip.udp.ulen, ip.id) == (0, 8 + 5, 9)


def _ip4(udp: bytes, *, total: int | None = None, mf: bool = False, offset_units: int = 0,
         field: int | None = None) -> bytes:
    ip = dpkt.ip.IP(src=socket.inet_aton(DST4), dst=socket.inet_aton(SRC4), p=17, ttl=61,
                    data=udp)
    ip.mf, ip.offset = int(mf), offset_units
    raw = bytearray(bytes(ip))
    if total is not None:
        raw[2:4] = struct.pack("!H", total)
    return bytes(raw)


UDP_REPLY = struct.pack("!HHHH", 53, 40000, 8 + 4, 0x1234) + b"abcd"


def test_a_first_fragment_cannot_be_verified() -> None:
    check = check_udp(_ip4(UDP_REPLY, mf=True))
    assert (check.verdict, check.reason, check.expected) == ("unverifiable", "fragment", None)


def test_a_later_fragment_has_no_udp_header() -> None:
    raw = _ip4(UDP_REPLY, mf=False, offset_units=185)
    assert fragment(raw, 4) == (185 * 8, False)
    assert check_udp(raw) is None


def test_an_empty_datagram_is_judged() -> None:
    udp = struct.pack("!HHHH", 53, 40000, 8, 0)
    seg = udp
    pseudo = socket.inet_aton(DST4) + socket.inet_aton(SRC4) + struct.pack("!BBH", 0, 17, 8)
    good = dpkt.in_cksum(pseudo + seg) or 0xFFFF
    check = check_udp(_ip4(udp[:6] + struct.pack("!H", good)))
    assert (check.verdict, check.udp_length, check.payload_length) == ("valid", 8, 0)


def test_an_ipv4_header_that_claims_only_itself_holds_no_udp() -> None:
    # Total length 20: the UDP bytes after it are not part of the datagram.
    check = check_udp(_ip4(UDP_REPLY, total=20))
    assert (check.verdict, check.reason, check.ip_length, check.expected) == (
        "invalid", "length", 20, None)


def test_a_udp_length_under_8_has_no_payload() -> None:
    bad = struct.pack("!HHHH", 53, 40000, 5, 0x1234) + b"abcd"
    check = check_udp(_ip4(bad))
    assert (check.verdict, check.reason, check.payload_length) == ("invalid", "length", 0)


def test_expected_is_only_given_when_it_was_computed() -> None:
    assert check_udp(_ip4(UDP_REPLY[:6] + b"\0\0" + UDP_REPLY[8:])).expected is None
    check = check_udp(_ip4(UDP_REPLY))
    assert check.reason == "mismatch" and check.expected is not None


def _ip6_chain(*headers: bytes, first: int) -> bytes:
    return build_ipv6(DST6, SRC6, first, 61, b"".join(headers) + UDP_REPLY)


def _hop_by_hop(nxt: int) -> bytes:
    return bytes([nxt, 0, 1, 4]) + bytes(4)  # 8 octets: PadN of 4


def _ah(nxt: int, words: int) -> bytes:
    # RFC 4302: Payload Len counts 32-bit words minus 2.
    return struct.pack("!BBHII", nxt, words, 0, 0x100, 1) + bytes(words * 4 - 4)


def _frag(nxt: int, offset_units: int, more: bool) -> bytes:
    return struct.pack("!BBHI", nxt, 0, offset_units << 3 | int(more), 0xABCD)


@pytest.mark.parametrize("headers, first, expect", [
    ((_frag(PROTO_UDP, 0, True),), PROTO_FRAGMENT, (0, True)),
    ((_frag(PROTO_UDP, 0, False),), PROTO_FRAGMENT, (0, False)),
    ((_hop_by_hop(PROTO_FRAGMENT), _frag(PROTO_UDP, 0, True)), PROTO_HOPOPTS, (0, True)),
    ((_ah(PROTO_FRAGMENT, 4), _frag(PROTO_UDP, 0, True)), PROTO_AH, (0, True)),
    ((_hop_by_hop(PROTO_AH), _ah(PROTO_FRAGMENT, 7), _frag(PROTO_UDP, 0, True)),
     PROTO_HOPOPTS, (0, True)),
    ((_hop_by_hop(PROTO_FRAGMENT), _frag(PROTO_UDP, 3, True)), PROTO_HOPOPTS, (24, True)),
    ((_hop_by_hop(PROTO_UDP),), PROTO_HOPOPTS, (0, False)),
])
def test_ipv6_fragment_headers_behind_other_headers(headers, first, expect) -> None:
    raw = _ip6_chain(*headers, first=first)
    assert fragment(raw, 6) == expect
    # dpkt reads the same chain its own way.
    frag = dpkt.ip6.IP6(raw).extension_hdrs.get(PROTO_FRAGMENT)
    if frag is not None:
        assert (frag.frag_off * 8, bool(frag.m_flag)) == expect


def test_a_first_ipv6_fragment_behind_ah_is_unverifiable() -> None:
    raw = _ip6_chain(_ah(PROTO_FRAGMENT, 4), _frag(PROTO_UDP, 0, True), first=PROTO_AH)
    check = check_udp(raw)
    assert (check.verdict, check.reason) == ("unverifiable", "fragment")


def test_offload_is_recognised_when_the_pseudo_header_sums_to_minus_zero() -> None:
    """RFC 1071: 0x0000 and 0xffff are both zero in ones' complement. A pseudo-header whose
    sum is 0xffff, left in the field by an offloading sender, is that same sum however it
    is spelled, and must still read as offload, not as a wrong checksum."""
    from oracles import ref_sum
    src = socket.inet_aton("198.18.0.1")
    payload = b"abcd"
    ulen = 8 + len(payload)
    rest = src + socket.inet_aton("198.18.0.0") + struct.pack("!BBH", 0, 17, ulen)
    low = 0xFFFF - ref_sum(rest)  # the destination's last two bytes make the sum 0xffff
    dst = socket.inet_aton("198.18.0.0")[:2] + struct.pack("!H", low)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    assert ref_sum(pseudo) == 0xFFFF
    udp = struct.pack("!HHHH", 53, 40000, ulen, 0xFFFF) + payload
    ip = dpkt.ip.IP(src=src, dst=dst, p=17, ttl=61, data=udp)
    check = check_udp(bytes(ip))
    full = (~ref_sum(pseudo + udp[:6] + b"\0\0" + payload) & 0xFFFF) or 0xFFFF
    assert full != 0xFFFF  # not simply valid
    assert (check.field, check.verdict, check.reason) == (0xFFFF, "unverifiable", "offload")
