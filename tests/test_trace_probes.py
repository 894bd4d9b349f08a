"""Probe building and matching on literal bytes: every tag must come back."""

from __future__ import annotations

import struct

import pytest
from tracesim import icmp_error

from rawtools.wire.checksum import checksum_ok, transport_checksum
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import PROTO_ICMP6, PROTO_TCP, PROTO_UDP, build_ip
from rawtools.wire.probes import ProbeSpec

V4 = ("198.18.0.1", "198.18.8.2")
V6 = ("2001:db8::1", "2001:db8:0:8::2")


def spec(method: str, version: int = 4, paris: bool = False, **kw) -> ProbeSpec:
    src, dst = V4 if version == 4 else V6
    port = {"udp": 33434, "tcp": 80, "icmp": 0}[method]
    return ProbeSpec(method, version, src, dst, port, paris, ident=0x1234, sport=41000,
                     seq_base=0xBEEF, size=60 if version == 4 else 80, **kw)


def time_exceeded(s: ProbeSpec, probe: bytes, router: str) -> bytes:
    quoted = build_ip(s.src, s.dst, s.proto, 1, probe)[: 28 if s.version == 4 else 48]
    return icmp_error(s.version, router, s.src, 11 if s.version == 4 else 3, 0, quoted)


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("method,paris", [("udp", False), ("udp", True), ("icmp", True),
                                          ("tcp", True)])
def test_every_tag_is_recovered_from_a_quote(method: str, paris: bool, version: int) -> None:
    s = spec(method, version, paris)
    router = "198.18.3.2" if version == 4 else "2001:db8:0:3::2"
    for tag in (0, 1, 2, 77, 1000, 0x7FFF):
        icmp = parse_ip(time_exceeded(s, s.build(tag), router))
        assert icmp is not None and icmp.kind == "time-exceeded"
        assert s.match_quote(icmp) == tag


@pytest.mark.parametrize("version", [4, 6])
def test_paris_udp_keeps_the_flow_and_tags_the_checksum(version: int) -> None:
    s = spec("udp", version, paris=True)
    seen_ports = set()
    for tag in range(0, 300, 7):
        dgram = s.build(tag)
        sport, dport, length, ck = struct.unpack_from("!HHHH", dgram)
        seen_ports.add((sport, dport))
        assert ck == tag + 1
        zeroed = dgram[:6] + b"\0\0" + dgram[8:]
        assert transport_checksum(s.src, s.dst, PROTO_UDP, zeroed) == ck
        assert length == len(dgram) == s.size - s.header_len
    assert seen_ports == {(41000, 33434)}


def test_classic_udp_rises_the_port() -> None:
    s = spec("udp")
    assert [struct.unpack_from("!H", s.build(t), 2)[0] for t in range(3)] == [33434, 33435,
                                                                              33436]


@pytest.mark.parametrize("version", [4, 6])
def test_icmp_checksum_is_constant_and_valid(version: int) -> None:
    s = spec("icmp", version)
    cks = set()
    for tag in range(0, 500, 13):
        msg = s.build(tag)
        assert struct.unpack_from("!HH", msg, 4) == (0x1234, tag)
        if version == 4:
            assert checksum_ok(msg)
            cks.add(struct.unpack_from("!H", msg, 2)[0])
        else:
            # The kernel fills the ICMPv6 checksum: it must come out constant.
            cks.add(transport_checksum(s.src, s.dst, PROTO_ICMP6, msg))
    assert len(cks) == 1


def test_tcp_syn_is_valid_and_answers_match() -> None:
    s = spec("tcp")
    seg = s.build(42)
    assert transport_checksum(s.src, s.dst, PROTO_TCP, seg[:16] + b"\0\0" + seg[18:]) == \
        struct.unpack_from("!H", seg, 16)[0]
    assert len(seg) + 20 == 60
    seq = struct.unpack_from("!I", seg, 4)[0]
    synack = struct.pack("!HHIIBBHHH", 80, 41000, 9, seq + 1, 0x50, 0x12, 100, 0, 0)
    rst = struct.pack("!HHIIBBHHH", 80, 41000, 0, seq + 1, 0x50, 0x14, 0, 0, 0)
    assert s.match_tcp(synack, s.dst) == (42, "SA")
    assert s.match_tcp(rst, s.dst) == (42, "R")
    assert s.match_tcp(synack, "198.18.9.9") is None
    other = struct.pack("!HHIIBBHHH", 80, 41001, 9, seq + 1, 0x50, 0x12, 100, 0, 0)
    assert s.match_tcp(other, s.dst) is None


def test_foreign_quotes_are_not_ours() -> None:
    s = spec("udp")
    other = ProbeSpec("udp", 4, V4[0], V4[1], 33434, False, sport=41001)
    icmp = parse_ip(time_exceeded(other, other.build(3), "198.18.3.2"))
    assert icmp is not None and s.match_quote(icmp) is None
    elsewhere = ProbeSpec("udp", 4, V4[0], "198.18.9.9", 33434, False, sport=41000)
    icmp = parse_ip(time_exceeded(elsewhere, elsewhere.build(3), "198.18.3.2"))
    assert icmp is not None and s.match_quote(icmp) is None
