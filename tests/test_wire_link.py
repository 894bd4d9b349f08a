"""Link-layer decapsulation against oracles that did not come from rawtools.

tcpdump reads one tiny pcap file per link type (a single run over all of them,
`-V`): its header line names each link type, and its `-e` line of each frame
gives the MAC addresses, VLAN tags, EtherTypes, 802.3 frames, cooked-capture
directions and loopback address families. dpkt's parsers give the same facts
another way and say where a header is cut short (NeedData). Header layouts
are written out by hand from https://www.tcpdump.org/linktypes.html: Ethernet
14 bytes, an 802.1Q tag 4, LINUX_SLL 16, LINUX_SLL2 20, NULL 4 in the
capturing host's byte order, LOOP 4 in network order.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import dpkt
import pytest

from rawtools.wire import link

IP4 = bytes.fromhex("450000140001000040110000c6120002c6120102")  # 198.18.0.2 > 198.18.1.2
IP6 = bytes.fromhex("6000000000003a40") + bytes(16) + bytes(16)  # :: > ::, ICMPv6
DST = bytes.fromhex("020000000001")
SRC = bytes.fromhex("020000000002")
LLC = b"\x42\x42\x03"  # DSAP, SSAP (spanning tree), UI


def eth(*types: int, payload: bytes = b"") -> bytes:
    """An Ethernet header whose type field is `types[0]`, then the rest as 16-bit words."""
    return DST + SRC + struct.pack(f"!{len(types)}H", *types) + payload


def tci(pcp: int, dei: int, vid: int) -> int:
    """An 802.1Q tag control field: 3 bits priority, 1 bit drop eligible, 12 bits VLAN id."""
    return pcp * 8192 + dei * 4096 + vid


def sll(pkttype: int, hatype: int, halen: int, addr: bytes, proto: int) -> bytes:
    """LINUX_SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol."""
    return struct.pack("!HHH8sH", pkttype, hatype, halen, addr, proto)


def sll2(proto: int, ifindex: int, hatype: int, pkttype: int, halen: int, addr: bytes) -> bytes:
    """LINUX_SLL2: protocol, 2 reserved bytes, interface index, ARPHRD type, packet type,
    address length, 8 address bytes."""
    return struct.pack("!H2xiHBB8s", proto, ifindex, hatype, pkttype, halen, addr)


# ---------------------------------------------------------------- tcpdump's view

# (case, link type, frame). Each becomes one packet, at its own second, in the pcap
# file of its link type; tcpdump -tt prints that second first on the packet's line.
CASES: list[tuple[str, int, bytes]] = [
    ("eth-ipv4", link.LINKTYPE_ETHERNET, eth(0x0800, payload=IP4)),
    ("eth-ipv6", link.LINKTYPE_ETHERNET, eth(0x86DD, payload=IP6)),
    ("eth-header-only", link.LINKTYPE_ETHERNET, eth(0x0800)),
    # The type field: 1500 and less is an 802.3 length, 1536 and more an EtherType;
    # between them IEEE says nothing and tcpdump (like dpkt) reads an EtherType.
    ("eth-len-1500", link.LINKTYPE_ETHERNET, eth(1500, payload=LLC + bytes(40))),
    ("eth-len-46", link.LINKTYPE_ETHERNET, eth(46, payload=LLC + bytes(43))),
    ("eth-type-1501", link.LINKTYPE_ETHERNET, eth(1501, payload=IP4)),
    ("eth-type-1535", link.LINKTYPE_ETHERNET, eth(1535, payload=IP4)),
    ("eth-type-1536", link.LINKTYPE_ETHERNET, eth(1536, payload=IP4)),
    ("eth-8021q", link.LINKTYPE_ETHERNET, eth(0x8100, tci(5, 0, 100), 0x0800, payload=IP4)),
    ("eth-qinq", link.LINKTYPE_ETHERNET,
     eth(0x88A8, tci(0, 0, 200), 0x8100, tci(3, 1, 4094), 0x86DD, payload=IP6)),
    ("eth-9100-stack-header-only", link.LINKTYPE_ETHERNET,
     eth(0x9100, tci(0, 0, 7), 0x8100, tci(0, 0, 8), 0x0800)),
    ("eth-tag-header-only", link.LINKTYPE_ETHERNET, eth(0x8100, tci(0, 0, 100), 0x0800)),
    ("eth-tagged-length", link.LINKTYPE_ETHERNET,
     eth(0x8100, tci(2, 0, 300), 60, payload=LLC + bytes(57))),
    ("sll-out", link.LINKTYPE_LINUX_SLL, sll(4, 1, 6, SRC + b"\0\0", 0x0800) + IP4),
    ("sll-in-ipv6", link.LINKTYPE_LINUX_SLL, sll(0, 1, 6, DST + b"\0\0", 0x86DD) + IP6),
    ("sll-broadcast-tagged", link.LINKTYPE_LINUX_SLL,
     sll(1, 1, 6, SRC + b"\0\0", 0x8100) + struct.pack("!HH", tci(1, 0, 100), 0x0800) + IP4),
    ("sll-header-only", link.LINKTYPE_LINUX_SLL, sll(3, 1, 6, SRC + b"\0\0", 0x0800)),
    ("sll2-out", link.LINKTYPE_LINUX_SLL2, sll2(0x0800, 3, 1, 4, 6, SRC + b"\0\0") + IP4),
    ("sll2-multicast-ipv6", link.LINKTYPE_LINUX_SLL2,
     sll2(0x86DD, 7, 1, 2, 6, DST + b"\0\0") + IP6),
    ("null-le-ipv4", link.LINKTYPE_NULL, struct.pack("<I", 2) + IP4),
    ("null-be-ipv4", link.LINKTYPE_NULL, struct.pack(">I", 2) + IP4),
    ("null-le-ipv6-30", link.LINKTYPE_NULL, struct.pack("<I", 30) + IP6),
    ("null-be-ipv6-24", link.LINKTYPE_NULL, struct.pack(">I", 24) + IP6),
    ("null-header-only", link.LINKTYPE_NULL, struct.pack("<I", 2)),
    ("loop-ipv4", link.LINKTYPE_LOOP, struct.pack(">I", 2) + IP4),
    ("loop-ipv6-28", link.LINKTYPE_LOOP, struct.pack(">I", 28) + IP6),
    ("loop-header-only", link.LINKTYPE_LOOP, struct.pack(">I", 2)),
    ("raw-12-ipv4", link.DLT_RAW, IP4),
    ("raw-101-ipv4", link.LINKTYPE_RAW, IP4),
    ("raw-101-ipv6", link.LINKTYPE_RAW, IP6),
    ("ipv4", link.LINKTYPE_IPV4, IP4),
    ("ipv6", link.LINKTYPE_IPV6, IP6),
    # Switch tags (Broadcom's ingress tag, Marvell's DSA Forward and EDSA From_CPU):
    # after the addresses, or before the whole frame.
    ("brcm-ipv4", link.LINKTYPE_DSA_TAG_BRCM, DST + SRC + bytes([0x20, 0, 0, 0x80])
     + struct.pack("!H", 0x0800) + IP4),
    ("brcm-prepend-ipv6", link.LINKTYPE_DSA_TAG_BRCM_PREPEND,
     bytes([0x20, 0, 0, 0x80]) + eth(0x86DD, payload=IP6)),
    ("dsa-8021q", link.LINKTYPE_DSA_TAG_DSA, DST + SRC + bytes([0xC1, 0x28, 0x05, 0x39])
     + struct.pack("!3H", 0x8100, tci(1, 0, 100), 0x0800) + IP4),
    ("edsa-ipv6", link.LINKTYPE_DSA_TAG_EDSA,
     DST + SRC + bytes([0xDA, 0xDA, 0, 0, 0x41, 0x10, 0, 0]) + struct.pack("!H", 0x86DD) + IP6),
]
# The link types a pcap file can carry. DLT_RAW_OPENBSD is a live handle's number
# only: libpcap saves it as LINKTYPE_RAW, and tcpdump reads no file of type 14.
FILE_LINK_TYPES = ["LINKTYPE_NULL", "LINKTYPE_ETHERNET", "DLT_RAW", "LINKTYPE_RAW",
                   "LINKTYPE_LOOP", "LINKTYPE_LINUX_SLL", "LINKTYPE_IPV4", "LINKTYPE_IPV6",
                   "LINKTYPE_LINUX_SLL2", "LINKTYPE_PPP", "LINKTYPE_C_HDLC", "LINKTYPE_FRELAY",
                   "LINKTYPE_ARCNET_LINUX", "LINKTYPE_NFLOG", "LINKTYPE_DSA_TAG_BRCM",
                   "LINKTYPE_DSA_TAG_BRCM_PREPEND", "LINKTYPE_DSA_TAG_DSA",
                   "LINKTYPE_DSA_TAG_EDSA"]
CASE = {name: (linktype, frame) for name, linktype, frame in CASES}
SECOND = {name: i + 1 for i, (name, _, _) in enumerate(CASES)}

needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")


class TcpdumpView(typing.NamedTuple):
    header: dict[int, str]  # link type -> what follows "link-type " in tcpdump's header line
    line: dict[str, str]  # case -> tcpdump -e's line of its frame


def write_pcap(path: Path, linktype: int, packets: list[tuple[int, bytes]]) -> None:
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f, linktype=linktype)
        for second, frame in packets:
            w.writepkt(frame, ts=second)


@pytest.fixture(scope="module")
def tcpdump(tmp_path_factory: pytest.TempPathFactory) -> TcpdumpView:
    """One `tcpdump -tt -e -n -V LIST` over a file per link type."""
    d = tmp_path_factory.mktemp("links")
    files: dict[str, int] = {}
    for attr in FILE_LINK_TYPES:
        linktype = getattr(link, attr)
        path = d / f"{attr}.pcap"
        packets = [(SECOND[name], frame) for name, lt, frame in CASES if lt == linktype]
        write_pcap(path, linktype, packets)
        files[str(path)] = linktype
    (d / "list").write_text("".join(f"{p}\n" for p in files))
    # As root, tcpdump opens the files after the first as user tcpdump unless told -Z root.
    as_root = ["-Z", "root"] if os.geteuid() == 0 else []
    r = subprocess.run(["tcpdump", *as_root, "-tt", "-e", "-n", "-V", str(d / "list")],
                       capture_output=True, text=True, timeout=30, check=False)
    header = {files[m[1]]: m[2] for m in re.finditer(
        r"^reading from file (\S+), link-type (.+), snapshot length", r.stderr, re.MULTILINE)}
    by_second = {int(m[1]): m[2] for m in re.finditer(
        r"^(\d+)\.\d{6} (.*)$", r.stdout, re.MULTILINE)}
    return TcpdumpView(header, {name: by_second.get(s, "") for name, s in SECOND.items()})


@needs_tcpdump
@pytest.mark.parametrize("attr", FILE_LINK_TYPES)
def test_describe_and_names_are_tcpdumps(tcpdump: TcpdumpView, attr: str) -> None:
    linktype = getattr(link, attr)
    assert link.describe(linktype) == tcpdump.header[linktype]
    assert link.NAMES[linktype] == tcpdump.header[linktype].split(" (")[0]


def test_every_link_type_read_here_is_checked_against_tcpdump() -> None:
    checked = {getattr(link, attr) for attr in FILE_LINK_TYPES} | {link.DLT_RAW_OPENBSD}
    assert set(link.LINK_TYPES) == checked == set(link.NAMES)
    assert all(link.decapsulator(lt) is not None for lt in checked)


def dpkt_pcap_as_on(platform: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of dpkt.pcap, whose platform-dependent DLT values read `platform`."""
    spec = importlib.util.spec_from_file_location(f"dpkt._pcap_{platform}", dpkt.pcap.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", platform)
        spec.loader.exec_module(module)
    return module


@needs_tcpdump
def test_openbsd_dlt_raw_is_dpkts_and_reads_as_raw_ip(tcpdump: TcpdumpView,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    openbsd = dpkt_pcap_as_on("openbsd7", monkeypatch)
    linux = dpkt_pcap_as_on("linux", monkeypatch)
    assert (openbsd.DLT_RAW, linux.DLT_RAW) == (link.DLT_RAW_OPENBSD, link.DLT_RAW)
    # The same link type under another number: described as tcpdump describes DLT_RAW.
    assert link.describe(link.DLT_RAW_OPENBSD) == tcpdump.header[linux.DLT_RAW]
    assert link.NAMES[link.DLT_RAW_OPENBSD] == link.NAMES[link.DLT_RAW]
    assert link.decap(link.DLT_RAW_OPENBSD, IP6)[:2] == (0x86DD, 0)


@needs_tcpdump
def test_linktype_raw_is_the_file_number_tcpdump_reads_as_ip(tcpdump: TcpdumpView) -> None:
    # LINKTYPE_RAW (101) has no twin in dpkt.pcap on Linux: tcpdump names it and decodes it.
    assert tcpdump.header[link.LINKTYPE_RAW] == "RAW (Raw IP)"
    assert tcpdump.line["raw-101-ipv4"].startswith("ip: 198.18.0.2 > 198.18.1.2:")
    assert tcpdump.line["raw-101-ipv6"].startswith("ip: :: > ::: ICMP6")


@needs_tcpdump
def test_describe_of_an_unknown_link_type_is_its_number_as_tcpdump_prints_it(
        tmp_path: Path) -> None:
    # 13 is no link type libpcap knows (nor rawtools): tcpdump's header line names it by number.
    path = tmp_path / "13.pcap"
    write_pcap(path, 13, [(1, IP4)])
    r = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True, text=True,
                       timeout=30, check=False)
    said = re.search(r"link-type (.+), snapshot length", r.stderr)
    assert said is not None and link.describe(13) == said[1]
    assert link.decap(13, IP4) is None and 13 not in link.NAMES


MAC = r"((?:[0-9a-f]{2}:){5}[0-9a-f]{2})"
TAG = re.compile(r"vlan (\d+), p (\d+)(, DEI)?,")


def tcpdump_ethernet(text: str) -> tuple[int | None, int, link.Vlans, bytes, bytes]:
    """(EtherType or None for 802.3, payload offset, VLAN tags, src, dst) from a -e line."""
    macs = re.match(MAC + " > " + MAC + ", ", text)
    assert macs, text
    types = [int(t, 16) for t in re.findall(r"ethertype [^,(]*\((0x[0-9a-f]{4})\)", text)]
    tags = [tci(int(p), 1 if dei else 0, int(vid)) for vid, p, dei in TAG.findall(text)]
    if re.search(r"(?:^|, )802\.3(?:LLC)?, ", text[macs.end() - 2:]):
        etype = None  # a length: tcpdump goes on to LLC, and the TPIDs are all we had
        tpids = types
    else:
        etype, tpids = types[-1], types[:-1]
    assert len(tpids) == len(tags), text
    return (etype, 14 + 4 * len(tags), tuple(zip(tpids, tags, strict=True)),
            bytes.fromhex(macs[1].replace(":", "")), bytes.fromhex(macs[2].replace(":", "")))


ETH_CASES = [name for name, lt, _ in CASES if lt == link.LINKTYPE_ETHERNET]


@needs_tcpdump
@pytest.mark.parametrize("case", ETH_CASES)
def test_ethernet_as_tcpdump_e_reads_it(tcpdump: TcpdumpView, case: str) -> None:
    _, frame = CASE[case]
    etype, off, vlans, src, dst = tcpdump_ethernet(tcpdump.line[case])
    got = link.decap(link.LINKTYPE_ETHERNET, frame)
    assert got is not None
    got_etype, got_off, info = got
    assert (got_off, info.vlans, info.src, info.dst) == (off, vlans, src, dst)
    if etype is None:
        # 802.3: the type field was a length; LLC unless Novell's 0xffff follows.
        (field,) = struct.unpack_from("!H", frame, off - 2)
        assert (got_etype, info.length) == (link.ETH_P_802_2, field)
    else:
        assert (got_etype, info.length) == (etype, -1)
    # The shortcut answers only for an untagged Ethernet II frame.
    assert link.untagged_ethertype(frame) == (etype if etype is not None and not vlans else 0)


@needs_tcpdump
def test_the_802_3_boundary_is_where_tcpdump_puts_it(tcpdump: TcpdumpView) -> None:
    said = {case: tcpdump_ethernet(tcpdump.line[case])[0]
            for case in ("eth-len-46", "eth-len-1500", "eth-type-1501", "eth-type-1535",
                         "eth-type-1536")}
    assert said == {"eth-len-46": None, "eth-len-1500": None, "eth-type-1501": 1501,
                    "eth-type-1535": 1535, "eth-type-1536": 1536}


# The tag's length (the frame's first bytes, or the 4 after its addresses), by link type,
# as Broadcom's and Marvell's documents lay them out.
TAG_LEN = {link.LINKTYPE_DSA_TAG_BRCM: 4, link.LINKTYPE_DSA_TAG_BRCM_PREPEND: 4,
           link.LINKTYPE_DSA_TAG_DSA: 4, link.LINKTYPE_DSA_TAG_EDSA: 8}


@needs_tcpdump
@pytest.mark.parametrize("case", [name for name, lt, _ in CASES if lt in TAG_LEN])
def test_switch_tagged_ethernet_as_tcpdump_e_reads_it(tcpdump: TcpdumpView, case: str) -> None:
    linktype, frame = CASE[case]
    text = tcpdump.line[case]
    # From the addresses on, the line reads as plain Ethernet's (the tag's words are
    # before them, or between them and the EtherType, and name no "ethertype (0x...)").
    macs = re.search(MAC + " > ", text)
    assert macs is not None, text
    etype, off, vlans, src, dst = tcpdump_ethernet(text[macs.start():])
    assert link.decap(linktype, frame) == (etype, off + TAG_LEN[linktype],
                                           link.LinkInfo(src, dst, vlans))
    for cut in range(TAG_LEN[linktype] + 14):
        assert link.decap(linktype, frame[:cut]) is None


# Who a cooked packet was for, as tcpdump prints it (print-sll.c), by if_packet.h's number.
DIRECTION = {"In": link.PACKET_HOST, "B": link.PACKET_BROADCAST, "M": link.PACKET_MULTICAST,
             "P": link.PACKET_OTHERHOST, "Out": link.PACKET_OUTGOING}


@needs_tcpdump
@pytest.mark.parametrize("case", [name for name, _, _ in CASES if name.startswith("sll")])
def test_cooked_as_tcpdump_e_reads_it(tcpdump: TcpdumpView, case: str) -> None:
    linktype, frame = CASE[case]
    text = tcpdump.line[case]
    said = re.match(r"(?:\S+ +)?(In|B|M|P|Out) +(?:ifindex (\d+) )?" + MAC
                    + r" ethertype [^,(]*\((0x[0-9a-f]{4})\)", text.strip())
    assert said, text
    got = link.decap(linktype, frame)
    assert got is not None
    etype, off, info = got
    tags = [tci(int(p), 1 if dei else 0, int(vid)) for vid, p, dei in TAG.findall(text)]
    header = 20 if linktype == link.LINKTYPE_LINUX_SLL2 else 16
    assert info.pkttype == DIRECTION[said[1]]
    assert info.src == bytes.fromhex(said[3].replace(":", ""))
    if tags:
        # tcpdump names the inner EtherType without its number here.
        assert "ethertype IPv4," in text
        assert (etype, off) == (0x0800, header + 4)
        assert info.vlans == ((int(said[4], 16), tags[0]),)
    else:
        assert (etype, off, info.vlans) == (int(said[4], 16), header, ())
    if said[2] is not None:
        assert info.ifindex == int(said[2])


@needs_tcpdump
@pytest.mark.parametrize("case", [name for name, _, _ in CASES
                                  if name.startswith(("null", "loop"))])
def test_loopback_family_as_tcpdump_reads_it(tcpdump: TcpdumpView, case: str) -> None:
    linktype, frame = CASE[case]
    said = re.match(r"AF (IPv4|IPv6) \((\d+)\)", tcpdump.line[case])
    assert said, tcpdump.line[case]
    got = link.decap(linktype, frame)
    assert got is not None
    assert got[:2] == ({"IPv4": 0x0800, "IPv6": 0x86DD}[said[1]], 4)
    assert got[2].family == int(said[2])


# ---------------------------------------------------------------- dpkt's view


@pytest.mark.parametrize("case", ["sll-out", "sll-in-ipv6", "sll-broadcast-tagged",
                                  "sll-header-only"])
def test_sll_fields_as_dpkt_reads_them(case: str) -> None:
    _, frame = CASE[case]
    theirs = dpkt.sll.SLL(frame)
    got = link.decap(link.LINKTYPE_LINUX_SLL, frame)
    assert got is not None
    etype, off, info = got
    assert (info.pkttype, info.hatype, info.src) == (theirs.type, theirs.hrd,
                                                     theirs.hdr[:theirs.hlen])
    if not info.vlans:
        assert (etype, off) == (theirs.ethtype, len(frame) - len(bytes(theirs.data)))


@pytest.mark.parametrize("case", ["sll2-out", "sll2-multicast-ipv6"])
def test_sll2_fields_as_dpkt_reads_them(case: str) -> None:
    _, frame = CASE[case]
    theirs = dpkt.sll2.SLL2(frame)
    got = link.decap(link.LINKTYPE_LINUX_SLL2, frame)
    assert got is not None
    etype, off, info = got
    assert (etype, off) == (theirs.ethtype, len(frame) - len(bytes(theirs.data)))
    assert (info.pkttype, info.hatype, info.ifindex, info.src) == (
        theirs.type, theirs.hrd, theirs.intindex, theirs.hdr[:theirs.hlen])


@pytest.mark.parametrize("halen", [0, 6, 8, 9, 255])
def test_cooked_address_is_at_most_the_eight_bytes_the_header_has(halen: int) -> None:
    addr = bytes(range(1, 9))
    v1 = sll(0, 1, halen, addr, 0x0800) + IP4
    v2 = sll2(0x0800, 1, 1, 0, halen, addr) + IP4
    for linktype, frame, theirs in ((link.LINKTYPE_LINUX_SLL, v1, dpkt.sll.SLL(v1)),
                                    (link.LINKTYPE_LINUX_SLL2, v2, dpkt.sll2.SLL2(v2))):
        got = link.decap(linktype, frame)
        assert got is not None
        assert got[2].src == theirs.hdr[:theirs.hlen] == addr[:halen]


# Each link header at exactly its minimum length, as the spec lays it out: it decapsulates,
# with nothing after it; one byte less and there is no header (dpkt agrees: NeedData).
BOUNDARIES: list[tuple[str, int, bytes, Callable[[bytes], object] | None, int | None]] = [
    ("ethernet", link.LINKTYPE_ETHERNET, eth(0x0800), dpkt.ethernet.Ethernet, 0x0800),
    ("ethernet-802.3", link.LINKTYPE_ETHERNET, eth(0), dpkt.ethernet.Ethernet, link.ETH_P_802_2),
    ("8021q", link.LINKTYPE_ETHERNET, eth(0x8100, 100, 0x86DD), dpkt.ethernet.Ethernet, 0x86DD),
    ("8021ad+8021q", link.LINKTYPE_ETHERNET, eth(0x88A8, 1, 0x8100, 2, 0x0806),
     dpkt.ethernet.Ethernet, 0x0806),
    ("9100", link.LINKTYPE_ETHERNET, eth(0x9100, 3, 0x0800), dpkt.ethernet.Ethernet, 0x0800),
    ("sll", link.LINKTYPE_LINUX_SLL, sll(0, 1, 6, SRC + b"\0\0", 0x86DD), dpkt.sll.SLL, 0x86DD),
    ("sll+8021q", link.LINKTYPE_LINUX_SLL,
     sll(0, 1, 6, SRC + b"\0\0", 0x8100) + struct.pack("!HH", 100, 0x0800), None, 0x0800),
    ("sll2", link.LINKTYPE_LINUX_SLL2, sll2(0x0800, 2, 1, 0, 6, SRC + b"\0\0"),
     dpkt.sll2.SLL2, 0x0800),
    ("sll2+8021ad", link.LINKTYPE_LINUX_SLL2,
     sll2(0x88A8, 2, 1, 0, 6, SRC + b"\0\0") + struct.pack("!HH", 9, 0x86DD), None, 0x86DD),
    ("null", link.LINKTYPE_NULL, struct.pack("=I", 2), dpkt.loopback.Loopback, 0x0800),
    ("loop", link.LINKTYPE_LOOP, struct.pack("!I", 24), dpkt.loopback.Loopback, 0x86DD),
    ("raw", link.LINKTYPE_RAW, b"\x45", None, 0x0800),
    ("ipv4", link.LINKTYPE_IPV4, b"\x45", None, 0x0800),
    ("ipv6", link.LINKTYPE_IPV6, b"\x60", None, 0x86DD),
]


@pytest.mark.parametrize(("linktype", "frame", "parser", "etype"),
                         [b[1:] for b in BOUNDARIES], ids=[b[0] for b in BOUNDARIES])
def test_minimum_length_and_one_byte_less(linktype: int, frame: bytes,
                                          parser: Callable[[bytes], object] | None,
                                          etype: int) -> None:
    got = link.decap(linktype, frame)
    assert got is not None
    assert got[:2] == (etype, len(frame) if linktype not in (
        link.LINKTYPE_RAW, link.LINKTYPE_IPV4, link.LINKTYPE_IPV6) else 0)
    assert link.decap(linktype, frame[:-1]) is None
    if parser is not None:
        with pytest.raises(dpkt.NeedData):
            parser(frame[:-1])
        if parser is dpkt.ethernet.Ethernet:
            parser(frame)  # complete: dpkt reads it too


def test_untagged_ethertype_at_the_minimum_length() -> None:
    assert link.untagged_ethertype(eth(0x86DD)) == 0x86DD
    assert link.untagged_ethertype(eth(0x86DD)[:-1]) == 0
    assert link.untagged_ethertype(eth(1501)) == 1501
    assert link.untagged_ethertype(eth(1500)) == 0


# ---------------------------------------------------------------- what absent fields read as

# LinkInfo's contract: b"" where the link has no address, () where there is no tag,
# -1 for every number the link does not carry.
ABSENT = {"src": b"", "dst": b"", "vlans": (), "pkttype": -1, "hatype": -1, "ifindex": -1,
          "family": -1, "length": -1}
# The fields each link type carries (on an untagged frame with an EtherType).
CARRIED = {
    "eth-ipv4": {"src", "dst"},
    "sll-out": {"src", "pkttype", "hatype"},
    "sll2-out": {"src", "pkttype", "hatype", "ifindex"},
    "null-le-ipv4": {"family"},
    "loop-ipv4": {"family"},
    "raw-12-ipv4": set(),
    "raw-101-ipv6": set(),
    "ipv4": set(),
    "ipv6": set(),
}


def test_an_empty_linkinfo_reads_as_absent_everywhere() -> None:
    assert link.LinkInfo()._asdict() == ABSENT
    assert list(link.LinkInfo._fields) == list(ABSENT)


@pytest.mark.parametrize("case", list(CARRIED))
def test_fields_a_link_does_not_carry_read_as_absent(case: str) -> None:
    linktype, frame = CASE[case]
    got = link.decap(linktype, frame)
    assert got is not None
    info = got[2]
    assert isinstance(info, link.LinkInfo)
    fields = info._asdict()
    assert {k: v for k, v in fields.items() if k not in CARRIED[case]} == {
        k: v for k, v in ABSENT.items() if k not in CARRIED[case]}
    for name in CARRIED[case]:
        assert fields[name] != ABSENT[name]


def test_annotations_resolve_at_run_time() -> None:
    # What typing.get_type_hints (and tools built on it) sees of the public types.
    hints = typing.get_type_hints(link.LinkInfo)
    assert hints["vlans"] == tuple[tuple[int, int], ...]
    assert hints["src"] is bytes and hints["length"] is int
    decap = tuple[int | None, int, link.LinkInfo] | None
    assert typing.get_type_hints(link.decap)["return"] == decap
    assert typing.get_type_hints(link.decapsulator)["return"] == Callable[[bytes], decap] | None
    assert typing.get_type_hints(link)["_DECAPS"] == dict[int, Callable[[bytes], decap]]
