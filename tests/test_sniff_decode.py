"""The sniff decoder on literal packets: tcpdump's words, marks for damage, JSON fields.

Expected lines are what tcpdump 4.99 prints for the same bytes (`tcpdump -n`),
so a difference here is a difference a user would see side by side.
"""

from __future__ import annotations

import json
import random
import shutil
import struct

import pytest
from oracles import tcpdump_first_lines

from rawtools.tools.sniff import tcpseq
from rawtools.tools.sniff.decode import Decoder
from rawtools.wire import link
from rawtools.wire.checksum import inet_checksum

NOON = 1_700_000_000  # 22:13:20 UTC
A, B = bytes([198, 18, 0, 2]), bytes([198, 18, 1, 2])
A6 = bytes.fromhex("20010db8000000000000000000000001")
B6 = bytes.fromhex("20010db8000000000000000000000002")
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def eth(payload: bytes, etype: int = 0x0800) -> bytes:
    return MAC_B + MAC_A + struct.pack("!H", etype) + payload


def ip4(proto: int, payload: bytes, src: bytes = A, dst: bytes = B, *, ttl: int = 64,
        ident: int = 1, frag: int = 0x4000, options: bytes = b"") -> bytes:
    hl = 20 + len(options)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), ident, frag, ttl,
                      proto, 0, src, dst) + options
    return hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:] + payload


def ip6(nxt: int, payload: bytes, src: bytes = A6, dst: bytes = B6, hlim: int = 64) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, hlim, src, dst) + payload


def with_l4_checksum(src: bytes, dst: bytes, proto: int, seg: bytes, at: int) -> bytes:
    seg = seg[:at] + b"\0\0" + seg[at + 2:]
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!xBH", proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return seg[:at] + struct.pack("!H", inet_checksum(pseudo + seg)) + seg[at + 2:]


def udp(sport: int, dport: int, payload: bytes, src: bytes = A, dst: bytes = B) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return with_l4_checksum(src, dst, 17, seg, 6)


def tcp(sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"",
        options: bytes = b"", win: int = 64240, src: bytes = A, dst: bytes = B) -> bytes:
    hl = 20 + len(options)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0) \
        + options + payload
    return with_l4_checksum(src, dst, 6, seg, 16)


def icmp(typ: int, code: int, rest: bytes) -> bytes:
    msg = bytes([typ, code, 0, 0]) + rest
    return msg[:2] + struct.pack("!H", inet_checksum(msg)) + msg[4:]


def qname(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


DNS_QUERY = struct.pack("!HHHHHH", 1234, 0x0100, 1, 0, 0, 0) + qname("example.net") \
    + struct.pack("!HH", 1, 1)
DNS_ANSWER = (struct.pack("!HHHHHH", 1234, 0x8180, 1, 2, 0, 0) + qname("www.example.net")
              + struct.pack("!HH", 1, 1)
              + b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, 2) + b"\xc0\x10"
              + b"\xc0\x10" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([198, 18, 0, 5]))


def decoder(**kw) -> Decoder:
    kw.setdefault("ts_style", "abs")
    kw.setdefault("time_zone_utc", True)
    return Decoder(link.LINKTYPE_ETHERNET, **kw)


def text(frame: bytes, **kw) -> str:
    return decoder(ts_style="none", **kw).line(NOON * 10**9, frame, len(frame))


def test_dns_query_line_with_timestamp():
    frame = eth(ip4(17, udp(40000, 53, DNS_QUERY)))
    line = decoder().line(NOON * 10**9 + 1000, frame, len(frame))
    assert line == "22:13:20.000001 IP 198.18.0.2.40000 > 198.18.1.2.53: 1234+ A? example.net. (29)"


def test_dns_answer_follows_compression_pointers():
    frame = eth(ip4(17, udp(53, 40000, DNS_ANSWER, B, A), B, A))
    assert text(frame) == ("IP 198.18.1.2.53 > 198.18.0.2.40000: 1234 2/0/0 "
                           "CNAME example.net., A 198.18.0.5 (63)")


def test_dns_pointer_loop_is_marked_not_followed_forever():
    looped = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c"
    p = decoder(ts_style="none")
    frame = eth(ip4(17, udp(40000, 53, looped)))
    assert p.line(0, frame, len(frame)).endswith("7+ [|domain]")
    assert p.malformed == 1


def test_udp_other_port():
    frame = eth(ip4(17, udp(40000, 9, b"x" * 12)))
    assert text(frame) == "IP 198.18.0.2.40000 > 198.18.1.2.9: UDP, length 12"


def test_tcp_handshake_prints_relative_numbers_after_the_syn_ack():
    p = decoder(ts_style="none")
    opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + struct.pack("!II", 1, 0) + b"\x01\x03\x03\x07"
    syn = eth(ip4(6, tcp(40000, 80, 1000, 0, 0x02, options=opts)))
    synack = eth(ip4(6, tcp(80, 40000, 5000, 1001, 0x12, src=B, dst=A), B, A))
    data = eth(ip4(6, tcp(40000, 80, 1001, 5001, 0x18, b"GET /\r\n")))
    lines = [p.line(0, f, len(f)) for f in (syn, synack, data)]
    assert lines[:2] == [
        "IP 198.18.0.2.40000 > 198.18.1.2.80: Flags [S], seq 1000, win 64240, "
        "options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0",
        "IP 198.18.1.2.80 > 198.18.0.2.40000: Flags [S.], seq 5000, ack 1001, win 64240, length 0",
    ]
    # Port 80: tcpdump names the payload and prints its first line.
    assert lines[2].startswith(
        "IP 198.18.0.2.40000 > 198.18.1.2.80: Flags [P.], seq 1:8, ack 1, win 64240, length 7: ")
    if shutil.which("tcpdump"):
        assert lines == tcpdump_first_lines([syn, synack, data])
    assert p.malformed == 0


def test_tcp_sequences_both_directions_a_connection_to_itself_and_the_limit(monkeypatch):
    ack = 0x10
    seqs = tcpseq.TcpSequences()
    there, back = (A, 40000, B, 80), (B, 80, A, 40000)
    # The first prints absolute; SACK edges there read one below its ack, as tcpdump's
    # do (test_sniff_printers' odd options test meets them on first segments).
    assert seqs.relative(there, 100, 200, ack) == (100, 200, 199)
    assert seqs.relative(there, 110, 200, ack) == (10, 1, 199)
    assert seqs.relative(back, 205, 111, ack) == (6, 11, 100)
    assert seqs.relative(back, 900, 5, ack | 0x02) == (900, 5, 4)  # a SYN starts over
    assert seqs.relative(there, 6, 905, ack) == (2, 5, 900)
    itself = (A, 5, A, 5)
    assert seqs.relative(itself, 100, 200, ack) == (100, 200, 199)
    assert seqs.relative(itself, 150, 250, ack) == (50, 51, 199)
    # A new connection finding the table full empties it: all start over.
    monkeypatch.setattr(tcpseq, "MAX_CONNECTIONS", 3)
    assert seqs.relative((A, 1, B, 2), 7, 8, ack) == (7, 8, 7)
    assert seqs.relative(there, 7, 905, ack) == (3, 5, 900)
    assert seqs.relative((A, 3, B, 4), 7, 8, ack) == (7, 8, 7)
    assert seqs.relative(there, 7, 905, ack) == (7, 905, 904)
    assert seqs.relative(there, 8, 905, ack) == (1, 1, 904)


def test_icmp_echo_and_port_unreachable_quote():
    echo = eth(ip4(1, icmp(8, 0, struct.pack("!HH", 77, 3) + bytes(56))))
    assert text(echo) == "IP 198.18.0.2 > 198.18.1.2: ICMP echo request, id 77, seq 3, length 64"
    quoted = ip4(17, udp(40000, 33434, b"")[:8])
    unreach = eth(ip4(1, icmp(3, 3, bytes(4) + quoted), B, A))
    assert text(unreach) == ("IP 198.18.1.2 > 198.18.0.2: ICMP 198.18.1.2 udp port 33434 "
                             "unreachable, length 36")


def test_icmp6_neighbour_discovery_and_echo():
    ns = icmp(135, 0, bytes(4) + B6)
    frame = eth(ip6(58, with_l4_checksum(A6, B6, 58, ns, 2), hlim=255), 0x86DD)
    assert text(frame) == ("IP6 2001:db8::1 > 2001:db8::2: ICMP6, neighbor solicitation, "
                           "who has 2001:db8::2, length 24")
    echo = with_l4_checksum(A6, B6, 58, icmp(128, 0, struct.pack("!HH", 9, 1) + b"abcd"), 2)
    assert text(eth(ip6(58, echo), 0x86DD)) == \
        "IP6 2001:db8::1 > 2001:db8::2: ICMP6, echo request, id 9, seq 1, length 12"


def test_ipv6_hop_by_hop_then_udp():
    hbh = bytes([17, 0]) + b"\x01\x04\x00\x00\x00\x00"
    frame = eth(ip6(0, hbh + udp(5000, 6000, b"hi", A6, B6)), 0x86DD)
    assert text(frame) == "IP6 2001:db8::1 > 2001:db8::2: HBH 5000 > 6000: UDP, length 2"


def test_arp_request_and_reply():
    req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, A, bytes(6), B)
    assert text(eth(req + bytes(18), 0x0806)) == \
        "ARP, Request who-has 198.18.1.2 tell 198.18.0.2, length 46"
    rep = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, MAC_B, B, MAC_A, A)
    assert text(eth(rep, 0x0806)) == "ARP, Reply 198.18.1.2 is-at 02:00:00:00:00:02, length 28"


def test_vlan_link_header_with_e():
    frame = MAC_B + MAC_A + b"\x81\x00\x00\x64\x08\x00" + ip4(17, udp(1, 2, b""))
    assert text(frame, link_header=True) == (
        "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 802.1Q (0x8100), length 46: "
        "vlan 100, p 0, ethertype IPv4 (0x0800), 198.18.0.2.1 > 198.18.1.2.2: UDP, length 0")


def test_non_first_fragment_has_no_ports():
    frame = eth(ip4(17, b"x" * 24, frag=0x0003))
    assert text(frame) == "IP 198.18.0.2 > 198.18.1.2: ip-proto-17"


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump, the oracle")
def test_snapped_udp_is_marked_and_counted():
    frame = eth(ip4(17, udp(40000, 9, b"x" * 100)))
    p = decoder(ts_style="none")
    # tcpdump's mark after the ports: "...9:  [|udp]", its own space included.
    assert [p.line(0, frame[:38], len(frame))] == tcpdump_first_lines([frame], snaplen=38)
    assert p.malformed == 1


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump, the oracle")
def test_snapped_ipv6_udp_header_takes_the_batch_path_too():
    """A capture cut inside an IPv6 UDP header (`-s 58`) reads `[|udp]` from texts() too.

    The batch loop used to unpack the UDP header without checking that it
    was captured, and raised.
    """
    frame = eth(ip6(17, udp(1, 2, b"x" * 12, A6, B6)), 0x86DD)
    p = decoder(ts_style="none")
    assert p.texts([(0, frame[:58], len(frame))]) == tcpdump_first_lines([frame], snaplen=58)
    assert p.malformed == 1


def test_ip_length_beyond_the_frame_is_reported():
    frame = eth(ip4(17, udp(1, 2, b"abcd")))
    frame = frame[:16] + struct.pack("!H", 100) + frame[18:]
    assert "truncated-ip - 68 bytes missing!" in text(frame)


def test_verbose_flags_bad_ip_and_tcp_checksums():
    good = eth(ip4(6, tcp(1, 2, 10, 0, 0x02)))
    p = decoder(ts_style="none", verbose=1)
    out = p.line(0, good, len(good))
    assert "(tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 40)\n    " in out
    assert "cksum" in out and "(correct)" in out
    bad = bytearray(good)
    bad[24] ^= 0xFF  # IP checksum
    bad[14 + 20 + 16] ^= 0xFF  # TCP checksum
    out = p.line(0, bytes(bad), len(bad))
    assert "bad cksum" in out and "(incorrect -> 0x" in out
    assert p.malformed == 1


def test_verbose_udp_checksum_over_ipv6():
    frame = bytearray(eth(ip6(17, udp(1, 2, b"abc", A6, B6)), 0x86DD))
    assert "[udp sum ok] UDP, length 3" in text(bytes(frame), verbose=1)
    frame[14 + 40 + 6] ^= 1
    assert "[bad udp cksum 0x" in text(bytes(frame), verbose=1)


@pytest.mark.parametrize("style,expected", [
    ("epoch", ["1700000000.000001 ", "1700000000.250001 "]),
    ("delta", [" 00:00:00.000000 ", " 00:00:00.250000 "]),
    ("none", ["", ""]),
])
def test_timestamp_styles(style, expected):
    p = decoder(ts_style=style)
    frame = eth(ip4(17, udp(1, 2, b"")))
    t0 = NOON * 10**9 + 1000
    got = [p.line(t, frame, len(frame)).split("IP ")[0] for t in (t0, t0 + 250_000_000)]
    assert got == expected


def test_hex_and_ascii_dumps_skip_the_link_header():
    frame = eth(ip4(17, udp(1, 2, b"hello\nworld")))
    assert text(frame, hexdump="x").split("\n")[1:] == [
        "\t0x0000:  4500 0027 0001 4000 4011 ad9c c612 0002",
        "\t0x0010:  c612 0102 0001 0002 0013 e0e3 6865 6c6c",
        "\t0x0020:  6f0a 776f 726c 64"]
    assert text(frame, hexdump="X").split("\n")[1:] == [
        "\t0x0000:  4500 0027 0001 4000 4011 ad9c c612 0002  E..'..@.@.......",
        "\t0x0010:  c612 0102 0001 0002 0013 e0e3 6865 6c6c  ............hell",
        "\t0x0020:  6f0a 776f 726c 64                        o.world"]
    assert text(frame, hexdump="A").split("\n")[-2:] == [
        "E..'..@.@...................hello", "world"]


def test_record_follows_the_json_convention():
    frame = eth(ip4(17, udp(40000, 53, DNS_QUERY)))
    rec = decoder().record(NOON * 10**9, frame, len(frame))
    assert (rec["schema"], rec["tool"], rec["type"]) == ("rawtools/1", "sniff", "packet")
    assert (rec["src"], rec["dst"], rec["sport"], rec["dport"]) == \
        ("198.18.0.2", "198.18.1.2", 40000, 53)
    assert rec["dns"]["qname"] == "example.net." and rec["dns"]["qtype"] == "A"
    assert rec["summary"] == "IP 198.18.0.2.40000 > 198.18.1.2.53: 1234+ A? example.net. (29)"
    assert rec["malformed"] is False
    json.dumps(rec)


def test_unsupported_link_type_still_gives_a_line():
    p = Decoder(105, ts_style="none")
    assert p.line(0, b"\x00" * 30, 30) == "link-type 105, length 30"


@pytest.mark.parametrize("linktype", [link.LINKTYPE_ETHERNET, link.LINKTYPE_LINUX_SLL,
                                      link.LINKTYPE_LINUX_SLL2, link.LINKTYPE_NULL,
                                      link.LINKTYPE_RAW, link.LINKTYPE_IPV6])
def test_random_damage_never_raises(linktype):
    """Flip and cut real packets at random: every result is a line, never an exception."""
    rng = random.Random(linktype)
    seeds = [ip4(17, udp(1, 53, DNS_ANSWER)), ip4(6, tcp(1, 2, 3, 4, 0x18, b"x", b"\x08\x0a")),
             ip4(1, icmp(3, 3, bytes(4) + ip4(17, udp(1, 2, b"")))),
             ip6(0, bytes([58, 0]) + bytes(6) + icmp(135, 0, bytes(4) + B6)),
             struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + bytes(20)]
    heads = {link.LINKTYPE_ETHERNET: [MAC_A + MAC_B + b"\x08\x00", MAC_A + MAC_B + b"\x86\xdd",
                                      MAC_A + MAC_B + b"\x08\x06"],
             link.LINKTYPE_LINUX_SLL: [struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800)],
             link.LINKTYPE_LINUX_SLL2: [struct.pack("!H2xiHBB8s", 0x0800, 1, 1, 0, 6, bytes(8))],
             link.LINKTYPE_NULL: [struct.pack("<I", 2), struct.pack("<I", 30)]}
    for verbose in (0, 2):
        p = Decoder(linktype, verbose=verbose, ts_style="none", hexdump="X", link_header=True)
        for _ in range(1500):
            frame = bytearray(rng.choice(heads.get(linktype, [b""])) + rng.choice(seeds))
            for _ in range(rng.randrange(4)):
                frame[rng.randrange(len(frame))] = rng.randrange(256)
            cut = bytes(frame[:rng.randrange(len(frame) + 1)])
            assert isinstance(p.line(0, cut, len(frame)), str)
            json.dumps(p.record(0, cut, len(frame)))
