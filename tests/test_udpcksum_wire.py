"""UDP checksum verdicts (wire.udp) on literal datagrams, checked against arithmetic done here.

The replies are real: recorded on the lab (captures/udpcksum-*.pcap), where
tcpdump -vv said `[udp sum ok]`, `[bad udp cksum 0x8d74 -> 0xcbb4!]` (the
offloaded reply) and `[bad udp cksum 0x0000 -> 0x1a78!]` (IPv6, no checksum).
The reference sums (tests/oracles.py) are the textbook word-by-word loop
with end-around carries, not the code under test.
"""

from __future__ import annotations

import socket
import struct

import pytest
from oracles import ref_checksum, ref_pseudo, ref_sum

from rawtools.wire.udp import UdpProbe, check_udp

ON4 = bytes.fromhex(
    "4500004f88b840003f1125bec6120102c612000100359d2a003bff97726177746f6f6c73206563686f3a20"
    "04d20100000100000000000001610c726f6f742d73657276657273036e65740000010001")
OFF4 = bytes.fromhex(
    "4500004f88ba40003f1125bcc6120102c61200010036a60a003b0000726177746f6f6c73206563686f3a20"
    "04d20100000100000000000001610c726f6f742d73657276657273036e65740000010001")
OFFLOAD4 = bytes.fromhex(
    "4500004f8a2240003f112454c6120102c61200010035d10d003b8d74726177746f6f6c73206563686f3a20"
    "04d20100000100000000000001610c726f6f742d73657276657273036e65740000010001")
ON6 = bytes.fromhex(
    "600e1d25003b113f20010db800000001000000000000000220010db8000000000000000000000001"
    "0035e336003beb3d726177746f6f6c73206563686f3a2004d20100000100000000000001610c726f"
    "6f742d73657276657273036e65740000010001")
ZERO6 = bytes.fromhex(
    "600648ca003b113f20010db800000001000000000000000220010db8000000000000000000000001"
    "0036b3fb003b0000726177746f6f6c73206563686f3a2004d20100000100000000000001610c726f"
    "6f742d73657276657273036e65740000010001")


def test_a_server_that_computes_checksums_is_valid():
    for pkt, field in ((ON4, 0xFF97), (ON6, 0xEB3D)):
        c = check_udp(pkt)
        assert (c.verdict, c.reason, c.checksums_on) == ("valid", "computed", True)
        assert c.field == c.expected == ref_checksum(pkt) == field
        assert ref_sum(ref_pseudo(pkt) + pkt[20 if c.version == 4 else 40:]) == 0xFFFF


def test_the_reply_facts_come_from_its_headers():
    c = check_udp(ON4)
    assert (c.src, c.sport, c.dst, c.dport) == ("198.18.1.2", 53, "198.18.0.1", 0x9D2A)
    assert (c.ttl, c.ip_length, c.udp_length, c.payload_length, c.captured) == (63, 79, 59, 51,
                                                                                 79)


def test_a_zero_field_is_disabled_in_ipv4_and_invalid_in_ipv6():
    c4, c6 = check_udp(OFF4), check_udp(ZERO6)
    assert (c4.verdict, c4.reason, c4.checksums_on) == ("disabled", "zero", False)
    assert (c6.verdict, c6.reason, c6.checksums_on) == ("invalid", "zero", False)
    # tcpdump: "[bad udp cksum 0x0000 -> 0x1a78!]"
    assert ref_checksum(ZERO6) == 0x1A78


def test_the_offload_pseudo_header_sum_is_recognised_and_explained():
    c = check_udp(OFFLOAD4)
    assert (c.verdict, c.reason) == ("unverifiable", "offload")
    assert c.field == ref_sum(ref_pseudo(OFFLOAD4)) == c.pseudo_sum == 0x8D74
    # tcpdump: "[bad udp cksum 0x8d74 -> 0xcbb4!]"
    assert c.expected == ref_checksum(OFFLOAD4) == 0xCBB4


def test_offload_is_recognised_in_ipv6_too():
    pkt = bytearray(ON6)
    pkt[46:48] = struct.pack("!H", ref_sum(ref_pseudo(ON6)))
    c = check_udp(bytes(pkt))
    assert (c.verdict, c.reason, c.expected) == ("unverifiable", "offload", 0xEB3D)


def test_a_wrong_checksum_is_invalid_with_the_right_one_beside_it():
    pkt = bytearray(ON4)
    pkt[26:28] = b"\x12\x34"
    c = check_udp(bytes(pkt))
    assert (c.verdict, c.reason, c.field, c.expected) == ("invalid", "mismatch", 0x1234, 0xFF97)
    flipped = bytearray(ON4)
    flipped[-1] ^= 0x01
    assert check_udp(bytes(flipped)).verdict == "invalid"


def test_a_cut_capture_and_a_first_fragment_are_unverifiable():
    c = check_udp(ON4[:60])
    assert (c.verdict, c.reason, c.captured, c.ip_length) == ("unverifiable", "truncated", 60, 79)
    first = bytearray(ON4)
    first[6] |= 0x20  # more fragments
    assert check_udp(bytes(first)).reason == "fragment"
    later = bytearray(ON4)
    later[6:8] = struct.pack("!H", 185)  # a fragment at offset 1480: no UDP header in it
    assert check_udp(bytes(later)) is None


def test_an_ipv6_fragment_header_is_seen():
    frag = struct.pack("!BBHI", 17, 0, 0x0001, 0x1234)  # offset 0, more fragments
    pkt = bytearray(ON6[:40] + frag + ON6[40:])
    pkt[6] = 44
    pkt[4:6] = struct.pack("!H", len(pkt) - 40)
    assert check_udp(bytes(pkt)).reason == "fragment"


def test_a_length_field_that_does_not_fit_is_invalid():
    pkt = bytearray(ON4)
    pkt[24:26] = struct.pack("!H", 200)
    assert (check_udp(bytes(pkt)).verdict, check_udp(bytes(pkt)).reason) == ("invalid", "length")


def test_link_padding_past_the_ip_length_is_ignored():
    assert check_udp(ON4 + bytes(6)).verdict == "valid"


@pytest.mark.parametrize("junk", [b"", b"\x45", ON4[:24], bytes.fromhex("4500001c") + bytes(24)])
def test_what_is_not_a_readable_udp_datagram_is_none(junk):
    assert check_udp(junk) is None


def test_the_probe_is_built_with_the_checksum_rfc_768_asks_for():
    p = UdpProbe(4, "198.18.0.1", "198.18.1.2", 40234, 53, b"query", ident=0xACBF)
    pkt = p.datagram()
    assert pkt[:2] == b"\x45\x00" and struct.unpack_from("!H", pkt, 4)[0] == 0xACBF
    assert pkt[8] == 64 and pkt[9] == 17 and ref_sum(pkt[:20]) == 0xFFFF
    assert pkt[12:20] == socket.inet_aton("198.18.0.1") + socket.inet_aton("198.18.1.2")
    assert struct.unpack_from("!H", pkt, 26)[0] == ref_checksum(pkt)
    zero = UdpProbe(4, "198.18.0.1", "198.18.1.2", 40234, 53, b"query", 1, zero_checksum=True)
    assert zero.datagram()[26:28] == b"\0\0" and zero.datagram()[28:] == b"query"


def test_a_checksum_that_computes_to_zero_is_sent_as_ffff():
    # Choose the payload word so the ones' complement sum is 0xffff: checksum 0 -> 0xffff.
    head = UdpProbe(6, "2001:db8::1", "2001:db8:0:1::2", 1000, 2000, b"\0\0")
    base = ref_sum(ref_pseudo(head.datagram()) + head.segment()[:6])
    word = 0xFFFF - base
    probe = UdpProbe(6, "2001:db8::1", "2001:db8:0:1::2", 1000, 2000, struct.pack("!H", word))
    pkt = probe.datagram()
    assert pkt[46:48] == b"\xff\xff"
    assert check_udp(pkt).verdict == "valid"
