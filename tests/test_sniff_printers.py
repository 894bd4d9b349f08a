"""Each protocol printer on literal bytes, against the line tcpdump prints for the same bytes.

The frames are written to a pcap and read by tcpdump in the test
(`oracles.tcpdump_first_lines`), so every expected line is tcpdump's own;
the decoder must print the same first line through both of its paths, the
per-packet walk (`line`) and the fast batch loop (`texts`), and count as
malformed exactly the packets it marks.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile

import pytest
from oracles import pcap_file, tcpdump_first_lines
from test_sniff_decode import A6, B6, MAC_A, MAC_B, eth, ip4, ip6, tcp, udp

from rawtools.testing import fidelity
from rawtools.tools.sniff.decode import Decoder
from rawtools.wire import link

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")


def both_paths(frames: list[bytes], snaplen: int = 262144) -> list[str]:
    """The decoder's first lines, the same through `line()` and through `texts()`."""
    packets = [(0, f[:snaplen], len(f)) for f in frames]
    single, batch = Decoder(link.LINKTYPE_ETHERNET, ts_style="none"), \
        Decoder(link.LINKTYPE_ETHERNET, ts_style="none")
    lines = [single.line(*p) for p in packets]
    assert batch.texts(packets) == lines
    assert batch.malformed == single.malformed
    return [ln.split("\n", 1)[0] for ln in lines]


def check(frames: list[bytes], snaplen: int = 262144) -> None:
    assert both_paths(frames, snaplen) == tcpdump_first_lines(frames, snaplen=snaplen)


def udp4(sport: int, dport: int, payload: bytes) -> bytes:
    return eth(ip4(17, udp(sport, dport, payload)))


def tcp4(sport: int, dport: int, payload: bytes) -> bytes:
    return eth(ip4(6, tcp(sport, dport, 1000, 2000, 0x18, payload)))


# -- text protocols over TCP ---------------------------------------------------

HTTP_PAYLOADS = [
    b"GET /index.html HTTP/1.1\r\nHost: example.net\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    b"post /form HTTP/1.0\nX: y\n\n",            # lower case, bare line feeds
    b"PROPFIND /dav HTTP/1.1\r\n\r\n",
    b"hello world, no request\r\n",               # text, neither request nor response
    b"GET / HTTP/1.1 without a line end",         # the line runs to the segment's end
    b"GET / HTTP/1.1\rX\n",                       # a carriage return alone
    b"GET /\t\x01binary\r\n",                     # binary in the first line
    bytes(range(256)),                            # binary from the start
    b"GET / HTTP/1.1\r",                          # ends on the carriage return
    b"HTTP/1.1 20x Bad\r\n",                      # no three-digit code
    b"X" * 200 + b" 200 OK\r\n",                  # a first token longer than tcpdump's
    b"X" * 128 + b" 200 OK\r\n", b"X" * 129 + b" 200 OK\r\n",  # and at its limit
    b"HTTP/1.1 " + b"2" * 128 + b"\r\n", b"GET",    # a long second token; a bare one
]


@pytest.mark.parametrize("port", [80, 8080])
def test_http_names_the_payload_and_shows_its_request_or_status_line(port):
    frames = [tcp4(40000, port, p) for p in HTTP_PAYLOADS]
    frames += [eth(ip4(6, tcp(port, 40000, 1, 1, 0x18, p))) for p in HTTP_PAYLOADS[:2]]
    check(frames)


def test_http_cut_by_the_snapshot_length():
    request = b"GET /a/rather/long/path/that/the/snapshot/cuts HTTP/1.1\r\n\r\n"
    frames = [tcp4(40000, 80, request)]
    for snaplen in (54 + 3, 54 + 20, 54 + 58):
        check(frames, snaplen)


def test_http_gives_way_to_the_ports_tcpdump_tries_first():
    # BGP (179) and SSH (22) come before HTTP in tcpdump's order, so no HTTP tag.
    first = both_paths([tcp4(179, 80, HTTP_PAYLOADS[0]), tcp4(80, 22, HTTP_PAYLOADS[1])])
    assert not any(": HTTP" in ln for ln in first)


RTSP_PAYLOADS = [
    b"DESCRIBE rtsp://media.example/a RTSP/1.0\r\nCSeq: 1\r\n\r\n", b"RTSP/1.0 200 OK\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",  # HTTP's request: not one of RTSP's commands
    *(c + b" rtsp://media.example RTSP/1.0\r\n" for c in (
        b"ANNOUNCE", b"GET_PARAMETER", b"OPTIONS", b"PAUSE", b"PLAY", b"RECORD", b"REDIRECT",
        b"SETUP", b"SET_PARAMETER", b"TEARDOWN")),
    b"\x00\x01binary", b"hello there\r\n",
]


@pytest.mark.parametrize("port", [554, 8554])
def test_rtsp_names_the_payload_and_shows_its_request_or_status_line(port):
    check([tcp4(40000, port, p) for p in RTSP_PAYLOADS] + [tcp4(port, 40000, RTSP_PAYLOADS[1])])


def ldp_pdu(version: int = 1) -> bytes:
    """An LDP PDU (RFC 5036 §3.1): version, length, LSR id and label space, one Hello."""
    body = bytes.fromhex("0100000400000001") + bytes(4)
    return struct.pack("!HH4sH", version, 6 + len(body), bytes([198, 18, 0, 2]), 0) + body


def test_ldp_over_tcp_follows_the_length_with_no_separator():
    payloads = [ldp_pdu(), ldp_pdu() + ldp_pdu(), ldp_pdu(2), ldp_pdu()[:18], ldp_pdu()[:19]]
    frame = tcp4(40000, 646, ldp_pdu())
    check([tcp4(40000, 646, p) for p in payloads] + [tcp4(646, 40000, ldp_pdu())])
    for cut in range(len(frame) - len(ldp_pdu()), len(frame) + 1):
        check([frame], cut)


# -- UDP printers --------------------------------------------------------------

NTP_CLIENT = bytes([0x23]) + bytes(47)
NTP_SERVER = bytes([0x24, 2, 6, 0xEC]) + bytes(44)


def test_ntp_version_mode_and_length():
    payloads = [NTP_CLIENT, NTP_SERVER, bytes([0x1B]) + bytes(47), bytes([0xE6]) + bytes(11),
                bytes([0x3F]) + bytes(3), bytes([0x0A]) + bytes(100), bytes([0x21])]
    check([udp4(40000, 123, p) for p in payloads] + [udp4(123, 123, NTP_SERVER)]
          + [eth(ip6(17, udp(123, 40000, NTP_SERVER, src=bytes(15) + b"\1", dst=bytes(16)),
                     src=bytes(15) + b"\1", dst=bytes(16)), 0x86DD)])


def test_ntp_with_nothing_after_the_udp_header_is_marked():
    frames = [udp4(40000, 123, b""), udp4(40000, 123, NTP_CLIENT)]
    check(frames[:1])
    check(frames[1:], snaplen=42)


SYSLOG_PAYLOADS = [
    b"<30>Nov 26 07:00:00 host daemon[1]: started",
    b"<13>1 2026-11-26T07:00:00Z host app - - - hello",
    b"<0>kernel panic", b"<191>x", b"<999>too high a priority",
    b"<1234>four digits", b"<>empty", b"no priority at all", b"<12",
    b"<", b"<1a>",
]


def test_syslog_facility_severity_and_the_invalid_ones():
    check([udp4(40000, 514, p) for p in SYSLOG_PAYLOADS])


def test_syslog_cut_by_the_snapshot_length():
    for snaplen in (42 + 2, 42 + 4):
        check([udp4(40000, 514, b"<30>Nov 26 07:00:00 host")], snaplen)
    check([udp4(40000, 514, b"nothing valid here")], 42 + 3)


def test_udp_printers_follow_tcpdumps_order_of_ports():
    # NTP (123) before syslog (514) whichever way, syslog before VXLAN (4789).
    check([udp4(123, 514, NTP_CLIENT), udp4(514, 123, NTP_CLIENT),
           udp4(514, 4789, b"<30>x"), udp4(4789, 514, b"<30>x")])


@pytest.mark.parametrize("payload", [b"<13>hello world, hello world", b"\2\2\0\x2c" + bytes(40)])
def test_syslog_ptp_and_the_tunnels_give_way_to_the_other_printers(payload):
    # Measured port against port: RADIUS, babel, LSP ping, the BCM LI shim (by its
    # source port) before syslog; syslog before OTV and VXLAN; PTP after them all.
    late = (514, 8472, 4789, 319)
    early = (1700, 1812, 6696, 3503, 646, 123, 6343)
    frames = [udp4(a, b, payload) for a in early for b in late]
    frames += [udp4(b, a, payload) for a in early for b in late]
    frames += [udp4(49152, b, payload) for b in late]
    frames += [udp4(a, b, payload) for a in late for b in late if a != b]
    check(frames)


# -- VXLAN ---------------------------------------------------------------------

def vxlan_frame(flags: int, vni: int, inner: bytes) -> bytes:
    return udp4(40000, 4789, struct.pack("!B3xI", flags, vni << 8) + inner)


INNER = eth(ip4(17, udp(1000, 2000, b"inner payload")))


def test_vxlan_header_then_the_inner_frame_on_its_own_line():
    frames = [vxlan_frame(0x08, 100, INNER), vxlan_frame(0x00, 0xFFFFFF, INNER),
              vxlan_frame(0x08, 7, eth(b"\x00" * 30, 0x9999)),
              vxlan_frame(0x08, 5, vxlan_frame(0x08, 6, INNER))]
    check(frames)
    lines = Decoder(link.LINKTYPE_ETHERNET, ts_style="none").line(0, frames[0], len(frames[0]))
    assert lines.split("\n")[1] == tcpdump_first_lines([INNER])[0]


def test_vxlan_too_short_or_cut():
    check([udp4(40000, 4789, b"\x08\x00\x00"), udp4(40000, 4789, b"")])
    check([vxlan_frame(0x08, 100, INNER)], snaplen=42 + 5)


# -- Geneve ----------------------------------------------------------------------

def geneve(first: int, flags: int, proto: int, vni: int, options: bytes, payload: bytes,
           reserved: int = 0) -> bytes:
    """A Geneve message (RFC 8926 §3.4): version and option length, flags, protocol, VNI."""
    return (bytes([first, flags]) + struct.pack("!H", proto) + vni.to_bytes(3, "big")
            + bytes([reserved]) + options + payload)


GENEVE_INNER_IP = ip4(6, tcp(40000, 80, 1, 2, 0x18, b"hello"))
GENEVE_ARP = (bytes.fromhex("0001080006040001") + bytes(6) + bytes([198, 18, 0, 1]) + bytes(6)
              + bytes([198, 18, 0, 2]))
GENEVE_MESSAGES = [
    geneve(0, 0, 0x0800, 0x1389, b"", GENEVE_INNER_IP),
    geneve(0, 0xC0, 0x6558, 5, b"", eth(GENEVE_INNER_IP)),        # a whole Ethernet frame
    geneve(2, 0x80, 0x0800, 5, bytes(8), GENEVE_INNER_IP, reserved=7),  # options, reserved
    geneve(0, 0, 0x86DD, 5, b"", ip6(17, udp(1, 2, b"x"))),
    geneve(0, 0, 0x0806, 5, b"", GENEVE_ARP),
    geneve(0, 0, 0x8847, 5, b"", b"\x00\x01\x01\x40" + GENEVE_INNER_IP),  # MPLS
    geneve(0, 0, 0x1234, 5, b"", b"abcd"),                          # a type tcpdump lacks
    geneve(0x40, 0, 0x0800, 5, b"", GENEVE_INNER_IP),              # version 1
    geneve(0x3F, 0, 0x0800, 5, b"", GENEVE_INNER_IP),              # options past the end
    b"\x00\x00\x08\x00", b"",                                      # shorter than a header
]


def test_geneve_header_then_the_payload_its_ethertype_names():
    check([udp4(40000, 6081, m) for m in GENEVE_MESSAGES])


def test_geneve_with_v_puts_the_payload_on_its_own_line():
    frames = [udp4(40000, 6081, m) for m in GENEVE_MESSAGES]
    decoder = Decoder(link.LINKTYPE_ETHERNET, ts_style="none", verbose=1)
    ours = [decoder.line(0, f, len(f)).split("\n", 1)[0] for f in frames]
    assert ours == tcpdump_first_lines(frames, verbose=1)


@pytest.mark.parametrize("cut", range(42, 42 + 16 + 20 + 1))
def test_geneve_cut_by_the_snapshot_length(cut):
    check([udp4(40000, 6081, GENEVE_MESSAGES[2])], snaplen=cut)


# -- GRE -----------------------------------------------------------------------

def gre(flags: int, proto: int, fields: bytes, payload: bytes) -> bytes:
    return eth(ip4(47, struct.pack("!HH", flags, proto) + fields + payload))


def test_gre_header_fields_then_the_payload_on_the_same_line():
    inner4 = ip4(1, bytes([8, 0, 0xF7, 0xFF, 0, 0, 0, 0]))
    inner6 = ip6(59, b"")
    frames = [gre(0x0000, 0x0800, b"", inner4),
              gre(0x2000, 0x86DD, struct.pack("!I", 0x28), inner6),
              gre(0x1000, 0x88BE, struct.pack("!I", 107061), bytes(40)),
              gre(0x3000, 0x6558, struct.pack("!II", 2, 9), INNER),
              gre(0x8000, 0x0800, struct.pack("!HH", 0xABCD, 0), inner4),
              gre(0x0000, 0x2001, b"", bytes(20)),
              gre(0x0002, 0x0800, b"", inner4),                         # version 2
              gre(0x2081, 0x880B, struct.pack("!II", 0x00400007, 4), b""),  # PPTP, no seq
              gre(0x1000, 0x0800, struct.pack("!I", 1), b"\x45")]           # inner IP cut
    check(frames)


def test_ip_headers_cut_short_are_marked_as_tcpdump_marks_them():
    check([eth(b"\x45"), eth(b"\x60\x00", 0x86DD), eth(ip4(47, b""))[:14 + 10]])


def test_gre_cut_short_is_marked():
    check([gre(0x3000, 0x0800, struct.pack("!I", 2), b""), eth(ip4(47, b"\x00")),
           eth(ip4(47, b"\x00\x00\x08"))])


# -- PTP -----------------------------------------------------------------------

def ptp_header(msg_type: int, length: int, version: int = 2, flags: int = 0x0200,
               control: int = 0) -> bytes:
    return (struct.pack("!BBHBBH", msg_type, version, length, 0, 0, flags)
            + struct.pack("!Q", 5 << 16)[2:] + b"\x00\x07" + bytes(4)
            + bytes.fromhex("7483efffff01ac16") + struct.pack("!HHBb", 274, 9, control, -3))


def ptp_messages() -> list[bytes]:
    ts = struct.pack("!Q", 1582303626)[2:] + struct.pack("!I", 867062623)
    port = bytes.fromhex("0011223344556677") + b"\x00\x02"
    announce = ts + struct.pack("!hBBBBHB", 37, 0, 128, 248, 254, 65535, 128) \
        + bytes.fromhex("7483efffff01ac16") + struct.pack("!HB", 0, 0xA0)
    bodies = {0x0: ts, 0x1: ts, 0x2: ts + port, 0x3: ts + port, 0x8: ts, 0x9: ts + port,
              0xA: ts + port, 0xB: announce, 0xC: port, 0xD: port + b"\x05\x04\x00\x00",
              0x5: b""}
    return [ptp_header(t, 34 + len(b), control=t & 7) + b for t, b in bodies.items()]


def test_ptp_over_ethernet_every_message_type():
    frames = [eth(m, 0x88F7) for m in ptp_messages()]
    frames += [eth(ptp_header(0x10, 44, flags=0xFFFF, control=9) + bytes(10), 0x88F7),
               eth(ptp_header(0x0, 44, version=0x12) + bytes(10), 0x88F7),
               eth(ptp_header(0x0, 44, version=1) + bytes(10), 0x88F7)]
    check(frames)


def test_ptp_over_udp_and_cut_short():
    msgs = ptp_messages()
    check([udp4(319, 319, msgs[0]), udp4(40000, 320, msgs[7]), udp4(320, 40000, b"\x00" * 20)])
    check([eth(msgs[7], 0x88F7)], snaplen=14 + 50)
    check([udp4(319, 319, msgs[0])], snaplen=42 + 21)


# -- MPTCP option ----------------------------------------------------------------

def mptcp_segment(option: bytes, flags: int) -> bytes:
    pad = b"\x01" * (-len(option) % 4)
    return eth(ip4(6, tcp(40000, 22, 1000, 2000, flags, options=pad + option)))


def mp(subtype: int, low: int, body: bytes) -> bytes:
    return bytes([30, 3 + len(body), subtype << 4 | low]) + body


KEY_A, KEY_B = bytes.fromhex("9c9eabd1e46a33b2"), bytes.fromhex("967d2770b6960552")
SYN, SYNACK, ACK = 0x02, 0x12, 0x10
MPTCP_OPTIONS = [
    (mp(0, 0, b"\x81" + KEY_A), SYN), (mp(0, 1, b"\x01" + KEY_A), SYN),
    (mp(0, 0, b"\x81" + KEY_A + KEY_B), ACK), (mp(0, 1, b"\x00"), SYN),
    (mp(0, 2, b"\x81" + KEY_A), SYN), (mp(0, 0, b"\x81" + KEY_A), ACK),
    (mp(0, 0, b"\x81" + KEY_A + KEY_B + b"\x00\x30"), ACK),
    (mp(1, 1, b"\x05" + bytes.fromhex("1122334455667788")), SYN),
    (mp(1, 0, b"\x05" + KEY_A + bytes(4)), SYNACK), (mp(1, 0, b"\x00" + bytes(20)), ACK),
    (mp(2, 0, b"\x01" + struct.pack("!I", 7)), ACK),
    (mp(2, 0, b"\x1f" + struct.pack("!QQIHH", 1, 2, 3, 48, 0xBEEF)), ACK),
    (mp(2, 0, b"\x05" + struct.pack("!IIIH", 1, 2, 3, 4)), ACK),
    (mp(2, 0, b"\x05" + struct.pack("!IIIHH", 1, 2, 3, 4, 5)), ACK),
    (mp(2, 0, b"\x05" + struct.pack("!II", 1, 2)), ACK),              # mapping cut short
    (mp(2, 0, b"\x05" + struct.pack("!H", 1)), ACK), (mp(2, 0, b"\x03\x00"), ACK),
    (mp(2, 0, b"\x01" + struct.pack("!I", 7)), SYN),                  # dss on a SYN
    (mp(3, 4, b"\x01" + bytes([10, 1, 2, 2])), ACK),
    (mp(3, 4, b"\x02" + bytes([10, 1, 2, 2]) + b"\x1f\x90"), ACK),
    (mp(3, 0, b"\x02" + bytes([10, 1, 2, 2]) + KEY_A), ACK),
    (mp(3, 6, b"\x03" + bytes(15) + b"\x01"), ACK),
    (mp(3, 9, b"\x03" + bytes(15) + b"\x01" + b"\x00\x50" + KEY_B), ACK),
    (mp(3, 4, b"\x01" + bytes(3)), ACK),
    (mp(4, 0, b"\x00"), ACK), (mp(4, 0, b"\x01\x02\x03"), ACK),
    (mp(5, 1, b""), ACK), (mp(5, 0, b"\x04"), ACK),
    (mp(6, 0, b"\x00" + struct.pack("!Q", 99)), ACK),
    (mp(7, 0, b"\x00" + KEY_B), ACK), (mp(7, 0, b"\x00"), ACK),
    (mp(9, 0, b"\x00\x00"), ACK), (bytes([30, 2]), ACK),
]


def test_mptcp_option_every_subtype_and_the_sizes_tcpdump_refuses():
    check([mptcp_segment(o, f) for o, f in MPTCP_OPTIONS])
    # Through the per-packet walk alone too, as a link type the fast loop never takes.
    frames = [mptcp_segment(o, f)[14:] for o, f in MPTCP_OPTIONS]
    decoder = Decoder(link.LINKTYPE_RAW, ts_style="none")
    assert [decoder.line(0, f, len(f)) for f in frames] == \
        tcpdump_first_lines(frames, linktype=link.LINKTYPE_RAW)


def test_a_bad_tcp_option_ends_the_line_as_in_tcpdump():
    frames = [mptcp_segment(b"\x02\x04\x05\xb4\x08\x01", SYN),     # TS's length 1
              mptcp_segment(b"\x02\x04\x05\xb4\x08\x20", SYN)]     # runs past the header
    check(frames)


# Options as tcpdump reads them: each kind's own data size whatever its length field
# says (MSS two bytes, TS eight...), the kinds read byte by byte (SACK, TCP-AO, unknown
# ones), fast open and its experiment form, the historic echo and CC kinds, lengths
# that make an option invalid, and an MD5 signature, whose words depend on whether the
# capture holds the whole segment. SACK's edges on a connection's first segment read
# one below its ack.
ODD_OPTIONS = [
    b"\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02\x08\x0a" + bytes(8),
    b"\x01\x01\x05\x12" + bytes(range(16)), b"\x05\x05\x00\x00\x00\x01\x01\x01",
    b"\x30\x0a" + b"\x30" * 8 + b"\x01\x01", b"\x1e\x14\x20\x01" + bytes(16),
    b"\x13\x12" + bytes(range(16)) + b"\x00\x00", b"\x14\x04\x01\x02\x01\x01\x01\x01",
    b"\x02\x06\x05\xb4\x00\x00\x01\x01", b"\x03\x04\x07\x00", b"\x03\x02\x07\x01",
    b"\x04\x04\x01\x01", b"\x08\x06" + bytes(8) + b"\x01\x01", b"\x1c\x04\x81\x01",
    b"\x22\x02\x01\x01", b"\x22\x06\x01\x02\x03\x04", b"\x22\x05\x01\x02\x03\x01",
    b"\xfe\x08\xf9\x89\x01\x02\x03\x04", b"\xfe\x04\x12\x34", b"\xfe\x02\x01\x01",
    b"\x1d\x08\x01\x02\x03\x04\x05\x06", b"\x1d\x03\x01\x01",
    b"\x06\x06\x00\x00\x00\x07\x01\x01", b"\x0b\x06\x00\x00\x00\x09\x01\x01",
    b"\x01\x00" + bytes(6),
]


@pytest.mark.parametrize("version", [4, 6])
def test_tcp_options_of_odd_sizes_and_cut_anywhere_read_as_tcpdump_reads_them(version):
    if version == 4:
        frames = [eth(ip4(6, tcp(1000, 2000, 1, 2, 0x12, b"", options=o))) for o in ODD_OPTIONS]
        headers = 14 + 20 + 20
    else:
        frames = [eth(ip6(6, tcp(1000, 2000, 1, 2, 0x10, b"xy", options=o, src=A6, dst=B6)),
                      0x86DD) for o in ODD_OPTIONS]
        headers = 14 + 40 + 20
    # Every cut from the options' first byte to the segment's end, the whole frame too.
    for snaplen in range(headers, headers + max(map(len, ODD_OPTIONS)) + 3):
        check(frames, snaplen)


# -- IGMP ------------------------------------------------------------------------

def igmp_msg(body: bytes) -> bytes:
    return eth(ip4(2, body, dst=bytes([224, 0, 0, 1])))


def test_igmp_queries_reports_and_leaves():
    g = bytes([239, 1, 2, 3])
    check([igmp_msg(b"\x11\x00\x00\x00" + bytes(4)), igmp_msg(b"\x11\x64\x00\x00" + bytes(4)),
           igmp_msg(b"\x11\x0a\x00\x00" + g), igmp_msg(b"\x11\x64\x00\x00" + g + b"\0\0"),
           igmp_msg(b"\x12\x00\x00\x00" + g), igmp_msg(b"\x16\x00\x00\x00" + g),
           igmp_msg(b"\x17\x00\x00\x00" + g), igmp_msg(b"\x12\x00\x00\x00" + g + bytes(4)),
           igmp_msg(b"\x11\x64\x00\x00" + bytes(4) + b"\x02\x7d\x00\x00"),
           igmp_msg(b"\x11\x0a\x00\x00" + g + b"\x02\x7d\x00\x02" + bytes(8)),
           igmp_msg(b"\x11\xc5\x00\x00" + g + b"\x02\x7d\x00\x09" + bytes(8)),
           igmp_msg(b"\x11\x8f\x00\x00" + g + b"\x02\x7d\x00\x00"),
           igmp_msg(b"\x11\x64\x00\x00" + g + b"\x02\x7d\x00"),
           igmp_msg(b"\x22\x00\x00\x00\x00\x00\x00\x01" + b"\x04\x00\x00\x00" + g),
           igmp_msg(b"\x22\x00\x00\x00\x00\x00\x00\x01" + b"\x04\x00"),
           igmp_msg(b"\x30\x00\x00\x00" + bytes(4)), igmp_msg(b"\x16\x00\x00")])


# -- SSH --------------------------------------------------------------------------

SSH_PAYLOADS = [
    b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\x00\x00\x05\xdc",  # the banner, then binary
    b"SSH-2.0-dropbear\n",                      # a bare line feed ends it too
    b"SSH-2.0-no-line-end",                      # runs to the segment's end
    b"SSH-2.0-a\rb\r\n", b"SSH-2.0-\x01x\r\n", b"SSH-2.0-x\t\r\n",  # CR alone, binary, tab
    b"SSH-2.0-x\x7f\n", b"SSH-2.0-\x80\r\n", b"SSH-2.0-x\r",   # DEL, high bit, ends on CR
    b"ssh-2.0-x\r\n", b"SSH-", b"SSH-\r\n",    # lower case; a prefix alone; an empty line
    b"SSH", b"SS", b"S", b"SX", b"X",             # shorter than the prefix
    b"\x00\x00\x01\x2c\x0a\x14" + bytes(40),   # an encrypted packet's length and padding
]


def test_ssh_shows_the_version_line_and_nothing_of_encrypted_segments():
    frames = [tcp4(40000, 22, p) for p in SSH_PAYLOADS]
    frames += [eth(ip6(6, tcp(22, 40000, 1, 1, 0x18, SSH_PAYLOADS[0])))]
    check(frames)


@pytest.mark.parametrize("cut", range(22))
def test_ssh_version_line_cut_by_the_snapshot_length(cut):
    frame = eth(ip4(6, tcp(22, 40000, 1, 1, 0x18, b"SSH-2.0-OpenSSH_9.2\r\n")))
    check([frame], snaplen=len(frame) - 21 + cut)


# -- BGP, frames tcpdump cannot decode, records that cannot be -------------------

def test_bgp_is_named_and_no_more():
    marker = b"\xff" * 16
    check([tcp4(42741, 179, marker + b"\x00\x13\x04"), tcp4(179, 42741, marker + b"\x00")])


def test_an_unknown_ethertype_is_shown_in_hex_after_its_header():
    check([eth(bytes(range(40)), 0x3030), eth(b"\x01\x02", 0x9999)])


def test_records_with_impossible_lengths_get_tcpdumps_invalid_header_line():
    frame = udp4(40000, 9, b"x")
    packets = [(0, b"", 0), (0, frame, 0), (0, frame, 20), (0, frame, 300000)]
    decoder = Decoder(link.LINKTYPE_ETHERNET, ts_style="none")
    ours = [decoder.line(*p) for p in packets]
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    records = b"".join(struct.pack("<IIII", 1_700_000_000, 0, len(d), n) + d
                       for _, d, n in packets)
    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        tmp.write(header + records)
        tmp.flush()
        theirs = fidelity.tcpdump_first_lines(tmp.name)
    assert ours == theirs
    assert decoder.malformed == len(packets)


# -- LLC: STP, PVST+, IS-IS --------------------------------------------------------

def llc_frame(payload: bytes, dsap: int = 0x42, snap: bytes = b"") -> bytes:
    body = bytes([dsap, dsap, 0x03]) + snap + payload
    frame = MAC_B + MAC_A + struct.pack("!H", len(body)) + body
    return frame + bytes(max(0, 60 - len(frame)))  # Ethernet's minimum, padding after LLC


def bpdu(version: int, kind: int, flags: int) -> bytes:
    root = bridge = b"\x80\x01" + bytes.fromhex("001906eab880")
    body = struct.pack("!HBBB", 0, version, kind, flags) + root + struct.pack("!I", 4) + bridge \
        + struct.pack("!HHHHH", 0x800C, 256, 5120, 512, 3840)
    return body + (b"\x00" if kind == 2 else b"")


def test_stp_config_and_rapid_bpdus_over_llc_and_cisco_snap():
    pvst = bytes.fromhex("00000c010b")
    check([llc_frame(bpdu(0, 0, 0)), llc_frame(bpdu(2, 2, 0x3E)), llc_frame(bpdu(2, 2, 0x7C)),
           llc_frame(bpdu(0, 0x80, 0)), llc_frame(bpdu(0, 0, 0x81)),
           llc_frame(bpdu(0, 0, 0), dsap=0xAA, snap=pvst), llc_frame(bpdu(9, 0, 0)),
           llc_frame(bpdu(3, 2, 0)), llc_frame(b"\x00\x01\x00\x00"), llc_frame(b"\x00\x00"),
           llc_frame(bpdu(0, 0, 0)[:20])])


def isis_pdu(pdu_type: int, fixed: bytes, version: int = 1) -> bytes:
    return bytes([0x83, 8 + len(fixed), version, 0, pdu_type, 1, 0, 0]) + fixed


def test_isis_hellos_lsps_and_sequence_number_pdus():
    sysid = bytes.fromhex("333333333333")
    lan_iih = b"\x03" + sysid + b"\x00\x1e\x05\xdc\x40" + sysid + b"\x01"
    p2p_iih = b"\x03" + sysid + b"\x00\x1e\x05\xdc\x01"
    lsp = b"\x00\x40\x04\xaf" + sysid + b"\x00\x00" + struct.pack("!I", 7) + b"\x12\x34\x03"
    csnp = b"\x00\x53" + sysid + b"\x00" + bytes(8) + b"\xff" * 8
    psnp = b"\x00\x23" + sysid + b"\x00"
    frames = [llc_frame(isis_pdu(t, body), dsap=0xFE) for t, body in
              ((15, lan_iih), (16, lan_iih), (17, p2p_iih), (18, lsp), (20, lsp), (24, csnp),
               (25, csnp), (26, psnp), (27, psnp), (30, b""))]
    frames += [llc_frame(isis_pdu(17, p2p_iih, version=2), dsap=0xFE),
               llc_frame(isis_pdu(26, psnp)[:-1] + b"\x00\x00" + b"\x00", dsap=0xFE),
               llc_frame(isis_pdu(18, lsp)[:20], dsap=0xFE)]
    check(frames)


# -- EIGRP, BFD, sFlow -------------------------------------------------------------

def test_eigrp_opcode_and_length():
    frames = [eth(ip4(88, bytes([2, op]) + bytes(18) + bytes(20)))
              for op in (1, 3, 4, 5, 6, 7, 10)]
    frames += [eth(ip4(88, b"\x01\x05" + bytes(18))), eth(ip4(88, b"\x02\x05" + bytes(10)))]
    check(frames)


def test_bfd_by_destination_port_version_state_and_flags():
    control = bytes([0x20, 0xC0, 3, 24]) + bytes(20)
    frames = [udp4(49153, port, control) for port in (3784, 4784, 6784, 3785)]
    frames += [udp4(3784, 49153, control),                      # source port: not BFD
               udp4(49153, 3784, bytes([0x20, 0x7F]) + bytes(22)),
               udp4(49153, 3784, bytes([0x00, 0xF0]) + bytes(22)),
               udp4(49153, 3784, bytes([0x60, 0x00]) + bytes(22)), udp4(49153, 3784, b"\x20")]
    check(frames)


def test_sflow_agent_v4_and_v6_and_the_short_ones():
    v4 = struct.pack("!II4sIIII", 5, 1, bytes([198, 18, 0, 1]), 7, 1, 2, 0)
    v6 = struct.pack("!II16sIIII", 5, 2, bytes(15) + b"\x01", 9, 1, 2, 0)
    check([udp4(40000, 6343, v4 + bytes(8)), udp4(40000, 6343, v6),
           udp4(6343, 40000, struct.pack("!II", 4, 1) + bytes(20)),
           udp4(40000, 6343, v4[:20]), udp4(40000, 6343, v6[:30]),
           udp4(40000, 6343, v4[:6])])


# -- OSPF (also behind IPv6's AH), BOOTP/DHCP, UDLD -----------------------------------

def test_ospf_v2_and_v3_and_behind_an_authentication_header():
    def ospf(version: int, kind: int, body: bytes) -> bytes:
        return struct.pack("!BBH", version, kind, 4 + len(body)) + body

    v2 = [eth(ip4(89, ospf(2, k, bytes(40)), dst=bytes([224, 0, 0, 5]))) for k in range(1, 7)]
    ah = bytes([89, 4, 0, 0]) + struct.pack("!II", 0x100, 0x13) + bytes.fromhex("21d3a95c" * 3)
    v3 = [eth(ip6(51, ah + ospf(3, 1, bytes(32))), 0x86DD),
          eth(ip6(89, ospf(3, 4, bytes(60))), 0x86DD), eth(ip6(89, ospf(3, 9, bytes(60))), 0x86DD),
          eth(ip6(51, bytes([89, 1, 0, 0]) + struct.pack("!II", 1, 2)), 0x86DD)]
    check(v2 + v3 + [eth(ip4(89, b"\x02")), eth(ip6(89, b"\x03"), 0x86DD)])


def test_bootp_and_dhcp_requests_and_replies():
    def bootp(op: int, htype: int = 1, hlen: int = 6) -> bytes:
        return bytes([op, htype, hlen, 0]) + bytes(24) + bytes.fromhex("020000000001") \
            + bytes(202) + b"\x63\x82\x53\x63\xff"

    check([udp4(68, 67, bootp(1)), udp4(67, 68, bootp(2)), udp4(68, 67, bootp(1, hlen=8)),
           udp4(68, 67, bootp(1, htype=6)), udp4(67, 67, bootp(7)), udp4(68, 67, b"\x01\x01"),
           udp4(68, 67, bootp(1)[:30])])


def test_udld_over_cisco_snap():
    snap = bytes.fromhex("00000c0111")
    check([llc_frame(bytes([0x21, f]) + bytes(40), dsap=0xAA, snap=snap) for f in (0, 1, 3)]
          + [llc_frame(bytes([0x22, 2]) + bytes(40), dsap=0xAA, snap=snap),
             llc_frame(bytes([0x3F, 0xFC]) + bytes(4), dsap=0xAA, snap=snap)])


# -- PIM, DHCPv6 ---------------------------------------------------------------------

def test_pim_version_and_message_type():
    check([eth(ip4(103, bytes([0x20 | t, 0, 0, 0]) + bytes(30))) for t in range(13)]
          + [eth(ip4(103, bytes([0x14, 0, 0, 0]) + bytes(4))), eth(ip4(103, b""))])


def test_dhcp6_message_types():
    src = bytes.fromhex("fe80" + "00" * 13 + "01")
    dst = bytes.fromhex("ff02" + "00" * 11 + "010002")
    frames = [eth(ip6(17, udp(546, 547, bytes([t, 1, 2, 3]) + bytes(20), src, dst), src, dst),
                  0x86DD) for t in (1, 2, 3, 7, 11, 12, 13, 99)]
    frames.append(eth(ip6(17, udp(547, 546, b"\x07\x01", src, dst), src, dst), 0x86DD))
    check(frames)


# -- Ethernet loopback (configuration testing protocol) --------------------------------

def macsec_frame(tci: int, payload: bytes, sl: int = 0, icv: bytes = bytes(16)) -> bytes:
    """An 802.1AE frame: the SecTAG (TCI/AN, short length, packet number 7, and the SCI
    when the SC bit says so), the payload, the ICV."""
    sci = bytes.fromhex("2eb73f3995c30001") if tci & 0x20 else b""
    tag = bytes([tci, sl]) + struct.pack("!I", 7) + sci
    return MAC_B + MAC_A + b"\x88\xe5" + tag + payload + icv


MACSEC_IP = b"\x08\x00" + ip4(17, udp(1, 2, b"hello"))
MACSEC_FRAMES = [
    # every TCI bit: integrity only (the payload is the frame's), or E/C (a dump), or V
    *(macsec_frame(tci, MACSEC_IP) for tci in (0x20, 0x00, 0x40, 0x10, 0x03, 0x60, 0x70,
                                                0x08, 0x04, 0x0C, 0x2C, 0x48, 0x80)),
    # short lengths: inside the payload, at its end, past it, too short for a type
    *(macsec_frame(0x20, MACSEC_IP, sl=sl) for sl in (20, 35, 36, 51, 63, 1, 2)),
    macsec_frame(0x20, MACSEC_IP[:4], icv=b""), macsec_frame(0x20, b""),  # no room for ICV
    macsec_frame(0x20, b"\x86\xdd" + ip6(17, udp(1, 2, b"x"))),
    macsec_frame(0x20, b"\x08\x06" + bytes.fromhex("0001080006040001") + bytes(6)
                 + bytes([198, 18, 0, 1]) + bytes(6) + bytes([198, 18, 0, 2])),
    macsec_frame(0x20, b"\x12\x34abcd"), macsec_frame(0x20, b"\x88\xcc" + bytes(10)),
]


@pytest.mark.parametrize("eflag", [False, True])
def test_macsec_payload_in_the_clear_or_the_sectag_and_a_dump(eflag):
    # Whole outputs, dumps included, with and without -e, frame by frame.
    decoder = Decoder(link.LINKTYPE_ETHERNET, ts_style="none", link_header=eflag)
    for frame in MACSEC_FRAMES:
        ours = decoder.line(0, frame, len(frame)) + "\n"
        with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
            tmp.write(pcap_file([frame]))
            tmp.flush()
            theirs = subprocess.run(["tcpdump", "-n", "-t", *(["-e"] if eflag else []), "-r",
                                     tmp.name], capture_output=True, text=True,
                                    check=True).stdout
        assert ours == theirs, frame.hex()


def test_loopback_replies_forwards_and_the_bogus_ones():
    fwd = bytes.fromhex("aa0004001d04")
    frames = [eth(struct.pack("<HHH", 0, 1, 7) + bytes(40), 0x9000),
              eth(struct.pack("<HH", 0, 2) + fwd + struct.pack("<HH", 1, 1) + bytes(40), 0x9000),
              eth(struct.pack("<H", 8) + bytes(8) + struct.pack("<HH", 1, 1) + bytes(40), 0x9000),
              eth(struct.pack("<HH", 3, 1) + bytes(10), 0x9000),
              eth(struct.pack("<HH", 0, 5) + bytes(10), 0x9000),
              eth(struct.pack("<H", 200) + bytes(10), 0x9000), eth(b"\x00", 0x9000)]
    check(frames)
    check(frames[:2], snaplen=14 + 12)


def test_bcm_li_shim_every_field_value_by_the_source_port_only():
    def shim(direction: int, kind: int, subtype: int, li_id: int) -> bytes:
        return struct.pack("!I", direction << 29 | kind << 25 | subtype << 22 | li_id) + bytes(20)

    frames = [udp4(49152, 40000, shim(d, 4, 2, 66666)) for d in range(8)]
    frames += [udp4(49152, 49153, shim(3, t, 2, 0x3FFFFF)) for t in range(16)]
    frames += [udp4(49152, 49153, shim(3, 4, s, 5)) for s in range(8)]
    frames += [udp4(40000, 49152, shim(3, 4, 2, 5)), udp4(49152, 4789, b"\1\2\3\4"),
               udp4(49152, 123, b"\1\2\3\4"), udp4(49152, 40000, b"\1\2")]
    check(frames)
    check([udp4(49152, 40000, b"\1\2\3\4")], snaplen=44)


def test_frame_relay_and_cisco_hdlc_carry_ip_and_osi_even_cut_short():
    ip_packet = ip4(17, udp(40000, 9, b"x"))
    isis_pdu = bytes([0x83, 0x14, 0x01, 0x00, 0x11, 0x01, 0x00, 0x00]) + bytes(40)
    frelay = [b"\x48\xe1\x03\xcc" + ip_packet, b"\x48\xe1\x08\x00" + ip_packet,
              b"\x48\xe1\x03\x83" + isis_pdu[1:], b"\x48\xe1\x03", b"\x48\xe1\x03\x00"]
    chdlc = [b"\x0f\x00\x08\x00" + ip_packet, b"\x8f\x00\xfe\xfe\x74" + isis_pdu,
             b"\x8f\x00\xfe\xfe" + isis_pdu, b"\x0f\x00\x30\x30" + bytes(4),
             b"\x8f\x00\xfe\xfe\x99", b"\x8f\x00"]
    for linktype, frames, keep in ((107, frelay, 3), (104, chdlc, 4)):
        decoder = Decoder(linktype, ts_style="none")
        ours = [decoder.line(0, f, len(f)).split("\n", 1)[0] for f in frames]
        assert ours[:keep] == tcpdump_first_lines(frames, linktype=linktype)[:keep]


def test_babel_tlv_names_the_trailer_and_every_way_it_ends():
    def babel(body: bytes, trailer: bytes = b"", version: int = 2) -> bytes:
        return bytes([42, version]) + struct.pack("!H", len(body)) + body + trailer

    def tlv(kind: int, body: bytes) -> bytes:
        return bytes([kind, len(body)]) + body

    def udp6(payload: bytes, sport: int = 6696, dport: int = 6696) -> bytes:
        return eth(ip6(17, udp(sport, dport, payload)), 0x86DD)

    hello = tlv(4, bytes(6))
    payloads = [babel(b"\0")] + [babel(tlv(kind, bytes(12))) for kind in range(1, 22)]
    payloads += [babel(tlv(8, bytes([2, flags]) + bytes(10))) for flags in (0x80, 0x40, 0xE0, 1)]
    payloads += [babel(tlv(8, bytes(n))) for n in (0, 1, 9, 10)]
    payloads += [babel(hello, trailer) for trailer in (b"\0\0" + tlv(1, b"ab"),
                                                       tlv(16, bytes(8)) * 2, tlv(8, bytes(8)),
                                                       b"\x10")]
    payloads += [babel(hello, version=1), b"\x2a", b"\x2b\x02\0\0", babel(hello)[:-2],
                 babel(hello + b"\x04"), babel(bytes([4, 30]) + bytes(6)), babel(b"")]
    frames = [udp6(p) for p in payloads] + [udp6(babel(hello), 40000, 6697)]
    check(frames)
    whole = udp6(babel(hello + tlv(5, bytes(10)), tlv(16, bytes(8))))
    for cut in (63, 66, 74, 76, 86, 90):
        check([whole], snaplen=cut)


def test_sctp_chunks_forces_and_every_way_a_chunk_list_ends():
    def sctp(chunks: bytes, sport: int = 2905, dport: int = 2905) -> bytes:
        return eth(ip4(132, struct.pack("!HHII", sport, dport, 1, 0) + chunks))

    def chunk(kind: int, flags: int, body: bytes) -> bytes:
        c = struct.pack("!BBH", kind, flags, 4 + len(body)) + body
        return c + bytes(-len(c) % 4)

    def data(flags: int, ppid: int) -> bytes:
        return chunk(0, flags, struct.pack("!IHHI", 7, 1, 2, ppid) + b"abc")

    sack = chunk(3, 0, struct.pack("!IIHH", 5, 6, 0, 0))
    frames = [sctp(data(3, 0), port, 40000) for port in range(6703, 6708)]
    frames += [sctp(data(3, 0), 40000, port) for port in range(6703, 6708)]
    frames += [sctp(data(flags, 3)) for flags in range(8)]
    frames += [sctp(data(3, ppid)) for ppid in range(30)]
    frames += [sctp(chunk(kind, 0, bytes(16))) for kind in (*range(16), 64, 128, 192, 193, 255)]
    frames += [sctp(data(3, 3) + sack + chunk(11, 0, b"")),
               sctp(chunk(1, 0, struct.pack("!IIHHI", 1, 2, 3, 4, 5))),
               sctp(chunk(1, 0, bytes(8))), sctp(chunk(3, 0, bytes(8))), sctp(data(3, 0)[:12]),
               sctp(b""), sctp(b"\0\0"), sctp(chunk(0, 3, b"")),
               sctp(struct.pack("!BBH", 0, 3, 100) + bytes(20)),
               sctp(struct.pack("!BBH", 0, 3, 2) + bytes(20)), eth(ip4(132, b"\0\1\0\2\0\0"))]
    check(frames)
    whole = sctp(data(3, 3) + sack)
    for cut in (40, 46, 49, 60, 67, 70, 80):
        check([whole], snaplen=cut)


def test_eapol_packet_types_versions_and_the_short_ones():
    def eapol(version: int, kind: int, body: bytes) -> bytes:
        return eth(struct.pack("!BBH", version, kind, len(body)) + body, 0x888E)

    frames = [eapol(1, kind, b"\x01\x02\x00\x04") for kind in range(8)]
    frames += [eapol(2, 0, b"\x02\x01\x00\x05\x01"), eapol(155, 0, b""),
               eth(b"\x01", 0x888E), eth(b"\x01\x00\x00", 0x888E)]
    check(frames)


def test_radiotap_then_802_11_authentication_and_the_cut_headers():
    radio = bytes.fromhex("000018008e58000000026c09a0005800002a000065f43096")
    header = bytes.fromhex("b0003a01000d9382363a000c4182b255000c4182b25590fc")

    def auth(algorithm: int, seq: int, status: int) -> bytes:
        return radio + header + struct.pack("<HHH", algorithm, seq, status)

    frames = [auth(a, s, st) for a, s, st in ((0, 1, 0), (0, 2, 0), (0, 2, 1), (0, 3, 0),
                                               (0, 0x10, 7), (1, 1, 0), (1, 4, 0), (2, 1, 0),
                                               (3, 2, 9))]
    frames += [radio + header + b"\0\0", radio[:10], radio[:6]]
    decoder = Decoder(127, ts_style="none")
    assert [decoder.line(0, f, len(f)) for f in frames] == tcpdump_first_lines(frames, 127)
    assert decoder.malformed == 3


def test_ipx_by_socket_over_llc_ethertype_and_raw_802_3():
    def ipx(dsock: int, ssock: int, payload: bytes, length: int | None = None) -> bytes:
        size = 30 + len(payload) if length is None else length
        return struct.pack("!HHBB4s6sH4s6sH", 0xFFFF, size, 0, 4, b"\0\0\0\1", b"\xff" * 6, dsock,
                           bytes.fromhex("a8f87967"), MAC_A, ssock) + payload

    def llc(packet: bytes) -> bytes:
        body = b"\xe0\xe0\x03" + packet
        return MAC_B + MAC_A + struct.pack("!H", len(body)) + body

    def sap(op: int, entries: list[tuple[int, bytes]]) -> bytes:
        return struct.pack("!H", op) + b"".join(
            struct.pack("!H48s4s6sHH", kind, name, b"\0\0\0\2", MAC_B, 0x400C, 1)
            for kind, name in entries)

    def rip(op: int, n: int) -> bytes:
        return struct.pack("!H", op) + b"".join(
            struct.pack("!IHH", 0xA8F87960 + i, 1 + 300 * i, 2 + 700 * i) for i in range(n))

    packets = [ipx(0x452, 0x452, sap(op, [(4, b"A"), (0x30C, b"B\x01\x7f\xc1")]))
               for op in range(1, 6)]
    packets += [ipx(0x452, 0x452, struct.pack("!HH", 1, 4) + b"xx"), ipx(0x452, 0x452, b""),
                ipx(0x453, 0x453, b"")]
    packets += [ipx(0x453, 0x453, rip(op, n)) for op in (1, 2, 3) for n in (0, 1, 2)]
    packets += [ipx(sock, 0x4000, b"abcdef") for sock in (0x451, 0x455, 0x456, 0x457, 0x553,
                                                          0x5B00, 0x9086)]
    packets += [ipx(0x4000, 0x455, b"abcdef"), ipx(0x455, 0x455, b"ab", 29),
                ipx(0x455, 0x455, b"ab", 200)]
    frames = [llc(p) for p in packets]
    frames += [eth(packets[0], 0x8137), MAC_B + MAC_A + struct.pack("!H", 32) + packets[-4]]
    check(frames)
    check([llc(packets[0])], snaplen=40)


def test_radius_codes_and_the_short_headers():
    frames = [udp4(40000, 1812, struct.pack("!BBH", code, 0x46, 20) + bytes(16))
              for code in (*range(47), 250, 255)]
    frames += [udp4(1813, 40000, b"\x01\x02\x00"),
               udp4(3799, 40000, b"\x28\x02\x00\x14" + bytes(5)),
               udp4(1645, 40000, struct.pack("!BBH", 1, 2, 900) + bytes(16))]
    # The header's length, cut to the datagram's; less than a header's is a cut packet.
    frames += [udp4(40000, 1812, struct.pack("!BBH", 1, 2, size) + bytes(44))
               for size in (0, 19, 20, 30, 48, 100)]
    check(frames)
    check([frames[1]], snaplen=61)


def test_ldp_pdus_their_versions_and_the_datagrams_too_short_to_print():
    def pdu(version: int, length: int, body: int) -> bytes:
        return struct.pack("!HH4sH", version, length, bytes([172, 168, 0, 2]), 0) + bytes(body)

    frames = [udp4(646, 646, pdu(1, 38, n)) for n in (0, 7, 8, 9, 36)]
    frames += [udp4(646, 646, pdu(1, 42, 32) * 2), udp4(646, 646, pdu(1, 6, 30)),
               udp4(646, 646, pdu(2, 38, 36)), udp4(646, 646, pdu(1, 1000, 36))]
    check(frames)
    for cut in (45, 51, 52):
        check([frames[4]], snaplen=cut)


def test_otv_header_then_the_inner_frame_and_the_cut_ones():
    inner = udp4(1, 2, b"x")
    frames = [udp4(40000, 8472, bytes([flags, 0, 0, 5, 0, 0, 100, 0]) + inner)
              for flags in (8, 0, 0x48)]
    frames += [udp4(40000, 8472, b"\x08\0\0"), udp4(40000, 8472, b"\x08\0\0\0\0\0\0")]
    check(frames)
    for cut in (42, 43, 47, 49):
        check([frames[0]], snaplen=cut)


def test_kerberos_versions_v4_message_types_and_strings_cut_anywhere():
    kdc = b"abc\0inst\0REALM\0" + bytes(4) + b"\x10" + b"svc\0sinst\0"
    payloads = [bytes([version, 2]) + kdc for version in (0, 1, 3, 4, 5, 0x6A, 0x6B, 0x6C)]
    payloads += [bytes([4, kind]) + kdc for kind in (*range(20), 126, 127, 128)]
    payloads += [bytes([4, 2]) + kdc[:n] for n in range(len(kdc))]
    payloads += [b"", b"\x04", bytes([4, 4]) + kdc[:20], bytes([4, 6, 9]),
                 bytes([4, 10]) + kdc[:17],
                 bytes([4, 2]) + b"a\x01\x7f\x80\xff\x9f b\0c\0d\0" + bytes(5) + b"e\0f\0"]
    check([udp4(40000, 88, p) for p in payloads] + [udp4(88, 40000, payloads[3])])


def test_lldp_system_names_up_to_the_end_tlv_and_the_cut_ones():
    def tlv(kind: int, value: bytes) -> bytes:
        return struct.pack("!H", kind << 9 | len(value)) + value

    chassis, port, ttl = tlv(1, b"\x04" + MAC_A), tlv(2, b"\x07eth0"), tlv(3, b"\0\x78")
    end = tlv(0, b"")
    bodies = [chassis + port + ttl + tlv(5, b"sw1.example") + end, chassis + port + ttl + end,
              chassis + tlv(5, b"n\x01\xff") + tlv(5, b"two") + end, tlv(5, b"first") + chassis,
              chassis + port + ttl, b"", b"\0", chassis + tlv(5, b"abc")[:3],
              chassis + tlv(5, b"") + end, chassis + end + tlv(5, b"after")]
    frames = [eth(body, 0x88CC) for body in bodies]
    check(frames)
    check([frames[0]], snaplen=40)


def test_dtp_version_and_length_over_cisco_snap():
    def dtp(body: bytes) -> bytes:
        frame = b"\xaa\xaa\x03\x00\x00\x0c\x20\x04" + body
        return MAC_B + MAC_A + struct.pack("!H", len(frame)) + frame

    check([dtp(b"\x01" + bytes(28)), dtp(b"\x01"), dtp(b"\x02" + bytes(5)), dtp(b"")])


def test_mpls_label_stacks_then_ipv4_or_ipv6_by_the_first_nibble():
    def label(value: int, tc: int, bottom: int, ttl: int) -> bytes:
        return struct.pack("!I", value << 12 | tc << 9 | bottom << 8 | ttl)

    v4, v6 = ip4(17, udp(1, 2, b"x")), ip6(17, udp(1, 2, b"x"))
    stacks = [label(100656, 6, 1, 64) + v4, label(16, 0, 0, 1) + label(17, 7, 1, 255) + v4,
              label(5, 0, 1, 9) + v6, label(5, 0, 1, 9) + b"\0\1\2", label(5, 0, 1, 9),
              label(5, 0, 1, 9)[:2], label(0, 0, 1, 9) + v4, label(16, 0, 0, 1),
              label(5, 0, 1, 9) + b"\x80abc"]
    check([eth(s, 0x8847) for s in stacks] + [eth(stacks[0], 0x8848)])


def test_ppp_frames_with_and_without_the_hdlc_address_and_control():
    v4 = ip4(17, udp(1, 2, b"x"))
    frames = [b"\xff\x03\x02\x81" + struct.pack("!I", 7 << 12 | 1 << 9 | 1 << 8 | 5) + v4,
              b"\xff\x03\x00\x21" + v4, b"\xff\x03\x00\x57" + ip6(17, udp(1, 2, b"x")),
              b"\x00\x21" + v4]
    decoder = Decoder(9, ts_style="none")
    assert [decoder.line(0, f, len(f)) for f in frames] == tcpdump_first_lines(frames, 9)


def test_pgm_names_the_hosts_twice_and_the_cut_headers():
    def pgm(kind: int, tsdu: int) -> bytes:
        return struct.pack("!HHBBH6sH", 13320, 5563, kind, 0, 0, b"\1" * 6, tsdu)

    frames = [eth(ip4(113, pgm(kind, 7) + bytes(20))) for kind in (0, 4, 255)]
    frames += [eth(ip4(113, pgm(4, 7)[:n])) for n in (0, 2, 4, 15, 16)]
    check([*frames, eth(ip6(113, pgm(4, 9) + bytes(8)), 0x86DD)])


def test_lsp_ping_message_types_versions_and_short_datagrams():
    def lsp(kind: int, version: int = 1) -> bytes:
        return struct.pack("!HHBBBBII", version, 0, kind, 2, 0, 0, 1, 5) + bytes(24)

    frames = [udp4(4786, 3503, lsp(kind)) for kind in range(6)]
    frames += [udp4(4786, 3503, lsp(1, 2))] + [udp4(3503, 4786, lsp(1)[:n]) for n in (0, 20, 31)]
    check(frames)
    check([frames[1]], snaplen=60)


def test_arcnet_rfc1051_and_rfc1201_frames_and_one_byte_arp_addresses():
    v4 = ip4(17, udp(1, 2, b"x"))
    arp = struct.pack("!HHBBH", 7, 0x800, 1, 4, 2) + b"\x50\x0a\0\0\x01\xbe\x0a\0\0\x02"
    frames = [b"\xbe\x50\0\0\xf0" + v4, b"\xbe\x50\0\0\xf1" + arp,
              b"\xbe\x50\0\0\xd4\0\0\1" + v4, b"\xbe\x50\0\0\xd5\0\0\1" + arp,
              b"\xbe\x50\0\0\xc4\0\0\1" + ip6(17, udp(1, 2, b"x")),
              b"\xbe\x50\0\0\xd4\x03\0\1" + v4, b"\xbe\x50\0\0", b"\xbe\x50\0\0\xd4\0"]
    decoder = Decoder(129, ts_style="none")
    assert [decoder.line(0, f, len(f)) for f in frames] == tcpdump_first_lines(frames, 129)


@pytest.mark.parametrize(("linktype", "frame"), [
    (1, b"\1\2\3"), (113, b"\1\2\3"), (276, b"\1\2"), (0, b"\1"), (108, b"\1"), (9, b"\xff"),
    (104, b"\x0f\0"), (107, b"\x48"), (129, b"\1\2")])
def test_a_link_header_cut_short_gets_tcpdumps_mark(linktype, frame):
    decoder = Decoder(linktype, ts_style="none")
    assert [decoder.line(0, frame, len(frame))] == tcpdump_first_lines([frame], linktype)
    assert decoder.malformed == 1


def test_nflog_finds_the_packet_among_its_tlvs():
    def tlv(kind: int, value: bytes) -> bytes:
        raw = struct.pack("<HH", 4 + len(value), kind) + value
        return raw + bytes(-len(raw) % 4)

    v4, v6 = ip4(17, udp(1, 2, b"x")), ip6(17, udp(1, 2, b"x"))
    frames = [b"\x02\x00\x00\x14" + tlv(1, b"\x08\x00\x01\x00") + tlv(10, b"ab") + tlv(9, v4),
              b"\x0a\x00\x00\x14" + tlv(9, v6), b"\x02\x00\x00\x14" + tlv(1, b"abcd"),
              b"\x02\x00\x00\x14" + struct.pack("<HH", 2, 9), b"\x02\x00"]
    decoder = Decoder(239, ts_style="none")
    assert [decoder.line(0, f, len(f)) for f in frames[:2]] == tcpdump_first_lines(frames[:2], 239)
    assert all(decoder.line(0, f, len(f)) for f in frames[2:])


def test_cdp_device_ids_and_where_tcpdump_stops_or_adds_the_length():
    def cdp(version: int, ttl: int, tlvs: bytes) -> bytes:
        frame = b"\xaa\xaa\x03\x00\x00\x0c\x20\x00" + bytes([version, ttl, 0, 0]) + tlvs
        return MAC_B + MAC_A + struct.pack("!H", len(frame)) + frame

    def tlv(kind: int, value: bytes) -> bytes:
        return struct.pack("!HH", kind, 4 + len(value)) + value

    device = tlv(1, b"R1")
    told = [cdp(2, 180, tlv(1, b"Switch") + tlv(3, b"Gi0/1")), cdp(1, 60, device),
            cdp(2, 180, tlv(3, b"Gi0/1") + device), cdp(2, 180, b""),
            cdp(2, 180, tlv(1, b"a\x01\xff")), cdp(2, 180, device + b"\0\0\0"),
            cdp(2, 180, struct.pack("!HH", 1, 2)), cdp(2, 180, device + tlv(99, b"")),
            cdp(2, 180, device + tlv(2, bytes(9)) + tlv(4, bytes(8))),
            cdp(2, 180, device + tlv(1, bytes(8)))]
    check(told)
    # Frames whose line hangs on tcpdump's size rules for a TLV keep the 802.3 line.
    untold = [cdp(2, 180, device + tlv(4, bytes(8))), cdp(2, 180, device + tlv(10, b"")),
              cdp(2, 180, device + struct.pack("!HH", 0, 0))]
    assert all(", 802.3, length" in line for line in both_paths(untold))


# -- PPPoE, PPP inside it and in PPTP's GRE, DCCP, PPTP, ISAKMP ------------------------

def pppoe(code: int, session: int, body: bytes, size: int | None = None,
          vertype: int = 0x11) -> bytes:
    length = len(body) if size is None else size
    return struct.pack("!BBHH", vertype, code, session, length) + body


def pppoe_tag(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value


def test_pppoe_discovery_codes_and_tags_in_text_or_hex_and_the_cut_ones():
    tags = (pppoe_tag(0x0101, b"") + pppoe_tag(0x0102, b"ac-1") + pppoe_tag(0x0103, b"\1\2\3\4")
            + pppoe_tag(0x0104, b"ab\x01") + pppoe_tag(0x0120, b"\x05\xdc")
            + pppoe_tag(0x0999, b"x" * 100) + pppoe_tag(0x0203, bytes(40)))
    frames = [eth(pppoe(code, 0 if code == 0x09 else 0x1234, tags), 0x8863)
              for code in (0x09, 0x07, 0x19, 0x65, 0xA7, 0x33)]
    frames += [eth(pppoe(0x09, 0, pppoe_tag(0x0101, b"") + pppoe_tag(0, b"")
                         + pppoe_tag(0x0102, b"after the end")), 0x8863),
               eth(pppoe(0x09, 0, tags, size=2000), 0x8863),         # longer than the frame
               eth(pppoe(0x09, 0, tags[:10] + tags[12:]), 0x8863),   # a tag runs past the end
               eth(pppoe(0x09, 0, pppoe_tag(0x0102, b"abc")[:6], size=7), 0x8863),
               eth(pppoe(0x09, 0, tags, vertype=0x21), 0x8863),
               eth(pppoe(0x09, 0, tags, vertype=0x12), 0x8863),
               eth(b"\x11\x09\x00", 0x8863)]
    check(frames)
    check(frames[:1], snaplen=14 + 3)


def test_pppoe_session_carries_ppp_with_ip_ip6_and_the_control_protocols():
    v4 = ip4(17, udp(40000, 53, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                                b"\x07example\x03net\x00\x00\x01\x00\x01"))
    v6 = ip6(58, bytes([128, 0, 0, 0, 0, 1, 0, 1]))
    frames = [b"\x00\x21" + v4, b"\x21" + v4, b"\xff\x03\x00\x21" + v4, b"\x00\x57" + v6,
              b"\xc0\x21\x09\x6a\x00\x0c" + bytes(8), b"\xc0\x21\x01\x01\x00\x0a" + bytes(6),
              b"\x80\x21\x03\x05\x00\x0a" + bytes(6), b"\x80\x57\x02\x05\x00\x0a" + bytes(6),
              b"\x80\xfd\x0e\x05\x00\x04", b"\xc0\x21\x20\x01\x00\x04", b"\xc0\x21\x01",
              b"\x00\x3d\xc1\x23", b"\x00\x3d\x01", b"\x00\xfd\x01\x02", b"\x00\x2d\x01\x02",
              b"\x12\x34\x00", b"\x00", b"\x80\x21\x01\x01", b"\xc0\x25\x00",
              b"\x00\x21" + b"\x55" + v4[1:], b"\x00\x21" + b"\x65" + v4[1:]]
    sessions = [eth(pppoe(0, 0x11, f), 0x8864) for f in frames]
    sessions += [eth(pppoe(0, 0x11, frames[0], size=10), 0x8864),   # IP without room for its header
                 eth(pppoe(0, 0, frames[0]), 0x8864)]
    check(sessions)
    for snaplen in (14 + 3, 14 + 6 + 1, 14 + 6 + 2 + 10):
        check(sessions[:1], snaplen)


def test_pptp_gre_carries_ppp_too():
    gre = struct.pack("!HHHHI", 0x3001, 0x880B, 10, 0, 5)
    lcp = b"\xff\x03\xc0\x21\x01\x00\x00\x0a" + bytes(6)
    check([eth(ip4(47, gre[:4] + struct.pack("!HH", len(p), 0) + gre[8:] + p))
           for p in (lcp, b"\xff\x03\x00\x21" + ip4(17, udp(1, 2, b"x")), b"\xff")])


def dccp_packet(kind: int, extended: bool, extra: bytes = b"") -> bytes:
    seq = b"\0\x01\x02\x03\x04\x05\x06" if extended else b"\x01\x02\x03"
    body = struct.pack("!HHBBH", 40000, 5001, 0, 0, 0) + bytes([kind << 1 | extended]) + seq
    body += extra
    return body[:4] + bytes([len(body) // 4]) + body[5:]


def test_dccp_every_packet_type_both_sequence_sizes_and_the_short_ones():
    packets = []
    for extended in (False, True):
        ack = b"\0\0\0\0\x10\x20\x30\x40" if extended else b"\0\x00\x10\x20\0\0\0\0"
        packets += [dccp_packet(0, extended, b"\0\0\0\x2a"),
                    dccp_packet(1, extended, ack + b"\0\0\0\x07"), dccp_packet(2, extended),
                    *(dccp_packet(kind, extended, ack) for kind in (3, 4, 5, 6, 8, 9, 10, 15)),
                    dccp_packet(7, extended, ack + b"\x01\0\0\0"),
                    dccp_packet(7, extended, ack + b"\x63\0\0\0"),
                    dccp_packet(3, extended), dccp_packet(3, extended, ack[:2]),
                    dccp_packet(0, extended)]
    packets += [dccp_packet(3, False)[:8], dccp_packet(3, True)[:14]]
    frames = [eth(ip4(33, p)) for p in packets]
    check(frames + [eth(ip6(33, p), 0x86DD) for p in packets[:6]])
    for snaplen in (14 + 20 + 10, 14 + 20 + 13, 14 + 20 + 17):
        check(frames[3:4], snaplen)


def pptp_message(kind: int, body: bytes, magic: int = 0x1A2B3C4D, reserved: int = 0) -> bytes:
    return struct.pack("!HHIHH", 12 + len(body), 1, magic, kind, reserved) + body


def test_pptp_every_control_message_its_strings_and_the_cut_ones():
    text = bytes((i * 7 + 3) % 256 for i in range(30)) + b"host\0junk" + bytes(100) + b"vend"
    messages = [pptp_message(kind, body) for kind in range(18)
                for body in (text + bytes(60), bytes(200), bytes(range(1, 255)))]
    messages += [pptp_message(1, bytes(20)), pptp_message(1, b"\x01\x00" + bytes(30), magic=5),
                 pptp_message(1, b"")[:7], pptp_message(1, b"")[:9], pptp_message(1, b"")[:11],
                 pptp_message(2, b"", reserved=3), pptp_message(8, bytes(10))]
    check([tcp4(40000, 1723, m) for m in messages] + [tcp4(1723, 40000, messages[3])])


def isakmp_header(version: int, exchange: int, flags: int, msgid: int, cookie: int,
                  responder: bytes = bytes(8)) -> bytes:
    return (struct.pack("!Q", cookie) + responder
            + bytes([0, version, exchange, flags]) + struct.pack("!II", msgid, 28))


def test_isakmp_ikev1_and_ikev2_headers_and_the_nat_traversal_port():
    headers = []
    cookie = 1
    for version in (0x10, 0x20, 0x30):
        for exchange in (2, 4, 34, 35, 16, 255):
            for flags in (0, 1, 3, 8, 0x28, 0x38, 4):
                for msgid in (0, 5):
                    # A new initiator cookie each: tcpdump remembers the ones it saw.
                    headers.append(isakmp_header(version, exchange, flags, msgid, cookie))
                    cookie += 1
    headers += [isakmp_header(0x10, 2, 0, 0, cookie, b"12345678"),
                isakmp_header(0x10, 2, 0, 0, cookie + 1)[:27]]
    frames = [udp4(500, 500, h) for h in headers] + [udp4(40000, 7500, headers[30])]
    ike = isakmp_header(0x20, 34, 8, 0, cookie + 2)
    esp = b"\x00\x00\x01\x00\x00\x00\x00\x05"
    frames += [udp4(4500, 40000, p) for p in (b"\xff", b"\xfe", b"", b"\0\0", b"\0\0\0\0" + ike,
                                               b"\0\0\0\0" + ike[:10], esp + bytes(20), esp,
                                               esp + b"\x01")]
    check(frames)
    bad_length = bytearray(udp4(40000, 500, isakmp_header(0x20, 35, 8, 1, cookie + 3)))
    bad_length[14 + 20 + 4:14 + 20 + 6] = struct.pack("!H", 200)  # longer than the IP datagram
    check([bytes(bad_length)])
    check(frames[-5:-4], snaplen=14 + 20 + 8)
    # An all-zero initiator cookie matches a slot of tcpdump's table while it is empty.
    check([udp4(500, 500, isakmp_header(0x10, 1, 0, 0, 0))])


def test_an_ipv4_header_of_another_version_is_named_by_it():
    v4 = ip4(17, udp(40000, 53, b"\x12\x34"))
    check([eth(bytes([v << 4 | 5]) + v4[1:]) for v in (0, 5, 6, 15)])
    check([eth(b"\x55" + v4[1:])], snaplen=14 + 1)
    check([eth(v4)], snaplen=14)



# -- 802.11 reasons, Arista's timestamp header, UDP cut by the IP length -----------------

def test_radiotap_then_802_11_disassociation_and_deauthentication_reasons():
    radio = bytes.fromhex("000018008e58000000026c09a0005800002a000065f43096")

    def management(subtype: int, body: bytes) -> bytes:
        return (radio + bytes([subtype << 4, 0, 0, 0]) + bytes.fromhex("020000000002")
                + bytes.fromhex("020000000001") + bytes.fromhex("020000000003") + b"\0\0" + body)

    frames = [management(subtype, struct.pack("<H", code)) for subtype in (10, 12)
              for code in (*range(70), 300, 0xFFFF)]
    frames += [management(12, b"\x01"), management(10, b""), management(12, b"\x03\x00more")]
    decoder = Decoder(127, ts_style="none")
    assert [decoder.line(0, f, len(f)) for f in frames] == tcpdump_first_lines(frames, 127)
    assert decoder.malformed == 2
    cut = frames[3]
    assert decoder.line(0, cut[:-1], len(cut)) == tcpdump_first_lines([cut], 127,
                                                                      snaplen=len(cut) - 1)[0]


def arista_frame(subtype: int, scale: int, format_hw: int, stamp: bytes, inner: bytes) -> bytes:
    return eth(struct.pack("!HBB", subtype, scale, format_hw) + stamp + inner, 0xD28B)


def test_arista_timestamp_header_then_the_frame_it_tags():
    v4 = b"\x08\x00" + ip4(17, udp(40000, 123, NTP_CLIENT))
    t64, t48 = struct.pack("!II", 1700000000, 123456789), struct.pack("!HI", 60821, 2404038772)
    arp = (struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + MAC_A + bytes([198, 18, 0, 1])
           + bytes(6) + bytes([198, 18, 0, 2]))
    mpls_label = struct.pack("!I", 1024 << 12 | 1 << 8 | 64)
    frames = [arista_frame(1, 0, 0x10, t64, v4), arista_frame(1, 1, 0x11, t64, v4),
              arista_frame(1, 0, 0x20, t48, v4), arista_frame(1, 1, 0x21, t48, v4),
              arista_frame(1, 2, 0x13, t64, v4),
              arista_frame(1, 0, 0x10, t64, b"\x81\x00\x00\x05" + v4),  # a tag after it
              arista_frame(1, 0, 0x10, t64, b"\x86\xdd" + ip6(17, udp(1, 2, b"x"))),
              arista_frame(1, 0, 0x10, t64, b"\x88\x47" + mpls_label + v4[2:]),
              arista_frame(1, 0, 0x10, t64, b"\x08\x06" + arp),
              arista_frame(1, 0, 0x10, t64, b"\x12\x34abcd"),           # an EtherType unknown
              arista_frame(2, 0, 0x10, t64, v4), arista_frame(1, 0, 0x30, t64, v4)]
    check(frames)
    for snaplen in (14, 14 + 1, 14 + 5, 14 + 12):
        check(frames[:1], snaplen)


def test_udp_cut_by_the_ip_length_as_tcpdump_reads_it():
    def with_total_length(total: int, payload: bytes) -> bytes:
        packet = bytearray(ip4(17, payload))
        packet[2:4] = struct.pack("!H", total)
        return bytes(packet)

    def with_payload_length(size: int, payload: bytes) -> bytes:
        packet = bytearray(ip6(17, payload))
        packet[4:6] = struct.pack("!H", size)  # 0 as BIG TCP's jumbo packets have it
        return bytes(packet)

    datagram = udp(40000, 4000, b"x" * 20)
    check([eth(with_total_length(n, datagram)) for n in (20, 22, 24, 26, 28, 30, 40)]
          + [eth(with_payload_length(n, datagram), 0x86DD) for n in (0, 2, 4, 6)])
    for snaplen in (14 + 20 + 2, 14 + 20 + 5):
        check([udp4(40000, 4000, b"x" * 20)], snaplen)


def test_a_tcp_header_cut_short_shows_its_ports_once_it_has_them():
    # tcpdump: "a > b: [|tcp]" before the ports are in, "a.p > b.q:  [|tcp]" after.
    v4 = eth(ip4(6, tcp(40000, 80, 1000, 2000, 0x18, b"hello")))
    for cut in range(14 + 20, 14 + 20 + 21):
        check([v4], cut)
    v6 = eth(ip6(6, tcp(40000, 443, 1, 2, 0x10, b"")), 0x86DD)
    for cut in range(14 + 40, 14 + 40 + 21):
        check([v6], cut)


def test_dns_over_tcp_reads_its_length_prefix_as_tcpdump_does():
    # The prefix must be the rest of the segment; shorter, longer or missing, it is
    # invalid (a message split over segments too); a message too short for its header
    # gets the UDP form's complaint.
    query = (bytes.fromhex("123401000001000000000000") + b"\x03www\x07example\x03net\x00"
             + b"\x00\x01\x00\x01")
    payloads = [b"\x00\x00", b"\x00", b"\x00\x05", b"\x00\x0c" + bytes(12), b"\x00\x01\x00",
                b"\x00\x03abc", len(query).to_bytes(2, "big") + query,
                (len(query) + 40).to_bytes(2, "big") + query, b"\x00\x02" + query]
    frames = [eth(ip4(6, tcp(40000, 53, 1000, 2000, 0x18, p))) for p in payloads]
    frames += [eth(ip4(6, tcp(53, 40000, 2000, 1000, 0x18, p))) for p in payloads[-3:]]
    check(frames)
    for cut in range(14 + 20 + 20, 14 + 20 + 20 + 8):
        check(frames[-3:], cut)


# -- DNS: extended response codes, opcodes, several questions, answers cut --------

DNS_QUESTION = b"\x03www\x07example\x03net\x00\x00\x01\x00\x01"
DNS_A = bytes.fromhex("c00c000100010000012c0004c6120005")
DNS_MX = bytes.fromhex("c00c000f00010000012c0009000a") + b"\x04mail\xc0\x0c"


def dns_opt(extended: int) -> bytes:
    """An OPT record (RFC 6891 §6.1.2) whose TTL carries the response code's upper bits."""
    return b"\x00\x00\x29\x04\xd0" + bytes([extended]) + b"\x00\x00\x00\x00"


def dns_msg(flags: int, qd: int = 1, answers: bytes = b"", an: int = 0, ns: int = 0,
            additional: bytes = b"", ar: int = 0) -> bytes:
    return (struct.pack("!HHHHHH", 4660, flags, qd, an, ns, ar) + DNS_QUESTION * qd + answers
            + additional)


def test_dns_response_codes_take_their_upper_bits_from_the_opt_record():
    # BadVers (16) and BadCookie (23) exist only with EDNS; tcpdump finds the OPT record
    # past the answers and other additional records, and names 17 and 21 without a space.
    msgs = [dns_msg(0x8180 | low, additional=dns_opt(high), ar=1)
            for high, low in ((1, 0), (1, 7), (1, 1), (1, 5), (1, 8), (2, 0), (0xFF, 15),
                              (0, 15), (0, 11))]
    msgs += [dns_msg(0x8180, answers=DNS_A, an=1, additional=DNS_A + dns_opt(1), ar=2),
             dns_msg(0x8180, additional=dns_opt(1) + dns_opt(2), ar=2),
             dns_msg(0x8180, ns=1, additional=dns_opt(1), ar=1),  # authority count too high
             dns_msg(0x8180, additional=dns_opt(1), ar=1)[:-7],  # OPT cut before its TTL
             dns_msg(0x8180, additional=dns_opt(1), ar=1)[:-6],
             dns_msg(0x0100, additional=dns_opt(1), ar=1)]  # a query prints no code
    check([udp4(53, 40000, m) for m in msgs])


def test_dns_every_opcode_and_the_inverse_querys_counts():
    msgs = [dns_msg(flags | op << 11) for op in range(16) for flags in (0x0100, 0x8180)]
    msgs += [dns_msg(0x0100, qd=2, answers=DNS_A, an=1),  # a query shows every question
             dns_msg(0x0900, qd=0, answers=DNS_A, an=1), dns_msg(0x0900, qd=0),
             dns_msg(0x0900, qd=0, answers=DNS_A * 2, an=2)]
    check([udp4(40000, 53, m) for m in msgs])


def test_dns_answers_cut_by_the_snapshot_length():
    # An answer whose owner or fixed fields the capture cut prints nothing, after its
    # comma; a cut in a question leaves the counts out; a cut in the data keeps the type.
    frame = udp4(53, 40000, dns_msg(0x8180, answers=DNS_A + DNS_MX + DNS_A, an=3,
                                    additional=dns_opt(1), ar=1))
    for cut in range(14 + 20 + 8 + 12, len(frame) + 1):
        check([frame], cut)


# -- ICMPv6 read no further than its own length -------------------------------------

ICMP6_SRC = bytes.fromhex("20010db8" + "00" * 11 + "01")
ICMP6_DST = bytes.fromhex("20010db8" + "00" * 11 + "02")


def icmp6_frame(payload_length: int, message: bytes) -> bytes:
    """An IPv6 packet whose header gives `payload_length`, whatever the frame holds."""
    return eth(struct.pack("!IHBB", 0x60000000, payload_length, 58, 255) + ICMP6_SRC + ICMP6_DST
               + message,
               0x86DD)


ICMP6_NA = struct.pack("!BBHI16s", 136, 0, 0, 0x60000000, ICMP6_DST)
ICMP6_ECHO = struct.pack("!BBHHH", 128, 0, 0, 1, 1) + b"abcd"


def test_icmp6_shorter_than_its_type_holds_is_named_and_marked():
    # The frame holds the whole message; the IPv6 header says less (0: invalid).
    check([icmp6_frame(n, ICMP6_NA) for n in (0, 1, 2, 4, 8, 23, 24)]
          + [icmp6_frame(n, ICMP6_ECHO) for n in (0, 1, 3, 7, 8, 12)])


def test_icmp6_cut_by_the_snapshot_length():
    for message in (ICMP6_NA, ICMP6_ECHO):
        frame = icmp6_frame(len(message), message)
        for cut in range(14 + 40, len(frame) + 1):
            check([frame], cut)


def icmp4_frame(total_length: int, message: bytes) -> bytes:
    """An IPv4 packet whose header gives `total_length`, whatever the frame holds."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total_length, 1, 0x4000, 64, 1, 0,
                         bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    return eth(header + message)


ICMP4_ECHO = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"abcd"
ICMP4_PORT_UNREACHABLE = (struct.pack("!BBHI", 3, 3, 0, 0) + ip4(17, udp(1, 33434, b""))[:28])


def test_icmp_shorter_than_its_type_holds_prints_only_the_mark():
    # tcpdump builds an ICMP line whole: anything missing, even the quote of an error,
    # leaves only " [|icmp]".
    check([icmp4_frame(20 + n, ICMP4_ECHO) for n in (0, 1, 2, 4, 7, 8, 12)]
          + [icmp4_frame(20 + n, ICMP4_PORT_UNREACHABLE) for n in (0, 4, 8, 27, 28, 36)])


def test_icmp_error_cut_by_the_snapshot_length():
    frame = icmp4_frame(20 + len(ICMP4_PORT_UNREACHABLE), ICMP4_PORT_UNREACHABLE)
    for cut in range(14 + 20, len(frame) + 1):
        check([frame], cut)
