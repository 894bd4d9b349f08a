"""Link-layer and OSI printers on literal bytes, against tcpdump's line for the same bytes.

As in test_sniff_printers.py: the frames are written to a pcap and read by
tcpdump in the test, so every expected line is tcpdump's own; Ethernet frames
go through both decoder paths (`check`), other link types through the
per-packet walk of a decoder of that link type (`check_link`), and the
decoder must count as malformed exactly the packets it marks.
"""

from __future__ import annotations

import shutil
import struct

import pytest
from oracles import tcpdump_first_lines
from test_sniff_decode import eth, ip4, ip6, udp
from test_sniff_printers import check

from rawtools.tools.sniff.decode import Decoder

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")

SRC, DST = bytes.fromhex("020000000001"), bytes.fromhex("01000c000000")


def check_link(frames: list[bytes], linktype: int, snaplen: int = 262144) -> None:
    """The decoder of `linktype` prints tcpdump's first lines, and counts the marked ones."""
    decoder = Decoder(linktype, ts_style="none")
    ours = [decoder.line(0, f[:snaplen], len(f)).split("\n", 1)[0] for f in frames]
    assert ours == tcpdump_first_lines(frames, linktype=linktype, snaplen=snaplen)
    assert decoder.malformed == sum("[|" in line or "(invalid)" in line for line in ours)


def marked(frames: list[bytes], snaplen: int = 262144) -> int:
    """How many of the Ethernet frames the decoder counts as malformed."""
    decoder = Decoder(1, ts_style="none")
    for f in frames:
        decoder.line(0, f[:snaplen], len(f))
    return decoder.malformed


def llc_frame(llc: bytes, length: int | None = None) -> bytes:
    """An 802.3 frame: addresses, the length field (the LLC part's, unless given), `llc`."""
    return DST + SRC + struct.pack("!H", len(llc) if length is None else length) + llc


def snap(oui: int, pid: int, body: bytes = b"\x01\x02\x03\x04") -> bytes:
    return b"\xaa\xaa\x03" + oui.to_bytes(3, "big") + pid.to_bytes(2, "big") + body


# -- LLC/SNAP ------------------------------------------------------------------

def test_snap_with_a_cisco_protocol_id_tcpdump_has_no_printer_for():
    frames = [llc_frame(snap(0x00000C, pid)) for pid in (0x0003, 0x2001, 0x2005, 0x0000)]
    frames += [llc_frame(snap(0x00000C, 0x0003, bytes(60)))]
    frames += [llc_frame(snap(0x00000C, 0x0003), 40)]   # the length field beyond the frame
    frames += [llc_frame(snap(0x00000C, 0x0003) + bytes(20), 12)]   # and padding after it
    check(frames)
    assert marked(frames) == 0


def test_llc_and_snap_headers_cut_short_are_marked():
    frame = llc_frame(snap(0x00000C, 0x0003))
    for snaplen in range(14, 14 + 9):
        check([frame], snaplen)
        assert marked([frame], snaplen) == (snaplen < 14 + 8)


# -- MS NLB --------------------------------------------------------------------

def msnlb_frame(priority: int) -> bytes:
    body = bytes(8) + priority.to_bytes(4, "little") + bytes([192, 168, 100, 80, 192, 168, 100,
                                                              82 + priority % 100]) + bytes(30)
    return b"\xff" * 6 + bytes.fromhex("02020000000a") + b"\x88\x6f" + body


def test_msnlb_heartbeat_names_priority_and_addresses():
    frames = [msnlb_frame(p) for p in (1, 2, 0x01020304)]
    check(frames)
    assert marked(frames) == 0


def test_msnlb_heartbeat_cut_short_keeps_what_came_before_the_cut():
    frame = msnlb_frame(2)
    for snaplen in range(14, 14 + 21):
        check([frame], snaplen)
        assert marked([frame], snaplen) == (snaplen < 14 + 20)


# -- CLNP ----------------------------------------------------------------------

def clnp(li: int | None = None, version: int = 1, kind: int = 0x1E, dst: bytes = b"\x49\0\1",
         src: bytes = b"\x49\0\2\3") -> bytes:
    """A CLNP PDU (ISO 8473): the fixed header, both NSAPs, eight bytes of data."""
    addresses = bytes([len(dst)]) + dst + bytes([len(src)]) + src
    li = 9 + len(addresses) if li is None else li
    return bytes([0x81, li, version, 0x20, kind, 0, 40, 0, 0]) + addresses + bytes(8)


def osi_frame(pdu: bytes) -> bytes:
    """EtherType 0xFEFE, the byte tcpdump skips, the PDU."""
    return DST + SRC + b"\xfe\xfe\xfe" + pdu


CLNP_PDUS = [clnp(), *(clnp(kind=k) for k in (0x01, 0x1C, 0x3D, 0x10, 0x1F)), clnp(version=2),
             clnp(li=200), clnp(li=5), *(clnp(li=n) for n in (9, 10, 12, 13, 14)),
             clnp(dst=b""), clnp(src=b""), clnp(dst=bytes(range(20))),
             clnp(dst=bytes(range(21))), clnp(dst=b"\1\2"), clnp(dst=bytes(range(1, 9)))]


def test_clnp_names_its_addresses_and_type_or_the_header_fault():
    frames = [osi_frame(p) for p in CLNP_PDUS]
    frames += [osi_frame(b"\x00\x01"), osi_frame(b"\x30\x01")]   # NULLNS, an unknown NLPID
    check(frames)
    assert marked(frames) == 0


def test_clnp_cut_short_is_marked_where_tcpdump_stops():
    frame = osi_frame(clnp())
    for snaplen in range(14, len(frame) - 8):   # all but the eight bytes of data
        check([frame], snaplen)
        assert marked([frame], snaplen) == 1
    check([frame], len(frame) - 8)


# -- Cisco HDLC's SLARP --------------------------------------------------------

CHDLC = 104
SLARP_HEADER = b"\x8f\x00\x80\x35"
KEEPALIVE = SLARP_HEADER + bytes.fromhex("00000002000d0a3157405e2604ffff1ae909")


def test_slarp_request_reply_keepalive_and_unknown_codes():
    frames = [KEEPALIVE, KEEPALIVE[:-4], KEEPALIVE[:-3], KEEPALIVE + b"junk",
              SLARP_HEADER + bytes(18), SLARP_HEADER + bytes.fromhex("00000001c0a80001ffffff00")
              + bytes(6), SLARP_HEADER + bytes.fromhex("00000007") + bytes(14),
              KEEPALIVE[:-5], SLARP_HEADER, SLARP_HEADER + b"\x00"]
    check_link(frames, CHDLC)


def test_slarp_cut_short_is_marked():
    for snaplen in range(4, len(KEEPALIVE)):
        check_link([KEEPALIVE], CHDLC, snaplen)


# -- PKTAP ---------------------------------------------------------------------

DNS_QUERY = bytes.fromhex("43010100000100000000000003777777076578616d706c6503636f6d0000010001")
INNER = eth(ip4(17, udp(63538, 53, DNS_QUERY)))


def pktap(dlt: int, body: bytes, size: int = 108, record: int = 1, extra: bytes = b"") -> bytes:
    """Apple's PKTAP header (little-endian): its length, record type, DLT, interface name..."""
    fields = struct.pack("<III24sIIII", size, record, dlt, b"en0", 0, 2, 14, 0)
    return fields.ljust(108, b"\0") + extra + body


PKTAP_FRAMES = [pktap(1, INNER), pktap(0, b"\x02\0\0\0" + INNER[14:]), pktap(12, INNER[14:]),
                pktap(1, INNER, record=0), pktap(1, INNER, record=2),
                pktap(1, INNER, size=112, extra=b"abcd"), pktap(1, INNER, size=100),
                pktap(1, INNER, size=2000), pktap(1, INNER)[:107]]


@pytest.mark.parametrize("linktype", [258, 149])
def test_pktap_prints_the_frame_inside_or_what_is_wrong_with_the_header(linktype):
    check_link(PKTAP_FRAMES, linktype)


def test_pktap_cut_short_is_marked_in_the_header_or_in_the_frame_inside():
    for snaplen in (50, 107, 108, 109, 120, 130, 140, 160):
        check_link([pktap(1, INNER)], 258, snaplen)


# -- AppleTalk ARP -------------------------------------------------------------

def aarp(op: int, htype: int = 1, ptype: int = 0x809B, halen: int = 6, palen: int = 4,
         sender: bytes = b"\0\0\5\7") -> bytes:
    """An AARP packet in an Ethernet frame: types, sizes, op, then the four addresses."""
    body = struct.pack("!HHBBH", htype, ptype, halen, palen, op) + SRC + sender + bytes(6) \
        + b"\0\1\2\x09"
    return b"\xff" * 6 + SRC + b"\x80\xf3" + body


def test_aarp_operations_and_the_fields_of_what_tcpdump_does_not_name():
    frames = [aarp(op) for op in (0, 1, 2, 3, 4)] + [aarp(1, sender=b"\0\0\0\x2a")]
    frames += [aarp(1, htype=2), aarp(1, ptype=0x800), aarp(1, halen=8), aarp(1, palen=5),
               aarp(1) + bytes(20)]
    check(frames)
    assert marked(frames) == 0


def test_aarp_cut_short_is_marked():
    frame = aarp(1)
    for snaplen in (14, 20, 41, 42):
        check([frame], snaplen)
        assert marked([frame], snaplen) == (snaplen < 42)


# -- PPP's PAP -----------------------------------------------------------------

PPP = 9
PAP_HEADER = b"\xff\x03\xc0\x23"
PAP_PACKETS = [b"\x02\x01\x00\x04\x94\x86", b"\x02\x01\x00\x05\x00", b"\x02\x01\x00\x06\x01a",
               b"\x03\x02\x00\x07\x02ab", b"\x01\x07\x00\x0e\x04user\x04pass",
               b"\x07\x01\x00\x04", b"\x00\x01\x00\x04", b"\x02\x01\x00\x00",
               b"\x02\x01\x00\x02\x00\x00", b"", b"\x02", b"\x02\x01", b"\x02\x01\x00",
               b"\x02\x01\x00\x64\x01a", b"\x02\x01\x00\x06\x05abcde", b"\x02\x01\x00\x0a\x05abcde",
               b"\x01\x01\x00\x06\x05abcde", b"\x01\x01\x00\x0a\x02ab\x01",
               b"\x01\x01\x00\x07\x02ab\x00", b"\x01\x01\x00\x08\x02ab\x00",
               b"\x01\x01\x00\x09\x02ab\x01c", b"\x02\x01\x00\x07\x02\x01\xe9",
               b"\x02\x01\x00\x05", b"\x01\x01\x00\x04"]


def test_pap_codes_strings_and_lengths_as_tcpdump_checks_them():
    frames = [PAP_HEADER + p for p in PAP_PACKETS] + [b"\xc0\x23\x02\x01\x00\x05\x00"]
    check_link(frames, PPP)


def test_pap_cut_by_the_snapshot_length():
    frame = PAP_HEADER + b"\x01\x07\x00\x0e\x04user\x04pass"
    for snaplen in range(4, len(frame) + 1):
        check_link([frame], PPP, snaplen)


def test_the_control_protocols_and_multilink_on_a_ppp_link():
    packets = ["c02101010004", "c0210901000861626364", "80210380e456" + "00" * 10,
               "80210101000a" + "00" * 6, "003dc005" + "00" * 6, "003d80", "003d",
               "805701010004", "80fd0e010004", "c02b01010004", "c021", "c02101", "c0210101",
               "c02101010002", "c02120010004"]
    check_link([b"\xff\x03" + bytes.fromhex(h) for h in packets], PPP)



def test_a_ppp_protocol_field_compressed_to_one_byte():
    frames = [bytes.fromhex(h) for h in ("ff033d30", "ff033dc0050000", "3dc00500", "ff033d", "ff")]
    frames += [b"\xff\x03\x21" + ip4(17, udp(1, 2, b"x")), b"\x21" + ip4(17, udp(1, 2, b"x"))]
    check_link(frames, PPP)


def test_pap_in_a_pppoe_session():
    pap = b"\xc0\x23\x02\x01\x00\x06\x01a"
    session = bytes([0x11, 0, 0, 1]) + struct.pack("!H", len(pap)) + pap
    check([b"\xff" * 6 + SRC + b"\x88\x64" + session])


# -- Frame Relay's header ------------------------------------------------------

FRELAY = 107
FR_HEADERS = [
    "8000000000ffff", "d4000000001411", "0842000000ffff", "01e10300", "4901cc00",  # refused
    "b0003a0100116b68", "b0403a01001488", "00003a0100116b", "10003a010014a530",   # 4 bytes
    "48012c000011886b", "48e111002200000000",                 # "UI xx!": no EtherType known
    "4801030022", "4803030022", "480f030022", "4a01030022", "48e1030022", "48e1030099",
    "48e10300000011", "48e003030022", "48e003000022", "48e0030022", "48e0020300000022",
    "48e0000022", "48e10309", "48e10384", "48e1038a", "48e103c1"]


def test_frame_relay_refused_addresses_and_nlpids_without_a_printer():
    check_link([bytes.fromhex(h) + bytes(8) for h in FR_HEADERS], FRELAY)


def test_frame_relay_header_cut_short_is_marked_where_tcpdump_stops():
    for h in ("b0003a0100116b68", "48e10300220000000000", "48012c000011886b", "48e1030022",
              "48e103000022", "48e1cc"):
        frame = bytes.fromhex(h)
        for snaplen in range(1, len(frame) + 1):
            check_link([frame], FRELAY, snaplen)


# -- ES-IS, and OSI over Frame Relay and FRF.16 ---------------------------------

def esis(li: int | None = None, version: int = 1, kind: int = 2) -> bytes:
    """An ES-IS PDU (ISO 9542): the fixed header, one NET, four bytes more."""
    body = b"\x01\x03\x49\x00\x01"
    li = 9 + len(body) if li is None else li
    return bytes([0x82, li, version, 0, kind, 0, 30, 0, 0]) + body + bytes(4)


ESIS_PDUS = [esis(), esis(kind=4), esis(kind=6), esis(kind=0x1F), esis(kind=0x22),
             esis(version=2), esis(li=200), esis(li=10), esis(li=11), b"\x82\x01", b"\x82\x05\x01"]


def test_esis_names_its_type_or_the_header_fault():
    frames = [osi_frame(p) for p in ESIS_PDUS]
    check(frames)
    for snaplen in range(14, len(frames[0])):
        check(frames[:1], snaplen)


def test_osi_over_frame_relay_after_a_bad_control_byte_or_a_pad():
    frames = [prefix + p for prefix in (b"\x48\xe1\x03", b"\x48\xe1\x22\x00", b"\x48\xe1\x03\x00")
              for p in [*ESIS_PDUS, clnp()]]
    check_link(frames, FRELAY)
    for snaplen in range(1, len(frames[0])):
        check_link(frames[:1], FRELAY, snaplen)


MFR = 182


def test_frf16_fragments_and_the_frame_a_first_one_holds():
    frames = [bytes([0xC5, 0x10]) + b"\x48\xe1\x03" + p for p in ESIS_PDUS[:3]]
    frames += [bytes([0x80, 0xB5]) + b"\x48\xe1\x22\x00" + esis(),
               bytes([0xC0, 0x01]) + b"\x48\xe1\x03\x00\x22" + bytes(4)]
    frames += [bytes([flags, 0x01]) + b"\x48\xe1\x03" + esis()
               for flags in (0x40, 0x00, 0x20, 0x60, 0x5E, 0xA0)]
    check_link(frames, MFR)


# -- SLIP ----------------------------------------------------------------------

SLIP = 8


def test_slip_carries_ipv4_and_ipv6_and_names_any_other_version():
    header = bytes(16)
    frames = [header + ip4(17, udp(1000, 2000, b"x")), header + ip6(17, udp(1000, 2000, b"x")),
              header + b"\x30" + bytes(30), header + b"\x00" + bytes(5), header + b"\xf0"]
    check_link(frames, SLIP)
    for snaplen in (1, 10, 16, 17, 18):
        check_link(frames[:2], SLIP, snaplen)
