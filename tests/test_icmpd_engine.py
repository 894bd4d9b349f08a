"""icmpd's matching engine on ICMP errors built byte by byte here, not by rawtools.

Every header below is packed with struct from RFC 791/768/792/8200/4443's
layouts, and every checksum is RFC 1071's textbook loop (tests/oracles.py),
so a wrong offset or sum in the code under test cannot hide behind itself.
"""

from __future__ import annotations

import errno
import socket
import struct

from oracles import ref_sum

from rawtools.engine import Received
from rawtools.tools.icmpd.engine import IcmpdEngine, Registration
from rawtools.tools.icmpd.events import Delivered, Malformed, Unmatched

US4, US4B, DST4, R1_4 = "198.18.0.1", "198.18.0.9", "198.18.1.2", "198.18.0.2"
US6, DST6, R1_6 = "2001:db8::1", "2001:db8:0:1::2", "2001:db8::2"
TS = 1_700_000_000_123_456_789


def a4(addr: str) -> bytes:
    return socket.inet_aton(addr)


def a6(addr: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, addr)


def ip4(src: str, dst: str, proto: int, ttl: int, payload: bytes, ident: int = 0x4242) -> bytes:
    head = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000,
                                 ttl, proto, 0, a4(src), a4(dst)))
    head[10:12] = struct.pack("!H", ~ref_sum(bytes(head)) & 0xFFFF)
    return bytes(head) + payload


def ip6(src: str, dst: str, nxt: int, hlim: int, payload: bytes) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nxt, hlim, a6(src),
                       a6(dst)) + payload


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes, v6: bool = False) -> bytes:
    """A UDP header and payload with the checksum RFC 768 / 8200 give it."""
    length = 8 + len(payload)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + payload
    if v6:
        pseudo = a6(src) + a6(dst) + struct.pack("!I3xB", length, 17)
    else:
        pseudo = a4(src) + a4(dst) + struct.pack("!BBH", 0, 17, length)
    ck = (~ref_sum(pseudo + seg) & 0xFFFF) or 0xFFFF
    return seg[:6] + struct.pack("!H", ck) + seg[8:]


def icmp4(typ: int, code: int, rest: bytes, quote: bytes) -> bytes:
    msg = bytearray(struct.pack("!BBH", typ, code, 0) + rest + quote)
    msg[2:4] = struct.pack("!H", ~ref_sum(bytes(msg)) & 0xFFFF)
    return bytes(msg)


def icmp6(src: str, dst: str, typ: int, code: int, rest: bytes, quote: bytes) -> bytes:
    msg = bytearray(struct.pack("!BBH", typ, code, 0) + rest + quote)
    pseudo = a6(src) + a6(dst) + struct.pack("!I3xB", len(msg), 58)
    msg[2:4] = struct.pack("!H", ~ref_sum(pseudo + bytes(msg)) & 0xFFFF)
    return bytes(msg)


def sent4(src: str = US4, sport: int = 40000, dport: int = 9, payload: bytes = b"hello") -> bytes:
    """The datagram our socket sent, as the router quotes it (TTL already spent)."""
    return ip4(src, DST4, 17, 1, udp(src, DST4, sport, dport, payload))


def sent6(src: str = US6, sport: int = 40000, dport: int = 9, payload: bytes = b"hello") -> bytes:
    return ip6(src, DST6, 17, 1, udp(src, DST6, sport, dport, payload, v6=True))


def err4(typ: int, code: int, quote: bytes, rest: bytes = bytes(4), frm: str = DST4,
         to: str = US4) -> bytes:
    return ip4(frm, to, 1, 61, icmp4(typ, code, rest, quote))


def err6(typ: int, code: int, quote: bytes, rest: bytes = bytes(4), frm: str = DST6,
         to: str = US6) -> bytes:
    return ip6(frm, to, 58, 61, icmp6(frm, to, typ, code, rest, quote))


def engine(*regs: Registration, local: tuple[str, ...] = ()) -> IcmpdEngine:
    e = IcmpdEngine(local)
    for r in regs:
        e.register(r)
    return e


def feed(e: IcmpdEngine, pkt: bytes) -> list:
    e.received(Received(TS, pkt))
    return e.take_events()


REG4 = Registration(reg=1, client=10, tag=7, version=4, addr=US4, port=40000)
REG6 = Registration(reg=2, client=11, tag=8, version=6, addr=US6, port=40000)


def test_a_v4_port_unreachable_reaches_its_socket_as_econnrefused():
    (ev,) = feed(engine(REG4), err4(3, 3, sent4()))
    assert isinstance(ev, Delivered) and (ev.client, ev.reg) == (10, 1)
    e = ev.error
    assert (e.tag, e.version, e.type, e.code, e.errno) == (7, 4, 3, 3, errno.ECONNREFUSED)
    assert (e.dst, e.dport, e.local, e.lport) == (DST4, 9, US4, 40000)
    assert (e.offender, e.ttl, e.mtu, e.ts_ns, e.rewritten) == (DST4, 61, None, TS, ())


def test_fragmentation_needed_is_emsgsize_with_the_routers_mtu():
    rest = struct.pack("!HH", 0, 1400)  # RFC 1191: unused, next-hop MTU
    (ev,) = feed(engine(REG4), err4(3, 4, sent4(), rest, frm=R1_4))
    assert (ev.error.errno, ev.error.mtu, ev.error.offender) == (errno.EMSGSIZE, 1400, R1_4)


def test_time_exceeded_is_ehostunreach():
    (ev,) = feed(engine(REG4), err4(11, 0, sent4(), frm=R1_4))
    assert (ev.error.type, ev.error.errno, ev.error.mtu) == (11, errno.EHOSTUNREACH, None)


def test_v6_port_unreachable_packet_too_big_and_time_exceeded():
    e = engine(REG6)
    (a,) = feed(e, err6(1, 4, sent6()))
    (b,) = feed(e, err6(2, 0, sent6(), struct.pack("!I", 1280), frm=R1_6))
    (c,) = feed(e, err6(3, 0, sent6(), frm=R1_6))
    assert (a.error.errno, a.error.dst, a.error.local, a.error.tag) == (
        errno.ECONNREFUSED, DST6, US6, 8)
    assert (b.error.errno, b.error.mtu, b.error.offender) == (errno.EMSGSIZE, 1280, R1_6)
    assert (c.error.errno, c.error.type, c.error.version) == (errno.EHOSTUNREACH, 3, 6)


def test_one_port_two_addresses_each_socket_gets_only_its_own():
    other = Registration(reg=3, client=12, tag=9, version=4, addr=US4B, port=40000)
    e = engine(REG4, other)
    (ev,) = feed(e, err4(3, 3, sent4(src=US4B), to=US4B))
    assert (ev.client, ev.error.tag, ev.error.local) == (12, 9, US4B)
    (ev,) = feed(e, err4(3, 3, sent4()))
    assert (ev.client, ev.error.tag) == (10, 7)


def test_a_wildcard_socket_gets_errors_from_any_of_its_addresses():
    wild = Registration(reg=4, client=13, tag=1, version=4, addr="0.0.0.0", port=40000)
    e = engine(wild)
    assert [ev.client for ev in feed(e, err4(3, 3, sent4()))] == [13]
    assert [ev.client for ev in feed(e, err4(3, 3, sent4(src=US4B), to=US4B))] == [13]
    (miss,) = feed(e, err4(3, 3, sent4(sport=40001)))
    assert isinstance(miss, Unmatched)


def test_a_dual_stack_v6_socket_gets_v4_errors_and_a_v6only_one_does_not():
    dual = Registration(reg=5, client=14, tag=2, version=6, addr="::", port=40000, dual=True)
    only = Registration(reg=6, client=15, tag=3, version=6, addr="::", port=40000)
    (ev,) = feed(engine(dual, only), err4(3, 3, sent4()))
    assert (ev.client, ev.error.version, ev.error.local) == (14, 4, US4)
    mapped = Registration(reg=7, client=16, tag=4, version=6, addr=f"::ffff:{US4}",
                          port=40000, dual=True)
    (ev,) = feed(engine(mapped), err4(3, 3, sent4()))
    assert ev.client == 16


def test_no_registration_no_delivery_and_unregister_forgets():
    e = engine(REG4)
    assert e.unregister(1) == REG4 and e.unregister(1) is None
    (ev,) = feed(e, err4(3, 3, sent4()))
    assert ev == Unmatched(TS, 4, 3, 3, DST4, US4, 40000, DST4, 9)
    assert (e.delivered, e.unmatched) == (0, 1)


def test_an_error_quoting_tcp_or_an_echo_reply_is_ignored():
    tcp = ip4(US4, DST4, 6, 1, struct.pack("!HHII", 40000, 9, 1, 0))
    e = engine(REG4, Registration(reg=9, client=1, tag=1, version=4, addr=US4, port=0))
    assert feed(e, err4(3, 3, tcp)) == []
    echo_reply = ip4(DST4, US4, 1, 64, icmp4(0, 0, struct.pack("!HH", 1, 1), b"ping"))
    assert feed(e, echo_reply) == []
    assert (e.ignored, e.delivered, e.malformed, e.unmatched) == (2, 0, 0, 0)


def test_a_bad_icmp_checksum_is_malformed():
    pkt = bytearray(err4(3, 3, sent4()))
    pkt[22] ^= 0xFF  # the ICMP checksum's first byte
    (ev,) = feed(engine(REG4), bytes(pkt))
    assert isinstance(ev, Malformed) and DST4 in ev.reason
    pkt6 = bytearray(err6(1, 4, sent6()))
    pkt6[42] ^= 0x01
    (ev,) = feed(engine(REG6), bytes(pkt6))
    assert isinstance(ev, Malformed)


def test_truncated_packets_are_malformed():
    whole = err4(3, 3, sent4())
    e = engine(REG4)
    for cut in (10, 24, 40):
        (ev,) = feed(e, whole[:cut])
        assert isinstance(ev, Malformed), cut
    assert e.malformed == 3 and e.delivered == 0


def test_a_quote_whose_udp_length_disagrees_was_rewritten():
    quote = bytearray(sent4())
    quote[24:26] = struct.pack("!H", 8 + 5 + 4)  # UDP length 17, IP payload 13
    (ev,) = feed(engine(REG4), err4(3, 3, bytes(quote)))
    assert ev.error.rewritten == ("udp-length",)


def test_a_quote_whose_udp_checksum_does_not_add_up_was_rewritten():
    # Something on the way turned the payload "hello" into "jello" and left the
    # checksum alone: summed by hand, the field no longer matches.
    good = udp(US4, DST4, 40000, 9, b"hello")
    seg = good[:8] + b"jello"
    quote = ip4(US4, DST4, 17, 1, seg)
    pseudo = a4(US4) + a4(DST4) + struct.pack("!BBH", 0, 17, 13)
    assert ~ref_sum(pseudo + seg[:6] + b"\0\0" + seg[8:]) & 0xFFFF != struct.unpack(
        "!H", seg[6:8])[0]
    (ev,) = feed(engine(REG4), err4(3, 3, quote))
    assert ev.error.rewritten == ("udp-checksum",)
    (ev,) = feed(engine(REG4), err4(3, 3, sent4()))
    assert ev.error.rewritten == ()


def test_a_quoted_source_that_is_not_ours_was_rewritten_when_our_addresses_are_known():
    wild = Registration(reg=1, client=1, tag=1, version=4, addr="0.0.0.0", port=40000)
    quote = sent4(src="198.19.5.5")
    (ev,) = feed(engine(wild, local=(US4,)), err4(3, 3, quote, to="198.19.5.5"))
    assert ev.error.rewritten == ("source-address",)
    (ev,) = feed(engine(wild), err4(3, 3, quote, to="198.19.5.5"))
    assert ev.error.rewritten == ()
    (ev,) = feed(engine(wild, local=(US4,)), err4(3, 3, sent4()))
    assert ev.error.rewritten == ()


def test_an_unmatched_fragmentation_needed_keeps_its_mtu():
    (ev,) = feed(engine(), err4(3, 4, sent4(), struct.pack("!HH", 0, 1280), frm=R1_4))
    assert isinstance(ev, Unmatched) and (ev.offender, ev.mtu) == (R1_4, 1280)


# UNP's icmpd table (section 28.7), as Linux's icmp_err_convert/icmpv6_err_convert
# decide it: by type first, then by code within that type; every other error is
# EHOSTUNREACH. Written as a lookup, not as the engine's chain of tests.
_UNP_ERRNO = {4: {(3, 3): errno.ECONNREFUSED, (3, 4): errno.EMSGSIZE},
              6: {(1, 4): errno.ECONNREFUSED}}
_UNP_ERRNO_BY_TYPE = {6: {2: errno.EMSGSIZE}}  # packet too big, whatever its code


def test_errno_is_chosen_by_type_then_code_for_every_type_and_code():
    """A code means something only under its type: v6 no-route or a v4 time exceeded
    carrying code 3 or 4 must not borrow port unreachable's or fragmentation needed's errno."""
    from rawtools.tools.icmpd.engine import error_errno
    for version, types in ((4, (3, 4, 5, 11, 12)), (6, (1, 2, 3, 4))):
        for typ in types:
            for code in range(16):
                want = _UNP_ERRNO[version].get(
                    (typ, code), _UNP_ERRNO_BY_TYPE.get(version, {}).get(typ, errno.EHOSTUNREACH))
                assert error_errno(version, typ, code) == want, (version, typ, code)


def test_a_v6_no_route_unreachable_is_ehostunreach_not_refused():
    (ev,) = feed(engine(REG6), err6(1, 0, sent6(), frm=R1_6))
    assert (ev.error.type, ev.error.code, ev.error.errno) == (1, 0, errno.EHOSTUNREACH)


def test_the_daemon_runs_until_stopped_and_done_is_a_bool():
    """rawtools.engine's contract: a runner loops while `done` is false, so a fresh
    engine must say False (not True, nor None), and True once stopped."""
    e = IcmpdEngine()
    assert e.done is False
    assert e.poll(TS) == [] and e.next_deadline() is None
    e.stop(TS)
    assert e.done is True


def test_unregistering_one_of_two_holders_of_a_socket_keeps_the_other():
    """The module's promise: a socket two processes registered is served to both, so
    forgetting one registration must leave the other's (same address and port) in place;
    forgetting the last leaves nothing behind."""
    twin = Registration(reg=3, client=12, tag=9, version=4, addr=US4, port=40000)
    e = engine(REG4, twin)
    assert sorted(ev.client for ev in feed(e, err4(3, 3, sent4()))) == [10, 12]
    assert e.unregister(1) == REG4
    (ev,) = feed(e, err4(3, 3, sent4()))
    assert (ev.client, ev.reg, ev.error.tag) == (12, 3, 9)
    assert e.registrations() == [twin]
    assert e.unregister(3) == twin and e.registrations() == []
    (miss,) = feed(e, err4(3, 3, sent4()))
    assert isinstance(miss, Unmatched)
    e.register(REG4)
    (ev,) = feed(e, err4(3, 3, sent4()))
    assert ev.client == 10


def test_a_datagram_that_is_not_icmp_is_counted_as_ignored_once_each():
    """A replay's capture holds more than ICMP: a UDP datagram is not an error to
    forward, so it is ignored (not malformed), and each one counts once."""
    e = engine(REG4, REG6)
    assert feed(e, sent4()) == [] and feed(e, sent6()) == [] and feed(e, sent4()) == []
    assert (e.ignored, e.malformed, e.unmatched, e.delivered) == (3, 0, 0, 0)


def test_each_error_about_another_protocol_is_ignored_once():
    """Errors quoting TCP (or an echo request) are someone else's business: each counts
    once as ignored, whatever came before it."""
    tcp = ip4(US4, DST4, 6, 1, struct.pack("!HHII", 40000, 9, 1, 0))
    e = engine(REG4)
    echo_reply = ip4(DST4, US4, 1, 64, icmp4(0, 0, struct.pack("!HH", 1, 1), b"ping"))
    for n, pkt in enumerate((echo_reply, err4(3, 3, tcp), err4(11, 0, tcp, frm=R1_4)), 1):
        assert feed(e, pkt) == [] and e.ignored == n
    assert (e.malformed, e.unmatched, e.delivered) == (0, 0, 0)


def test_the_udp_length_is_judged_from_rfc_792s_minimal_quote_and_not_from_less():
    """RFC 792 routers quote the IP header and 64 bits of data: exactly the UDP header,
    which holds the length field, so a lying length shows even there. A quote cut before
    the length field (ports only) cannot say anything about it."""
    bad = bytearray(sent4(payload=b"hello"))
    bad[24:26] = struct.pack("!H", 8 + 5 + 4)  # UDP says 17 bytes, IP carries 13
    (ev,) = feed(engine(REG4), err4(3, 3, bytes(bad[:28])))
    assert ev.error.rewritten == ("udp-length",)
    (ev,) = feed(engine(REG4), err4(3, 3, sent4()[:28]))
    assert ev.error.rewritten == ()
    for cut in (24, 26):  # the ports; the ports and the length but no checksum
        (ev,) = feed(engine(REG4), err4(3, 3, sent4()[:cut]))
        assert (ev.error.lport, ev.error.dport, ev.error.rewritten) == (40000, 9, ()), cut
