"""Switch-tagged frames (Broadcom, Marvell DSA and EDSA link types) against tcpdump.

Each tag is literal bytes with one field set at a time: every Marvell mode,
a trunk, the tagged and CFI bits, a 12-bit VLAN, every To_CPU code, Broadcom
ingress and egress with each reason code. tcpdump reads the same frames
from a pcap of the link type, with and without -e, whole and cut by the
snapshot length inside the tag, and its lines are the expected ones.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile

import pytest
from oracles import pcap_file
from test_sniff_decode import MAC_A, MAC_B, A, B, ip4, udp

from rawtools.tools.sniff.decode import Decoder
from rawtools.wire import link

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")

IP4 = ip4(17, udp(40000, 5000, b"payload"))


def arp(op: int) -> bytes:
    """An Ethernet/IPv4 ARP request (1) or reply (2) between A and B."""
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + MAC_A + A + MAC_B + B


def tagged(tag: bytes, etype: int = link.ETHERTYPE_IP, payload: bytes = IP4) -> bytes:
    """An Ethernet frame with `tag` between the source address and the EtherType."""
    return MAC_B + MAC_A + tag + struct.pack("!H", etype) + payload


def tcpdump_lines(frames: list[bytes], linktype: int, eflag: bool, snaplen: int) -> list[str]:
    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        tmp.write(pcap_file(frames, linktype, snaplen))
        tmp.flush()
        out = subprocess.run(["tcpdump", "-n", "-t", *(["-e"] if eflag else []), "-r", tmp.name],
                             capture_output=True, text=True, check=True, timeout=60).stdout
    return out.splitlines()


def check(frames: list[bytes], linktype: int, snaplens: tuple[int, ...] = (262144,)) -> None:
    for eflag in (False, True):
        for snaplen in snaplens:
            decoder = Decoder(linktype, ts_style="none", link_header=eflag)
            ours = [decoder.line(0, f[:snaplen], len(f)) for f in frames]
            assert ours == tcpdump_lines(frames, linktype, eflag, snaplen), (eflag, snaplen)


def marvell(mode: int, dev: int = 0, port: int = 2, vid: int = 1, *, tagged_bit: int = 0,
            bit18: int = 0, cfi: int = 0, code_low: int = 0, pri: int = 0,
            code_high: int = 0) -> bytes:
    """A 4-byte Marvell tag, laid out field by field as Marvell's DSA documents it."""
    return bytes([mode << 6 | tagged_bit << 5 | dev,
                  port << 3 | bit18 << 2 | code_high << 1 | cfi,
                  pri << 5 | code_low << 4 | vid >> 8, vid & 0xFF])


MARVELL_TAGS = [
    marvell(3, dev=1, port=5, vid=1337),             # Forward, the high VLAN bits
    marvell(3, bit18=1, port=31, dev=31),            # Forward from a trunk, the largest numbers
    marvell(1, port=2, vid=0),                       # From CPU
    marvell(2, bit18=1), marvell(2),                 # To Sniffer, ingress and egress
    marvell(3, tagged_bit=1, cfi=1, pri=5, vid=4095),
    *[marvell(0, code_high=c >> 1, bit18=c >> 2, code_low=c & 1) for c in range(8)],  # To CPU
]


def test_marvell_dsa_every_mode_and_field():
    check([tagged(t) for t in MARVELL_TAGS], link.LINKTYPE_DSA_TAG_DSA)


def test_marvell_edsa_every_mode_and_its_own_ethertype():
    frames = [tagged(b"\xda\xda\x00\x00" + t) for t in MARVELL_TAGS]
    frames += [tagged(b"\x08\x00\x01\x02" + MARVELL_TAGS[0]),   # a known EtherType, reserved set
               tagged(b"\xda\xda\x00\x00" + MARVELL_TAGS[0], link.ETHERTYPE_ARP, arp(1))]
    check(frames, link.LINKTYPE_DSA_TAG_EDSA)


BRCM_TAGS = [
    bytes([0x20, 0x00, 0x00, 0x80]),                 # ingress, a destination port map
    bytes([0x20, 0x9F, 0x01, 0xFF]),                 # ingress: TC 7, TE 3, TS 1, the map's 9 bits
    bytes([0x3F, 0x01, 0xFE, 0x00]),                 # ingress with other opcode bits
    bytes([0x40, 0x05, 0x00, 0x00]),                 # opcode bits not ingress: egress fields
    *[bytes([0x00, 0x07, rc, 0xE3]) for rc in (0, 1, 2, 4, 8, 16, 32, 64, 3)],  # egress
]


def test_broadcom_ingress_and_egress_tags():
    frames = [tagged(t) for t in BRCM_TAGS] + [tagged(BRCM_TAGS[0], link.ETHERTYPE_ARP, arp(2))]
    check(frames, link.LINKTYPE_DSA_TAG_BRCM)


def test_broadcom_prepended_tag_shows_only_with_e():
    ether = MAC_B + MAC_A + struct.pack("!H", link.ETHERTYPE_IP) + IP4
    check([t + ether for t in BRCM_TAGS[:5]], link.LINKTYPE_DSA_TAG_BRCM_PREPEND)


def test_a_frame_cut_inside_its_tag_or_before_its_ethertype():
    cuts = tuple(range(10, 24))
    check([tagged(MARVELL_TAGS[0])], link.LINKTYPE_DSA_TAG_DSA, cuts)
    check([tagged(b"\xda\xda\x00\x00" + MARVELL_TAGS[0])], link.LINKTYPE_DSA_TAG_EDSA, cuts)
    check([tagged(BRCM_TAGS[0])], link.LINKTYPE_DSA_TAG_BRCM, cuts)
