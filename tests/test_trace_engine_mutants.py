"""The trace engine at the edges its mutants showed untested: -z, and a destination
placed exactly at the first or the last TTL.

Oracles: traceroute(8)'s -z ("minimal time interval between probes": the next
probe leaves once that interval is over, not before, and probes go out one at a
time), the expected send instants worked out as multiples of the pause; the
design's rule that nothing is sent past a destination whose distance is known
(its quoted TTL, or the TTL of its reply counted down from 64); and the
simulator's own record of which probes were answered (`SimNet.fate`).
"""

from __future__ import annotations

import pytest
from test_trace_engine import addrs, chain
from tracesim import MS

from rawtools.engine import Send
from rawtools.io.loop import run
from rawtools.tools.trace.config import Timing
from rawtools.tools.trace.engine import TraceEngine
from rawtools.tools.trace.render import hop_line

PAUSE = 30 * MS


# -- -z: the pause between two probes ---------------------------------------------

def test_with_a_pause_probes_leave_one_at_a_time_once_it_is_over() -> None:
    _net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, timing=Timing(pause=PAUSE))
    first = engine.poll(0)
    assert [s.ttl for s in first] == [1, 30]  # one probe, and the scout that leaves with it
    for s in first:
        engine.sent(s, 0)
    # Nothing else is due before the pause is over: the loop is woken exactly then.
    assert engine.next_deadline() == PAUSE
    assert engine.poll(PAUSE - 1) == []
    second = engine.poll(PAUSE)  # exactly the interval: allowed ("minimal")
    assert [s.ttl for s in second] == [1]
    engine.sent(second[0], PAUSE)
    assert engine.next_deadline() == 2 * PAUSE
    assert engine.poll(2 * PAUSE - 1) == []
    assert [s.ttl for s in engine.poll(2 * PAUSE)] == [1]


def test_a_paused_trace_sends_every_probe_exactly_a_pause_apart() -> None:
    net, spec = chain(4, "udp", n=3)  # answers take 0.1 ms a hop: only -z holds probes back
    times: list[tuple[int, int]] = []
    real = net.send

    def send(s):
        times.append((net.clock, s.ttl))
        return real(s)

    net.send = send
    engine = TraceEngine(spec, timing=Timing(pause=PAUSE))
    t0 = net.clock
    run(engine, net)
    assert engine.end == "reached"
    assert addrs(engine) == [[r] * 3 for r in net.routers] + [[net.dst] * 3]
    scout = [(t, ttl) for t, ttl in times if ttl == 30]
    assert scout == [(t0, 30)]
    probes = [(t, ttl) for t, ttl in times if ttl != 30]
    # Four lines of three queries, in TTL order, the k-th probe k pauses after the first.
    assert probes == [(t0 + k * PAUSE, 1 + k // 3) for k in range(12)]


def test_without_a_pause_the_window_leaves_at_once() -> None:
    _net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, timing=Timing(pause=0))
    sends = engine.poll(0)
    assert len(sends) == 16  # traceroute's -N 16, the scout among them


# -- a known distance at the first or the last TTL --------------------------------

def test_a_distance_known_at_the_first_ttl_bounds_the_probes() -> None:
    """-f 3 with the destination known to be at hop 3 (a later round of -c):
    every probe goes to hop 3, one line is printed."""
    net, spec = chain(4, "udp", n=2)  # the destination at hop 3
    engine = TraceEngine(spec, first_ttl=3, scout=False, retry=False, dst_ttl=3)
    run(engine, net)
    assert [s.ttl for s in net.sent] == [3, 3, 3]
    assert addrs(engine) == [[net.dst] * 3] and engine.end == "reached"


def test_a_distance_known_at_the_last_ttl_prints_every_line_up_to_it() -> None:
    """A later round (-c) with the destination known at hop 8 = -m 8: hops 4 to 8
    lose this round's probes; the lines up to the known destination are all
    printed (as mtr keeps every hop of the path), silence does not cut it short."""
    net, spec = chain(4, "udp", n=7)
    net.drop = set(range(9, 24))  # the probes of hops 4 to 8 (3 a hop, in TTL order)
    engine = TraceEngine(spec, max_ttl=8, gap=2, scout=False, retry=False, dst_ttl=8)
    run(engine, net)
    assert [h.ttl for h in engine.all_hops()] == list(range(1, 9))
    assert addrs(engine) == [[r] * 3 for r in net.routers[:3]] + [[None] * 3] * 5
    assert engine.end == "unreachable"


def test_answers_from_past_a_destination_at_the_first_ttl_place_it_there() -> None:
    """-f 3, the destination at hop 3, its own probes lost: the answers of the probes
    sent past it quote the TTL that arrived, which puts it at hop 3; they are not
    samples of any line, and nothing more is sent past it."""
    net, spec = chain(4, "udp", n=2)
    net.drop = {0, 1, 2}  # the three probes of hop 3
    engine = TraceEngine(spec, first_ttl=3, scout=False)
    run(engine, net)
    assert [h.ttl for h in engine.all_hops()] == [3] and engine.end == "reached"
    first_window = [s.ttl for s in net.sent[:15]]
    assert first_window == [t for t in range(3, 8) for _ in range(3)]
    assert all(s.ttl == 3 for s in net.sent[15:])  # the retries of its own line only
    answered_past = sum(1 for s, f in zip(net.sent, net.fate, strict=True)
                        if s.ttl > 3 and f == "answered")
    assert answered_past == 12
    assert engine.counters.beyond == answered_past
    assert [p.addr for p in engine.all_hops()[0].probes][-1] == net.dst


@pytest.mark.parametrize("method", ["udp", "icmp"])
def test_the_scouts_answer_at_the_first_ttl_places_the_destination(method) -> None:
    """-f 3, the destination at hop 3, the whole first window lost: only the scout
    (TTL 30) is answered. A port unreachable quotes the TTL that arrived (28: hop
    3); an echo reply comes back with 64 - 3 + 1 = 62 (hop 3 by the usual initial
    TTL 64). Either way nothing more is sent past hop 3."""
    net, spec = chain(4, method, n=2)
    net.drop = set(range(15))  # the first window: hops 3 to 7, three probes each
    engine = TraceEngine(spec, first_ttl=3)
    run(engine, net)
    assert [s.ttl for s in net.sent[:16]] == [t for t in range(3, 8) for _ in range(3)] + [30]
    assert net.fate[15] == "answered"
    assert [s.ttl for s in net.sent[16:]] and all(s.ttl == 3 for s in net.sent[16:])
    assert [h.ttl for h in engine.all_hops()] == [3] and engine.end == "reached"


def test_a_destination_that_answered_only_the_scout_at_the_first_ttl_ends_there() -> None:
    """As above, and every later probe lost too: the port unreachable to the scout
    quoted TTL 28, so the destination is at hop 30 - 28 + 1 = 3, exactly. Its line
    is retried (it was heard, so it is waited for a refill) and is the last; nothing
    is sent past it; the trace reached it."""
    net, spec = chain(4, "udp", n=2)
    net.drop = set(range(15)) | set(range(16, 1000))
    engine = TraceEngine(spec, first_ttl=3)
    run(engine, net)
    assert net.fate[15] == "answered" and net.fate.count("answered") == 1
    assert [s.ttl for s in net.sent[16:]] and all(s.ttl == 3 for s in net.sent[16:])
    assert addrs(engine) == [[None] * 3] and engine.end == "reached"


def test_an_estimate_passed_in_silence_hands_the_end_back_to_the_gap_rule() -> None:
    """-f 3 over ICMP, the destination at hop 3 answering only the scout: its echo
    reply (TTL 62) only estimates hop 3, with no quote to say so exactly. Once hop
    3 is printed silent, the destination may lie further on, so the gap rule, counted
    from the last hop that answered (none: first_ttl - 1 = 2), ends the trace after
    `gap` (5) silent hops, at hop 7, as with no scout; it once ran on to -m 30.
    Hops 4-7 were given their grace with hop 3's, so the end comes at once, not
    at a wake-up nothing scheduled (which once left the loop with no deadline)."""
    net, spec = chain(4, "icmp", n=2)
    net.drop = set(range(15)) | set(range(16, 1000))
    engine = TraceEngine(spec, first_ttl=3, gap=5)
    run(engine, net)
    assert net.fate[15] == "answered" and net.fate.count("answered") == 1
    assert engine.hint == 64 - 62 + 1
    assert engine.end == "gap" and addrs(engine) == [[None] * 3] * 5
    assert [h.ttl for h in engine.all_hops()] == list(range(3, 3 + 5))
    assert max(s.ttl for s in net.sent if s.ttl != 30) == 2 + 5


@pytest.mark.parametrize("method", ["udp", "icmp"])
def test_the_scouts_answer_at_the_last_ttl_keeps_the_trace_past_silent_hops(method) -> None:
    """-m 8 with the destination at hop 8 and hops 4 to 7 silent: the scout (TTL 8)
    heard it there (the quoted TTL 1; an echo reply's 57 = 64 - 8 + 1), so the
    silence is the routers' own, and `gap` 2 does not end the trace."""
    net, spec = chain(4, method, n=7, silent={4, 5, 6, 7})
    engine = TraceEngine(spec, max_ttl=8, gap=2)
    run(engine, net)
    assert engine.end == "reached"
    assert addrs(engine) == [[r] * 3 for r in net.routers[:3]] + [[None] * 3] * 4 \
        + [[net.dst] * 3]


# -- what the engine counts beside the lines ----------------------------------------

def test_every_probe_sent_is_counted() -> None:
    net, spec = chain(4, "udp", refill_ns=1000 * MS)  # rate limits: retries are sent too
    net._tokens = {i: (1.0, net.clock) for i in range(1, 10)}  # one error left each
    engine = TraceEngine(spec)
    run(engine, net)
    assert engine.counters.sent == len(net.sent) > 28  # the simulator's own record


def test_malformed_and_unrelated_datagrams_are_each_counted_once() -> None:
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip
    from rawtools.wire.probes import ProbeSpec

    net, spec = chain(4, "udp")
    engine = TraceEngine(spec)
    sends = engine.poll(0)
    for s in sends:
        engine.sent(s, 0)
    quoted = build_ip(spec.src, spec.dst, 17, 1, sends[0].data)[:28]
    good = icmp_error(4, net.routers[0], spec.src, 11, 0, quoted)
    bad_sum = good[:22] + bytes([good[22] ^ 0xFF]) + good[23:]  # the ICMP checksum's first byte
    other = ProbeSpec("udp", 4, spec.src, spec.dst, 33434, False, sport=45001)
    stray = icmp_error(4, net.routers[2], spec.src, 11, 0,
                       build_ip(spec.src, spec.dst, 17, 1, other.build(0))[:28])
    echo_request = build_ip(net.routers[0], spec.src, 1, 64,
                            bytes([8, 0, 0xF7, 0xFF, 0, 0, 0, 0]))  # type 8, its sum by hand
    for i, pkt in enumerate([b"", b"", bad_sum, bad_sum, bad_sum, stray, stray, echo_request]):
        engine.received(Received(MS + i, pkt, "pcap"))
    # Two empty reads and three bad checksums; two errors quoting another socket's
    # probe and a message that quotes nothing.
    assert (engine.counters.malformed, engine.counters.unrelated) == (5, 3)
    assert engine.counters.answers == 0


def test_timeouts_before_a_datagrams_stamp_are_decided_before_it() -> None:
    """rawtools' trace engine docstring: what timed out before a datagram's stamp is
    decided first, even past the deadline the loop waited for. Hop 1's probe leaves
    at 5 ms; with nothing heard yet its timeout is `beyond` (100 ms): 105 ms, and its
    retry may leave `retry` (100 ms) after it left, 105 ms too. An answer from hop 2
    stamped 110 ms, read after the loop waited until 100 ms, comes after that: hop 1
    is retried at once. (Decided after the answer, hop 1 would wait 3 x 110 ms.)"""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp", n=8)
    for ask_deadline in (True, False):  # a live loop's wait, or a replay's early hand-over
        engine = TraceEngine(spec, nqueries=1, scout=False)
        sends = engine.poll(0)
        assert [s.ttl for s in sends] == [1, 2, 3, 4, 5]
        for s in sends:
            engine.sent(s, 5 * MS if s.ttl == 1 else 0)
        if ask_deadline:
            assert engine.next_deadline() == 100 * MS
        quoted = build_ip(spec.src, spec.dst, 17, 1, sends[1].data)[:28]
        engine.received(Received(110 * MS, icmp_error(4, net.routers[1], spec.src, 11, 0, quoted),
                                 "pcap"))
        assert 1 in [s.ttl for s in engine.poll(110 * MS)]


def test_a_hop_that_answered_does_not_hide_a_later_hops_retry_time() -> None:
    """-q 2 -m 3. Hop 1 answered one probe and has its other one in flight (sent at
    90 ms, waited for until 140 ms); hop 3 answered both after 1 ms, so hop 2's probes
    are waited for 3 round trips of the hop beyond, under the 50 ms floor: 50 ms. Hop
    2 may then try again `retry` (100 ms) after its probes left at 0: the loop must be
    woken at 100 ms for it, not at hop 1's 140 ms."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=2, scout=False, max_ttl=3)
    sends = engine.poll(0)
    assert [s.ttl for s in sends] == [1, 1, 2, 2, 3, 3]
    for i, s in enumerate(sends):
        engine.sent(s, 90 * MS if i == 1 else 0)
    for i, router in ((0, net.routers[0]), (4, net.routers[2]), (5, net.routers[2])):
        quoted = build_ip(spec.src, spec.dst, 17, 1, sends[i].data)[:28]
        engine.received(Received(MS, icmp_error(4, router, spec.src, 11, 0, quoted), "pcap"))
    assert engine.next_deadline() == 50 * MS
    assert engine.poll(50 * MS) == []
    assert engine.next_deadline() == 100 * MS
    assert [s.ttl for s in engine.poll(100 * MS)] == [2]


@pytest.mark.parametrize("first_ttl", [1, 4])
def test_with_no_answer_at_all_the_gap_counts_from_the_first_ttl(first_ttl) -> None:
    """Nothing answers: the last hop heard is the one before -f (`last_heard`), and
    `gap` (2) silent lines from -f end the trace."""
    net, spec = chain(4, "udp", silent=set(range(1, 9)), dst_silent=True)
    engine = TraceEngine(spec, first_ttl=first_ttl, gap=2)
    assert engine.last_heard == first_ttl - 1
    run(engine, net)
    assert [h.ttl for h in engine.all_hops()] == [first_ttl, first_ttl + 1]
    assert engine.end == "gap" and engine.last_heard == first_ttl - 1


def test_a_later_round_after_an_unreached_destination_sends_no_scout() -> None:
    """-c: the rounds after the first send each probe of their lines once, mtr's way;
    the destination was not found (it drops the probes), and no scout goes out."""
    net, spec = chain(4, "udp", n=3, dst_silent=True)
    first = TraceEngine(spec, nqueries=1, gap=2)
    run(first, net)
    assert first.end == "gap" and 30 in [s.ttl for s in net.sent]  # the first round's scout
    sent = len(net.sent)
    again = first.next_round()
    run(again, net)
    assert [s.ttl for s in net.sent[sent:]] == [1, 2, 3, 4, 5]
    assert again.end == "gap"


def test_while_the_scout_is_out_the_trace_goes_one_hop_past_the_farthest_answer() -> None:
    """Hops 1 to 5 (the first window) answer; the scout (TTL 30) has not: hop 6, one
    past the farthest hop heard, is probed next, as traceroute moves on hop by hop,
    and nothing further, for the scout has not said yet where the path ends."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp", n=20)
    engine = TraceEngine(spec)
    sends = engine.poll(0)
    assert [s.ttl for s in sends] == [t for t in range(1, 6) for _ in range(3)] + [30]
    for s in sends:
        engine.sent(s, 0)
    for s in sends[:-1]:
        quoted = build_ip(spec.src, spec.dst, 17, 1, s.data)[:28]
        engine.received(Received(MS, icmp_error(4, net.routers[s.ttl - 1], spec.src, 11, 0,
                                                quoted), "pcap"))
    assert [s.ttl for s in engine.poll(MS)] == [6, 6, 6]


@pytest.mark.parametrize("gap", [1, 2])
def test_a_short_gap_still_probes_the_whole_first_window(gap) -> None:
    """FIRST_WINDOW_HOPS: five hops are probed before the scout says where the path
    ends, however few silent hops (`gap`) would end the trace."""
    _net, spec = chain(4, "udp", n=20)
    sends = TraceEngine(spec, gap=gap).poll(0)
    assert [s.ttl for s in sends] == [t for t in range(1, 6) for _ in range(3)] + [30]


def test_a_loop_woken_late_decides_nothing_past_the_deadline_it_waited_for() -> None:
    """The module's rule: no timeout past the deadline the loop last waited for is
    decided before the loop has read what came meanwhile. -q 1 -m 3: hop 3 answers
    after 1 ms, so hops 1 and 2 are waited for 50 ms (the floor); hop 1's probe left
    at 0, hop 2's at 50 ms. The loop waits until 50 ms, wakes at 300 ms: hop 1 timed
    out and is retried, hop 2's timeout (100 ms) is not decided before its answer,
    stamped 80 ms and read next, which it then is: answered at the first try."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=1, scout=False, max_ttl=3)
    sends = engine.poll(0)
    assert [s.ttl for s in sends] == [1, 2, 3]
    for s in sends:
        engine.sent(s, 50 * MS if s.ttl == 2 else 0)

    def answer(send, ts: int) -> None:
        quoted = build_ip(spec.src, spec.dst, 17, 1, send.data)[:28]
        engine.received(Received(ts, icmp_error(4, net.routers[send.ttl - 1], spec.src, 11, 0,
                                                quoted), "pcap"))

    answer(sends[2], MS)
    assert engine.next_deadline() == 50 * MS
    assert [s.ttl for s in engine.poll(300 * MS)] == [1]
    answer(sends[1], 80 * MS)
    assert engine.hops[2][0].probe.answered_try == 1


def test_a_probe_of_a_hop_that_answered_is_waited_for_three_of_its_round_trips() -> None:
    """traceroute(8) -w MAX,HERE,NEAR: HERE, "a factor to multiply the round trip time
    of an already received response from the same hop", 3.0 by default. -q 2 -m 1: one
    probe of hop 1 answered after 40 ms, the other is waited for 120 ms."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=2, scout=False, max_ttl=1)
    sends = engine.poll(0)
    assert [s.ttl for s in sends] == [1, 1]
    for s in sends:
        engine.sent(s, 0)
    quoted = build_ip(spec.src, spec.dst, 17, 1, sends[0].data)[:28]
    engine.received(Received(40 * MS, icmp_error(4, net.routers[0], spec.src, 11, 0, quoted),
                             "pcap"))
    assert engine.next_deadline() == 120 * MS


@pytest.mark.parametrize("routers, quick", [(4, False), (5, True)])
def test_the_short_gap_grace_needs_a_path_longer_than_the_first_window(routers, quick) -> None:
    """A firewalled destination, every router answering every probe: `gap_grace`
    (0.5 s) ends the trace once the path is longer than the first window (5 routers
    heard, the destination at 6 or more); with 4 routers the destination may sit at
    hop 5, inside the first window whose probes past it spent its burst, and it is
    given `long_grace` (1.5 s)."""
    net, spec = chain(4, "udp", n=routers, dst_silent=True)
    engine = TraceEngine(spec)
    start = net.clock
    run(engine, net)
    assert engine.end == "gap"
    assert [h.ttl for h in engine.all_hops()] == list(range(1, routers + 6))
    took = net.clock - start
    if quick:
        assert took < 1000 * MS
    else:
        assert took >= 1500 * MS


# -- the destination's place and the grace its silence gets ---------------------------

def test_a_destination_placed_by_the_scout_is_waited_for_on_a_clean_path() -> None:
    """Every router answers every probe (no rate limit at work on the path), but the
    destination at hop 9 has one port unreachable left, which the scout takes: its
    quote says hop 9. A hop the destination is known to be at is waited for a refill
    (long_grace), not the gap rule's short gap_grace: its own line is answered by a
    retry after the one-second refill, and the trace ends there as reached."""
    net, spec = chain(4, "udp", refill_ns=1000 * MS)
    net._tokens = {9: (1.0, net.clock)}
    engine = TraceEngine(spec)
    start = net.clock
    run(engine, net)
    assert engine.end == "reached"
    assert hop_line(engine.all_hops()[-1]).startswith(f" 9  * * * {net.dst}  ")
    assert addrs(engine)[:8] == [[r] * 3 for r in net.routers]
    assert 1000 * MS <= net.clock - start < 1000 * MS + engine.t.long_grace


@pytest.mark.parametrize("method", ["udp", "icmp", "tcp"])
def test_a_lone_silent_router_gets_the_short_grace_whatever_placed_the_destination(method):
    """Hop 4 never answers; every hop beyond it does. Over UDP the scout's quote places
    the destination, over ICMP and TCP its reply's TTL only estimates it (an answer from
    the destination itself): either way hop 4 is a router that sends no errors, given
    `grace` (200 ms) from the latest answer, not the refill wait a destination gets.
    The whole trace takes well under long_grace."""
    net, spec = chain(4, method, silent={4})
    engine = TraceEngine(spec)
    start = net.clock
    run(engine, net)
    assert engine.end == "reached"
    got = addrs(engine)
    assert got[3] == [None] * 3 and got[:3] + got[4:8] == [[r] * 3 for r in net.routers
                                                           if r != net.routers[3]]
    assert net.clock - start < engine.t.grace + 100 * MS < engine.t.long_grace


def test_an_estimated_destination_past_the_gap_gets_its_line_before_the_gap_ends_the_trace():
    """ICMP, hops 2-8 silent, the destination at hop 9 answering only the scout (its echo
    reply's TTL, 56, estimates hop 9), `gap` 5. The estimate holds the gap rule off up
    to and including hop 9, whose line is printed (stars); past it the rule, counted
    from hop 1, the last that answered, ends the trace at once."""
    net, spec = chain(4, "icmp", silent=set(range(2, 9)))
    net.drop = set(range(16, 2000))  # all but the first window and the scout
    engine = TraceEngine(spec, gap=5)
    run(engine, net)
    assert net.fate[15] == "answered" and engine.hint == 64 - 56 + 1
    assert [h.ttl for h in engine.all_hops()] == list(range(1, 10))
    assert addrs(engine) == [[net.routers[0]] * 3] + [[None] * 3] * 8
    assert engine.end == "gap"


def test_tcp_answers_a_reset_and_unrelated_segments_are_counted_once() -> None:
    """The destination (hop 1) resets the first SYN and accepts the second: their
    answers are an "rst" and a "syn-ack". Segments acknowledging no SYN of ours
    (another port of ours, or a sequence number we never sent) are unrelated, each
    counted once; nothing else is."""
    import struct

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    _, spec = chain(4, "tcp", n=0)
    engine = TraceEngine(spec)
    sends = engine.poll(0)
    for s in sends:
        engine.sent(s, 0)
    sport, dport, seq = struct.unpack_from("!HHI", sends[0].data)

    def segment(to_port: int, ack: int, flags: int) -> bytes:
        seg = struct.pack("!HHIIBBHHH", dport, to_port, 0, ack & 0xFFFFFFFF, 0x50, flags,
                          0, 0, 0)
        return build_ip(spec.dst, spec.src, 6, 64, seg)

    engine.received(Received(MS, segment(sport + 1, seq + 1, 0x14), "pcap"))
    engine.received(Received(MS + 1, segment(sport + 2, seq + 1, 0x12), "pcap"))
    engine.received(Received(MS + 2, segment(sport, seq + 77, 0x14), "pcap"))
    engine.received(Received(MS + 3, segment(sport, seq + 1, 0x14), "pcap"))  # RST, ACK
    sport2, _, seq2 = struct.unpack_from("!HHI", sends[1].data)
    engine.received(Received(MS + 4, segment(sport2, seq2 + 1, 0x12), "pcap"))  # SYN, ACK
    assert engine.counters.unrelated == 3
    assert (engine.counters.answers, engine.counters.duplicates) == (2, 0)
    first, second = engine.hops[1][0].probe, engine.hops[1][1].probe
    assert (first.addr, first.kind, first.answers) == (spec.dst, "rst", 1)
    assert (second.addr, second.kind) == (spec.dst, "syn-ack")


def test_an_answer_read_after_its_line_was_printed_is_late_and_changes_nothing() -> None:
    """Hop 1 answers two of its three probes; the third's timeout makes it a star and the
    line is printed. Its answer, read after that, is counted late, once, and the
    printed line keeps its star (a diagnostic does not rewrite what it showed). The
    same for a silent hop whose retry answered first."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp")
    engine = TraceEngine(spec)
    sends = engine.poll(0)
    for s in sends:
        engine.sent(s, 0)

    def answer(send: Send, ts: int) -> None:
        router = net.routers[(send.ttl or 1) - 1]
        quoted = build_ip(spec.src, spec.dst, 17, 1, send.data)[:28]
        engine.received(Received(ts, icmp_error(4, router, spec.src, 11, 0, quoted), "pcap"))

    answer(sends[1], MS // 10)
    answer(sends[2], MS // 10)
    t = MS
    while not engine.all_hops():
        for s in engine.poll(t):
            engine.sent(s, t)
        t = engine.next_deadline() or t + MS
    assert [p.addr for p in engine.all_hops()[0].probes] == [None] + [net.routers[0]] * 2
    answer(sends[0], t + 1)
    assert (engine.counters.late, engine.counters.answers) == (1, 3)
    first = engine.hops[1][0].probe
    assert (first.addr, first.answers) == (None, 0)
    # Hop 2 answered nothing in the first round; its retry (of its last slot) answers,
    # the hop is settled and printed, then the first try's answer comes: late too.
    retry = None
    while retry is None:
        out = engine.poll(t)
        for s in out:
            engine.sent(s, t)
        retry = next((s for s in out if s.ttl == 2), None)
        t = engine.next_deadline() or t + MS
    answer(retry, t)
    assert [s.probe.answered_try for s in engine.hops[2]] == [None, None, 2]
    answer(sends[5], t + 1)
    assert (engine.counters.late, engine.counters.answers) == (2, 5)


def test_answers_past_a_placed_destination_that_say_nothing_of_its_place_are_beyond():
    """The destination at hop 3 answers one of its own probes: placed there. Two of
    the first window's probes past it (hops 4 and 5) are answered too, their quotes
    rebuilt from an error queue (no TTL that arrived): neither is a sample of any
    line nor moves the destination; each is counted beyond, once."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    net, spec = chain(4, "udp", n=2)
    engine = TraceEngine(spec)
    sends = engine.poll(0)
    for s in sends:
        engine.sent(s, 0)

    def unreachable(send: Send, arrived_ttl: int, ts: int) -> None:
        quoted = build_ip(spec.src, spec.dst, 17, arrived_ttl, send.data)[:28]
        engine.received(Received(ts, icmp_error(4, net.dst, spec.src, 3, 3, quoted), "pcap"))

    own = next(s for s in sends if s.ttl == 3)
    unreachable(own, 1, MS // 10)
    for past in [s for s in sends if s.ttl in (4, 5)][:2]:
        unreachable(past, 0, MS // 5)
    assert engine.counters.beyond == 2 and engine.counters.answers == 3
    assert [s.probe.addr for s in engine.hops[3]] == [net.dst, None, None]
    assert all(s.probe.addr is None for t in (4, 5) for s in engine.hops[t])


def test_a_port_unreachable_from_a_router_ends_the_trace_but_does_not_reach():
    """The last router answers the probes meant for the destination with a port
    unreachable of its own: the path ends there, unreachable; only the destination's
    own answer reaches it."""
    net, spec = chain(4, "udp", dst_unreach=(3, 3))
    engine = TraceEngine(spec)
    run(engine, net)
    assert engine.end == "unreachable" and not engine.reached
    assert addrs(engine)[-1] == [net.routers[-1]] * 3


# -- timeouts, placements and counts driven probe by probe ---------------------------
#
# These drive the engine by hand (poll, sent, received at chosen instants), so the
# expected instants can be worked out from the engine's documented rules and
# Timing's defaults: wait 5 s, floor 50 ms, retry 100 ms, grace 200 ms,
# long_grace 1.5 s, beyond 100 ms.

def _time_exceeded(engine: TraceEngine, router: str, send: Send, ts: int) -> None:
    """Hand the engine the time-exceeded `router` sends for `send`, stamped `ts`."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    spec = engine.spec
    quoted = build_ip(spec.src, spec.dst, 17, 1, send.data)[:28]
    engine.received(Received(ts, icmp_error(4, router, spec.src, 11, 0, quoted), "pcap"))


def _port_unreachable(engine: TraceEngine, src: str, send: Send, arrived_ttl: int,
                      ts: int) -> None:
    """A port unreachable from `src` quoting `send` as it arrived with `arrived_ttl`."""
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    spec = engine.spec
    quoted = build_ip(spec.src, spec.dst, 17, arrived_ttl, send.data)[:28]
    engine.received(Received(ts, icmp_error(4, src, spec.src, 3, 3, quoted), "pcap"))


def _echo_reply(engine: TraceEngine, send: Send, reply_ttl: int, ts: int) -> None:
    """The destination's echo reply to the echo request `send`, arriving with `reply_ttl`
    (RFC 792: type 0, the request's identifier, sequence and data, a fresh checksum)."""
    import struct

    from rawtools.engine import Received
    from rawtools.wire.checksum import inet_checksum
    from rawtools.wire.ip import PROTO_ICMP, build_ip

    spec = engine.spec
    reply = bytes([0, 0, 0, 0]) + send.data[4:]
    reply = reply[:2] + struct.pack("!H", inet_checksum(reply)) + reply[4:]
    engine.received(Received(ts, build_ip(spec.dst, spec.src, PROTO_ICMP, reply_ttl, reply),
                             "pcap"))


def _send_all(engine: TraceEngine, now: int) -> list[Send]:
    sends = engine.poll(now)
    for s in sends:
        engine.sent(s, now)
    return sends


def test_the_scout_is_waited_for_ten_of_the_slowest_hops_round_trips() -> None:
    """The scout's answer only steers, so it is waited for 10 round trips of the slowest
    hop heard (the engine's rule; no document gives a factor). -q 1, hops 1-5 answer
    after 20 ms: the scout (sent at 0) times out at 10 x 20 = 200 ms, and only then, no
    longer held to one hop past the farthest answer (gap off), the trace probes every
    hop up to -N. Before that instant it probes hop 6 alone."""
    net, spec = chain(4, "udp", n=20)
    engine = TraceEngine(spec, nqueries=1, gap=None)
    sends = _send_all(engine, 0)
    assert [s.ttl for s in sends] == [1, 2, 3, 4, 5, 30]
    for s in sends[:5]:
        _time_exceeded(engine, net.routers[s.ttl - 1], s, 20 * MS)
    assert [s.ttl for s in _send_all(engine, 20 * MS)] == [6]
    # Hop 6 (nothing heard past it) times out after max(beyond, 3 x 20 ms) = 100 ms
    # and is retried: still the only hop probed until the scout's 200 ms are over.
    assert [s.ttl for s in _send_all(engine, 120 * MS)] == [6]
    assert _send_all(engine, 200 * MS - 1) == []
    wider = [s.ttl for s in _send_all(engine, 200 * MS)]
    assert wider == list(range(7, 7 + 15))  # -N 16: 15 more, hop 6's retry in flight


def test_a_hop_with_nothing_heard_beyond_it_waits_three_round_trips_of_the_slowest_hop():
    """A hop not heard yet, with no answer from past it, is waited for `beyond` (100 ms)
    or three round trips of the slowest hop heard, whichever is longer (the engine's
    rule, -w's NEAR factor of 3 applied to the nearest answers there are). -q 1 -m 3:
    hop 1 answers after 40 ms, so hops 2 and 3 (sent at 0) time out at 120 ms."""
    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=1, scout=False, max_ttl=3)
    sends = _send_all(engine, 0)
    assert [s.ttl for s in sends] == [1, 2, 3]
    _time_exceeded(engine, net.routers[0], sends[0], 40 * MS)
    assert engine.next_deadline() == 3 * 40 * MS


def test_a_lone_silent_hop_gets_three_round_trips_of_grace_when_that_is_longer() -> None:
    """A router alone in its silence, with answers beyond it, is given up `grace`
    (200 ms) or three round trips of the slowest hop, whichever is longer, after the
    latest answer. -q 1 -m 3, hop 2 silent, hops 1 and 3 answer after 100 ms: hop 2
    is given up at 100 + 3 x 100 = 400 ms; `retry` set to 1 s keeps its retry out of
    the way. Hop 3 is a router: the trace then ends at -m."""
    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=1, scout=False, max_ttl=3,
                         timing=Timing(retry=1000 * MS))
    sends = _send_all(engine, 0)
    assert [s.ttl for s in sends] == [1, 2, 3]
    _time_exceeded(engine, net.routers[0], sends[0], 100 * MS)
    _time_exceeded(engine, net.routers[2], sends[2], 100 * MS)
    assert _send_all(engine, 400 * MS - 1) == [] and not engine.done
    assert [h.ttl for h in engine.all_hops()] == [1]
    assert _send_all(engine, 400 * MS) == []
    assert engine.done and engine.end == "max-ttl"
    assert addrs(engine) == [[net.routers[0]], [None], [net.routers[2]]]


@pytest.mark.parametrize("method", ["udp", "icmp"])
def test_hops_before_the_scouts_destination_wait_three_of_its_round_trips(method) -> None:
    """The scout's answer comes from past every hop before the destination, so those
    hops, with nothing else heard beyond them, are waited for three of its round trips
    (the engine's NEAR rule); the destination's own line, with nothing past it, gets
    `beyond` (100 ms). -q 1, the destination at hop 5 (the first window's last hop)
    answering the scout after 80 ms: over UDP its quote (TTL 26 arrived of 30) places
    it at 30 - 26 + 1 = 5; over ICMP its echo reply's TTL 60 estimates 64 - 60 + 1 = 5.
    Hop 5 times out at 100 ms and waits (only the nearest silent hop, 1, would be
    retried); hops 1-4, sent at 0, time out at 240 ms and are retried then (answers
    beyond them), not at 100 ms."""
    net, spec = chain(4, method, n=4)
    engine = TraceEngine(spec, nqueries=1)
    sends = _send_all(engine, 0)
    assert [s.ttl for s in sends] == [1, 2, 3, 4, 5, 30]
    if method == "udp":
        _port_unreachable(engine, net.dst, sends[-1], 30 - 5 + 1, 80 * MS)
        assert engine.dst_ttl == 5
    else:
        _echo_reply(engine, sends[-1], 64 - 5 + 1, 80 * MS)
        assert engine.hint == 5
    assert engine.next_deadline() == 100 * MS
    assert _send_all(engine, 100 * MS) == []
    assert engine.next_deadline() == 240 * MS
    assert _send_all(engine, 240 * MS - 1) == []
    assert [s.ttl for s in _send_all(engine, 240 * MS)] == [1, 2, 3, 4]


@pytest.mark.parametrize("reply_ttl, hint", [
    (0, None), (1, 32), (32, 1), (33, 32), (64, 1), (65, 64), (128, 1), (129, 127),
    (255, 1)])
def test_an_echo_reply_to_the_scout_estimates_the_distance_from_the_usual_initial_ttls(
        reply_ttl, hint) -> None:
    """With no quote to place it, the destination's distance is estimated from its reply's
    TTL counted down from the nearest usual initial TTL at or above it (32, 64, 128, 255,
    as traceroute's and mtr's guesses): initial - reply + 1, worked out here by hand for
    each table boundary. A reply TTL of 0 says nothing. -m 255, so the scout (TTL 255)
    may be answered from any of those distances."""
    _net, spec = chain(4, "icmp", n=3)
    engine = TraceEngine(spec, max_ttl=255)
    sends = _send_all(engine, 0)
    assert sends[-1].ttl == 255
    _echo_reply(engine, sends[-1], reply_ttl, 10 * MS)
    assert engine.hint == hint
    assert engine.dst_ttl is None  # an estimate, not a place


def test_answers_from_past_a_silent_destination_reach_it_and_earn_it_the_long_grace():
    """The destination at hop 7 loses every probe sent with TTL 7, but answers those sent
    past it (no scout: the gap rule's window runs past it as hops 1-6 answer); their
    quotes place it at hop 7 exactly. The trace reached it (the design: any answer of
    the destination to a probe sent past it gives its distance), and its silent line,
    where the destination is known to be, is waited for `long_grace` (1.5 s, a budget
    refill), not the gap rule's `gap_grace`."""
    net, spec = chain(4, "udp", n=6)
    real = net.send

    def send(s):
        if s.ttl == 7:
            net.drop.add(len(net.sent))
        return real(s)

    net.send = send
    engine = TraceEngine(spec, scout=False)
    start = net.clock
    run(engine, net)
    assert any(s.ttl > 7 and f == "answered" for s, f in zip(net.sent, net.fate, strict=True))
    assert engine.end == "reached" and engine.reached
    assert addrs(engine) == [[r] * 3 for r in net.routers] + [[None] * 3]
    assert net.clock - start >= engine.t.long_grace


def test_an_answer_to_a_retried_probes_first_try_counts_but_is_late_while_the_line_is_open():
    """Hops.Probe: `answers` counts the tries answered at all (a late answer to a try
    already retried makes two); the first answer is the one shown, the second is late.
    -q 1 -m 4: hop 4 answers after 1 ms; hops 1-3 time out at the 50 ms floor and are
    retried at 100 ms (`retry`). The retries of hops 2 and 3 answer, then their first
    tries do, while hop 1 (its retry in flight) keeps their lines unprinted: two late
    answers, each probe answered twice, shown by its second try."""
    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=1, scout=False, max_ttl=4)
    first = _send_all(engine, 0)
    assert [s.ttl for s in first] == [1, 2, 3, 4]
    _time_exceeded(engine, net.routers[3], first[3], MS)
    retries = _send_all(engine, 100 * MS)
    assert [s.ttl for s in retries] == [1, 2, 3]
    for s in retries[1:]:
        _time_exceeded(engine, net.routers[s.ttl - 1], s, 101 * MS)
    for s in first[1:3]:
        _time_exceeded(engine, net.routers[s.ttl - 1], s, 102 * MS)
    assert engine.all_hops() == []
    assert engine.counters.late == 2 and engine.counters.answers == 5
    for ttl in (2, 3):
        p = engine.hops[ttl][0].probe
        assert (p.addr, p.answers, p.answered_try, p.rtt_ns) == (net.routers[ttl - 1], 2, 2, MS)


def test_a_try_timed_out_before_its_hops_first_answer_is_waited_for_again_then_starred():
    """_lost_or_late: -q 2 -m 1. Both probes leave at 0 and time out at 100 ms (`beyond`,
    nothing heard); the hop's last slot is retried then. The other slot's first try is
    answered at 150 ms: the path is slower than assumed, so the first slot's try is
    waited for again, three of those round trips from when it left (450 ms). It stays
    unanswered: a star from that instant, and the line is printed; not before."""
    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=2, scout=False, max_ttl=1)
    first = _send_all(engine, 0)
    assert [s.ttl for s in first] == [1, 1]
    assert [s.ttl for s in _send_all(engine, 100 * MS)] == [1]
    _time_exceeded(engine, net.routers[0], first[1], 150 * MS)
    assert engine.next_deadline() == 450 * MS
    assert _send_all(engine, 450 * MS - 1) == [] and not engine.done
    assert _send_all(engine, 450 * MS) == []
    assert engine.done and addrs(engine) == [[None, net.routers[0]]]


def test_the_gap_rule_ends_the_trace_even_when_its_last_silent_hop_is_the_last_ttl_but_one():
    """Nothing answers, -m 3 with `gap` 2: the two silent lines 1 and 2 end the trace by
    the gap rule; line 3 (-m) is never printed."""
    net, spec = chain(4, "udp", silent=set(range(1, 9)), dst_silent=True)
    engine = TraceEngine(spec, max_ttl=3, gap=2)
    run(engine, net)
    assert [h.ttl for h in engine.all_hops()] == [1, 2]
    assert engine.end == "gap"


def test_two_silent_hops_next_to_each_other_get_the_long_grace() -> None:
    """Hops 2 and 3 never answer, hops 1 and 4 (-m 4) do: several silent hops at once
    look like routers out of ICMP budget, so they are waited for `long_grace` (1.5 s),
    not the short `grace` of a router alone in its silence."""
    net, spec = chain(4, "udp", n=8, silent={2, 3})
    engine = TraceEngine(spec, max_ttl=4, scout=False)
    start = net.clock
    run(engine, net)
    assert addrs(engine) == [[net.routers[0]] * 3, [None] * 3, [None] * 3,
                             [net.routers[3]] * 3]
    assert engine.end == "max-ttl"
    assert net.clock - start >= engine.t.long_grace


def test_an_estimate_from_a_routers_answer_says_nothing_of_the_hops_before_it() -> None:
    """The scout is answered by a router's port unreachable (no note: traceroute prints
    none for a port unreachable), not the destination's: its reply TTL 61 estimates
    hop 64 - 61 + 1 = 4, but nothing says anything answers there, so the silent hops
    before it are no routers known to be silent: past the last hop that answered
    (none), only the nearest (hop 1) is retried, `retry` (100 ms) after the probes
    left (their timeout, 3 of the scout's 10 ms round trips, is under the 50 ms
    floor), as with no scout at all."""
    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, nqueries=1)
    sends = _send_all(engine, 0)
    assert [s.ttl for s in sends] == [1, 2, 3, 4, 5, 30]
    router = net.routers[5]
    from tracesim import icmp_error

    from rawtools.engine import Received
    from rawtools.wire.ip import build_ip

    quoted = build_ip(spec.src, spec.dst, 17, 25, sends[-1].data)[:28]
    engine.received(Received(10 * MS, icmp_error(4, router, spec.src, 3, 3, quoted, ttl=61),
                             "pcap"))
    assert engine.hint == 4 and engine.dst_ttl is None
    assert engine.next_deadline() == 50 * MS  # hops 1-3: 3 x 10 ms, under the floor
    assert _send_all(engine, 50 * MS) == []
    assert engine.next_deadline() == 100 * MS
    assert [s.ttl for s in _send_all(engine, 100 * MS)] == [1]
