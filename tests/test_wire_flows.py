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


# -- answers too short to name a flow ----------------------------------------------
# RFC 792 promises the first 8 bytes of the offending datagram's transport header;
# a router may quote fewer, and with fewer than 4 (the two ports) no flow can be
# read. Such an answer, and one that quotes nothing (an echo reply to a UDP or TCP
# trace), is not ours: None, never an exception. The datagrams are packed by dpkt.

def _time_exceeded(quoted_transport: bytes) -> bytes:
    inner = dpkt.ip.IP(src=bytes([198, 18, 0, 1]), dst=bytes([198, 18, 9, 2]), ttl=1,
                       p=dpkt.ip.IP_PROTO_UDP, id=1)
    inner_b = bytes(inner)[:20] + quoted_transport  # an IP header then the quoted bytes
    err = dpkt.icmp.ICMP(type=dpkt.icmp.ICMP_TIMEXCEED, code=0,
                         data=dpkt.icmp.ICMP.TimeExceed(data=inner_b))
    outer = dpkt.ip.IP(src=bytes([198, 18, 5, 5]), dst=bytes([198, 18, 0, 1]), ttl=64,
                       p=dpkt.ip.IP_PROTO_ICMP, data=err)
    return bytes(outer)


@pytest.mark.parametrize("method", ["udp", "tcp"])
@pytest.mark.parametrize("n", [0, 2, 3])
def test_a_quote_shorter_than_the_ports_names_no_flow(method, n):
    from rawtools.wire.icmp import parse_ip

    s = spec(method, 33434 if method == "udp" else 80, 45000)
    full = FlowProbes(s).build(3, 5)
    icmp = parse_ip(_time_exceeded(full[:n]))
    assert icmp is not None and icmp.quote is not None
    assert len(icmp.quote.transport) == n
    assert FlowProbes(s).match(icmp) is None


@pytest.mark.parametrize("method", ["udp", "tcp"])
def test_an_answer_that_quotes_nothing_names_no_flow(method):
    from rawtools.wire.icmp import parse_ip

    echo = dpkt.icmp.ICMP(type=dpkt.icmp.ICMP_ECHOREPLY, code=0,
                          data=dpkt.icmp.ICMP.Echo(id=4321, seq=7, data=b"x" * 8))
    pkt = dpkt.ip.IP(src=bytes([198, 18, 9, 2]), dst=bytes([198, 18, 0, 1]), ttl=64,
                     p=dpkt.ip.IP_PROTO_ICMP, data=echo)
    icmp = parse_ip(bytes(pkt))
    assert icmp is not None and icmp.quote is None
    s = spec(method, 33434 if method == "udp" else 80, 45000)
    assert FlowProbes(s).match(icmp) is None


@pytest.mark.parametrize("n", [0, 2, 3])
def test_a_tcp_answer_shorter_than_its_ports_names_no_flow(n):
    fp = FlowProbes(spec("tcp", 80, 45000))
    synack = bytes(dpkt.tcp.TCP(sport=80, dport=45003, seq=1, ack=(7 << 16 | 5) + 1,
                                flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK))
    assert fp.match_tcp(synack, DST) == (3, 5, "SA")  # the whole segment is flow 3's
    assert fp.match_tcp(synack[:n], DST) is None
