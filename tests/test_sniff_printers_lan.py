"""The LAN service printers (TFTP, RIP, HSRP, VRRP, multicast DNS) against tcpdump.

Each case is literal bytes; the expected first line is what tcpdump prints
for them, read from a pcap written in the test (see test_sniff_printers),
and both decoder paths must print it. The cases walk each message's fields
one at a time and cut it at every field boundary, since tcpdump marks a cut
message where its printer ran out of bytes.
"""

from __future__ import annotations

import shutil
import struct

import pytest
from test_sniff_decode import A6, B6, A, B, eth, icmp, ip4, ip6, tcp, udp
from test_sniff_printers import check, udp4

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")


def check_cut(frames: list[bytes], header: int, upto: int = 24) -> None:
    """The frames captured whole, then cut by the snapshot length after each of the
    first `upto` bytes of their message (which starts `header` bytes in)."""
    check(frames)
    for n in range(upto):
        check(frames, header + n)


_UDP4_HEADERS = 14 + 20 + 8


# -- TFTP ----------------------------------------------------------------------

def tftp(op: int, body: bytes) -> bytes:
    return struct.pack("!H", op) + body


TFTP_MESSAGES = [
    tftp(1, b"boot.img\0octet\0"),
    tftp(2, b"up/load.bin\0netascii\0"),
    tftp(1, b"pxelinux.0\0octet\0blksize\x001468\0tsize\x000\0"),
    tftp(1, b"a\0octet\0\0\0blksize\0"),            # empty strings among the options
    tftp(6, b"blksize\x001468\0tsize\x0012345\0"),  # option acknowledgement
    tftp(6, b""),
    tftp(3, b"\x00\x01" + b"x" * 100),
    tftp(4, b"\x01\x02"),
    tftp(5, b"\x00\x01File not found\0"),
    tftp(5, b"\x00\x07no such user\0"),
    tftp(5, b"\x00\x09code nine\0"),               # a code tcpdump has no name for
    tftp(9, b"whatever"),                           # an opcode it has no name for
    tftp(1, b"no-terminator"),                      # the file name runs off the message
    tftp(1, b"name-only\0"),                        # no mode
    tftp(1, b"name\0mode-unterminated"),
    tftp(1, b""),
    tftp(3, b"\x00"),                               # half a block number
    tftp(5, b"\x00"),
    tftp(5, b"\x00\x02"),                           # no message
    tftp(1, b"ctl\x01\x7f\xe9\0octet\0"),           # bytes tcpdump escapes
    b"\x00",                                        # not even an opcode
]


def test_tftp_every_message_kind_and_where_it_ends():
    check_cut([udp4(40000, 69, msg) for msg in TFTP_MESSAGES], _UDP4_HEADERS)


def test_tftp_only_on_port_69_and_from_it():
    # The server's reply from its own port is plain UDP in tcpdump too.
    check([udp4(69, 40000, tftp(5, b"\x00\x01gone\0")),
           udp4(50000, 40000, tftp(3, b"\x00\x01data"))])


# -- RIP -------------------------------------------------------------------------

def rip(cmd: int, version: int, entries: int) -> bytes:
    entry = struct.pack("!HH4s4s4sI", 2, 0, bytes([198, 18, 7, 0]), bytes([255] * 3 + [0]),
                        bytes(4), 1)
    return struct.pack("!BBH", cmd, version, 0) + entry * entries


RIP_MESSAGES = [rip(2, 2, 3), rip(1, 2, 1), rip(2, 1, 2), rip(1, 1, 1), rip(3, 2, 0),
                rip(4, 1, 0), rip(5, 2, 0), rip(6, 2, 0), rip(9, 2, 1), rip(2, 7, 1),
                b"\x02\x02\x00", b"\x02"]


def test_rip_version_command_and_length():
    check_cut([udp4(520, 520, msg) for msg in RIP_MESSAGES], _UDP4_HEADERS, upto=5)


# -- HSRP ------------------------------------------------------------------------

def hsrp(version: int = 0, op: int = 0, state: int = 16, group: int = 1, reserved: int = 0,
         auth: bytes = b"cisco\0\0\0") -> bytes:
    return struct.pack("!8B8s4s", version, op, state, 3, 10, 120, group, reserved, auth,
                       bytes([198, 18, 0, 254]))


HSRP_MESSAGES = [hsrp(), hsrp(op=1, state=8), hsrp(op=2, state=4), hsrp(op=7, state=2),
                 hsrp(state=1), hsrp(state=0), hsrp(state=3), hsrp(reserved=5),
                 hsrp(version=1), hsrp(group=255)]


def test_hsrp_ops_states_and_the_virtual_address():
    check_cut([udp4(1985, 1985, msg) for msg in HSRP_MESSAGES], _UDP4_HEADERS, upto=21)


def test_hsrp_is_named_by_its_destination_port_only():
    check([udp4(1985, 40000, hsrp()), udp4(40000, 1985, hsrp())])


# -- VRRP ------------------------------------------------------------------------

def vrrp2(kind: int = 1, vrid: int = 7, prio: int = 100, auth: int = 0,
          version: int = 2) -> bytes:
    return struct.pack("!BBBBBBH4s8s", version << 4 | kind, vrid, prio, 1, auth, 1, 0,
                       bytes([198, 18, 0, 254]), b"secret\0\0")


def vrrp3(intvl_cs: int = 100) -> bytes:
    return struct.pack("!BBBBHH16s", 0x31, 9, 200, 1, intvl_cs, 0, A6)


VRRP4 = [vrrp2(), vrrp2(auth=1), vrrp2(auth=2), vrrp2(auth=9), vrrp2(kind=2), vrrp2(version=1),
         vrrp2(version=4), vrrp2(prio=255, vrid=255), vrrp3(), vrrp3(0xFFF)]


def test_vrrp_over_ipv4_every_field_and_the_ttl():
    # RFC 3768 sends to 224.0.0.18 with TTL 255; the lines do not depend on the address.
    check_cut([eth(ip4(112, msg, A, B, ttl=ttl)) for msg in VRRP4 for ttl in (255, 1)],
              14 + 20, upto=8)


def test_vrrp3_over_ipv6():
    check_cut([eth(ip6(112, vrrp3(), A6, B6, hlim=hlim), 0x86DD) for hlim in (255, 64)],
              14 + 40, upto=8)


# -- multicast DNS ---------------------------------------------------------------

def question(name: bytes, qtype: int, qclass: int) -> bytes:
    return name + struct.pack("!HH", qtype, qclass)


NAME = b"\x07printer\x05local\x00"


def dns_msg(flags: int, questions: list[bytes], answers: list[bytes]) -> bytes:
    return struct.pack("!HHHHHH", 7, flags, len(questions), len(answers), 0, 0) \
        + b"".join(questions) + b"".join(answers)


def answer(rtype: int, rclass: int, rdata: bytes) -> bytes:
    return b"\xc0\x0c" + struct.pack("!HHIH", rtype, rclass, 120, len(rdata)) + rdata


CLASSES = [1, 0x8001, 3, 0x8003, 0x00FE, 0x7FFF]
DNS_MESSAGES = [
    *(dns_msg(0, [question(NAME, 12, c)], []) for c in CLASSES),
    *(dns_msg(0x8400, [question(NAME, 1, 1)],
              [answer(1, c, bytes([198, 18, 0, 9])), answer(16, c, b"\x03abc"),
               answer(28, c, A6)]) for c in CLASSES),
    # query flags a query should not carry: AA, TC, RA, Z, a response code
    *(dns_msg(f, [question(NAME, 1, 1)], []) for f in (0x0400, 0x0200, 0x0080, 0x0040, 0x0003,
                                                       0x0100, 0x0010)),
]


@pytest.mark.parametrize("ports", [(5353, 5353), (53, 53), (5353, 53), (40000, 5353)])
def test_dns_and_mdns_classes_their_top_bit_and_odd_query_flags(ports):
    check([frame for msg in DNS_MESSAGES
           for frame in (udp4(*ports, msg), eth(ip6(17, udp(*ports, msg, A6, B6), A6, B6),
                                                0x86DD))])



# -- Slow Protocols (LACP, Marker, OAM) ------------------------------------------

def slow_frame(payload: bytes) -> bytes:
    return eth(payload + bytes(max(0, 46 - len(payload))), 0x8809)


def lacp() -> bytes:
    info = struct.pack("!H6sHHHB3x", 0x8000, bytes.fromhex("020000000001"), 1, 0x8000, 1, 0x3D)
    return (b"\x01\x01" + b"\x01\x14" + info + b"\x02\x14" + info + b"\x03\x10" + bytes(14)
            + b"\x00\x00" + bytes(50))


SLOW = [lacp(), b"\x01\x02" + lacp()[2:], b"\x02\x01\x01\x10" + bytes(16), b"\x02\x05",
        b"\x03\x00\x50\x00", b"\x09\x01\x02\x03"]


def test_slow_protocols_lacp_marker_oam_and_unknown_subtypes():
    check([slow_frame(p) for p in SLOW] + [eth(p, 0x8809) for p in (b"", b"\x01")])
    check([slow_frame(p) for p in SLOW], 14 + 1)


# -- SNMP ------------------------------------------------------------------------

def ber(tag: int, body: bytes) -> bytes:
    size = len(body)
    return bytes([tag, size] if size < 0x80 else [tag, 0x81, size]) + body


def ber_int(v: int) -> bytes:
    return ber(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def ber_oid(parts: list[int]) -> bytes:
    """X.690 8.19, worked here by hand: the first two arcs in one, then base-128 digits."""
    out = bytes([parts[0] * 40 + parts[1]])
    for arc in parts[2:]:
        digits = [arc & 0x7F]
        arc >>= 7
        while arc:
            digits.append(0x80 | arc & 0x7F)
            arc >>= 7
        out += bytes(reversed(digits))
    return ber(0x06, out)


def snmp_pdu(tag: int, bindings: list[tuple[list[int], bytes]], status: int = 0,
             index: int = 0) -> bytes:
    binds = b"".join(ber(0x30, ber_oid(o) + v) for o, v in bindings)
    return ber(tag, ber_int(0x1234) + ber_int(status) + ber_int(index) + ber(0x30, binds))


def snmp_msg(pdu: bytes, version: int = 1, community: bytes = b"public") -> bytes:
    return ber(0x30, ber_int(version) + ber(0x04, community) + pdu)


SYS_DESCR, UPTIME = [1, 3, 6, 1, 2, 1, 1, 1, 0], [1, 3, 6, 1, 2, 1, 1, 3, 0]
NULL = b"\x05\x00"
SNMP_MESSAGES = [
    snmp_msg(snmp_pdu(0xA0, [(SYS_DESCR, NULL)]), 0),
    snmp_msg(snmp_pdu(0xA0, [(SYS_DESCR, NULL)]), 1, b"private"),
    snmp_msg(snmp_pdu(0xA1, [(SYS_DESCR, NULL), (UPTIME, NULL)])),
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x04, b"Linux box")),
                             (UPTIME, ber(0x43, b"\x01\x02\x03"))])),
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber_int(42))], status=2, index=1)),
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber_int(-5))], status=25, index=0)),
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, NULL)], status=0, index=3)),
    snmp_msg(snmp_pdu(0xA3, [(SYS_DESCR, ber(0x04, b"\x00\x01binary\xff"))])),
    snmp_msg(snmp_pdu(0xA0, [(SYS_DESCR, ber_int(1))], status=1, index=1)),
    snmp_msg(snmp_pdu(0xA5, [(SYS_DESCR, NULL)], status=0, index=10)),
    snmp_msg(snmp_pdu(0xA7, [(UPTIME, ber(0x43, b"\x10")),
                             ([1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0],
                              ber_oid([1, 3, 6, 1, 6, 3, 1, 1, 5, 1]))])),
    snmp_msg(snmp_pdu(0xA6, [(SYS_DESCR, NULL)])),
    snmp_msg(snmp_pdu(0xA8, [(SYS_DESCR, ber(0x41, b"\x05"))])),
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x80, b"")), (UPTIME, ber(0x81, b"")),
                             ([1, 3, 6, 1, 2, 1, 2], ber(0x82, b""))])),
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x40, bytes([198, 18, 0, 9]))),
                             (UPTIME, ber(0x46, b"\x01\x00")),
                             ([1, 3, 6, 1, 2, 1, 2], ber(0x42, b"\x00\xff"))])),
    snmp_msg(snmp_pdu(0xA2, [([2, 100, 3], NULL), ([1, 3, 300000], ber_int(0))])),
    snmp_msg(snmp_pdu(0xA0, [(SYS_DESCR, NULL)]), 7),  # a version tcpdump does not know
    # v1 traps: enterprise, agent, generic and specific trap, time stamp
    *(snmp_msg(ber(0xA4, ber_oid([1, 3, 6, 1, 4, 1, 9]) + ber(0x40, bytes([198, 18, 0, 1]))
                   + ber_int(g) + ber_int(s) + ber(0x43, b"\x01") + ber(0x30, b"")), 0)
      for g, s in ((6, 1), (2, 0), (0, 3))),
]


def test_snmp_pdus_errors_values_and_traps():
    frames = [udp4(40000, 161, m) for m in SNMP_MESSAGES] + [udp4(162, 40001, SNMP_MESSAGES[-2])]
    check_cut(frames, _UDP4_HEADERS, upto=40)


# -- L2TP ------------------------------------------------------------------------

def avp(kind: int, value: bytes, flags: int = 0x8000, vendor: int = 0) -> bytes:
    return struct.pack("!HHH", flags | (6 + len(value)), vendor, kind) + value


def l2tp_control(avps: bytes, flags: int = 0xC802, ns: int = 0, nr: int = 0) -> bytes:
    """A control message: T, L and S set, version 2, the tunnel and session ids."""
    head = struct.pack("!HHHH", flags, 0, 0x1234, 0)
    if flags & 0x0800:
        head += struct.pack("!HH", ns, nr)
    if flags & 0x0200:
        head += b"\x00\x02\xaa\xbb"  # an offset size of 2 and its padding
    msg = head + avps
    return msg[:2] + struct.pack("!H", len(msg)) + msg[4:]


EVERY_AVP = b"".join([
    avp(0, b"\x00\x01"), avp(1, b"\x00\x02"), avp(1, b"\x00\x02\x00\x06"),
    avp(1, b"\x00\x02\x00\x06no route"), avp(1, b"\x00\x02\x00"), avp(2, b"\x01\x00"),
    avp(3, b"\x00\x00\x00\x03"), avp(4, b"\x00\x00\x00\x02"), avp(5, bytes(range(8))),
    avp(6, b"\x06\x90"), avp(7, b"lac-1.example"), avp(8, b"rawtools"), avp(9, b"\x00\x07"),
    avp(10, b"\x00\x04"), avp(11, bytes(range(16))), avp(12, b"\x00\x10\x05cause"),
    avp(13, bytes(range(16))), avp(14, b"\x00\x09"), avp(15, b"\x00\x00\x01\x00"),
    avp(16, b"\x00\x00\x25\x80"), avp(17, b"\x00\x01\x00\x00"), avp(18, b"\x00\x00\x00\x01"),
    avp(19, b"\x00\x00\x00\x02"), avp(20, b"\x00\x01"), avp(21, b"5551234"),
    avp(22, b"5554321"), avp(23, b"sub"), avp(24, b"\x00\x00\xfa\x00"),
    avp(25, b"\x00\x00\x00\x03"), avp(26, b"\x01\x02\x03"), avp(27, b"\x04"), avp(28, b"\x05"),
    avp(29, b"\x00\x02"), avp(29, b"\x00\x09"), avp(30, b"user"), avp(31, b"\xaa\xbb"),
    avp(32, b"\x12\x34"), avp(33, b"\xcc"),
    avp(34, b"\x00\x00" + b"".join(struct.pack("!I", n) for n in range(1, 7))),
    avp(35, b"\x00\x00\xff\xff\xff\xff\x00\x00\x00\x0a"), avp(36, b"\x01\x02"),
    avp(37, b"group"), avp(38, b"\x00\x00\x10\x00"), avp(39, b""),
    avp(46, b"\x00\x01\xc0\x21\x01"), avp(46, b"\x00\x01\xc0\x21\x07ppp gone"),
    avp(99, b"\x01"), avp(0, b"\x00\x63"), avp(7, b"secret", flags=0xC000),
    avp(5, b"\x01", flags=0), avp(6, b"\x01"), avp(15, b"\x01"), avp(12, b"\x01"),
    avp(34, b"\x00\x00\x00\x00\x00\x01"), avp(35, b"\x00"), avp(46, b"\x00\x01"),
    avp(0, b""), avp(3, b"\x01"), avp(13, b"\x01"), avp(29, b""), avp(32, b"\x01"),
    avp(2, b"\x01"), avp(12, b""), avp(1, b""),
    avp(0x1234, b"\xde\xad", vendor=9),
])
L2TP_MESSAGES = [
    l2tp_control(EVERY_AVP, ns=1, nr=2),
    l2tp_control(avp(0, b"\x00\x06")),
    l2tp_control(b""),                                       # a zero-length body (ZLB) ack
    l2tp_control(avp(0, b"\x00\x06"), flags=0xCB02),          # with an offset and priority
    l2tp_control(avp(0, b"\x00\x06"), flags=0xC002),          # no sequence numbers
    l2tp_control(avp(0, b"\x00\x06"))[:-1] + b"",             # the last AVP cut by the length
    l2tp_control(avp(0, b"\x00\x06") + b"\x80\x03"),          # an AVP shorter than its header
    struct.pack("!HHHH", 0x8802, 0x1234, 0, 0),               # control without a length
    struct.pack("!HHHHH", 0xC802, 200, 1, 0, 0),              # length beyond the datagram
    struct.pack("!HHHH", 0xC802, 4, 1, 0),                    # length inside the header
    struct.pack("!HHH", 0x0001, 1, 2),                        # L2F
    struct.pack("!HHH", 0x0003, 1, 2),                        # neither L2F nor L2TP
]


def test_l2tp_header_flags_every_avp_and_where_it_ends():
    check_cut([udp4(1701, 1701, m) for m in L2TP_MESSAGES], _UDP4_HEADERS, upto=30)


BROKEN_SNMP = [
    b"\x23" + bytes(47),                                      # not a sequence
    ber(0x30, ber(0x04, b"x")),                               # version not an integer
    ber(0x30, ber_int(1) + ber_int(5)),                       # community not a string
    ber(0x30, ber_int(1) + ber(0x04, b"public") + ber_int(3)),  # no PDU
    ber(0x30, ber_int(1) + ber(0x04, b"\x01\x02") + snmp_pdu(0xA0, [(SYS_DESCR, NULL)])),
    snmp_msg(snmp_pdu(0xA7, [(SYS_DESCR, NULL)]), 0),         # a v2 PDU in a v1 message
    snmp_msg(snmp_pdu(0xA4, [(SYS_DESCR, NULL)]), 1),         # a v1 PDU in a v2c message
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x44, b"\x01\x02"))])),  # Opaque
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x01, b"\x01"))])),      # a Boolean
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0xC0, b"\x01"))])),      # the private class
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x83, b""))])),          # context 3, primitive
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x61, b""))])),          # application, constructed
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x1E, b""))])),          # universal 30
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, b"\x1f\x81\x01\x00")])),     # a long tag number
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, b"\x02\x00")])),             # an empty integer
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, b"\x04\x82\x00\x03abc")])),  # a long-form length
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, b"\x04\x05ab")])),           # longer than the message
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber(0x40, b"\x01\x02"))])),  # a short IP address
    snmp_msg(snmp_pdu(0xA2, [(SYS_DESCR, ber_int(2**40))])),          # an integer over 32 bits
    snmp_msg(ber(0xA2, ber(0x04, b"x") + ber_int(0) + ber_int(0) + ber(0x30, b""))),
    snmp_msg(ber(0xA0, ber_int(1) + ber_int(0) + ber_int(0) + ber_int(5))),
    snmp_msg(snmp_pdu(0xA2, [([1, 3, 6], NULL)])) + b"\x00\x00",      # bytes after the message
]


def test_snmp_broken_encodings_as_tcpdump_describes_them():
    check([udp4(40000, 161, m) for m in BROKEN_SNMP])


def l2tp_data(ppp_frame: bytes, flags: int = 0x0002) -> bytes:
    head = struct.pack("!H", flags)
    if flags & 0x4000:
        head += struct.pack("!H", 8 + len(ppp_frame) + (4 if flags & 0x0800 else 0))
    head += struct.pack("!HH", 0x1234, 7)
    if flags & 0x0800:
        head += struct.pack("!HH", 3, 4)
    return head + ppp_frame


def test_l2tp_data_messages_print_their_ppp_frame_in_braces():
    echo = ip4(1, icmp(8, 0, struct.pack("!HH", 9, 1) + b"ping"), A, B)
    lcp = b"\xff\x03\xc0\x21" + struct.pack("!BBH", 9, 7, 8) + b"\x01\x02\x03\x04"
    messages = [l2tp_data(b"\xff\x03\x00\x21" + echo), l2tp_data(b"\x00\x21" + echo),
                l2tp_data(lcp), l2tp_data(b"\xff\x03\x00\x21" + echo, flags=0x4802),
                l2tp_data(b"\xff\x03\x00\x57" + ip6(59, b"", A6, B6)), l2tp_data(b"\xff")]
    check_cut([udp4(1701, 1701, m) for m in messages], _UDP4_HEADERS, upto=16)


def test_udp_shorter_than_its_header_by_the_ip_length():
    # BIG TCP and GSO leave IPv6 payload lengths of 0 in what the sender captures;
    # an IPv4 total length can say the same of a datagram the frame still holds.
    frames = []
    for size in (0, 3, 4, 7):
        seg = udp(40000, 6081, bytes(16), A6, B6)
        v6 = ip6(17, seg, A6, B6)
        frames.append(eth(v6[:4] + struct.pack("!H", size) + v6[6:], 0x86DD))
        v4 = ip4(17, udp(40000, 53, bytes(16)))
        frames.append(eth(v4[:2] + struct.pack("!H", 20 + size) + v4[4:10] + b"\x00\x00"
                          + v4[12:]))
    check(frames)


def test_dns_too_short_for_its_header_or_cut_by_the_capture():
    frames = [udp4(40000, port, bytes(n)) for port in (53, 5353) for n in (0, 1, 5, 11, 12)]
    frames += [eth(ip4(6, tcp(40000, 53, 1, 1, 0x18, struct.pack("!H", n) + bytes(n))))
               for n in (5, 11, 12)]
    check(frames)
    check([udp4(40000, 53, bytes(20))], _UDP4_HEADERS + 6)
