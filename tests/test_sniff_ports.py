"""Which printer a UDP datagram gets when both its ports have one: tcpdump's pick.

tcpdump tries its UDP printers in a fixed order (print-udp.c), some by
either port, some by the destination or the source port only;
`printers.ports.UDP` must give the same answer for every pair of the ports
it lists. One datagram is sent from each listed port to each other one and
tcpdump reads them all: where both ports have a printer here, the line must
be tcpdump's; where tcpdump picked a printer this decoder lacks (None in the
table), the line must be the plain `UDP, length N` and never another
printer's. The payload is one every printer here prints as tcpdump does.
"""

from __future__ import annotations

import shutil

import pytest
from oracles import tcpdump_first_lines
from test_sniff_decode import eth, ip4, tcp, udp
from test_sniff_printers import both_paths

from rawtools.tools.sniff.printers import ports

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")

PAYLOAD = bytes([0x23]) + bytes(47)  # NTPv4 client, RADIUS code 35 with no length, ...


def test_every_pair_of_listed_udp_ports_gets_tcpdumps_printer_or_the_plain_line():
    listed = sorted(set(ports.UDP) | {53, 5353})
    pairs = [(a, b) for a in listed for b in listed if a != b]
    frames = [eth(ip4(17, udp(a, b, PAYLOAD))) for a, b in pairs]
    theirs = tcpdump_first_lines(frames)
    ours = both_paths(frames)
    plain = f"UDP, length {len(PAYLOAD)}"
    wrong = [(pair, t, o) for pair, t, o in zip(pairs, theirs, ours, strict=True)
             if o != t and not o.endswith(": " + plain)]
    assert not wrong, wrong[:5]
    # Where both ports have a printer here, nothing but tcpdump's line will do.
    printed = [(pair, t, o) for pair, t, o in zip(pairs, theirs, ours, strict=True)
               if all(p in (53, 5353) or ports.UDP[p][1] is not None for p in pair) and o != t]
    assert not printed, printed[:5]


TCP_PAYLOAD = b"GET / HTTP/1.1\r\n\r\n"  # HTTP's and RTSP's request line, a BGP message to BGP


def test_every_pair_of_listed_tcp_ports_gets_tcpdumps_printer_or_none():
    # print-tcp.c's chain, as for UDP: where tcpdump picks a printer this decoder
    # lacks, the segment's line must end at its length, never with another's words.
    listed = sorted(ports.TCP)
    pairs = [(a, b) for a in listed for b in listed if a != b]
    frames = [eth(ip4(6, tcp(a, b, 1, 2, 0x18, TCP_PAYLOAD))) for a, b in pairs]
    theirs = tcpdump_first_lines(frames)
    ours = both_paths(frames)
    plain = f"length {len(TCP_PAYLOAD)}"
    wrong = [(pair, t, o) for pair, t, o in zip(pairs, theirs, ours, strict=True)
             if o != t and not o.endswith(plain)]
    assert not wrong, wrong[:5]
    printed = [(pair, t, o) for pair, t, o in zip(pairs, theirs, ours, strict=True)
               if all(ports.TCP[p][1] is not None for p in pair) and o != t]
    assert not printed, printed[:5]
