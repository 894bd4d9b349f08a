"""Application printers on UDP and TCP ports, on literal bytes, against tcpdump's own line.

Each frame is written to a pcap and read by tcpdump in the test
(`oracles.tcpdump_first_lines`, through `check`), so no expected line is
typed by hand; captures cut by a snapshot length check tcpdump's `[|...]`
marks, and `both_paths` checks that the decoder counts the marked packets
as malformed and prints the same through its fast loop and its walk.
"""

from __future__ import annotations

import struct

import pytest
from test_sniff_printers import check, tcp4, udp4

# Ethernet, IPv4 and UDP headers: where a UDP payload starts in these frames.
UDP_AT = 14 + 20 + 8
# Ethernet, IPv4 and a TCP header without options.
TCP_AT = 14 + 20 + 20


def cuts(frame: bytes, start: int) -> list[int]:
    """Every snapshot length from `start` to the whole frame."""
    return list(range(start, len(frame) + 1))


# -- RPKI-RTR (TCP 323) ---------------------------------------------------------

def test_rpki_rtr_is_named_after_the_length_with_no_colon():
    pdu = bytes.fromhex("0100000000000008")
    frames = [tcp4(40000, 323, pdu), tcp4(323, 40000, pdu * 40), tcp4(323, 646, b"\xff")]
    check(frames)
    for snaplen in cuts(frames[0], TCP_AT - 1):
        check(frames[:1], snaplen)


def test_rpki_rtr_gives_way_to_the_ports_tcpdump_tries_first():
    check([tcp4(179, 323, b"x" * 19), tcp4(323, 22, b"SSH-2.0-x\r\n"), tcp4(80, 323, b"GET")])


# -- SOME/IP (UDP 30490) --------------------------------------------------------

def someip_header(message: int = 0xFFFF8100, size: int = 8, request: int = 0,
                  kinds: bytes = b"\x01\x01\x02\x00") -> bytes:
    return struct.pack("!III", message, size, request) + kinds


@pytest.mark.parametrize("msgtype", [0x00, 0x01, 0x02, 0x80, 0x81, 0x20, 0x21, 0x22, 0xA0,
                                     0xA1, 0x03, 0xFF])
def test_someip_header_fields_and_message_types(msgtype):
    frames = [udp4(40000, 30490, someip_header(0x12340005, 24, 0x00070009,
                                               bytes([1, 2, msgtype, code])) + bytes(16))
              for code in range(16)]
    check([*frames, udp4(30490, 31490, someip_header()), udp4(30490, 30490, someip_header())])


def test_someip_shorter_than_its_header_is_invalid_and_a_cut_one_marked():
    frames = [udp4(40000, 30490, someip_header()[:n]) for n in (0, 1, 15)]
    check(frames)
    frame = udp4(40000, 30490, someip_header(0x01020304, 0x05060708, 0x090A0B0C))
    for snaplen in cuts(frame, UDP_AT):
        check([frame], snaplen)


def test_someip_has_its_place_in_tcpdumps_order_of_ports():
    # PTP, syslog and the tunnels come before SOME/IP; a random source port does not.
    header = someip_header()
    check([udp4(319, 30490, header), udp4(30490, 514, header), udp4(4789, 30490, header),
           udp4(30490, 49152, header), udp4(49152, 30490, header), udp4(51234, 30490, header),
           udp4(30490, 61000, header), udp4(30490, 137, header)])
