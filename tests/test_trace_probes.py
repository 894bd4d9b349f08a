"""Probe building and matching on literal bytes: every tag must come back."""

from __future__ import annotations

import struct

import dpkt
import pytest
from oracles import dpkt_checksum, ref_sum
from tracesim import icmp_error

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
        # The checksum a receiver computes (dpkt's, not ours) is the tag's.
        assert dpkt_checksum(s.src, s.dst, PROTO_UDP, zeroed) == ck
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
        assert msg[:2] == (bytes([8, 0]) if version == 4 else bytes([128, 0]))
        if version == 4:
            assert ref_sum(msg) == 0xFFFF  # RFC 1071: valid as sent
            assert dpkt.in_cksum(msg[:2] + b"\0\0" + msg[4:]) == struct.unpack_from("!H", msg, 2)[0]
            cks.add(struct.unpack_from("!H", msg, 2)[0])
        else:
            # The kernel fills the ICMPv6 checksum: as dpkt computes it, it must come out
            # constant.
            assert msg[2:4] == b"\0\0"
            cks.add(dpkt_checksum(s.src, s.dst, PROTO_ICMP6, msg))
    assert len(cks) == 1


def test_tcp_syn_is_valid_and_answers_match() -> None:
    s = spec("tcp")
    seg = s.build(42)
    assert dpkt_checksum(s.src, s.dst, PROTO_TCP, seg[:16] + b"\0\0" + seg[18:]) == \
        struct.unpack_from("!H", seg, 16)[0]
    syn = dpkt.tcp.TCP(seg)  # dpkt's reading of the header, not ours
    assert (syn.sport, syn.dport, syn.flags, syn.off) == (41000, 80, dpkt.tcp.TH_SYN, 10)
    assert syn.seq == 0xBEEF << 16 | 42
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


# -- hand-packed answers: the identifier is what tells two -I traces apart ------------------
# Two `trace -I` runs to one destination differ only in the ICMP identifier; an answer
# quoting the other run's identifier must not be taken. The packets below are packed
# field by field (RFC 791 / RFC 792), checksums by RFC 1071's textbook loop, not by the
# code under test.

def _v4_header(src: bytes, dst: bytes, proto: int, ttl: int, payload_len: int) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 0, 0, ttl, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", ~ref_sum(hdr) & 0xFFFF) + hdr[12:]


def _icmp(typ: int, code: int, rest: bytes, body: bytes) -> bytes:
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    return msg[:2] + struct.pack("!H", ~ref_sum(msg) & 0xFFFF) + msg[4:]


HOST, TARGET, ROUTER = bytes([198, 18, 0, 1]), bytes([198, 18, 8, 2]), bytes([198, 18, 3, 2])


def _quoted_echo(ident: int, seq: int) -> bytes:
    """The first 28 bytes of an echo request as a router quotes them (RFC 792)."""
    echo = _icmp(8, 0, struct.pack("!HH", ident, seq), b"")
    return _v4_header(HOST, TARGET, 1, 1, 8 + 32) + echo


def _time_exceeded_quoting(ident: int, seq: int) -> bytes:
    msg = _icmp(11, 0, b"\0\0\0\0", _quoted_echo(ident, seq))
    return _v4_header(ROUTER, HOST, 1, 63, len(msg)) + msg


def _echo_reply(ident: int, seq: int) -> bytes:
    msg = _icmp(0, 0, struct.pack("!HH", ident, seq), b"\0" * 32)
    return _v4_header(TARGET, HOST, 1, 60, len(msg)) + msg


def test_icmp_quote_with_another_identifier_is_not_ours() -> None:
    mine = ProbeSpec("icmp", 4, V4[0], V4[1], 0, True, ident=0x1234)
    theirs = ProbeSpec("icmp", 4, V4[0], V4[1], 0, True, ident=0x4321)
    ours_quoted = parse_ip(_time_exceeded_quoting(0x1234, 5))
    other_quoted = parse_ip(_time_exceeded_quoting(0x4321, 5))
    assert ours_quoted is not None and other_quoted is not None
    assert mine.match_quote(ours_quoted) == 5
    assert mine.match_quote(other_quoted) is None
    assert theirs.match_quote(other_quoted) == 5
    assert theirs.match_quote(ours_quoted) is None


def test_echo_reply_with_another_identifier_is_not_ours() -> None:
    mine = ProbeSpec("icmp", 4, V4[0], V4[1], 0, True, ident=0x1234)
    ours, other = parse_ip(_echo_reply(0x1234, 9)), parse_ip(_echo_reply(0x4321, 9))
    assert ours is not None and other is not None and ours.cksum_ok and other.cksum_ok
    assert mine.match_echo_reply(ours) == 9
    assert mine.match_echo_reply(other) is None
