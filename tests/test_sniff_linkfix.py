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
    assert decoder.malformed == sum("[|" in line for line in ours)


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
