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
from test_sniff_decode import eth, ip4, tcp
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


# -- LISP control (UDP 4342) ----------------------------------------------------

def lisp_header(first: int, records: int, auth: bytes = b"") -> bytes:
    """A Map-Register or Map-Notify header (RFC 6830 §6.1.6): type and flags, records,
    nonce, key id, authentication data."""
    return struct.pack("!B2xB8sHH", first, records, bytes(8), 1, len(auth)) + auth


def lisp_record(eid: bytes = bytes([10, 0, 0, 0])) -> bytes:
    """An EID record with one IPv4 locator."""
    return (struct.pack("!IBBBxHH", 1440, 1, 24, 0x20, 0, 1) + eid
            + struct.pack("!BBBBHH", 1, 100, 255, 0, 5, 1) + bytes([192, 0, 2, 1]))


LISP_PAYLOADS = [
    lisp_header(0x40, 3, bytes(20)) + lisp_record() * 3,   # Map-Notify
    lisp_header(0x30, 1) + lisp_record(),                   # Map-Register
    lisp_header(0x30, 0),                                   # no records: invalid
    lisp_header(0x40, 0, bytes(4)),
    lisp_header(0x32, 1, bytes(8)),                         # an xTR-ID announced, missing
    lisp_header(0x32, 1, bytes(8)) + bytes(24),             # and present
    lisp_header(0x48, 2, bytes(4)),                         # Map-Notify's xTR bit
    lisp_header(0x38, 1, bytes(4)),                         # Map-Notify's bit on a Register
    lisp_header(0x30, 1, bytes(4)) + bytes(7),              # data after the header
    lisp_header(0x30, 1) + lisp_record()[:11],              # a record cut short
    lisp_header(0x30, 23) + b"\xff" * 30,
    *(bytes([t << 4]) + bytes(15) for t in (0, 1, 2, 5, 8, 9, 15)),
    bytes(15), b"",
]


def test_lisp_names_the_message_and_counts_its_records():
    check([udp4(40000, 4342, p) for p in LISP_PAYLOADS] + [udp4(4342, 4342, LISP_PAYLOADS[0])])


def test_lisp_authentication_length_wraps_in_sixteen_bits():
    for auth_len in (0xFFF0, 0xFFF4, 0xFFF8, 0xFFFF):
        p = struct.pack("!B2xB8sHH", 0x32, 1, bytes(8), 1, auth_len) + bytes(40)
        check([udp4(40000, 4342, p), udp4(40000, 4342, p[:20])])


def test_lisp_cut_by_the_snapshot_length():
    for payload in (LISP_PAYLOADS[0], LISP_PAYLOADS[5]):
        frame = udp4(40000, 4342, payload)
        for snaplen in cuts(frame, UDP_AT - 1)[:70]:
            check([frame], snaplen)


def test_lisp_has_its_place_in_tcpdumps_order_of_ports():
    notify = LISP_PAYLOADS[0]
    check([udp4(6081, 4342, notify), udp4(4342, 319, notify), udp4(4342, 30490, notify),
           udp4(4790, 4342, notify), udp4(4789, 4342, notify), udp4(55555, 4342, notify)])


# -- Telnet (TCP 23) ------------------------------------------------------------

IAC, SB, SE = 255, 250, 240
TELNET_PAYLOADS = [
    bytes([IAC, 253, 24, IAC, 251, 31, IAC, 252, 1, IAC, 254, 36]),   # DO, WILL, WONT, DONT
    bytes([IAC, SB, 24, 1, IAC, SE]),                                   # SB TERMINAL TYPE SEND SE
    bytes([IAC, SB, 24, 0]) + b"xterm" + bytes([IAC, SE]) + b"login: ",
    bytes([IAC, SB, 37, 2, 5, 9, 9, IAC, SE, IAC, SB, 37, 1, 8, IAC, SE]),  # AUTHENTICATION
    bytes([IAC, SB, 38, 1, 1, 2, IAC, SE, IAC, SB, 38, 9, 5, IAC, SE]),     # ENCRYPT
    bytes([IAC, SB, 39, IAC, SE, IAC, SB, 200, 7, 0, IAC, SE]),          # empty; unknown option
    bytes([IAC, IAC, IAC, 241, IAC, 236, IAC, 249, IAC, 200]),           # IAC IAC, NOP, EOF, GA
    bytes([IAC, 253, 40, IAC, 251, 0]),                                  # option 40; BINARY
    bytes([IAC, SB, 24, 1, 2, 3]),                                       # no IAC SE
    bytes([IAC, SB, 24, 1, 2, IAC]),                                     # ends on IAC alone
    bytes([IAC, 253]), bytes([IAC]), b"hello" + bytes([IAC, 253, 1]),
]


def test_telnet_lists_the_commands_a_segment_starts_with():
    check([tcp4(40000, 23, p) for p in TELNET_PAYLOADS] + [tcp4(23, 40000, TELNET_PAYLOADS[0])])


def test_telnet_cut_by_the_snapshot_length():
    frames = [tcp4(40000, 23, p) for p in TELNET_PAYLOADS[:5]]
    for snaplen in range(TCP_AT, TCP_AT + 30):
        check(frames, snaplen)


def test_telnet_subnegotiation_closed_by_a_lone_iac_runs_on_to_the_capture_end():
    # tcpdump counts two bytes for IAC SE where the segment ends after IAC: the length
    # left wraps around and the list reads on until the capture ends.
    sub = bytes([IAC, SB, 24, 1, IAC])
    check([tcp4(23, 40000, bytes([IAC, 254, 36]) + sub), tcp4(23, 40000, sub * 3)])


def test_telnet_gives_way_to_no_other_port():
    check([tcp4(23, 179, TELNET_PAYLOADS[0]), tcp4(80, 23, TELNET_PAYLOADS[1]),
           tcp4(23, 6379, TELNET_PAYLOADS[1])])


# -- TCP options: SCPS (kind 20) ------------------------------------------------

def syn_with(options: bytes) -> bytes:
    return eth(ip4(6, tcp(40000, 5555, 1, 0, 0x02, b"", options=options)))


SCPS_OPTIONS = [
    b"\x02\x04\x05\xac\x01\x03\x03\x02\x01\x01\x14\x02",  # at the header's end: no room
    b"\x14\x02\x00\x00",                                   # read past its length field
    b"\x14\x04\x0a\x07",                                   # well formed
    b"\x14\x03\x05\x06", b"\x14\x06\x01\x02\x01\x01\x01\x01",  # other lengths: noted
    b"\x14\x08\x01\x02\x01\x01\x01\x01",                   # reading goes on after two bytes
    b"\x01\x01\x14\x02", b"\x14\x04\x0f\xff\x01\x00\x00\x00",
]


def test_scps_option_reads_two_bytes_whatever_its_length_says():
    check([syn_with(o) for o in SCPS_OPTIONS])


# -- LMP (UDP 701) --------------------------------------------------------------

def lmp_header(first: int, kind: int) -> bytes:
    """LMP's common header (RFC 4204 §12.1): version, flags, type, length."""
    return struct.pack("!BxBBHxx", first, 0, kind, 8)


def test_lmp_names_the_message_type_and_the_datagram_length():
    payloads = [lmp_header(0x10, kind) + bytes(extra)
                for kind, extra in ((1, 0), (2, 12), (20, 4), (50, 0), (52, 0), (249, 8), (0, 0))]
    payloads += [lmp_header(0x20, 1), lmp_header(0x0F, 1), lmp_header(0x10, 1)[:7], b""]
    check([udp4(40000, 701, p) for p in payloads] + [udp4(701, 701, payloads[0])])


def test_lmp_cut_inside_its_header():
    frame = udp4(40000, 701, lmp_header(0x10, 4) + bytes(8))
    for snaplen in cuts(frame, UDP_AT):
        check([frame], snaplen)


def test_lmp_has_its_place_in_tcpdumps_order_of_ports():
    hello = lmp_header(0x10, 4)
    check([udp4(646, 701, hello), udp4(701, 6343, hello), udp4(701, 514, hello),
           udp4(3784, 701, hello), udp4(701, 61234, hello)])


# -- VQP (UDP 1589) -------------------------------------------------------------

def test_vqp_names_the_message_and_its_error_code():
    payloads = [bytes([1, kind, error, 2]) + bytes(4) + bytes(extra)
                for kind, error, extra in ((1, 0, 10), (2, 3, 0), (3, 4, 6), (4, 5, 0),
                                           (127, 31, 10), (0, 1, 0))]
    payloads += [bytes([2, 1, 0, 0]) + bytes(4), bytes([1, 1, 0, 0, 0, 0, 0]), b""]
    check([udp4(40000, 1589, p) for p in payloads] + [udp4(1589, 1589, payloads[0])])


def test_vqp_cut_inside_its_header():
    frame = udp4(40000, 1589, bytes([1, 1, 0, 2]) + bytes(12))
    for snaplen in cuts(frame, UDP_AT):
        check([frame], snaplen)


def test_vqp_has_its_place_in_tcpdumps_order_of_ports():
    query = bytes([1, 1, 0, 2]) + bytes(4)
    check([udp4(701, 1589, query), udp4(1589, 6343, query), udp4(1589, 514, query),
           udp4(1589, 8472, query), udp4(40123, 1589, query)])


# -- Cisco Auto-RP (UDP 496) ----------------------------------------------------

def autorp_message(kind: int, hold: int, rps: list[tuple[bytes, int, list[bytes]]],
                   count: int | None = None) -> bytes:
    """An Auto-RP message: header, then per RP its address, PIM versions and group ranges."""
    body = b"".join(rp + bytes([versions, len(groups)]) + b"".join(groups)
                    for rp, versions, groups in rps)
    return struct.pack("!BBHI", kind, len(rps) if count is None else count, hold, 0) + body


def autorp_group(flags: int, mask: int, prefix: bytes) -> bytes:
    return bytes([flags, mask]) + prefix


AUTORP_PAYLOADS = [
    autorp_message(0x11, 181, [(bytes([192, 0, 2, 1]), 2,
                                [autorp_group(0, 4, bytes([224, 0, 0, 0]))])]),
    autorp_message(0x12, 0, [(bytes([192, 0, 2, 1]), 3,
                              [autorp_group(1, 8, bytes([239, 0, 0, 0])),
                               autorp_group(2, 24, bytes([232, 1, 2, 0]))]),
                             (bytes([192, 0, 2, 9]), 0xE9, [])]),
    autorp_message(0x13, 976, [(bytes([1, 235, 99, 5]), 0xE8,
                                [autorp_group(0x16, 33, bytes([255, 0, 0, 0]))])]),
    autorp_message(0x11, 60, [(bytes([192, 0, 2, 1]), 1, [])], count=2),   # one RP short
    autorp_message(0x11, 60, [(bytes([192, 0, 2, 1]), 1,
                               [autorp_group(0, 4, bytes([224, 0, 0, 0]))])])[:-2],
    autorp_message(0x11, 60, []), bytes(7), b"",
]


def test_autorp_lists_each_rp_and_its_group_ranges():
    check([udp4(40000, 496, p) for p in AUTORP_PAYLOADS] + [udp4(496, 496, AUTORP_PAYLOADS[0])])


def test_autorp_cut_by_the_snapshot_length():
    frame = udp4(40000, 496, AUTORP_PAYLOADS[1])
    for snaplen in cuts(frame, UDP_AT - 1):
        check([frame], snaplen)


def test_autorp_has_its_place_in_tcpdumps_order_of_ports():
    advert = AUTORP_PAYLOADS[0]
    check([udp4(547, 496, advert), udp4(496, 1812, advert), udp4(496, 646, advert),
           udp4(6696, 496, advert), udp4(496, 52000, advert)])


# -- RESP, Redis (TCP 6379) -----------------------------------------------------

RESP_PAYLOADS = [
    b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",    # a command: an array of bulk strings
    b"+OK\r\n", b"-ERR unknown command\r\n", b":1000\r\n",   # simple string, error, integer
    b"$-1\r\n", b"*-1\r\n", b"$0\r\n\r\n", b"*0\r\n",        # null and empty
    b"$-2\r\n", b"*-5\r\n", b"$2147483648\r\n", b"$x\r\n",   # negative, too large, invalid
    b"$3\r\nab\r\n\r\n", b"$1\r\nabc\r\n",                   # bulk length off: CRLF searched
    b"PING\r\nPING\n\r\nECHO \x80\x01\r\n",                  # inline commands, pipelined
    b"*2\r\n$4\r\nINCR\r\n$1\r\nz\r\n" * 3,
    b"*2\r\n$3\r\nGET\r\n", b"$5\r\nab", b"+OK", b"\r\n",   # running out of segment
    b"$99999999999\r\n:12\r\n", b"*1\r\n$-\r\n",
]


def test_resp_quotes_every_item_of_a_segment():
    check([tcp4(40000, 6379, p) for p in RESP_PAYLOADS] + [tcp4(6379, 40000, RESP_PAYLOADS[1])])


def test_resp_cut_by_the_snapshot_length():
    frames = [tcp4(40000, 6379, p) for p in RESP_PAYLOADS[:2] + RESP_PAYLOADS[14:15]]
    for snaplen in range(TCP_AT, TCP_AT + 40):
        check(frames, snaplen)


def test_resp_has_its_place_in_tcpdumps_order_of_ports():
    ok = RESP_PAYLOADS[1]
    check([tcp4(23, 6379, ok), tcp4(1723, 6379, ok), tcp4(6379, 22, ok), tcp4(6379, 80, ok),
           tcp4(45000, 6379, ok)])


# -- HNCP (UDP 8231) ------------------------------------------------------------

def hncp_tlv(kind: int, body: bytes = b"", pad: bool = True) -> bytes:
    """A DNCP TLV (RFC 7787 §7): type, length, body, padded to four bytes."""
    return struct.pack("!HH", kind, len(body)) + body + (bytes(-len(body) % 4) if pad else b"")


HNCP_PAYLOADS = [
    hncp_tlv(3, bytes(8)) + hncp_tlv(4, bytes(8)) + hncp_tlv(5, bytes(20)) * 3,
    hncp_tlv(1) + hncp_tlv(2, bytes(4)) + hncp_tlv(8, bytes(12)) + hncp_tlv(32, bytes(5)),
    b"".join(hncp_tlv(k) for k in (0, 6, 7, 11, 44, 511, 512, 768, 1023, 1024, 65535)),
    hncp_tlv(5, bytes(20)) + hncp_tlv(35, bytes(3)) + hncp_tlv(35, bytes(3)),
    hncp_tlv(5, bytes(20)) + struct.pack("!HH", 9, 40) + bytes(8),   # past the datagram
    hncp_tlv(5, bytes(20)) + b"\x00\x09",                            # a header cut short
    hncp_tlv(10, bytes(3), pad=False), b"",
]


def test_hncp_lists_the_types_of_its_tlvs():
    check([udp4(40000, 8231, p) for p in HNCP_PAYLOADS] + [udp4(8231, 8231, HNCP_PAYLOADS[0])])


def test_hncp_cut_by_the_snapshot_length():
    frame = udp4(40000, 8231, HNCP_PAYLOADS[0])
    for snaplen in cuts(frame, UDP_AT - 1)[:60]:
        check([frame], snaplen)


def test_hncp_has_its_place_in_tcpdumps_order_of_ports():
    tlvs = HNCP_PAYLOADS[1]
    check([udp4(6696, 8231, tlvs), udp4(8231, 496, tlvs), udp4(8231, 1812, tlvs),
           udp4(547, 8231, tlvs), udp4(8231, 33333, tlvs)])
