"""wire/icmp.py where mutation testing found tests/test_wire_icmp.py blind.

Each datagram here is packed by dpkt (its IP and ICMP packers, its checksums)
or laid out byte by byte from RFC 791/792/4443/8200; what rawtools reads back
is compared with what was packed, never with rawtools' own earlier output.
"""

from __future__ import annotations

import socket
import struct

import dpkt
import pytest

from rawtools.wire.icmp import parse_ip, parse_quote, with_icmp6_checksum

SRC, DST, ROUTER = "198.18.0.1", "198.18.3.2", "198.18.1.2"
SRC6, DST6 = "2001:db8::1", "2001:db8:0:3::2"


def ip4(src: str, dst: str, data: bytes, p: int = 1, ttl: int = 64, ident: int = 0,
        mf: bool = False, offset: int = 0) -> bytes:
    """An IPv4 datagram packed by dpkt: its header checksum, its total length, its flags."""
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=p, ttl=ttl,
                    id=ident, data=data)
    ip.mf, ip.offset = int(mf), offset  # offset in bytes, a multiple of 8
    return bytes(ip)


def echo_reply(ident: int, seq: int, data: bytes) -> bytes:
    return bytes(dpkt.icmp.ICMP(type=0, code=0, data=dpkt.icmp.ICMP.Echo(id=ident, seq=seq,
                                                                         data=data)))


def test_a_quote_keeps_exactly_the_first_8_transport_bytes_and_the_header_fields():
    """RFC 792: the quote is the header and 64 bits of data; more may follow (RFC 1812)."""
    udp = struct.pack("!HHHH", 40000, 33434, 28, 0xABCD) + bytes(range(20))
    probe = ip4(SRC, DST, udp, p=17, ttl=3, ident=0x4242)
    q = parse_quote(probe)
    assert q is not None
    assert q.transport == udp[:8]
    assert (q.version, q.src, q.dst, q.proto, q.ttl, q.ip_id, q.length) == (
        4, SRC, DST, 17, 3, 0x4242, 20 + len(udp))


def test_a_non_first_fragment_is_not_read_as_icmp():
    """RFC 791: only the fragment at offset 0 holds the ICMP header."""
    reply = echo_reply(7, 8, b"x" * 40)
    assert parse_ip(ip4(DST, SRC, reply)) is not None
    assert parse_ip(ip4(DST, SRC, reply, mf=True)) is not None  # the first fragment
    assert parse_ip(ip4(DST, SRC, reply[:24], offset=24)) is None
    assert parse_ip(ip4(DST, SRC, reply[:24], mf=True, offset=8)) is None


def test_link_padding_after_the_datagram_is_not_part_of_the_message():
    """A 60-byte Ethernet minimum pads short datagrams; the IPv4 total length ends them."""
    reply = echo_reply(7, 8, b"abc")
    msg = parse_ip(ip4(DST, SRC, reply) + bytes(17))
    assert msg is not None
    assert (msg.payload, msg.length, msg.cksum_ok) == (b"abc", len(reply), True)


def test_a_zero_total_length_reads_to_the_end_of_the_buffer():
    """Captures of sends with segmentation offload show total length 0: the buffer ends it."""
    reply = echo_reply(7, 8, b"abcdef")
    pkt = bytearray(ip4(SRC, DST, reply))
    pkt[2:4] = b"\0\0"
    msg = parse_ip(bytes(pkt))
    assert msg is not None
    assert (msg.payload, msg.length, msg.cksum_ok) == (b"abcdef", len(reply), True)


def test_an_ipv6_message_ends_where_its_payload_length_says():
    """RFC 8200: the payload length, not the buffer, bounds the ICMPv6 message."""
    body = struct.pack("!BBHHH", 129, 0, 0, 1, 2) + b"hello"
    icmp6 = with_icmp6_checksum(DST6, SRC6, body)
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, DST6),
                       dst=socket.inet_pton(socket.AF_INET6, SRC6), nxt=58, hlim=64,
                       plen=len(icmp6), data=icmp6)
    ip6.extension_hdrs = {}
    msg = parse_ip(bytes(ip6) + bytes(6))
    assert msg is not None
    assert (msg.payload, msg.cksum_ok, msg.ttl) == (b"hello", True, 64)


def test_an_icmpv6_checksum_is_computed_over_a_zeroed_field():
    """A message handed over with junk in its checksum field gets dpkt's checksum all the same."""
    body = struct.pack("!BBHHH", 128, 0, 0xDEAD, 5, 6) + b"payload"
    ours = with_icmp6_checksum(SRC6, DST6, body)
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, SRC6),
                       dst=socket.inet_pton(socket.AF_INET6, DST6), nxt=58, hlim=64,
                       data=dpkt.icmp6.ICMP6(type=128, code=0, data=body[4:]))
    ip6.plen = len(bytes(ip6.data))
    ip6.extension_hdrs = {}
    theirs = bytes(ip6)[40:]  # dpkt's IP6 packer computes the ICMPv6 checksum
    assert ours == theirs


def test_a_reply_that_is_not_icmp_or_not_ip_is_none():
    udp = bytes(dpkt.udp.UDP(sport=1, dport=2, data=b"12345678"))
    assert parse_ip(ip4(SRC, DST, udp, p=17)) is None
    icmp4_in_v6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, SRC6),
                               dst=socket.inet_pton(socket.AF_INET6, DST6), nxt=1, hlim=64,
                               plen=len(echo_reply(1, 1, b"")), data=echo_reply(1, 1, b""))
    icmp4_in_v6.extension_hdrs = {}
    assert parse_ip(bytes(icmp4_in_v6)) is None  # ICMPv6 is 58 (RFC 4443), not 1


@pytest.mark.parametrize("code, mtu", [(4, 1400), (3, None), (1, None)])
def test_only_fragmentation_needed_carries_a_next_hop_mtu(code, mtu):
    """RFC 1191: the MTU is in the low 16 bits of the second word of code 4 only."""
    quote = ip4(SRC, DST, struct.pack("!HHHH", 40000, 33434, 8, 0), p=17)
    msg = parse_ip(ip4(ROUTER, SRC, bytes(dpkt.icmp.ICMP(
        type=3, code=code, data=dpkt.icmp.ICMP.Unreach(mtu=1400, data=quote)))))
    assert msg is not None and (msg.kind, msg.mtu, msg.pointer) == ("unreachable", mtu, None)


def test_an_error_has_no_echo_fields():
    """Only echo messages carry an identifier, a sequence number and echo data (RFC 792)."""
    quote = ip4(SRC, DST, struct.pack("!HHHH", 40000, 33434, 8, 0), p=17)
    msg = parse_ip(ip4(ROUTER, SRC, bytes(dpkt.icmp.ICMP(
        type=11, code=0, data=dpkt.icmp.ICMP.TimeExceed(data=quote)))))
    assert msg is not None
    assert (msg.ident, msg.seq, msg.payload) == (None, None, b"")
    assert msg.body == quote and msg.length == 8 + len(quote)  # body: after the 8-byte header


def test_a_datagram_with_no_payload_is_not_read_from_its_padding():
    """Total length 20 is a bare header: the bytes after it are the link's, not ICMP."""
    padded = ip4(DST, SRC, b"") + echo_reply(7, 8, b"pad")
    assert len(ip4(DST, SRC, b"")) == 20
    assert parse_ip(padded) is None
