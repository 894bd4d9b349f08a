"""IPv6 extension headers, the Mobility Header and other IP payloads, against tcpdump.

Literal bytes in, tcpdump's own first line out (`check`): every expected line
comes from running tcpdump here on the same bytes, whole and cut by a
snapshot length where tcpdump marks a header `[|...]`.
"""

from __future__ import annotations

import struct

import pytest
from test_sniff_decode import eth, ip4, ip6
from test_sniff_printers import check

pytestmark = pytest.mark.skipif(
    __import__("shutil").which("tcpdump") is None,
    reason="needs tcpdump, the oracle (Debian package: tcpdump)")

ETH_IP6 = 14 + 40  # where an IPv6 payload starts in the frame
SEG_A = bytes.fromhex("000a000b000c00030000000000000000d6")[-16:]
SEG_B = bytes(15) + b"\x02"
ECHO6 = bytes([128, 0, 0, 0, 0, 1, 0, 1]) + b"abcd"
NO_NEXT, ICMP6, HBH, ROUTING, FRAG, AH, DSTOPT, MH = 59, 58, 0, 43, 44, 51, 60, 135


def v6(nxt: int, payload: bytes) -> bytes:
    return eth(ip6(nxt, payload), 0x86DD)


def srh(nxt: int, segments: list[bytes], last: int, *, flags: int = 0, tag: int = 0,
        extra: bytes = b"", units: int | None = None) -> bytes:
    """A Segment Routing Header (routing type 4, RFC 8754)."""
    body = b"".join(segments) + extra
    ln = len(body) // 8 if units is None else units
    return bytes([nxt, ln, 4, 1, last, flags]) + struct.pack("!H", tag) + body


def rt0(nxt: int, addresses: list[bytes], *, typ: int = 0, reserved: int = 0,
        units: int | None = None) -> bytes:
    body = b"".join(addresses)
    ln = len(body) // 8 if units is None else units
    return bytes([nxt, ln, typ, 1]) + struct.pack("!I", reserved) + body


# -- routing header ----------------------------------------------------------------

SRH_FRAMES = [
    v6(ROUTING, srh(ICMP6, [SEG_A, SEG_B], 1) + ECHO6),
    v6(ROUTING, srh(ICMP6, [SEG_A, SEG_B], 1, flags=3, tag=0x1234) + ECHO6),
    v6(ROUTING, srh(NO_NEXT, [SEG_A, SEG_B], 2)),            # last entry beyond the list
    v6(ROUTING, srh(NO_NEXT, [SEG_A], 0, extra=bytes(8))),    # an odd length: invalid
    v6(ROUTING, srh(NO_NEXT, [SEG_A], 0, extra=bytes(24))),
    v6(ROUTING, srh(NO_NEXT, [], 0)),
]


def test_segment_routing_header_lists_its_segments():
    check(SRH_FRAMES)


def test_routing_types_0_and_2_and_an_unknown_one():
    check([v6(ROUTING, rt0(NO_NEXT, [SEG_A])), v6(ROUTING, rt0(NO_NEXT, [SEG_A], reserved=5)),
           v6(ROUTING, rt0(NO_NEXT, [], units=1) + bytes(8)),
           v6(ROUTING, rt0(NO_NEXT, [SEG_A], typ=2)), v6(ROUTING, rt0(NO_NEXT, [SEG_A], typ=3)),
           v6(ROUTING, rt0(ICMP6, [SEG_A, SEG_B]) + ECHO6)])


@pytest.mark.parametrize("frame", [SRH_FRAMES[0], v6(ROUTING, rt0(NO_NEXT, [SEG_A],
                                                                   reserved=5))])
def test_routing_header_cut_anywhere(frame):
    for snaplen in range(ETH_IP6, len(frame) + 1):
        check([frame], snaplen)


# -- hop-by-hop and destination options ------------------------------------------------

def options(nxt: int, opts: bytes) -> bytes:
    """An options header, `opts` padded with Pad1 to a multiple of 8 with its first two."""
    opts += bytes(-(len(opts) + 2) % 8)
    return bytes([nxt, (len(opts) + 2) // 8 - 1]) + opts


OPTION_CASES = [
    bytes([1, 4, 0, 0, 0, 0]),                   # PadN
    bytes([5, 2, 0, 0]),                         # router alert
    bytes([5, 3, 0, 0, 0]),                      # router alert of the wrong length
    bytes([5, 1, 0]),                            # too short for a router alert
    bytes([0xC2, 4, 0, 1, 0, 0]),                # jumbo payload
    bytes([0xC2, 2, 0, 0]),                      # jumbo of the wrong length
    bytes([0xC9, 16]) + SEG_A,                   # home address
    bytes([0xC9, 4, 0, 0, 0, 0]),                # home address too short
    bytes([0x30, 0x30]),                         # an option running past the header
    bytes([0, 0, 0, 0, 0, 0x1E]),                # the last byte an option's type alone
]


def test_hop_by_hop_options_tcpdump_rejects_end_the_line():
    check([v6(HBH, options(ICMP6, o) + ECHO6) for o in OPTION_CASES])


def test_destination_options_are_checked_only_at_v():
    check([v6(DSTOPT, options(ICMP6, o) + ECHO6) for o in OPTION_CASES])


@pytest.mark.parametrize("chain", [
    options(DSTOPT, b"") + options(ICMP6, b"") + ECHO6,
    options(ROUTING, b"") + rt0(NO_NEXT, [SEG_A]),
    options(AH, b"") + bytes([NO_NEXT, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0]),
    options(MH, b"") + bytes([NO_NEXT, 0, 0, 0, 0, 0, 0, 0]),
])
def test_headers_after_hop_by_hop_cut_anywhere(chain):
    frame = v6(HBH, chain)
    for snaplen in range(ETH_IP6, len(frame) + 1):
        check([frame], snaplen)


def test_fragment_header_cut_in_its_first_four_bytes():
    # (tcpdump's own length arithmetic goes wrong past them, in a header cut short.)
    frame = v6(HBH, options(FRAG, b"") + bytes([NO_NEXT, 0, 0, 0, 0, 0, 0, 1]))
    for snaplen in range(ETH_IP6 + 8, ETH_IP6 + 12):
        check([frame], snaplen)


def test_authentication_header_with_reserved_bits_and_its_cuts():
    header = bytes([NO_NEXT, 4, 0x30, 0x30, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xAB, 0, 0, 0])
    frame = v6(AH, header)
    for snaplen in range(ETH_IP6, len(frame) + 1):
        check([frame], snaplen)
    frame4 = eth(ip4(AH, header))
    for snaplen in range(34, len(frame4)):
        check([frame4], snaplen)


# -- Mobility Header --------------------------------------------------------------------

def mh(typ: int, body: bytes, *, units: int | None = None, proto: int = NO_NEXT) -> bytes:
    """A Mobility Header: payload protocol, length, type, reserved, checksum, `body`."""
    body += bytes(-(len(body) + 6) % 8)
    ln = (len(body) + 6) // 8 - 1 if units is None else units
    return bytes([proto, ln, typ, 0, 0, 0]) + body


MH_FRAMES = [
    mh(0, b"\0\0"),                                          # binding refresh request
    mh(1, bytes(10)), mh(2, bytes(10)),                      # home / care-of test init
    mh(3, bytes([0, 0x74]) + bytes(16)), mh(4, bytes([0, 0x74]) + bytes(16)),
    mh(5, bytes([0, 116, 0x80, 0, 0x0F, 0])),                # binding update, A
    mh(5, bytes([0x9B, 0x9D, 0xF0, 0, 0xFF, 0x53])),         # every flag
    mh(5, bytes([0, 1, 0x30, 0, 0, 1])),
    mh(6, bytes([48, 0x80, 0, 7, 0, 3])),                    # binding ack, K
    mh(6, bytes([0, 0, 0, 7, 0, 3])),
    mh(7, bytes([2, 0]) + SEG_A),                            # binding error
    mh(9, bytes(10)),                                        # a type tcpdump does not know
    mh(5, bytes(2), units=0),                                # too short for its type
    mh(7, bytes(10), units=1),
]


@pytest.mark.parametrize("nxt", [MH, 62])
def test_mobility_header_names_each_message_type(nxt):
    check([v6(nxt, m) for m in MH_FRAMES])


@pytest.mark.parametrize("message", [MH_FRAMES[5], MH_FRAMES[8], MH_FRAMES[10], MH_FRAMES[3]])
def test_mobility_header_cut_anywhere(message):
    frame = v6(MH, message)
    for snaplen in range(ETH_IP6, len(frame) + 1):
        check([frame], snaplen)


# -- GRE: OSI payloads and source routes ------------------------------------------------

def gre(proto: int, payload: bytes, *, flags: int = 0, extra: bytes = b"") -> bytes:
    return eth(ip4(47, struct.pack("!HH", flags, proto) + extra + payload))


ISIS_LSP = (bytes([0x83, 27, 1, 0, 18, 1, 0, 0]) + struct.pack("!HH", 27, 1200)
            + bytes.fromhex("1921680010010000") + struct.pack("!IHB", 7, 0, 3))


def test_gre_carries_osi_as_tcpdump_decodes_it():
    check([gre(0x00FE, ISIS_LSP), gre(0x00FE, bytes([0x99, 1, 2, 3])),
           gre(0x00FE, b""),
           gre(0x00FE, ISIS_LSP[:12])])
    for snaplen in range(38, 38 + len(ISIS_LSP) + 1):
        check([gre(0x00FE, ISIS_LSP)], snaplen)


def sre(af: int, offset: int, data: bytes) -> bytes:
    return struct.pack("!HBB", af, offset, len(data)) + data


ROUTES = [
    sre(0x0800, 4, bytes([192, 0, 2, 1, 192, 0, 2, 2])) + sre(0, 0, b""),
    sre(0xFFFE, 2, bytes([0, 1, 0xFD, 0xE8])) + sre(0, 0, b""),
    sre(0x3030, 0, b"abcd") + sre(0x0800, 0, bytes(4)) + sre(0, 0, b""),
    sre(0x0800, 1, bytes(8)) + sre(0, 0, b""), sre(0x0800, 0, bytes(6)) + sre(0, 0, b""),
    sre(0x0800, 8, bytes(8)) + sre(0, 0, b""), sre(0xFFFE, 1, bytes(4)) + sre(0, 0, b""),
    sre(0x0800, 0, bytes(4)),                     # no empty entry to end the list
]


def test_gre_source_route_entries():
    offset = bytes([0, 0, 0, 4])  # the checksum and offset fields the routing bit brings
    frames = [gre(0x1234, b"payload", flags=0x4000, extra=offset + r) for r in ROUTES]
    check(frames)
    for snaplen in range(38, 38 + 4 + len(ROUTES[0]) + 1):
        check(frames[:1], snaplen)


# -- RSVP ---------------------------------------------------------------------------------

def rsvp(version: int, typ: int, body: bytes = bytes(12)) -> bytes:
    return struct.pack("!BBHBBH", version << 4, typ, 0, 64, 0, 8 + len(body)) + body


@pytest.mark.parametrize("ip", ["4", "6"])
def test_rsvp_names_the_message_type(ip):
    messages = [rsvp(1, t) for t in (1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 20, 99)]
    messages += [rsvp(2, 1), rsvp(1, 20, b"")]
    wrap = (lambda m: eth(ip4(46, m))) if ip == "4" else (lambda m: v6(46, m))
    check([wrap(m) for m in messages])
    frame = wrap(messages[0])
    for snaplen in range(len(frame) - 20, len(frame) - 11):
        check([frame], snaplen)


# -- ICMPv6 RPL ------------------------------------------------------------------------------

def test_rpl_names_its_control_messages():
    bodies = {0: bytes(2), 1: bytes(24), 2: bytes([1, 0x40, 0, 7]) + SEG_A, 3: bytes(4)}
    frames = [v6(ICMP6, bytes([155, code, 0, 0]) + bodies.get(code & 0x7F, bytes(4)))
              for code in (0, 1, 2, 3, 4, 0x80, 0x82, 0x8A)]
    check(frames)
    check(frames[2:3], ETH_IP6 + 1)


# -- IGMP's DVMRP ------------------------------------------------------------------------------

def dvmrp(kind: int, body: bytes, version: bytes = bytes([0, 0, 4, 12])) -> bytes:
    """A DVMRP message in IGMP type 0x13; Neighbors2 carries mrouted's version where
    IGMP's group address would be."""
    return eth(ip4(2, bytes([0x13, kind, 0, 0]) + version + body))


LOCAL, PEER, OTHER, FAR = (bytes([10, 0, 0, n]) for n in (2, 1, 9, 10))
NEIGHBORS2 = (LOCAL + bytes([1, 0, 0x40, 1]) + PEER
              + OTHER + bytes([1, 0, 0x33, 2]) + FAR + PEER)
DVMRP_FRAMES = [dvmrp(k, b"") for k in range(11)] + [
    dvmrp(6, NEIGHBORS2), dvmrp(6, NEIGHBORS2[:-2]),          # a neighbour cut in two
    dvmrp(6, LOCAL + bytes([1, 0, 0, 3]) + PEER),              # fewer neighbours than said
    dvmrp(6, LOCAL + bytes([1, 0, 0])),
    dvmrp(4, LOCAL + bytes([1, 0, 2]) + PEER + OTHER), dvmrp(4, LOCAL + bytes([1, 0, 2]) + PEER),
    dvmrp(4, LOCAL + bytes([1])),
    dvmrp(7, LOCAL + PEER + bytes([0, 0, 1, 0])), dvmrp(8, LOCAL + PEER), dvmrp(9, LOCAL + PEER),
    dvmrp(1, bytes([0, 0, 0, 5]) + LOCAL), dvmrp(2, bytes(20)),
    eth(ip4(2, bytes([0x13, 5, 0, 0]))),                       # shorter than IGMP's header
]


def test_dvmrp_messages_and_neighbour_lists():
    check(DVMRP_FRAMES)


@pytest.mark.parametrize("frame", [DVMRP_FRAMES[11], DVMRP_FRAMES[15], DVMRP_FRAMES[18]])
def test_dvmrp_cut_anywhere(frame):
    for snaplen in range(34, len(frame)):
        check([frame], snaplen)


# -- IGRP ------------------------------------------------------------------------------------

def igrp_route(net: list[int], delay: int = 100, bandwidth: int = 1000) -> bytes:
    return (bytes(net) + delay.to_bytes(3, "big") + bandwidth.to_bytes(3, "big")
            + struct.pack("!HBBB", 1500, 255, 1, 2))


def igrp(vop: int, counts: tuple[int, int, int], routes: list[bytes]) -> bytes:
    return struct.pack("!BBHHHHH", vop, 3, 100, *counts, 0) + b"".join(routes)


IGRP_MESSAGES = [
    igrp(0x11, (1, 1, 1), [igrp_route([0, 2, 0]), igrp_route([10, 1, 0], bandwidth=0),
                           igrp_route([192, 0, 2], 0xFFFFFF, 0xFFFFFF)]),
    igrp(0x12, (0, 0, 0), []), igrp(0x13, (0, 0, 0), []),
    igrp(0x11, (2, 0, 0), [igrp_route([1, 2, 3])]),                  # a route missing
    igrp(0x11, (0, 0, 0), [igrp_route([1, 2, 3])]),                  # a route too many
    igrp(0x11, (1, 0, 0), [igrp_route([1, 2, 3]), b"xy"]),            # bytes left over
    bytes(8), b"",                                                   # shorter than its header
]


@pytest.mark.parametrize("ip", ["4", "6"])
def test_igrp_header_and_routes(ip):
    wrap = (lambda m: eth(ip4(9, m))) if ip == "4" else (lambda m: v6(9, m))
    check([wrap(m) for m in IGRP_MESSAGES])


def test_igrp_cut_anywhere():
    frame = eth(ip4(9, IGRP_MESSAGES[0]))
    for snaplen in range(34, len(frame)):
        check([frame], snaplen)
