"""The ping engine where mutation testing found tests/test_ping_engine.py blind.

The replies and errors are packed by dpkt (its ICMP and IP packers and
checksums), never by rawtools; the expected instants, counts and bytes come
from iputils ping's rules (ping_common.c, ping.c: the fill pattern, the
timeval at the start of the data, the linger of 2 * rtt max but at least the
interval, -O's "no answer yet", the 16-bit sequence number) and fping's (the
500 ms default timeout, retries), worked out by hand in each test.
"""

from __future__ import annotations

import itertools
import socket
import struct
import sys

import dpkt
import pytest
from iputils_oracle import iputils_stats_us

from rawtools.engine import Received, Send
from rawtools.tools.ping.engine import (
    MS,
    NS,
    PingEngine,
    PingOptions,
    Probe,
    Target,
    make_fill,
    make_payload,
    rtt_stats,
    rtt_stats_us,
)
from rawtools.tools.ping.events import Alive, Outstanding, Reply, RouterError, Sent, Unreachable

US, DST, ROUTER = "198.18.0.1", "198.18.3.2", "198.18.1.2"
IDENT = 0x4242


def ip4(src: str, dst: str, data: bytes, p: int = 1, ttl: int = 61) -> bytes:
    return bytes(dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=p,
                            ttl=ttl, data=data))


def echo_fields(send: Send) -> tuple[int, int, bytes]:
    """(identifier, sequence, data) of a probe, as dpkt reads the echo request."""
    icmp = dpkt.icmp.ICMP(send.data)
    assert (icmp.type, icmp.code) == (8, 0)
    return icmp.data.id, icmp.data.seq, icmp.data.data


def reply(send: Send, src: str | None = None, ident: int | None = None) -> bytes:
    """The echo reply a host sends back: same identifier, sequence and data (RFC 792)."""
    i, seq, data = echo_fields(send)
    msg = dpkt.icmp.ICMP(type=0, code=0, data=dpkt.icmp.ICMP.Echo(
        id=i if ident is None else ident, seq=seq, data=data))
    return ip4(src or send.dst, US, bytes(msg))


def time_exceeded(send: Send, proto: int = 1, ident: int | None = None) -> bytes:
    """A router's time-exceeded quoting the probe's IP header and first 8 bytes (RFC 792)."""
    data = bytearray(send.data)
    if ident is not None:
        data[4:6] = struct.pack("!H", ident)
    quoted = ip4(US, send.dst, bytes(data), p=proto, ttl=1)[:28]
    msg = dpkt.icmp.ICMP(type=11, code=0, data=dpkt.icmp.ICMP.TimeExceed(data=quoted))
    return ip4(ROUTER, US, bytes(msg), ttl=63)


def one(**kw: object) -> PingEngine:
    return PingEngine([Target(DST, DST)], PingOptions(**kw), idents={4: IDENT})  # type: ignore[arg-type]


def step(e: PingEngine, now: int) -> list[Send]:
    sends = e.poll(now)
    for s in sends:
        e.sent(s, now)
    return sends


# -- what a probe carries ----------------------------------------------------------

def test_the_fill_is_iputils_byte_counter_or_the_repeated_pattern():
    """ping.c: without -p byte i is i (mod 256); -p repeats the pattern from the data's start."""
    assert make_fill(300, b"") == bytes(itertools.islice(itertools.cycle(range(256)), 300))
    pat = b"\xab\xcd\xef"
    for size in (0, 1, 3, 4, 56, 100):
        assert make_fill(size, pat) == bytes(itertools.islice(itertools.cycle(pat), size))


def test_the_data_starts_with_a_timeval_when_16_bytes_fit():
    """iputils times a reply only if the data holds a struct timeval (16 bytes on 64-bit)."""
    now = 1_700_000_123_456_789_012  # 1700000123 s, 456789 us (and 12 ns dropped)
    fill = bytes(range(40))
    p = make_payload(fill, now)
    order = sys.byteorder
    assert int.from_bytes(p[:8], order, signed=True) == 1_700_000_123
    assert int.from_bytes(p[8:16], order, signed=True) == 456_789
    assert p[16:] == fill[16:] and len(p) == 40
    exact = bytes(16)
    assert make_payload(exact, now)[:8] == (1_700_000_123).to_bytes(8, order)
    assert make_payload(bytes(15), now) == bytes(15)  # too short: the fill alone


def test_the_default_probe_is_iputils_56_bytes_every_second():
    """ping(8): 56 data bytes (84 with the headers), one probe a second, sequence from 1."""
    e = one(count=2)
    (s,) = step(e, 5 * NS)
    ident, seq, data = echo_fields(s)
    assert (ident, seq, len(data), s.dst, s.ttl) == (IDENT, 1, 56, DST, None)
    assert data[16:] == bytes(range(16, 56))
    assert step(e, 6 * NS - 1) == []
    (s2,) = step(e, 6 * NS)
    assert echo_fields(s2)[1] == 2


def test_a_ttl_is_handed_to_the_socket_with_each_probe():
    e = one(count=1, ttl=7)
    assert step(e, 0)[0].ttl == 7


def test_an_ipv6_target_gets_an_icmpv6_echo_with_its_own_identifier():
    """RFC 4443 4.1: type 128, the checksum left to the kernel (zero here)."""
    t = Target("2001:db8::2", "v6")
    assert t.version == 6 and Target(DST, "v4").version == 4
    e = PingEngine([t], PingOptions(count=1), idents={4: 1, 6: 0x6666})
    (s,) = step(e, 0)
    typ, code, cksum, ident, seq = struct.unpack_from("!BBHHH", s.data)
    assert (typ, code, cksum, ident, seq) == (128, 0, 0, 0x6666, 1)
    assert e.ident == 0x6666


# -- the sequence number -------------------------------------------------------------

def test_the_sequence_number_wraps_at_16_bits():
    e = one()
    e.next_seq = 0xFFFF
    seqs = [echo_fields(s)[1] for now in (0, NS, 2 * NS) for s in step(e, now)]
    assert seqs == [0xFFFF, 0, 1]


def test_a_reused_sequence_number_forgets_the_unanswered_probe():
    """65536 probes later seq comes round again: the old probe no longer counts as in flight."""
    e = one()
    step(e, 0)
    assert (e.outstanding, e.pipe) == (1, 1)
    e.next_seq = 1  # as after 65535 more probes
    step(e, NS)
    assert (e.outstanding, e.pipe) == (1, 1)
    step(e, 2 * NS)
    assert (e.outstanding, e.pipe) == (2, 2)  # seq 2 is new: two in flight


def test_pipe_is_the_most_probes_ever_in_flight():
    e = one()
    s1 = step(e, 0)[0]
    s2 = step(e, NS)[0]
    e.received(Received(NS + 10, reply(s1)))
    e.received(Received(NS + 20, reply(s2)))
    step(e, 2 * NS)
    assert (e.outstanding, e.pipe) == (1, 2)


# -- -O and flood ------------------------------------------------------------------------

def test_report_outstanding_names_the_previous_unanswered_probe():
    """iputils -O: "no answer yet for icmp_seq=N" when the next probe goes out."""
    e = one(report_outstanding=True)
    step(e, 0)
    step(e, NS)  # seq 1 still unanswered
    ev = [x for x in e.take_events() if isinstance(x, Outstanding)]
    assert [(x.seq, x.ts_ns) for x in ev] == [(1, NS)]
    s3 = step(e, 2 * NS)[0]  # seq 2 was unanswered too
    e.received(Received(2 * NS + 5, reply(s3)))
    step(e, 3 * NS)  # seq 3 was answered: nothing to say
    assert [x.seq for x in e.take_events() if isinstance(x, Outstanding)] == [2]


def test_without_o_nothing_outstanding_is_reported():
    e = one()
    step(e, 0)
    step(e, NS)
    assert not [x for x in e.take_events() if isinstance(x, Outstanding)]


def test_flood_sends_the_next_probe_as_soon_as_the_reply_is_in():
    """ping -f: a probe at least every interval, or as soon as the last one is answered."""
    e = one(flood=True, interval_ns=10 * MS)
    s1 = step(e, 0)[0]
    assert [type(x) for x in e.take_events()] == [Sent]
    e.received(Received(2 * MS, reply(s1)))
    assert e.next_deadline() == 2 * MS
    s2 = step(e, 2 * MS)
    assert len(s2) == 1 and echo_fields(s2[0])[1] == 2
    # Unanswered: the interval's own schedule, 10 ms after the last.
    assert e.next_deadline() == 12 * MS


def test_without_flood_a_reply_does_not_hasten_the_next_probe():
    e = one(interval_ns=10 * MS)
    s1 = step(e, 0)[0]
    e.received(Received(2 * MS, reply(s1)))
    assert e.next_deadline() == 10 * MS
    assert not [x for x in e.take_events() if isinstance(x, Sent)]


# -- the linger after the last probe ----------------------------------------------------

def test_after_the_last_probe_ping_waits_twice_the_worst_rtt_if_longer_than_the_interval():
    """ping_common.c: waittime = 2 * tmax, at least the interval, once a reply was heard."""
    e = one(count=2, interval_ns=NS)
    s1 = step(e, 0)[0]
    e.received(Received(700 * MS, reply(s1)))
    step(e, NS)  # the last probe: never answered
    assert e.next_deadline() == NS + 1400 * MS
    assert step(e, NS + 1400 * MS - 1) == [] and not e.done
    step(e, NS + 1400 * MS)
    assert e.done and e.end_ns == NS + 1400 * MS
    assert e.duration_ms == 2400 and e.elapsed_ms == 1000


def test_the_linger_is_at_least_the_interval():
    e = one(count=2, interval_ns=NS)
    s1 = step(e, 0)[0]
    e.received(Received(100 * MS, reply(s1)))
    step(e, NS)
    assert e.next_deadline() == 2 * NS


def test_the_linger_counts_from_the_last_probes_real_send_time():
    e = one(count=1, linger_ns=3 * NS)
    (s,) = e.poll(0)
    assert e.next_deadline() == 3 * NS
    e.sent(s, 250)  # the socket's timestamp, after the loop woke
    assert e.next_deadline() == 3 * NS + 250


def test_a_deadline_run_does_not_linger_and_ends_at_the_deadline():
    """-w: the deadline alone ends the run, even after the last -c probe."""
    e = one(count=1, deadline_ns=5 * NS)
    step(e, 0)
    assert e.linger_until is None and e.next_deadline() == 5 * NS
    assert step(e, 5 * NS - 1) == [] and not e.done
    step(e, 5 * NS)
    assert e.done and e.end_ns == 5 * NS


def test_with_a_deadline_the_first_error_ends_the_run():
    """iputils: with -w an error ends it; without, -c counts errors as answers."""
    e = one(count=3, deadline_ns=10 * NS)
    s = step(e, 0)[0]
    e.received(Received(5 * MS, time_exceeded(s)))
    assert e.done and e.end_ns == 5 * MS
    e = one(count=3)
    s = step(e, 0)[0]
    e.received(Received(5 * MS, time_exceeded(s)))
    assert not e.done and (e.total_errors, e.outstanding) == (1, 0)


def test_count_counts_replies_and_errors_together():
    e = one(count=2)
    s1 = step(e, 0)[0]
    e.received(Received(MS, time_exceeded(s1)))
    s2 = step(e, NS)[0]
    assert not e.done
    e.received(Received(NS + MS, reply(s2)))
    assert e.done and e.end_ns == NS + MS


def test_a_late_wake_up_keeps_the_interval_after_the_late_probe():
    e = one(interval_ns=NS)
    step(e, 0)
    assert len(step(e, 2500 * MS)) == 1  # due at 1 s, sent at 2.5 s: one probe, no burst
    assert e.next_deadline() == 3500 * MS


# -- what is and is not an answer --------------------------------------------------------

def test_replies_and_errors_for_other_processes_are_ignored():
    e = one(count=2)
    s = step(e, 0)[0]
    e.received(Received(10, reply(s, ident=IDENT + 1)))
    e.received(Received(20, time_exceeded(s, ident=IDENT + 1)))
    e.received(Received(30, time_exceeded(s, proto=17)))  # a UDP datagram quoted
    unknown = bytearray(s.data)
    unknown[6:8] = struct.pack("!H", 999)
    e.received(Received(40, reply(Send(DST, bytes(unknown)))))
    e.received(Received(50, time_exceeded(Send(DST, bytes(unknown)))))
    e.received(Received(60, ip4(DST, US, b"\0" * 3)))  # too short to be ICMP
    assert e.take_events() == []
    t = e.targets[0]
    assert (t.received, t.errors, e.total_errors, e.outstanding) == (0, 0, 0, 1)


def test_an_error_answers_its_probe_once_and_names_its_number():
    e = one()
    s1 = step(e, 0)[0]
    s2 = step(e, NS)[0]
    e.received(Received(NS + 5, time_exceeded(s2)))
    e.received(Received(NS + 6, time_exceeded(s2)))
    evs = [x for x in e.take_events() if isinstance(x, RouterError)]
    assert [(x.seq, x.number, x.ts_ns, x.icmp.src) for x in evs] == [(2, 1, NS + 5, ROUTER),
                                                                      (2, 1, NS + 6, ROUTER)]
    t = e.targets[0]
    assert (t.errors, e.total_errors, e.outstanding, e.answered_targets) == (2, 2, 1, 1)
    assert [seq for seq, _ in t.errors_seen] == [2, 2]
    del s1


def test_a_reply_event_carries_the_rtt_the_clock_and_the_probe_number():
    e = one()
    step(e, 0)
    s2 = step(e, NS)[0]
    e.received(Received(NS + 1234, reply(s2), clock="pcap"))
    e.received(Received(NS + 2000, reply(s2), clock="user"))
    r1, r2 = [x for x in e.take_events() if isinstance(x, Reply)]
    assert (r1.seq, r1.rtt_ns, r1.clock, r1.dup, r1.number) == (2, 1234, "pcap", False, 1)
    assert (r2.rtt_ns, r2.dup) == (2000, True)
    t = e.targets[0]
    assert t.clocks == {"pcap": 1}  # duplicates are not counted by clock
    assert (t.rtts_ns, t.dup_rtts_ns, t.stat_rtts_ns) == ([1234], [2000], [1234, 2000])
    assert (t.received, t.duplicates, e.total_received, e.max_rtt_ns) == (1, 1, 1, 1234)


def test_a_reply_stamped_before_its_send_has_rtt_zero():
    e = one()
    s = e.poll(0)[0]
    e.sent(s, 500)
    e.received(Received(400, reply(s)))
    assert e.targets[0].rtts_ns == [0]


def test_nothing_is_read_once_the_run_is_done():
    e = one(count=1)
    s = step(e, 0)[0]
    e.received(Received(10, reply(s)))
    assert e.done
    e.received(Received(20, reply(s)))
    assert e.targets[0].duplicates == 0


def test_loss_is_iputils_percentage_of_the_probes_sent():
    t = Target(DST, DST)
    assert t.loss_pct == 0.0
    t.transmitted, t.received = 3, 1
    assert abs(t.loss_pct - 200 / 3) < 1e-9


# -- several targets -------------------------------------------------------------------

def test_several_targets_are_probed_spaced_and_one_probe_per_poll():
    targets = [Target(f"198.18.9.{i}", str(i)) for i in (1, 2, 3)]
    e = PingEngine(targets, PingOptions(multi=True, spacing_ns=7 * MS), idents={4: 1})
    assert [s.dst for s in step(e, 0)] == ["198.18.9.1"]
    assert e.next_deadline() == 7 * MS
    assert step(e, 100 * MS)[0].dst == "198.18.9.2"  # late: one at a time all the same
    assert step(e, 100 * MS)[0].dst == "198.18.9.3"
    # fping's 500 ms default timeout after the last probe.
    assert e.next_deadline() == 600 * MS


def test_a_sweep_target_is_alive_once_and_probed_no_more():
    targets = [Target("198.18.9.1", "a"), Target("198.18.9.2", "b")]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=100 * MS, spacing_ns=MS),
                   idents={4: 1})
    a = step(e, 0)[0]
    e.received(Received(10, reply(a)))
    e.received(Received(20, reply(a)))  # a duplicate is no second Alive
    assert [type(x) for x in e.take_events()] == [Alive, Reply, Reply]
    assert targets[0].probes_left == 0
    b = step(e, MS)[0]
    e.received(Received(MS + 10, reply(b)))
    assert e.done and e.end_ns == MS + 10


def test_silent_targets_are_retried_spaced_then_called_unreachable():
    """fping: 1 + retries probes to a silent target, then "unreachable"."""
    targets = [Target("198.18.9.1", "a"), Target("198.18.9.2", "b")]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=100 * MS, spacing_ns=3 * MS),
                   idents={4: 1})
    sent: list[tuple[int, str]] = []
    now = 0
    while not e.done:
        sent += [(now, s.dst) for s in step(e, now)]
        nxt = e.next_deadline()
        assert nxt is not None
        now = nxt
    # Default retries 2: three rounds; each retry round spaced 3 ms; 100 ms after each last.
    assert sent == [(0, "198.18.9.1"), (3 * MS, "198.18.9.2"),
                    (103 * MS, "198.18.9.1"), (106 * MS, "198.18.9.2"),
                    (206 * MS, "198.18.9.1"), (209 * MS, "198.18.9.2")]
    assert [(type(x), x.ts_ns) for x in e.take_events()] == [(Unreachable, 309 * MS)] * 2
    assert e.end_ns == 309 * MS


def test_with_a_count_a_silent_target_gets_count_probes_not_retries():
    targets = [Target("198.18.9.1", "a")]
    e = PingEngine(targets, PingOptions(multi=True, count=1, timeout_ns=100 * MS, retries=5),
                   idents={4: 1})
    now, n = 0, 0
    while not e.done:
        n += len(step(e, now))
        nxt = e.next_deadline()
        assert nxt is not None
        now = nxt
    assert n == 1 and targets[0].transmitted == 1


def _sweep_of_two_first_answered_by_an_error() -> tuple[list[Target], PingEngine, Send]:
    """Two targets 1 ms apart; the first's probe drew a time exceeded. Returns the
    targets, the engine and the second target's probe, just sent."""
    targets = [Target("198.18.9.1", "a"), Target("198.18.9.2", "b")]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=100 * MS, spacing_ns=MS),
                   idents={4: 1})
    a = step(e, 0)[0]
    e.received(Received(10, time_exceeded(a)))
    return targets, e, step(e, MS)[0]


def test_a_target_that_answered_with_an_error_is_not_retried():
    targets, e, b = _sweep_of_two_first_answered_by_an_error()
    e.received(Received(MS + 10, reply(b)))
    assert e.done and targets[0].transmitted == 1
    assert not [x for x in e.take_events() if isinstance(x, Unreachable)]


def test_a_probe_record_starts_unanswered_and_has_no_dict():
    """A /16 sweep keeps 65536 of them: slots, no per-object dict."""
    p = Probe(Target(DST, DST), 1, 0)
    assert (p.sent_ns, p.answered) == (0, False)
    assert not hasattr(p, "__dict__")


def test_with_nothing_heard_ping_waits_10_seconds_after_the_last_probe():
    """ping_common.c: lingertime = MAXWAIT (10) seconds when no reply came back (-W)."""
    e = one(count=1)
    step(e, 0)
    assert e.next_deadline() == 10 * NS
    step(e, 10 * NS - 1)
    assert not e.done
    step(e, 10 * NS)
    assert e.done and e.end_ns == 10 * NS


def test_a_run_that_sent_nothing_took_no_time():
    """iputils prints "time 0ms" when no probe left; so does the run's duration."""
    e = PingEngine([Target("198.18.9.1", "a", no_route="Network is unreachable")],
                   PingOptions(multi=True), idents={4: 1})
    e.poll(7 * NS)
    assert e.done and (e.elapsed_ms, e.duration_ms, e.pipe) == (0, 0, 0)
    fresh = one(count=1)
    assert (fresh.elapsed_ms, fresh.duration_ms, fresh.next_deadline()) == (0, 0, None)


def test_a_sweep_ends_when_the_last_silent_target_answers_a_retry():
    """fping: done once every target is alive, though an unanswered first probe is still
    counted in flight."""
    targets = [Target("198.18.9.1", "a"), Target("198.18.9.2", "b")]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=100 * MS, spacing_ns=MS),
                   idents={4: 1})
    a = step(e, 0)[0]
    e.received(Received(10, reply(a)))
    step(e, MS)  # b's first probe: lost
    assert e.next_deadline() == 101 * MS
    (b2,) = step(e, 101 * MS)  # the retry
    assert b2.dst == "198.18.9.2" and e.outstanding == 2
    e.received(Received(101 * MS + 10, reply(b2)))
    assert e.done and e.end_ns == 101 * MS + 10


def test_a_wake_up_late_by_less_than_an_interval_keeps_the_grid():
    """Probes stay on start + k * interval when the loop wakes a little late."""
    e = one(interval_ns=NS)
    step(e, 0)
    assert len(step(e, 1500 * MS)) == 1  # due at 1 s
    assert e.next_deadline() == 2 * NS


def test_several_targets_with_a_count_keep_their_interval_and_catch_up_at_once():
    e = PingEngine([Target("198.18.9.1", "a")],
                   PingOptions(multi=True, count=3, interval_ns=200 * MS), idents={4: 1})
    step(e, 0)
    assert e.next_deadline() == 200 * MS  # not at once: the interval
    step(e, 200 * MS)
    assert e.next_deadline() == 400 * MS
    step(e, 650 * MS)  # the loop overslept: the third probe goes now, no later
    assert e.targets[0].transmitted == 3
    e2 = PingEngine([Target("198.18.9.1", "a")],
                    PingOptions(multi=True, count=3, interval_ns=200 * MS), idents={4: 1})
    step(e2, 0)
    step(e2, 450 * MS)  # due at 200 ms; the next (400 ms) has passed too
    assert e2.next_deadline() == 450 * MS


def test_with_a_deadline_replies_do_not_end_the_run():
    """-w ends the run at the deadline or at the first error, not at a reply."""
    e = one(deadline_ns=5 * NS)
    s = step(e, 0)[0]
    e.received(Received(MS, reply(s)))
    assert not e.done and e.next_deadline() == NS


def test_flood_with_a_count_hastens_the_last_probe_too():
    e = one(flood=True, count=2, interval_ns=10 * MS)
    s1 = step(e, 0)[0]
    e.received(Received(2 * MS, reply(s1)))
    assert e.next_deadline() == 2 * MS
    assert len(step(e, 2 * MS)) == 1


def test_a_late_answer_to_a_silent_targets_first_probe_cancels_its_retry():
    """fping retries a target only while it is silent."""
    targets = [Target(f"198.18.9.{i}", str(i)) for i in (1, 2, 3)]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=100 * MS, spacing_ns=10 * MS),
                   idents={4: 1})
    first = {}
    for now in (0, 10 * MS, 20 * MS):
        (s,) = step(e, now)
        first[s.dst] = s
    e.received(Received(25 * MS, reply(first["198.18.9.1"])))
    # 120 ms: the linger is over; 2 and 3 are silent and retried 10 ms apart.
    assert e.next_deadline() == 120 * MS
    assert [s.dst for s in step(e, 120 * MS)] == ["198.18.9.2"]
    e.received(Received(125 * MS, reply(first["198.18.9.3"])))  # 3's first answer, late
    assert step(e, 130 * MS) == []
    assert targets[2].transmitted == 1


@pytest.mark.parametrize("us", [
    [1_500_000_000, 1_500_000_001],  # tsum past INT_MAX but below 2**32: the large branch
    [1_073_741_800, 1_073_741_847],  # tsum exactly INT_MAX: iputils' `<` takes the large one
    [536_870_911, 536_870_911, 536_870_911, 536_870_913],  # INT_MAX - 1: still the small one
])
def test_iputils_large_sum_branch_starts_at_int_max(us):
    """The two branches give different mdevs here (0 vs 38729, 23 vs 32768, 0 vs 23170)."""
    st = rtt_stats_us(us)
    assert st is not None
    assert (st.min_us, st.avg_us, st.max_us, st.mdev_us) == iputils_stats_us(us)


def test_a_sweep_answered_by_errors_alone_ends_at_the_last_error():
    """Each target that answered, by a reply or an error, counts once."""
    _, e, b = _sweep_of_two_first_answered_by_an_error()
    assert not e.done
    e.received(Received(MS + 10, time_exceeded(b)))
    assert e.done and e.end_ns == MS + 10 and e.answered_targets == 2


def test_rtt_statistics_are_a_frozen_value():
    st = rtt_stats([1_000, 2_000])
    assert st is not None
    with pytest.raises(AttributeError):  # records refuse as dataclasses do
        st.min_us = 0  # type: ignore[misc]


def test_every_corrupted_reply_is_counted():
    """A reply whose ICMP checksum fails (RFC 792) is counted, never taken as an answer."""
    e = one()
    s = step(e, 0)[0]
    bad = bytearray(reply(s))
    bad[-1] ^= 0x01  # one flipped data bit: the ICMP checksum no longer adds up
    e.received(Received(10, bytes(bad)))
    e.received(Received(20, bytes(bad)))
    t = e.targets[0]
    assert (t.corrupted, t.received, e.outstanding) == (2, 0, 1)
