"""Wire layer: checksums, echo build/parse, errors traced to the probe they quote."""

import random
import socket
import struct

import dpkt
import pytest
from oracles import dpkt_checksum, ref_checksum, ref_sum

from rawtools.io.errqueue import ExtendedError, parse_extended_err, rebuild_icmp_error
from rawtools.wire.checksum import checksum_ok, inet_checksum, transport_checksum
from rawtools.wire.icmp import build_echo, parse_ip, parse_quote, with_icmp6_checksum
from rawtools.wire.ip import build_ipv4, build_ipv6


def test_checksum_matches_dpkt_on_random_buffers():
    rng = random.Random(7)
    for _ in range(500):
        buf = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 80)))
        assert inet_checksum(buf) == dpkt.in_cksum(buf)


def test_checksum_of_all_ones_and_zero_edge_cases():
    # RFC 1071 example words sum to 0xddf2 -> checksum 0x220d.
    assert inet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    assert inet_checksum(b"") == 0xFFFF
    assert inet_checksum(b"\xff\xff") == 0
    assert checksum_ok(b"\xff\xff")
    assert not checksum_ok(b"\x00\x00")


def test_echo_v4_roundtrip_and_corruption_detected():
    echo = build_echo(4, 0x1234, 7, b"payload!")
    pkt = build_ipv4("198.18.0.1", "198.18.3.2", 1, 64, echo)
    msg = parse_ip(pkt)
    assert (msg.kind, msg.ident, msg.seq, msg.ttl, msg.cksum_ok) == ("echo-request", 0x1234, 7,
                                                                        64, True)
    bad = bytearray(pkt)
    bad[-1] ^= 0xFF
    assert parse_ip(bytes(bad)).cksum_ok is False


def test_echo_v6_checksum_over_pseudo_header():
    """The ICMPv6 checksum is dpkt's (ip6.py) and RFC 1071's over RFC 8200's pseudo-header."""
    src, dst = "2001:db8::1", "2001:db8:0:3::2"
    bare = build_echo(6, 99, 1, b"x" * 16)
    assert bare == bytes([128, 0, 0, 0, 0, 99, 0, 1]) + b"x" * 16  # RFC 4443 section 4.1
    echo = with_icmp6_checksum(src, dst, bare)
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
              + len(bare).to_bytes(4, "big") + b"\0\0\0\x3a")
    want = ~ref_sum(pseudo + bare) & 0xFFFF
    assert echo == bare[:2] + struct.pack("!H", want) + bare[4:]
    assert want == dpkt_checksum(src, dst, 58, bare)
    # Parsed from a datagram dpkt built and checksummed itself: the verdict is "ok".
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src),
                       dst=socket.inet_pton(socket.AF_INET6, dst), nxt=58, hlim=64,
                       plen=len(bare), data=dpkt.icmp6.ICMP6(bare))
    ip6.extension_hdrs = {}
    msg = parse_ip(bytes(ip6))
    assert msg.version == 6 and msg.kind == "echo-request" and msg.cksum_ok
    assert (msg.ident, msg.seq) == (99, 1)
    # The same bytes claimed by another source fail: the pseudo-header counts.
    other = build_ipv6("2001:db8::9", dst, 58, 64, echo)
    assert parse_ip(other).cksum_ok is False


def _time_exceeded_v4(probe: bytes, quote_len: int) -> bytes:
    body = struct.pack("!BBHI", 11, 0, 0, 0) + probe[:quote_len]
    body = body[:2] + struct.pack("!H", inet_checksum(body)) + body[4:]
    return build_ipv4("198.18.1.2", "198.18.0.1", 1, 63, body)


@pytest.mark.parametrize("quote_len", [28, 64, 84])
def test_time_exceeded_quotes_the_probe(quote_len):
    probe = build_ipv4("198.18.0.1", "198.18.3.2", 1, 1, build_echo(4, 0xBEEF, 42, b"z" * 56))
    msg = parse_ip(_time_exceeded_v4(probe, quote_len))
    assert msg.kind == "time-exceeded" and msg.src == "198.18.1.2" and msg.cksum_ok
    assert msg.quote.echo == (0xBEEF, 42)
    assert (msg.quote.src, msg.quote.dst, msg.quote.proto) == ("198.18.0.1", "198.18.3.2", 1)


def test_udp_quote_gives_ports_and_unreach_mtu():
    udp = struct.pack("!HHHH", 40000, 33434, 16, 0) + b"12345678"
    probe = build_ipv4("198.18.0.1", "198.18.3.2", 17, 1, udp)
    body = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + probe[:28]
    body = body[:2] + struct.pack("!H", inet_checksum(body)) + body[4:]
    msg = parse_ip(build_ipv4("198.18.2.1", "198.18.0.1", 1, 62, body))
    assert msg.kind == "unreachable" and msg.code == 4 and msg.mtu == 1400
    assert msg.quote.ports == (40000, 33434) and msg.quote.echo is None


def test_ipv6_quote_skips_extension_headers():
    udp = struct.pack("!HHHH", 5000, 33435, 8, 0)
    hop_by_hop = bytes([17, 0]) + b"\x01\x04\x00\x00\x00\x00"  # next=UDP, 8 bytes
    inner = build_ipv6("2001:db8::1", "2001:db8:0:3::2", 0, 1, hop_by_hop + udp)
    q = parse_quote(inner)
    assert q.proto == 17 and q.ports == (5000, 33435)


def test_truncated_and_garbage_inputs_do_not_raise():
    assert parse_ip(b"") is None
    assert parse_ip(b"\x45\x00") is None
    assert parse_quote(b"\x45" + b"\x00" * 10) is None
    rng = random.Random(3)
    for _ in range(300):
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 120)))
        parse_ip(b"\x45" + junk)
        parse_ip(b"\x60" + junk)


def test_errqueue_rebuild_is_parsed_like_a_real_error():
    sent = build_echo(4, 0x0101, 9, b"q" * 24)
    offender = b"\x02\x00\x00\x00" + bytes([198, 18, 1, 2]) + b"\x00" * 8
    ee = struct.pack("=IBBBBII", 113, 2, 11, 0, 0, 0, 0) + offender
    err = parse_extended_err(ee, 2)
    assert err == ExtendedError(113, 2, 11, 0, 0, "198.18.1.2")
    msg = parse_ip(rebuild_icmp_error(err, "198.18.0.1", "198.18.3.2", 1, sent))
    assert msg.kind == "time-exceeded" and msg.src == "198.18.1.2" and msg.cksum_ok
    assert msg.quote.echo == (0x0101, 9)


def test_transport_checksum_verifies_udp():
    """UDP over IPv4: RFC 768's pseudo-header summed by RFC 1071's loop, and dpkt's."""
    seg = struct.pack("!HHHH", 1, 2, 12, 0) + b"abcd"
    ck = transport_checksum("198.18.0.1", "198.18.1.2", 17, seg)
    pseudo = bytes([198, 18, 0, 1, 198, 18, 1, 2, 0, 17, 0, 12])
    assert ck == ~ref_sum(pseudo + seg) & 0xFFFF
    assert ck == dpkt_checksum("198.18.0.1", "198.18.1.2", 17, seg)
    # Worked by hand: c612 + 0001 + c612 + 0102 (addresses) + 0011 + 000c (protocol,
    # length) + 0001 + 0002 + 000c + 0000 (header) + 6162 + 6364 ("abcd") = 0x2_5219,
    # folded 0x521b, complemented 0xade4.
    assert ck == 0xADE4
    datagram = build_ipv4("198.18.0.1", "198.18.1.2", 17, 64,
                          seg[:6] + struct.pack("!H", ck) + seg[8:])
    assert ref_checksum(datagram) == ck


def _dpkt_error_v4(icmp_type: int, code: int, inner: object) -> bytes:
    """An ICMP error built by dpkt (its own layout and checksum) quoting a UDP probe."""
    udp = struct.pack("!HHHH", 40000, 33434, 16, 0) + b"12345678"
    probe = build_ipv4("198.18.0.1", "198.18.3.2", 17, 1, udp)
    inner.data = probe[:28]
    msg = dpkt.icmp.ICMP(type=icmp_type, code=code, data=inner)
    return build_ipv4("198.18.2.1", "198.18.0.1", 1, 62, bytes(msg))


@pytest.mark.parametrize("icmp_type, code, inner, kind, pointer", [
    (dpkt.icmp.ICMP_PARAMPROB, 0, dpkt.icmp.ICMP.ParamProbe(ptr=9), "param-problem", 9),
    (dpkt.icmp.ICMP_SRCQUENCH, 0, dpkt.icmp.ICMP.Quench(), "source-quench", None),
    (dpkt.icmp.ICMP_REDIRECT, 1, dpkt.icmp.ICMP.Redirect(gw=0xC6120203), "redirect", None),
    (dpkt.icmp.ICMP_TIMEXCEED, 1, dpkt.icmp.ICMP.TimeExceed(), "time-exceeded", None),
])
def test_every_ipv4_error_kind_quotes_its_datagram(icmp_type, code, inner, kind, pointer):
    msg = parse_ip(_dpkt_error_v4(icmp_type, code, inner))
    assert (msg.kind, msg.type, msg.code, msg.cksum_ok) == (kind, icmp_type, code, True)
    assert msg.pointer == pointer and msg.mtu is None
    assert msg.quote.ports == (40000, 33434)


def _dpkt_error_v6(icmp_type: int, inner: object) -> bytes:
    udp = struct.pack("!HHHH", 5000, 33435, 8, 0)
    inner.data = build_ipv6("2001:db8::1", "2001:db8:0:3::2", 17, 1, udp)
    msg = dpkt.icmp6.ICMP6(type=icmp_type, code=0, data=inner)
    # dpkt leaves the ICMPv6 checksum to its IP6 packer; the pseudo-header sum here is
    # the one test_echo_v6_checksum_over_pseudo_header holds to dpkt's.
    return build_ipv6("2001:db8:0:2::1", "2001:db8::1", 58, 62,
                      with_icmp6_checksum("2001:db8:0:2::1", "2001:db8::1", bytes(msg)))


@pytest.mark.parametrize("icmp_type, inner, kind, pointer, mtu", [
    (dpkt.icmp6.ICMP6_PARAM_PROB, dpkt.icmp6.ICMP6.ParamProb(ptr=0x1234), "param-problem",
     0x1234, None),
    (dpkt.icmp6.ICMP6_PACKET_TOO_BIG, dpkt.icmp6.ICMP6.TooBig(mtu=1280), "packet-too-big",
     None, 1280),
    (dpkt.icmp6.ICMP6_TIME_EXCEEDED, dpkt.icmp6.ICMP6.TimeExceed(), "time-exceeded", None,
     None),
])
def test_every_ipv6_error_kind_quotes_its_datagram(icmp_type, inner, kind, pointer, mtu):
    msg = parse_ip(_dpkt_error_v6(icmp_type, inner))
    assert (msg.kind, msg.type, msg.cksum_ok) == (kind, icmp_type, True)
    assert (msg.pointer, msg.mtu) == (pointer, mtu)
    assert msg.quote.ports == (5000, 33435)


def test_a_type_with_no_meaning_here_is_other_and_keeps_its_body():
    msg = parse_ip(build_ipv4("198.18.2.1", "198.18.0.1", 1, 62,
                              bytes(dpkt.icmp.ICMP(type=dpkt.icmp.ICMP_TSTAMP, code=0,
                                                   data=b"\x00\x01\x00\x02" + b"abcdefghijkl"))))
    assert (msg.kind, msg.quote, msg.ident, msg.cksum_ok) == ("other", None, None, True)
    # The body starts after the 8-byte header (type, code, checksum, 4 bytes of its own).
    assert msg.body == b"abcdefghijkl" and msg.length == 20


def test_an_echo_reply_has_no_error_fields():
    reply = bytes(dpkt.icmp.ICMP(type=0, code=0, data=dpkt.icmp.ICMP.Echo(id=7, seq=8,
                                                                          data=b"pay")))
    msg = parse_ip(build_ipv4("198.18.3.2", "198.18.0.1", 1, 61, reply))
    assert (msg.kind, msg.ident, msg.seq, msg.payload, msg.length) == ("echo-reply", 7, 8,
                                                                      b"pay", 11)
    assert (msg.quote, msg.mtu, msg.pointer, msg.body) == (None, None, None, b"")


def test_an_echo_request_is_type_8_code_0_as_dpkt_reads_it():
    parsed = dpkt.icmp.ICMP(build_echo(4, 0x1234, 0x5678, b"abc"))
    assert (parsed.type, parsed.code) == (8, 0)
    assert (parsed.data.id, parsed.data.seq, parsed.data.data) == (0x1234, 0x5678, b"abc")


@pytest.mark.parametrize("payload", [b"", b"a", b"abc", bytes(range(56)), b"\xff" * 1473])
def test_an_echo_request_has_the_bytes_dpkt_builds(payload):
    """Packed by hand for start-up's sake, so dpkt's own builder is the oracle, checksum too."""
    want = bytes(dpkt.icmp.ICMP(type=8, code=0,
                                data=dpkt.icmp.ICMP.Echo(id=0xBEEF, seq=0xFFFF, data=payload)))
    assert build_echo(4, 0xBEEF, 0xFFFF, payload) == want


def test_the_shortest_messages_and_quotes():
    # Exactly the 8-byte header: a message; 7 bytes: not one.
    hdr = bytes(dpkt.icmp.ICMP(type=dpkt.icmp.ICMP_TSTAMP, code=0, data=b"\0\0\0\0"))
    assert len(hdr) == 8 and parse_ip(build_ipv4("198.18.2.1", "198.18.0.1", 1, 62, hdr))
    assert parse_ip(build_ipv4("198.18.2.1", "198.18.0.1", 1, 62, hdr[:7])) is None
    # A quote of the bare IP header still names the datagram, with no transport bytes.
    bare = build_ipv4("198.18.0.1", "198.18.3.2", 17, 1, b"")
    q = parse_quote(bare)
    assert (q.proto, q.transport, q.ports, q.echo) == (17, b"", None, None)
    # Four transport bytes give the ports; an echo needs all eight.
    q = parse_quote(build_ipv4("198.18.0.1", "198.18.3.2", 17, 1, b"\x9c\x40\x82\x9a"))
    assert q.ports == (40000, 33434)
    echo = build_echo(4, 0xBEEF, 42, b"")
    q = parse_quote(build_ipv4("198.18.0.1", "198.18.3.2", 1, 1, echo))
    assert q.echo == (0xBEEF, 42)
    assert parse_quote(build_ipv4("198.18.0.1", "198.18.3.2", 1, 1, echo[:7])).echo is None
    # Only UDP and TCP have ports; only ICMP echo requests have an identifier.
    assert parse_quote(build_ipv4("198.18.0.1", "198.18.3.2", 47, 1, bytes(8))).ports is None
    assert parse_quote(build_ipv4("198.18.0.1", "198.18.3.2", 17, 1, echo)).echo is None


def test_a_correct_icmpv6_checksum_is_good():
    # A correct sum over the message and pseudo-header folds to 0xffff (its twin,
    # 0, would need an all-zero sum, impossible with next header 58 in the
    # pseudo-header); one flipped bit breaks it.
    src, dst = "2001:db8:0:2::1", "2001:db8::1"
    good = with_icmp6_checksum(src, dst, struct.pack("!BBHHH", 129, 0, 0, 1, 1) + b"x")
    assert parse_ip(build_ipv6(src, dst, 58, 64, good)).cksum_ok
    bad = good[:2] + bytes([good[2] ^ 1]) + good[3:]
    assert not parse_ip(build_ipv6(src, dst, 58, 64, bad)).cksum_ok
