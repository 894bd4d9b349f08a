"""icmpd's fixed-offset reader of UDP errors, against hand-packed bytes and the general parser.

The general parser (`wire.icmp.parse_ip`) is a second implementation: for
every packet of the recorded fixtures both read, they must agree field by
field, and the fast reader may decline (None) only packets outside its
shape, never one the general parser reads as a plain UDP error.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from rawtools.io.pcapfile import read_packets
from rawtools.wire.icmp import parse_ip
from rawtools.wire.udperror import quote_checksum_ok, read_udp_error

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def csum(data: bytes) -> int:
    """RFC 1071 by the book: 16-bit words added with end-around carry."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64) -> bytes:
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def udp4(src: str, dst: str, sport: int, dport: int, data: bytes, good: bool = True) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", 17, len(seg))
    ck = csum(pseudo + seg) ^ (0 if good else 0x0101)
    return ip4(src, dst, 17, seg[:6] + struct.pack("!H", ck) + seg[8:])


def icmp4(typ: int, code: int, word: int, quote: bytes, frm: str, ttl: int = 61) -> bytes:
    msg = struct.pack("!BBHI", typ, code, 0, word) + quote
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    return ip4(frm, "198.18.0.1", 1, msg, ttl)


def test_a_port_unreachable_is_read_at_its_offsets():
    q = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"hello")
    e = read_udp_error(icmp4(3, 3, 0, q, "198.18.3.2"))
    assert e is not None
    assert e[:10] == (4, 3, 3, 61, "198.18.3.2", None, "198.18.0.1", 40000, "198.18.3.2", 9)
    assert e.quote == q
    assert quote_checksum_ok(e.quote) is True


def test_fragmentation_needed_carries_the_mtu_of_its_second_word():
    q = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"x" * 20)
    e = read_udp_error(icmp4(3, 4, 1280, q, "198.18.1.2", 63))
    assert e is not None and (e.mtu, e.offender, e.ttl) == (1280, "198.18.1.2", 63)


def test_a_damaged_checksum_or_another_shape_is_left_to_the_general_parser():
    q = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"hello")
    pkt = bytearray(icmp4(3, 3, 0, q, "198.18.3.2"))
    pkt[-1] ^= 0xFF
    assert read_udp_error(bytes(pkt)) is None
    echo_reply = icmp4(0, 0, 0x12340001, b"payload-bytes" * 4, "198.18.3.2")
    assert read_udp_error(echo_reply) is None
    tcp_quote = ip4("198.18.0.1", "198.18.3.2", 6, bytes(20))
    assert read_udp_error(icmp4(3, 3, 0, tcp_quote, "198.18.3.2")) is None
    assert read_udp_error(b"") is None
    assert read_udp_error(icmp4(3, 3, 0, q, "198.18.3.2")[:40]) is None


def test_a_rewritten_checksum_is_told_and_a_short_quote_cannot_be():
    bad = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"hello", good=False)
    assert quote_checksum_ok(bad) is False
    assert quote_checksum_ok(udp4("198.18.0.1", "198.18.3.2", 1, 2, b"hello")[:28]) is None


def raw_recordings() -> list[str]:
    """The fixtures recorded as raw IP (DLT_RAW), which is how the tools record."""
    return sorted(p.name for p in CAPTURES.glob("*.pcap") if read_packets(str(p))[0] == 101)


def plain_udp_error(pkt: bytes) -> bool:
    """Whether `pkt` has the shape the fast reader promises to read (decided by hand)."""
    slow = parse_ip(pkt)
    if slow is None or slow.quote is None or not slow.cksum_ok or slow.quote.proto != 17:
        return False
    if (slow.version, slow.type) not in {(4, 3), (4, 4), (4, 11), (6, 1), (6, 2), (6, 3)}:
        return False
    if slow.version == 4:
        return pkt[0] == 0x45 and len(pkt) >= 20 + 8 + (pkt[28] & 15) * 4 + 8
    return pkt[6] == 58 and pkt[48 + 6] == 17 and len(pkt) >= 40 + 8 + 40 + 8


def test_the_fixtures_hold_udp_errors_of_both_families():
    seen = {pkt[0] >> 4 for name in raw_recordings()
            for _ts, pkt in read_packets(str(CAPTURES / name))[1] if plain_udp_error(pkt)}
    assert seen == {4, 6}


@pytest.mark.parametrize("name", raw_recordings())
def test_every_recorded_packet_reads_as_the_general_parser_reads_it(name):
    for _ts, pkt in read_packets(str(CAPTURES / name))[1]:
        fast = read_udp_error(pkt)
        assert (fast is not None) == plain_udp_error(pkt), name
        if fast is None:
            continue
        slow = parse_ip(pkt)
        assert slow is not None and slow.quote is not None and slow.quote.ports is not None
        assert (fast.version, fast.type, fast.code, fast.ttl, fast.offender, fast.mtu) == \
            (slow.version, slow.type, slow.code, slow.ttl, slow.src, slow.mtu)
        assert (fast.src, fast.sport, fast.dst, fast.dport) == \
            (slow.quote.src, slow.quote.ports[0], slow.quote.dst, slow.quote.ports[1])


def ip6(src: str, dst: str, nxt: int, payload: bytes, hlim: int = 64) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, hlim,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def udp6(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
              + struct.pack("!I3xB", len(seg), 17))
    return ip6(src, dst, 17, seg[:6] + struct.pack("!H", csum(pseudo + seg)) + seg[8:])


def icmp6(typ: int, code: int, word: int, quote: bytes, frm: str, to: str) -> bytes:
    msg = struct.pack("!BBHI", typ, code, 0, word) + quote
    pseudo = (socket.inet_pton(socket.AF_INET6, frm) + socket.inet_pton(socket.AF_INET6, to)
              + struct.pack("!I3xB", len(msg), 58))
    msg = msg[:2] + struct.pack("!H", csum(pseudo + msg)) + msg[4:]
    return ip6(frm, to, 58, msg, 62)


def test_a_source_quench_is_forwarded_too():
    q = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"hello")
    e = read_udp_error(icmp4(4, 0, 0, q, "198.18.1.2"))
    assert e is not None and (e.type, e.code, e.mtu) == (4, 0, None)


def test_quotes_of_exactly_a_header_and_8_bytes_are_read_in_both_families():
    q4 = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"")      # 20 + 8 bytes, nothing more
    pkt4 = icmp4(3, 3, 0, q4, "198.18.3.2")
    assert len(pkt4) == 20 + 8 + 20 + 8
    assert read_udp_error(pkt4) is not None
    q6 = udp6("2001:db8::1", "2001:db8:0:3::2", 40000, 9, b"")
    pkt6 = icmp6(1, 4, 0, q6, "2001:db8:0:3::2", "2001:db8::1")
    assert len(pkt6) == 40 + 8 + 40 + 8
    e = read_udp_error(pkt6)
    assert e is not None
    assert e[:10] == (6, 1, 4, 62, "2001:db8:0:3::2", None, "2001:db8::1", 40000,
                      "2001:db8:0:3::2", 9)
    assert quote_checksum_ok(e.quote) is True


def test_link_padding_after_the_datagram_is_not_part_of_the_message():
    q = udp4("198.18.0.1", "198.18.3.2", 40000, 9, b"")
    pkt = icmp4(3, 3, 0, q, "198.18.3.2") + b"\x01\x02\x03\x04"  # Ethernet pads short frames
    e = read_udp_error(pkt)
    assert e is not None and e.quote == q


def test_packet_too_big_carries_its_32_bit_mtu():
    q6 = udp6("2001:db8::1", "2001:db8:0:3::2", 40000, 9, b"x" * 1400)[:1232]
    e = read_udp_error(icmp6(2, 0, 1280, q6, "2001:db8:0:1::2", "2001:db8::1"))
    assert e is not None and (e.type, e.mtu, e.offender) == (2, 1280, "2001:db8:0:1::2")
    assert quote_checksum_ok(e.quote) is None  # cut short: nothing to judge
