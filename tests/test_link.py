"""Link-layer decapsulation on literal frames of every supported link type."""

from __future__ import annotations

import struct

import pytest

from rawtools.wire import link

IP4 = bytes.fromhex("450000140001000040110000c6120002c6120102")  # 198.18.0.2 > 198.18.1.2
IP6 = bytes.fromhex("6000000000003a40") + bytes(16) + bytes(16)
DST = bytes.fromhex("020000000001")
SRC = bytes.fromhex("020000000002")


def test_ethernet_ipv4():
    etype, off, info = link.decap(link.LINKTYPE_ETHERNET, DST + SRC + b"\x08\x00" + IP4)
    assert (etype, off) == (0x0800, 14)
    assert (info.src, info.dst, info.vlans) == (SRC, DST, ())


def test_ethernet_stacked_vlans_are_all_skipped_and_reported():
    frame = DST + SRC + b"\x88\xa8" + struct.pack("!H", 200) + b"\x81\x00" \
        + struct.pack("!H", (5 << 13) | 2001) + b"\x86\xdd" + IP6
    etype, off, info = link.decap(link.LINKTYPE_ETHERNET, frame)
    assert (etype, off) == (0x86DD, 22)
    assert info.vlans == ((0x88A8, 200), (0x8100, (5 << 13) | 2001))
    assert frame[off:] == IP6


def test_ethernet_length_field_means_llc():
    frame = DST + SRC + struct.pack("!H", 38) + b"\x42\x42\x03" + bytes(35)
    etype, off, info = link.decap(link.LINKTYPE_ETHERNET, frame)
    assert (etype, off, info.length) == (link.ETH_P_802_2, 14, 38)
    novell = DST + SRC + struct.pack("!H", 30) + b"\xff\xff" + bytes(28)
    assert link.decap(link.LINKTYPE_ETHERNET, novell)[0] == link.ETH_P_802_3


@pytest.mark.parametrize("frame", [b"", DST + SRC + b"\x08", DST + SRC + b"\x81\x00\x00"])
def test_truncated_ethernet_is_none(frame):
    assert link.decap(link.LINKTYPE_ETHERNET, frame) is None


def test_linux_sll():
    hdr = struct.pack("!HHH8sH", 4, 1, 6, SRC + b"\0\0", 0x0800)
    etype, off, info = link.decap(link.LINKTYPE_LINUX_SLL, hdr + IP4)
    assert (etype, off, info.pkttype, info.hatype, info.src) == (0x0800, 16, 4, 1, SRC)


def test_linux_sll_with_vlan_tag():
    hdr = struct.pack("!HHH8sH", 0, 1, 6, SRC + b"\0\0", 0x8100)
    etype, off, info = link.decap(link.LINKTYPE_LINUX_SLL, hdr + b"\x00\x64\x08\x00" + IP4)
    assert (etype, off, info.vlans) == (0x0800, 20, ((0x8100, 100),))


def test_linux_sll2():
    hdr = struct.pack("!H2xiHBB8s", 0x86DD, 3, 1, 0, 6, SRC + b"\0\0")
    etype, off, info = link.decap(link.LINKTYPE_LINUX_SLL2, hdr + IP6)
    assert (etype, off, info.ifindex, info.pkttype) == (0x86DD, 20, 3, 0)


def test_sll_netlink_has_no_ethertype():
    hdr = struct.pack("!HHH8sH", 4, 824, 0, bytes(8), 0)
    assert link.decap(link.LINKTYPE_LINUX_SLL, hdr + bytes(16))[:2] == (None, 16)


@pytest.mark.parametrize("family,etype", [(2, 0x0800), (10, 0x86DD), (24, 0x86DD), (28, 0x86DD),
                                          (30, 0x86DD), (7, None)])
def test_null_in_either_byte_order(family, etype):
    for order in "<>":
        r = link.decap(link.LINKTYPE_NULL, struct.pack(order + "I", family) + IP4)
        assert r[:2] == (etype, 4)
        assert r[2].family == family


def test_loop_is_network_order():
    assert link.decap(link.LINKTYPE_LOOP, struct.pack("!I", 2) + IP4)[:2] == (0x0800, 4)
    assert link.decap(link.LINKTYPE_LOOP, struct.pack("<I", 2) + IP4)[0] is None


@pytest.mark.parametrize("linktype", [link.LINKTYPE_RAW, link.DLT_RAW, link.DLT_RAW_OPENBSD])
def test_raw_guesses_from_the_version(linktype):
    assert link.decap(linktype, IP4)[:2] == (0x0800, 0)
    assert link.decap(linktype, IP6)[:2] == (0x86DD, 0)
    assert link.decap(linktype, b"\x10" + IP4[1:])[0] is None
    assert link.decap(linktype, b"") is None


def test_ipv4_and_ipv6_link_types_trust_the_link():
    assert link.decap(link.LINKTYPE_IPV4, IP4)[:2] == (0x0800, 0)
    assert link.decap(link.LINKTYPE_IPV6, IP6)[:2] == (0x86DD, 0)


def test_unsupported_link_type():
    assert link.decapsulator(127) is None
    assert link.decap(127, IP4) is None


def test_untagged_ethertype_shortcut_agrees_with_decap():
    plain = DST + SRC + b"\x86\xdd" + IP6
    assert link.untagged_ethertype(plain) == link.decap(link.LINKTYPE_ETHERNET, plain)[0]
    tagged = DST + SRC + b"\x81\x00\x00\x64\x08\x00" + IP4
    llc = DST + SRC + struct.pack("!H", 38) + bytes(38)
    assert [link.untagged_ethertype(f) for f in (tagged, llc, plain[:13])] == [0, 0, 0]
