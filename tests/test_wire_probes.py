"""rawtools.wire.probes against oracles it did not compute (issue 14's survivors).

Probes are read back by dpkt (its UDP, ICMP, ICMPv6 and TCP parsers, its checksum
code); field values come from the RFC layouts (RFC 768, 792, 793/9293, 4443, 8200)
or from arithmetic done here by hand; the annotations of ICMP errors come from Linux
traceroute 2.1: traceroute(8) ("!H, !N, or !P (host, network or protocol unreachable),
!S (source route failed), !F (fragmentation needed), !X (communication administratively
prohibited), !V (host precedence violation), !C (precedence cutoff in effect), or
!<num> (ICMP unreachable code <num>)") and its parse_icmp_res(), which maps each code.
"""

from __future__ import annotations

import socket
import struct

import dpkt
import pytest
from oracles import dpkt_checksum, ref_sum
from tracesim import icmp_error

from rawtools.wire.icmp import Icmp, parse_ip
from rawtools.wire.ip import build_ip
from rawtools.wire.probes import (
    METHODS,
    TAG_SPACE,
    TH_ACK,
    TH_RST,
    TH_SYN,
    ProbeSpec,
    classify_error,
    udp_header,
)

SRC4, DST4, ROUTER4, OTHER4 = "198.18.0.1", "198.18.8.2", "198.18.3.2", "198.18.9.9"
SRC6, DST6, ROUTER6, OTHER6 = "2001:db8::1", "2001:db8:0:8::2", "2001:db8:0:3::2", "2001:db8::99"
# dpkt's protocol numbers, not rawtools'.
UDP, TCP, ICMP, ICMP6 = (dpkt.ip.IP_PROTO_UDP, dpkt.ip.IP_PROTO_TCP, dpkt.ip.IP_PROTO_ICMP,
                         dpkt.ip.IP_PROTO_ICMP6)


def spec(method: str, version: int = 4, paris: bool = False, size: int = 60,
         port: int | None = None, **kw: int) -> ProbeSpec:
    src, dst = (SRC4, DST4) if version == 4 else (SRC6, DST6)
    if port is None:
        port = {"udp": 33434, "tcp": 80, "icmp": 0}[method]
    fields = {"ident": 0x1234, "sport": 41000, "seq_base": 0xBEEF, **kw}
    return ProbeSpec(method, version, src, dst, port, paris, size=size,  # type: ignore[arg-type]
                     **fields)


def error_quoting(s: ProbeSpec, transport: bytes, *, quoted: int = 8, dst: str | None = None,
                  proto: int | None = None, typ: int | None = None, code: int = 0,
                  rest: bytes = b"\0\0\0\0") -> Icmp:
    """An ICMP(v6) error from a router quoting the IP header of a probe carrying
    `transport` and its first `quoted` transport bytes (RFC 792 asks for 8)."""
    hl = 20 if s.version == 4 else 40
    ip = build_ip(s.src, dst or s.dst, s.proto if proto is None else proto, 1, transport)
    if typ is None:
        typ = 11 if s.version == 4 else 3  # time exceeded (RFC 792 / RFC 4443)
    router = ROUTER4 if s.version == 4 else ROUTER6
    icmp = parse_ip(icmp_error(s.version, router, s.src, typ, code, ip[:hl + quoted], rest=rest))
    assert icmp is not None and icmp.cksum_ok and icmp.quote is not None
    assert len(icmp.quote.transport) == min(quoted, len(transport))
    return icmp


def udp_hdr(sport: int, dport: int, ck: int, payload_len: int = 32) -> bytes:
    """RFC 768: source port, destination port, length, checksum."""
    return struct.pack("!HHHH", sport, dport, 8 + payload_len, ck) + bytes(payload_len)


def tcp_hdr(sport: int, dport: int, seq: int, ack: int, flags: int) -> bytes:
    """RFC 9293 section 3.1, 20 bytes without options."""
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 1024, 0, 0)


# -- constants -----------------------------------------------------------------------------

def test_tcp_flag_bits_are_dpkts() -> None:
    assert (TH_SYN, TH_RST, TH_ACK) == (dpkt.tcp.TH_SYN, dpkt.tcp.TH_RST, dpkt.tcp.TH_ACK)
    assert (TH_SYN, TH_RST, TH_ACK) == (0x02, 0x04, 0x10)  # RFC 9293: SYN, RST, ACK bits


def test_methods_are_the_three_the_readme_names() -> None:
    # README: UDP (default), ICMP echo (-I), TCP SYN (-T); the CLI checks names against it.
    assert METHODS == ("udp", "icmp", "tcp")
    want = {"udp": UDP, "icmp": ICMP, "tcp": TCP}
    for method in METHODS:
        assert spec(method).proto == want[method]


def test_tag_space_is_fifteen_bits() -> None:
    # Tags wrap inside 0x8000 = 2**15: a Paris UDP checksum 1 + tag then stays in
    # 1..0x8000, never 0 ("no checksum", RFC 768) nor 0xffff.
    assert TAG_SPACE == 2 ** 15 == 32768
    s = spec("udp", paris=True)
    top = TAG_SPACE - 1
    assert dpkt.udp.UDP(s.build(top)).sum == 0x8000
    assert dpkt.udp.UDP(s.build(0)).sum == 1


@pytest.mark.parametrize("version", [4, 6])
def test_protocol_numbers_per_method_and_family(version: int) -> None:
    assert spec("udp", version).proto == UDP == 17
    assert spec("tcp", version).proto == TCP == 6
    assert spec("icmp", version).proto == (ICMP if version == 4 else ICMP6)
    assert (ICMP, ICMP6) == (1, 58)


def test_probespec_defaults() -> None:
    s = ProbeSpec("udp", 4, SRC4, DST4, 33434, False)
    # traceroute(8): "default 60 bytes for IPv4"; identifier, ports and sequence
    # base default to zero until the tracer picks them.
    assert (s.ident, s.sport, s.seq_base, s.size) == (0, 0, 0, 60)
    assert len(s.build(0)) == 60 - 20
    udp = dpkt.udp.UDP(s.build(5))
    assert (udp.sport, udp.dport, udp.ulen) == (0, 33434 + 5, 40)
    tcp = dpkt.tcp.TCP(ProbeSpec("tcp", 4, SRC4, DST4, 80, True).build(7))
    assert (tcp.sport, tcp.seq) == (0, 7)
    echo = dpkt.icmp.ICMP(ProbeSpec("icmp", 4, SRC4, DST4, 0, True).build(9))
    assert (echo.data.id, echo.data.seq) == (0, 9)


# -- sizes ------------------------------------------------------------------------------------

def test_header_len_is_the_fixed_ip_header() -> None:
    assert spec("udp", 4).header_len == 20  # RFC 791, no options
    assert spec("udp", 6).header_len == 40  # RFC 8200


# (version, size, bytes after the 8-byte UDP/ICMP header): size - 20|40 - 8, at least 2.
PAYLOADS = [
    (4, 60, 32), (4, 31, 3), (4, 30, 2), (4, 29, 2), (4, 28, 2), (4, 0, 2),
    (6, 80, 32), (6, 60, 12), (6, 51, 3), (6, 50, 2), (6, 49, 2), (6, 0, 2),
]


@pytest.mark.parametrize("version,size,payload", PAYLOADS)
def test_payload_length_at_the_boundaries(version: int, size: int, payload: int) -> None:
    assert spec("udp", version, size=size).payload_len() == payload
    for paris in (False, True):
        dgram = spec("udp", version, paris, size=size).build(3)
        udp = dpkt.udp.UDP(dgram)
        assert len(dgram) == udp.ulen == 8 + payload
        assert len(udp.data) == payload
    msg = spec("icmp", version, size=size).build(3)
    assert len(msg) == 8 + payload
    echo = (dpkt.icmp.ICMP if version == 4 else dpkt.icmp6.ICMP6)(msg)
    assert echo.type == (8 if version == 4 else 128) and echo.code == 0
    assert (echo.data.id, echo.data.seq) == (0x1234, 3)
    assert len(echo.data.data) == payload


@pytest.mark.parametrize("version", [4, 6])
def test_classic_udp_carries_the_tag_in_port_and_payload(version: int) -> None:
    s = spec("udp", version, size=60 if version == 4 else 80)  # 32 payload bytes either way
    for tag in (0, 1, 300, TAG_SPACE - 1):
        udp = dpkt.udp.UDP(s.build(tag))
        assert (udp.sport, udp.dport) == (41000, (33434 + tag) % 65536)
        assert udp.data == struct.pack("!H", tag) + bytes(30)
        assert dpkt_checksum(s.src, s.dst, UDP, s.build(tag)[:6] + b"\0\0" + s.build(tag)[8:]) \
            == udp.sum


def test_classic_udp_port_wraps_at_sixteen_bits() -> None:
    s = spec("udp", port=65500)
    assert dpkt.udp.UDP(s.build(100)).dport == 65600 - 65536 == 64
    assert s.match_quote(error_quoting(s, s.build(100))) == 100


# -- ICMP echo --------------------------------------------------------------------------------

def test_echo_checksum_is_one_constant_for_both_families() -> None:
    """Paris by construction: the same checksum for every tag, IPv4 and IPv6 alike."""
    v4, v6 = spec("icmp", 4), spec("icmp", 6)
    sums = set()
    for tag in (0, 1, 2, 1000, TAG_SPACE - 1):
        msg = v4.build(tag)
        ck = dpkt.icmp.ICMP(msg).sum
        assert dpkt.in_cksum(msg[:2] + b"\0\0" + msg[4:]) == ck
        assert ref_sum(msg) == 0xFFFF
        sums.add(ck)
        msg6 = v6.build(tag)
        assert msg6[2:4] == b"\0\0"  # left to the kernel
        sums.add(dpkt_checksum(v6.src, v6.dst, ICMP6, msg6))
    assert len(sums) == 1
    assert sums == {v4.checksum_for(0)} == {v6.checksum_for(5)}


# -- TCP SYN ----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [4, 6])
def test_syn_as_dpkt_reads_it(version: int) -> None:
    s = spec("tcp", version)
    seg = s.build(42)
    syn = dpkt.tcp.TCP(seg)
    assert (syn.sport, syn.dport) == (41000, 80)
    assert syn.seq == 0xBEEF * 65536 + 42
    assert syn.ack == 0  # no ACK bit, nothing acknowledged (as Linux sends its SYNs)
    assert syn.flags == dpkt.tcp.TH_SYN
    assert syn.win == 5840
    assert syn.urp == 0
    assert syn.off == 10 and len(seg) == 40  # 20 bytes + 20 of options, no data
    assert dpkt.tcp.parse_opts(syn.opts) == [
        (dpkt.tcp.TCP_OPT_MSS, struct.pack("!H", 1500 - 40)),
        (dpkt.tcp.TCP_OPT_SACKOK, b""),
        (dpkt.tcp.TCP_OPT_TIMESTAMP, bytes(8)),
        (dpkt.tcp.TCP_OPT_NOP, b""),
        (dpkt.tcp.TCP_OPT_WSCALE, b"\x07"),
    ]
    assert dpkt_checksum(s.src, s.dst, TCP, seg[:16] + b"\0\0" + seg[18:]) == syn.sum


# -- matching quotes --------------------------------------------------------------------------

@pytest.mark.parametrize("version", [4, 6])
def test_paris_udp_quote_reads_the_tag_from_the_checksum(version: int) -> None:
    s = spec("udp", version, paris=True)
    for ck, tag in ((1, 0), (2, 1), (0x8000, 0x7FFF)):
        assert s.match_quote(error_quoting(s, udp_hdr(41000, 33434, ck))) == tag
    # 0 is "no checksum"; above 0x8000 lies outside the tag space.
    for ck in (0, 0x8001, 0xFFFF):
        assert s.match_quote(error_quoting(s, udp_hdr(41000, 33434, ck))) is None


@pytest.mark.parametrize("version", [4, 6])
def test_paris_udp_quotes_that_are_not_ours(version: int) -> None:
    s = spec("udp", version, paris=True)
    mine = udp_hdr(41000, 33434, 8)
    assert s.match_quote(error_quoting(s, mine)) == 7
    assert s.match_quote(error_quoting(s, udp_hdr(41000, 33435, 8))) is None  # other port
    assert s.match_quote(error_quoting(s, udp_hdr(41001, 33434, 8))) is None  # other sport
    other = OTHER4 if version == 4 else OTHER6
    assert s.match_quote(error_quoting(s, mine, dst=other)) is None
    assert s.match_quote(error_quoting(s, mine, proto=TCP)) is None
    # The checksum sits in transport bytes 6-7: a quote stopping short of them is no tag.
    for quoted in (4, 6, 7):
        assert s.match_quote(error_quoting(s, mine, quoted=quoted)) is None


@pytest.mark.parametrize("version", [4, 6])
def test_tcp_quotes_that_are_not_ours(version: int) -> None:
    s = spec("tcp", version)
    seq = 0xBEEF * 65536 + 9
    mine = tcp_hdr(41000, 80, seq, 0, dpkt.tcp.TH_SYN)
    assert s.match_quote(error_quoting(s, mine)) == 9
    assert s.match_quote(error_quoting(s, s.build(9))) == 9
    assert s.match_quote(error_quoting(s, tcp_hdr(41000, 81, seq, 0, 2))) is None
    assert s.match_quote(error_quoting(s, tcp_hdr(41001, 80, seq, 0, 2))) is None
    assert s.match_quote(error_quoting(s, tcp_hdr(41000, 80, 0xBEEE * 65536 + 9, 0, 2))) is None
    assert s.match_quote(error_quoting(s, mine, proto=UDP)) is None
    # The sequence number is transport bytes 4-7.
    for quoted in (4, 6, 7):
        assert s.match_quote(error_quoting(s, mine, quoted=quoted)) is None


@pytest.mark.parametrize("version", [4, 6])
def test_echo_quotes_that_are_not_ours(version: int) -> None:
    s = spec("icmp", version, paris=True)
    typ = 8 if version == 4 else 128
    mine = struct.pack("!BBHHH", typ, 0, 0, 0x1234, 77) + bytes(32)
    assert s.match_quote(error_quoting(s, mine)) == 77
    assert s.match_quote(error_quoting(s, mine, quoted=7)) is None
    other = struct.pack("!BBHHH", typ, 0, 0, 0x4321, 77) + bytes(32)
    assert s.match_quote(error_quoting(s, other)) is None
    reply = struct.pack("!BBHHH", 0 if version == 4 else 129, 0, 0, 0x1234, 77) + bytes(32)
    assert s.match_quote(error_quoting(s, reply)) is None  # only requests are probes


# -- echo replies -----------------------------------------------------------------------------

def _echo_reply(version: int, src: str, ident: int, seq: int, typ: int | None = None) -> Icmp:
    """An echo reply (RFC 792 type 0, RFC 4443 type 129) from `src`, checksummed here."""
    dst = SRC4 if version == 4 else SRC6
    if typ is None:
        typ = 0 if version == 4 else 129
    msg = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + bytes(16)
    if version == 4:
        msg = msg[:2] + struct.pack("!H", ~ref_sum(msg) & 0xFFFF) + msg[4:]
        icmp = parse_ip(build_ip(src, dst, ICMP, 60, msg))
    else:
        ck = dpkt_checksum(src, dst, ICMP6, msg)
        icmp = parse_ip(build_ip(src, dst, ICMP6, 60, msg[:2] + struct.pack("!H", ck) + msg[4:]))
    assert icmp is not None and icmp.cksum_ok
    return icmp


@pytest.mark.parametrize("version", [4, 6])
def test_echo_replies_that_are_not_ours(version: int) -> None:
    s = spec("icmp", version, paris=True)
    dst, other = (DST4, OTHER4) if version == 4 else (DST6, OTHER6)
    assert s.match_echo_reply(_echo_reply(version, dst, 0x1234, 12)) == 12
    assert s.match_echo_reply(_echo_reply(version, other, 0x1234, 12)) is None
    assert s.match_echo_reply(_echo_reply(version, dst, 0x1235, 12)) is None
    # An echo request from the destination (someone pinging us) is no answer.
    request = _echo_reply(version, dst, 0x1234, 12, typ=8 if version == 4 else 128)
    assert request.kind == "echo-request"
    assert s.match_echo_reply(request) is None
    # Nor is any echo reply an answer to UDP or TCP probes, whatever its identifier.
    for method in ("udp", "tcp"):
        assert spec(method, version).match_echo_reply(_echo_reply(version, dst, 0x1234, 12)) \
            is None


# -- TCP answers ------------------------------------------------------------------------------

def _answer(flags: int, ack: int = 0xBEEF * 65536 + 42 + 1, sport: int = 80,
            dport: int = 41000) -> bytes:
    return tcp_hdr(sport, dport, 555, ack, flags)


def test_tcp_answers_by_flags() -> None:
    s = spec("tcp")
    syn, rst, ack, fin = dpkt.tcp.TH_SYN, dpkt.tcp.TH_RST, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN
    assert s.match_tcp(_answer(syn | ack), DST4) == (42, "SA")
    assert s.match_tcp(_answer(rst | ack), DST4) == (42, "R")
    # Without ACK the acknowledgment field means nothing (RFC 9293): not an answer.
    for flags in (syn, rst, rst | fin, syn | fin, 0):
        assert s.match_tcp(_answer(flags), DST4) is None
    # ACK alone or FIN+ACK neither accepts nor refuses the SYN.
    for flags in (ack, fin | ack, ack | dpkt.tcp.TH_PUSH):
        assert s.match_tcp(_answer(flags), DST4) is None


def test_tcp_answers_that_are_not_ours() -> None:
    s = spec("tcp")
    sa = dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK
    assert s.match_tcp(_answer(sa), OTHER4) is None
    assert s.match_tcp(_answer(sa, sport=81), DST4) is None
    assert s.match_tcp(_answer(sa, dport=41001), DST4) is None
    assert s.match_tcp(_answer(sa, ack=0xBEEE * 65536 + 43), DST4) is None
    for method in ("udp", "icmp"):
        assert spec(method).match_tcp(_answer(sa), DST4) is None


def test_tcp_answer_needs_its_first_fourteen_bytes() -> None:
    # Ports (4), sequence (4), acknowledgment (4), data offset (1), flags (1): 14 bytes.
    s = spec("tcp")
    sa = _answer(dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK)
    assert s.match_tcp(sa[:14], DST4) == (42, "SA")
    assert s.match_tcp(sa[:13], DST4) is None
    assert s.match_tcp(b"", DST4) is None


# -- annotations ------------------------------------------------------------------------------

# RFC 792 / RFC 1812 section 5.2.7.1 destination unreachable codes, and what
# traceroute prints for each ("" for port unreachable: the destination was reached).
UNREACH4 = {
    0: "!N",   # net unreachable
    1: "!H",   # host unreachable
    2: "!P",   # protocol unreachable
    3: "",     # port unreachable
    # 4 (fragmentation needed) is !F-<mtu>, below
    5: "!S",   # source route failed
    6: "!N",   # destination network unknown
    7: "!H",   # destination host unknown
    8: "!N",   # source host isolated
    9: "!X",   # network administratively prohibited
    10: "!X",  # host administratively prohibited
    11: "!N",  # network unreachable for TOS
    12: "!H",  # host unreachable for TOS
    13: "!X",  # communication administratively prohibited
    14: "!V",  # host precedence violation
    15: "!C",  # precedence cutoff in effect
    16: "!<16>",  # unassigned: the number
    255: "!<255>",
}

# RFC 4443 codes: traceroute names no route !N, administratively prohibited !X,
# beyond scope and address unreachable !H; port unreachable is arrival; the rest
# (5 source address failed ingress/egress policy, 6 reject route, 7 RFC 6550 error in
# source routing header, ...) print as the number.
UNREACH6 = {0: "!N", 1: "!X", 2: "!H", 3: "!H", 4: "", 5: "!<5>", 6: "!<6>", 7: "!<7>",
            99: "!<99>"}


def _error(version: int, typ: int, code: int, rest: bytes = b"\0\0\0\0") -> Icmp:
    s = spec("udp", version)
    return error_quoting(s, s.build(1), typ=typ, code=code, rest=rest)


@pytest.mark.parametrize("code,note", sorted(UNREACH4.items()))
def test_ipv4_unreachable_annotations(code: int, note: str) -> None:
    icmp = _error(4, 3, code)
    assert icmp.kind == "unreachable"
    assert classify_error(icmp) == ("unreachable", note, True)


@pytest.mark.parametrize("code,note", sorted(UNREACH6.items()))
def test_ipv6_unreachable_annotations(code: int, note: str) -> None:
    icmp = _error(6, 1, code)
    assert icmp.kind == "unreachable"
    assert classify_error(icmp) == ("unreachable", note, True)


def test_fragmentation_needed_carries_the_mtu() -> None:
    # RFC 1191: the next-hop MTU in the low half of the second word; RFC 792
    # routers leave it zero, and traceroute prints !F-%d of what it got.
    assert classify_error(_error(4, 3, 4, struct.pack("!HH", 0, 1400))) == \
        ("packet-too-big", "!F-1400", True)
    assert classify_error(_error(4, 3, 4)) == ("packet-too-big", "!F-0", True)
    # RFC 4443 packet too big: the MTU is the whole second word.
    assert classify_error(_error(6, 2, 0, struct.pack("!I", 1280))) == \
        ("packet-too-big", "!F-1280", True)


@pytest.mark.parametrize("version", [4, 6])
def test_time_exceeded(version: int) -> None:
    typ = 11 if version == 4 else 3
    # In transit: a router on the way, no annotation, go on.
    assert classify_error(_error(version, typ, 0)) == ("time-exceeded", "", False)
    # Fragment reassembly time exceeded, and an unassigned code: traceroute stops
    # there and prints !<type-code>.
    assert classify_error(_error(version, typ, 1)) == ("time-exceeded", f"!<{typ}-1>", True)
    assert classify_error(_error(version, typ, 4)) == ("time-exceeded", f"!<{typ}-4>", True)


def test_other_errors_print_type_and_code() -> None:
    assert classify_error(_error(4, 12, 0)) == ("param-problem", "!<12-0>", True)
    assert classify_error(_error(4, 4, 0)) == ("source-quench", "!<4-0>", True)
    assert classify_error(_error(4, 5, 1)) == ("redirect", "!<5-1>", True)
    assert classify_error(_error(6, 4, 1)) == ("param-problem", "!<4-1>", True)


# -- udp_header -------------------------------------------------------------------------------

def test_udp_header_sends_a_computed_zero_checksum_as_all_ones() -> None:
    """RFC 768: a checksum that computes to zero goes out as 0xffff (0 means none)."""
    sport, dport = 41000, 33434
    head = struct.pack("!HHHH", sport, dport, 8 + 4, 0)
    pseudo = socket.inet_aton(SRC4) + socket.inet_aton(DST4) + bytes([0, 17]) + \
        struct.pack("!H", 8 + 4)
    # Pick the last payload word so that the ones' complement sum is 0xffff: its
    # complement, the checksum, is then 0.
    rest = ref_sum(pseudo + head + b"\x12\x34")
    payload = b"\x12\x34" + struct.pack("!H", 0xFFFF - rest)
    assert ref_sum(pseudo + head + payload) == 0xFFFF
    dgram = udp_header(SRC4, DST4, sport, dport, payload)
    assert dpkt.udp.UDP(dgram).sum == 0xFFFF
    assert dpkt_checksum(SRC4, DST4, UDP, dgram[:6] + b"\0\0" + dgram[8:]) == 0xFFFF
