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

import pytest
from oracles import tcpdump_first_lines
from test_sniff_decode import eth, ip4, ip6, tcp, udp

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
