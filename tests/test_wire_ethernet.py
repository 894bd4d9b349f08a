"""Header-less and cooked frames given an Ethernet header, on literal bytes."""

from __future__ import annotations

import struct

import pytest
from injectcaps import icmp4_echo, udp4, udp6

from rawtools.wire import link
from rawtools.wire.ethernet import BROADCAST, ethernet_framer, format_mac, parse_mac

DST = bytes.fromhex("0200000000d1")
SRC = bytes.fromhex("0200000000e2")
IP4 = udp4(20)
IP6 = udp6(20)


def sll(proto: int, payload: bytes, hatype: int = 1, pkttype: int = 0) -> bytes:
    return struct.pack("!HHH8sH", pkttype, hatype, 6, SRC + b"\0\0", proto) + payload


def sll2(proto: int, payload: bytes, hatype: int = 1, pkttype: int = 0) -> bytes:
    return struct.pack("!H2xiHBB8s", proto, 3, hatype, pkttype, 6, SRC + b"\0\0") + payload


@pytest.mark.parametrize("linktype", [link.LINKTYPE_RAW, link.DLT_RAW, link.DLT_RAW_OPENBSD])
def test_raw_ip_takes_its_ethertype_from_the_version(linktype):
    put = ethernet_framer(linktype, DST, SRC)
    assert put(IP4) == DST + SRC + b"\x08\x00" + IP4
    assert put(IP6) == DST + SRC + b"\x86\xdd" + IP6
    assert put(b"\x10" + IP4[1:]) is None  # neither IPv4 nor IPv6
    assert put(b"") is None


def test_ipv4_and_ipv6_link_types():
    assert ethernet_framer(link.LINKTYPE_IPV4, DST, SRC)(icmp4_echo())[12:14] == b"\x08\x00"
    assert ethernet_framer(link.LINKTYPE_IPV6, DST, SRC)(IP6) == DST + SRC + b"\x86\xdd" + IP6


def test_null_and_loop_map_their_address_family():
    null = struct.pack("<I", 2) + IP4
    assert ethernet_framer(link.LINKTYPE_NULL, DST, SRC)(null) == DST + SRC + b"\x08\x00" + IP4
    loop6 = struct.pack("!I", 24) + IP6
    assert ethernet_framer(link.LINKTYPE_LOOP, DST, SRC)(loop6) == DST + SRC + b"\x86\xdd" + IP6
    assert ethernet_framer(link.LINKTYPE_NULL, DST, SRC)(struct.pack("<I", 99) + IP4) is None


def test_cooked_v1_and_v2_keep_the_protocol_and_everything_after():
    assert ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(sll(0x0800, IP4)) \
        == DST + SRC + b"\x08\x00" + IP4
    assert ethernet_framer(link.LINKTYPE_LINUX_SLL2, DST, SRC)(sll2(0x86DD, IP6)) \
        == DST + SRC + b"\x86\xdd" + IP6
    arp = bytes(28)
    assert ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(sll(0x0806, arp)) \
        == DST + SRC + b"\x08\x06" + arp


def test_a_cooked_vlan_tag_stays_a_tag():
    tagged = struct.pack("!HH", 100, 0x0800) + IP4
    assert ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(sll(0x8100, tagged)) \
        == DST + SRC + b"\x81\x00" + tagged


def test_cooked_llc_becomes_an_802_3_length_field():
    llc = b"\x42\x42\x03" + bytes(35)
    assert ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(sll(link.ETH_P_802_2, llc)) \
        == DST + SRC + struct.pack("!H", 38) + llc


@pytest.mark.parametrize("frame", [
    sll(0x0800, IP4, hatype=824),  # a netlink message (nlmon)
    sll(0x000C, b"can frame"),  # a Linux pseudo-type with no Ethernet form
    sll(0x0800, b"")[:10],  # cut short
])
def test_frames_without_an_ethernet_form_convert_to_none(frame):
    assert ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(frame) is None


def test_cooked_v2_reads_its_own_offsets():
    # SLL2 (LINKTYPE_LINUX_SLL2): protocol at 0, ARPHRD type at 8, 20-byte header.
    put = ethernet_framer(link.LINKTYPE_LINUX_SLL2, DST, SRC)
    assert put(sll2(0x0800, IP4, hatype=824)) is None  # netlink, found at offset 8
    # ARPHRD 3 then packet type 0x38: read one byte late, they would say 824 (netlink).
    assert put(sll2(0x0800, IP4, hatype=3, pkttype=0x38)) == DST + SRC + b"\x08\x00" + IP4
    assert put(sll2(0x0800, IP4)[:19]) is None
    llc = b"\xaa\xaa\x03" + bytes(5)
    assert put(sll2(link.ETH_P_802_2, llc)) == DST + SRC + struct.pack("!H", 8) + llc


@pytest.mark.parametrize("linktype, frame", [
    (link.LINKTYPE_LINUX_SLL, sll(0x0800, b"")),
    (link.LINKTYPE_LINUX_SLL2, sll2(0x0800, b"")),
])
def test_a_cooked_header_alone_is_an_empty_frame(linktype, frame):
    assert len(frame) in (16, 20)
    assert ethernet_framer(linktype, DST, SRC)(frame) == DST + SRC + b"\x08\x00"


@pytest.mark.parametrize("size, framed", [(1500, True), (1501, False)])
def test_an_802_3_length_fits_1500_bytes_at_most(size, framed):
    # IEEE 802.3: a type/length field up to 1500 is a length; longer LLC has no form.
    frame = sll(link.ETH_P_802_3, bytes(size))
    out = ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(frame)
    assert out == (DST + SRC + size.to_bytes(2, "big") + bytes(size) if framed else None)


@pytest.mark.parametrize("proto, framed", [(0x05FF, False), (0x0600, True), (0x0601, True)])
def test_ethertypes_start_at_0x0600(proto, framed):
    # Values 1501..1535 are neither lengths nor types; 0x0600 (XNS) is the first type.
    out = ethernet_framer(link.LINKTYPE_LINUX_SLL, DST, SRC)(sll(proto, b"xy"))
    assert out == (DST + SRC + proto.to_bytes(2, "big") + b"xy" if framed else None)


def test_link_types_it_cannot_frame():
    assert ethernet_framer(105, DST, SRC) is None  # 802.11
    assert ethernet_framer(link.LINKTYPE_ETHERNET, DST, SRC) is None  # nothing to do


@pytest.mark.parametrize("text", ["02:00:00:00:00:d1", "02-00-00-00-00-D1", "0200000000d1"])
def test_mac_addresses_parse_in_their_usual_spellings(text):
    assert parse_mac(text) == DST
    assert format_mac(DST) == "02:00:00:00:00:d1"


@pytest.mark.parametrize("text", ["", "02:00:00:00:00", "02:00:00:00:00:d1:00", "zz:00:00:00:00:01",
                                  "02:00-00:00:00:d1", "2:0:0:0:0:1"])
def test_malformed_mac_addresses_are_none(text):
    assert parse_mac(text) is None


def test_broadcast_is_all_ones():
    assert BROADCAST == b"\xff" * 6
