"""How many flows each probe method has room for, and the last one of each.

A flow is the base value of the field a balancer hashes plus its number: the
UDP destination port, the TCP source port, the ICMP checksum (kept off
0xffff, which ones' complement cannot tell from 0). The room is counted here
with range() over the 16-bit field, and the last flow's probe is read back by
dpkt, so an off-by-one in either direction shows.
"""

from __future__ import annotations

import struct

import dpkt
import pytest

from rawtools.wire.flows import ECHO_CKSUM, FlowProbes
from rawtools.wire.probes import ProbeSpec

SRC, DST = "198.18.0.1", "198.18.9.2"


def spec(method: str, port: int, sport: int) -> ProbeSpec:
    return ProbeSpec(method, 4, SRC, DST, port, True, ident=4321, sport=sport, seq_base=7)


@pytest.mark.parametrize("method, port, sport, field_values", [
    ("udp", 33434, 45000, range(33434, 0x10000)),
    ("udp", 65000, 1000, range(65000, 0x10000)),
    ("tcp", 80, 45000, range(45000, 0x10000)),
    ("tcp", 443, 60000, range(60000, 0x10000)),
    ("icmp", 0, 45000, range(ECHO_CKSUM, 0xFFFF)),
])
def test_the_room_for_flows_is_the_field_above_its_base(method, port, sport, field_values):
    fp = FlowProbes(spec(method, port, sport))
    assert fp.max_flows == len(field_values)
    last = fp.build(fp.max_flows - 1, 5)
    if method == "udp":
        assert dpkt.udp.UDP(last).dport == field_values[-1]
    elif method == "tcp":
        assert dpkt.tcp.TCP(last).sport == field_values[-1]
    else:
        assert dpkt.icmp.ICMP(last).sum == field_values[-1] == 0xFFFE


def test_the_first_flow_is_the_base_itself():
    for method, read in (("udp", lambda b: struct.unpack_from("!H", b, 2)[0]),
                         ("tcp", lambda b: struct.unpack_from("!H", b, 0)[0]),
                         ("icmp", lambda b: struct.unpack_from("!H", b, 2)[0])):
        s = spec(method, 33434 if method == "udp" else 80, 45000)
        base = {"udp": 33434, "tcp": 45000, "icmp": ECHO_CKSUM}[method]
        assert read(FlowProbes(s).build(0, 1)) == base
