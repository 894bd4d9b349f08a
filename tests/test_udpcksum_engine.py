"""The udpcksum engine driven by hand on virtual time, and its text, with literal datagrams."""

from __future__ import annotations

import io
import struct

from rawtools.engine import Received
from rawtools.tools.udpcksum.engine import UdpCksumEngine
from rawtools.tools.udpcksum.events import Answered, IcmpError, NoResponse, Sent, Timeout
from rawtools.tools.udpcksum.render import TextRenderer, hexdump
from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmp import with_icmp6_checksum
from rawtools.wire.ip import build_ipv4, build_ipv6
from rawtools.wire.probes import udp_header
from rawtools.wire.udp import UdpProbe

NS = 1_000_000_000
MS = 1_000_000
US4, DST4 = "198.18.0.1", "198.18.1.2"
US6, DST6 = "2001:db8::1", "2001:db8:0:1::2"
T0 = 1_700_000_000 * NS


def probe(version: int = 4, **kw) -> UdpProbe:
    us, dst = (US6, DST6) if version == 6 else (US4, DST4)
    return UdpProbe(version, us, dst, 40000, 53, b"question", ident=0x1234, **kw)


def reply(p: UdpProbe, payload: bytes = b"answer", checksum: int | None = None,
          src: str | None = None, sport: int | None = None) -> bytes:
    seg = bytearray(udp_header(src or p.dst, p.src, sport or p.dport, p.sport, payload))
    if checksum is not None:
        seg[6:8] = struct.pack("!H", checksum)
    if p.version == 6:
        return build_ipv6(src or p.dst, p.src, 17, 63, bytes(seg))
    return build_ipv4(src or p.dst, p.src, 17, 63, bytes(seg))


def icmp4_error(p: UdpProbe, typ: int, code: int, src: str, quoted: bytes | None = None) -> bytes:
    body = bytearray(struct.pack("!BBHI", typ, code, 0, 0) + (quoted or p.datagram())[:28])
    body[2:4] = struct.pack("!H", inet_checksum(bytes(body)))
    return build_ipv4(src, p.src, 1, 62, bytes(body))


def icmp6_error(p: UdpProbe, typ: int, code: int, src: str) -> bytes:
    body = struct.pack("!BBHI", typ, code, 0, 0) + p.datagram()
    return build_ipv6(src, p.src, 58, 62, with_icmp6_checksum(src, p.src, body))


def start(e: UdpCksumEngine, now: int = T0) -> None:
    (s,) = e.poll(now)
    assert s.data == e.datagram and s.dst == e.probe.dst
    e.sent(s, now)


def test_the_first_try_goes_at_once_and_a_reply_ends_the_run():
    e = UdpCksumEngine(probe(), 3 * NS, 2)
    start(e)
    assert e.next_deadline() == T0 + 3 * NS
    e.received(Received(T0 + 2 * MS, reply(e.probe)))
    assert e.done and e.outcome == "reply" and e.rtt_ns == 2 * MS
    sent, answered = e.take_events()
    assert isinstance(sent, Sent) and (sent.try_no, sent.tries) == (1, 3)
    assert isinstance(answered, Answered) and answered.check.verdict == "valid"
    assert e.next_deadline() is None and e.poll(T0 + 10 * NS) == []


def test_retries_back_off_3_6_12_then_no_response_after_21_s():
    e = UdpCksumEngine(probe(), 3 * NS, 2)
    start(e)
    sends = [T0]
    assert e.poll(T0 + 3 * NS - 1) == []
    for at in (T0 + 3 * NS, T0 + 9 * NS):
        assert e.next_deadline() == at
        (s,) = e.poll(at)
        e.sent(s, at)
        sends.append(at)
    assert e.next_deadline() == T0 + 21 * NS
    assert e.poll(T0 + 21 * NS) == [] and e.done and e.outcome == "no-response"
    events = e.take_events()
    assert [type(ev).__name__ for ev in events] == ["Sent", "Timeout", "Sent", "Timeout", "Sent",
                                                    "Timeout", "NoResponse"]
    timeouts = [ev for ev in events if isinstance(ev, Timeout)]
    assert [(t.try_no, t.waited_ns, t.again) for t in timeouts] == [
        (1, 3 * NS, True), (2, 6 * NS, True), (3, 12 * NS, False)]
    assert events[-1] == NoResponse(3, 21 * NS)
    assert all(ev.datagram == e.datagram for ev in events if isinstance(ev, Sent))


def test_a_reply_to_the_second_try_is_timed_from_it():
    e = UdpCksumEngine(probe(), NS, 3)
    start(e)
    (s,) = e.poll(T0 + NS)
    e.sent(s, T0 + NS + 10)
    e.received(Received(T0 + NS + 10 + 5 * MS, reply(e.probe)))
    assert e.outcome == "reply" and e.tries == 2 and e.rtt_ns == 5 * MS


def test_foreign_and_broken_datagrams_are_counted_and_the_wait_goes_on():
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    e.received(Received(T0 - 1, reply(p)))  # before anything was sent
    start(e)
    e.received(Received(T0 + 1, reply(p, sport=54)))
    e.received(Received(T0 + 2, reply(p, src="198.18.1.3")))
    e.received(Received(T0 + 3, b"\x45garbage"))
    e.received(Received(T0 + 4, reply(p)[:24]))
    assert not e.done and (e.unrelated, e.malformed) == (3, 2)


def test_a_port_unreachable_quoting_our_datagram_means_no_server():
    for version, err in ((4, lambda p: icmp4_error(p, 3, 3, DST4)),
                         (6, lambda p: icmp6_error(p, 1, 4, DST6))):
        p = probe(version)
        e = UdpCksumEngine(p, 3 * NS, 2)
        start(e)
        e.received(Received(T0 + MS, err(p)))
        assert e.outcome == "no-server" and e.icmp is not None
        ev = e.take_events()[-1]
        assert isinstance(ev, IcmpError) and ev.no_server and ev.rtt_ns == MS


def test_an_error_quoting_someone_else_is_not_ours():
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    other = UdpProbe(4, US4, DST4, 40001, 53, b"question", ident=0x1234)
    e.received(Received(T0 + 1, icmp4_error(p, 3, 3, DST4, quoted=other.datagram())))
    redirect = icmp4_error(p, 5, 1, "198.18.0.2")
    e.received(Received(T0 + 2, redirect))
    corrupt = bytearray(icmp4_error(p, 3, 3, DST4))
    corrupt[22] ^= 0xFF
    e.received(Received(T0 + 3, bytes(corrupt)))
    assert not e.done and (e.unrelated, e.malformed) == (2, 1)


def test_another_icmp_error_ends_the_run_and_is_named():
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    e.received(Received(T0 + MS, icmp4_error(p, 3, 1, "198.18.0.2")))
    assert e.outcome == "icmp-error"
    out = io.StringIO()
    TextRenderer(out).event(e.take_events()[-1])
    assert out.getvalue() == ("ICMP error from 198.18.0.2: Destination Host Unreachable "
                              "(1.000 ms)\n")


def test_stop_interrupts():
    e = UdpCksumEngine(probe(), 3 * NS, 2)
    start(e)
    e.stop(T0 + NS)
    assert e.done and e.outcome == "interrupted" and e.next_deadline() is None


def render(events, verbose=False) -> str:
    out = io.StringIO()
    r = TextRenderer(out, verbose=verbose)
    for ev in events:
        r.event(ev)
    return out.getvalue()


def test_the_text_says_unp_words_first():
    p = probe()
    for field, words in ((None, "UDP checksums on: 0x"), (0, "UDP checksums off: the checksum "
                                                                "field is 0 (not computed)")):
        e = UdpCksumEngine(p, 3 * NS, 2)
        start(e)
        e.received(Received(T0 + MS, reply(p, checksum=field)))
        text = render(e.take_events())
        assert text.splitlines()[0] == ("reply from 198.18.1.2.53: 34 bytes (6 of UDP payload), "
                                        "ttl 63, 1.000 ms")
        assert text.splitlines()[1].startswith(words)


def test_verbose_text_shows_the_bytes_and_both_checksums():
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    e.received(Received(T0 + MS, reply(p, checksum=0x1234)))
    text = render(e.take_events(), verbose=True)
    lines = text.splitlines()
    assert lines[0] == "try 1 of 3: 36 bytes sent"
    assert lines[1].startswith("\t0x0000:  4500 0024 1234 0000 4011 ")
    assert lines[1:4] == hexdump(e.datagram)
    assert "checksum received 0x1234, computed 0x" in text
    assert "UDP checksums on: 0x1234, invalid (it should be 0x" in text


def test_timeouts_are_announced_and_no_response_closes():
    e = UdpCksumEngine(probe(), NS // 2, 1)
    start(e)
    (s,) = e.poll(T0 + NS // 2)
    e.sent(s, T0 + NS // 2)
    e.poll(T0 + 3 * NS // 2)
    assert render(e.take_events()) == ("no reply in 0.5 s, trying again\n"
                                       "no response (2 tries in 1.5 s)\n")


def test_every_error_that_says_the_datagram_died_ends_the_run():
    """RFC 792 / 4443: time exceeded, parameter problem and (v6) packet too big each mean
    the datagram was discarded on its way, so no answer will come and waiting is pointless;
    each ends the run as an ICMP error (not "no server", which only port unreachable says)."""
    for version, typ, code, kind in ((4, 11, 0, "time-exceeded"), (4, 12, 0, "param-problem"),
                                     (6, 3, 0, "time-exceeded"), (6, 4, 0, "param-problem"),
                                     (6, 2, 0, "packet-too-big"), (6, 1, 3, "unreachable")):
        p = probe(version)
        e = UdpCksumEngine(p, 3 * NS, 2)
        start(e)
        router = "198.18.0.2" if version == 4 else "2001:db8::2"
        err = (icmp4_error(p, typ, code, router) if version == 4
               else icmp6_error(p, typ, code, router))
        e.received(Received(T0 + 3 * MS, err))
        assert (e.outcome, e.rtt_ns, e.unrelated) == ("icmp-error", 3 * MS, 0), kind
        assert e.icmp is not None and e.icmp.kind == kind and e.icmp.src == router
        ev = e.take_events()[-1]
        assert isinstance(ev, IcmpError) and not ev.no_server and ev.try_no == 1


def test_a_source_quench_quoting_us_is_counted_and_the_wait_goes_on():
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    e.received(Received(T0 + MS, icmp4_error(p, 4, 0, "198.18.0.2")))
    assert not e.done and (e.unrelated, e.malformed) == (1, 0)
    assert e.next_deadline() == T0 + 3 * NS


def test_what_arrives_after_the_answer_changes_nothing():
    """UNP's prober reads one answer: a second reply or a late error is counted, not judged."""
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    e.received(Received(T0 + 2 * MS, reply(p)))
    first = e.check
    e.received(Received(T0 + 4 * MS, reply(p, checksum=0)))
    e.received(Received(T0 + 5 * MS, icmp4_error(p, 3, 3, DST4)))
    assert (e.outcome, e.check, e.rtt_ns, e.end_ns, e.unrelated) == (
        "reply", first, 2 * MS, T0 + 2 * MS, 2)
    assert e.icmp is None and len(e.take_events()) == 2
    e.stop(T0 + NS)
    assert e.outcome == "reply"


def test_the_first_try_is_sent_by_the_first_poll_whatever_the_clock():
    e = UdpCksumEngine(probe(), 3 * NS, 0)
    assert e.next_deadline() is None and not e.done
    (s,) = e.poll(0)
    assert s.meta == 1 and s.ttl == 64 and s.dst == DST4
    assert e.poll(0) == []  # sent but not yet confirmed: no deadline, nothing more
    e.sent(s, T0)
    assert e.first_ns == T0 and e.next_deadline() == T0 + 3 * NS
    assert e.poll(T0 + 3 * NS) == [] and e.outcome == "no-response"
    assert e.take_events()[-1] == NoResponse(1, 3 * NS)


def test_each_unreadable_packet_counts_once():
    """Neither IP nor anything else we can read: each is one more malformed packet,
    and none ends the wait."""
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    bad_icmp = bytearray(icmp4_error(p, 3, 3, DST4))
    bad_icmp[22] ^= 0xFF  # the ICMP checksum
    for n, junk in enumerate((b"\x45garbage", b"", b"\x60" + bytes(20), reply(p)[:24],
                              bytes(bad_icmp), b"\x45garbage"), 1):
        e.received(Received(T0 + n, junk))
        assert e.malformed == n and not e.done
    assert e.unrelated == 0


def test_elapsed_time_is_right_on_a_clock_that_starts_at_zero():
    """Virtual clocks (a replay, a simulation) may start at 0: 0 is a time, not "unset".
    Three tries of 1, 2 and 4 s from t=0 end 7 s later; with no wait at all, at once."""
    e = UdpCksumEngine(probe(), NS, 2)
    start(e, 0)
    for at in (NS, 3 * NS):
        (s,) = e.poll(at)
        e.sent(s, at)
    assert e.poll(7 * NS) == [] and e.take_events()[-1] == NoResponse(3, 7 * NS)
    e = UdpCksumEngine(probe(), 0, 0)
    start(e, 0)
    assert e.poll(0) == [] and e.outcome == "no-response"
    assert e.take_events()[-1] == NoResponse(1, 0)


def test_each_error_about_someone_elses_datagram_counts_once():
    p = probe()
    e = UdpCksumEngine(p, 3 * NS, 2)
    start(e)
    for n, sport in enumerate((40001, 40002, 40003), 1):
        other = UdpProbe(4, US4, DST4, sport, 53, b"question", ident=0x1234)
        e.received(Received(T0 + n, icmp4_error(p, 3, 3, DST4, quoted=other.datagram())))
        assert e.unrelated == n and not e.done
    assert e.malformed == 0
