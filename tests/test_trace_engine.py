"""The trace engine against a simulated chain of routers, on virtual time."""

from __future__ import annotations

import ipaddress

import pytest
from tracesim import SimNet, icmp_error

from rawtools.engine import Received, Send
from rawtools.io.loop import run
from rawtools.tools.trace.engine import TraceEngine
from rawtools.tools.trace.hops import MS
from rawtools.tools.trace.render import hop_line
from rawtools.wire.ip import build_ip
from rawtools.wire.probes import ProbeSpec


def chain(version: int, method: str, n: int = 8, **kw) -> tuple[SimNet, ProbeSpec]:
    if version == 4:
        src, dst = "198.18.0.1", f"198.18.{n}.2"
        routers = [f"198.18.{i}.2" for i in range(n)]
    else:
        src, dst = "2001:db8::1", str(ipaddress.ip_address(f"2001:db8:0:{n:x}::2"))
        routers = [str(ipaddress.ip_address(f"2001:db8:0:{i:x}::2")) for i in range(n)]
    net = SimNet(version, src, dst, routers, method, **kw)
    port = {"udp": 33434, "tcp": 80, "icmp": 0}[method]
    spec = ProbeSpec(method, version, src, dst, port, method != "udp", ident=4321, sport=45000,
                     seq_base=0x1111, size=60 if version == 4 else 80)
    return net, spec


def addrs(engine: TraceEngine) -> list[list[str | None]]:
    return [[p.addr for p in h.probes] for h in engine.all_hops()]


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("method", ["udp", "icmp", "tcp"])
def test_clean_chain_lists_every_router_then_the_destination(method: str, version: int) -> None:
    net, spec = chain(version, method)
    engine = TraceEngine(spec)
    run(engine, net)
    assert engine.done and engine.reached and engine.end == "reached"
    assert addrs(engine) == [[r] * 3 for r in net.routers] + [[net.dst] * 3]
    hop1 = engine.all_hops()[0].probes[0]
    assert hop1.rtt_ns == net.rtt_ns
    # The scout leaves with the first window (5 hops, 15 probes), after it: 16 in flight.
    assert [s.ttl for s in net.sent[:16]] == [t for t in range(1, 6) for _ in range(3)] + [30]
    # Nothing else is sent past the destination, and its line is its own probes'
    # answers (each answered the first time, after 9 hops' worth of delay).
    assert max(s.ttl for s in net.sent if s.ttl != 30) == 9
    assert [(p.tries, p.answered_try, p.rtt_ns) for p in engine.all_hops()[-1].probes] \
        == [(1, 1, 9 * net.rtt_ns)] * 3
    assert engine.counters.beyond == 1  # the scout's answer, which is no line's sample


def test_a_silent_hop_is_starred_alone_and_the_trace_completes() -> None:
    net, spec = chain(4, "udp", silent={4})
    engine = TraceEngine(spec)
    run(engine, net)
    got = addrs(engine)
    assert got[3] == [None] * 3
    assert all(None not in hop for i, hop in enumerate(got) if i != 3)
    assert engine.reached and len(got) == 9
    assert "4  * * *" in hop_line(engine.all_hops()[3])


def firsts(net: SimNet, ttl: int, n: int = 3) -> list[str]:
    """The fates of the first `n` probes sent with `ttl`: each slot's own probe."""
    return [f for s, f in zip(net.sent, net.fate, strict=True) if s.ttl == ttl][:n]


@pytest.mark.parametrize("method", ["udp", "icmp", "tcp"])
def test_rate_limited_routers_are_identified_by_retries_and_their_losses_stay(method):
    net, spec = chain(4, method, refill_ns=1000 * MS)
    tag = 0
    retried = 0
    for _ in range(5):  # back to back: the routers' burst of 6 runs out in round 3
        net.clock += 150 * MS  # an interpreter's start-up between two runs
        start = len(net.sent)
        engine = TraceEngine(spec, first_tag=tag)
        run(engine, net)
        tag = engine.next_tag
        assert engine.reached
        for hop in engine.all_hops():
            # Every hop identified, in every run...
            assert any(p.addr for p in hop.probes)
            # ...and each slot's own probe is a star exactly where the network
            # (the simulator's record) left it unanswered.
            mine = [(s, f) for s, f in zip(net.sent[start:], net.fate[start:], strict=True)
                    if s.ttl == hop.ttl]
            assert [p.answered_try == 1 for p in hop.probes] \
                == [f == "answered" for _, f in mine[:3]]
            assert sum(p.tries for p in hop.probes) == len(mine)
            retried += sum(p.retried for p in hop.probes)
            line = hop_line(hop)
            assert line.count("*") == sum(f != "answered" for _, f in mine[:3])
            assert line.count("(retry)") == sum(p.retried for p in hop.probes)
    assert retried > 0


def test_firewalled_destination_ends_after_the_gap() -> None:
    net, spec = chain(4, "udp", dst_silent=True)
    engine = TraceEngine(spec)
    start = net.clock
    run(engine, net)
    got = addrs(engine)
    assert not engine.reached and engine.end == "gap"
    assert got == [[r] * 3 for r in net.routers] + [[None] * 3] * 5
    assert max(s.ttl for s in net.sent if s.ttl != 30) == 13
    assert net.clock - start < 1000 * MS  # virtual time: the gap's budget, well under 1 s


def test_a_destination_out_of_budget_on_a_rate_limited_path_is_waited_for() -> None:
    # As on the third of traces run back to back: each router has one error left,
    # the destination none, for another 0.9 s. A firewalled destination looks the
    # same until then; the routers' own losses say rate limits are at work here.
    net, spec = chain(4, "udp", refill_ns=1000 * MS)
    net._tokens = {i: (1.0, net.clock) for i in range(1, 9)} | {9: (0.1, net.clock)}
    engine = TraceEngine(spec)
    start = net.clock
    run(engine, net)
    assert engine.end == "reached"
    assert hop_line(engine.all_hops()[-1]).startswith(f" 9  * * * {net.dst}  ")
    assert 900 * MS <= net.clock - start < 1100 * MS


@pytest.mark.parametrize("firewalled", [False, True])
def test_on_a_short_path_a_silent_destination_is_given_a_refill_period(firewalled) -> None:
    # Three routers: a trace's first window (hops 1-5) sends six probes past the
    # destination, whose burst is then spent; the next trace finds it silent
    # for up to a second while the routers answer everything. A firewalled
    # destination looks the same until then.
    net, spec = chain(4, "udp", n=3, refill_ns=1000 * MS, dst_silent=firewalled)
    net._tokens = {4: (0.2, net.clock)}
    engine = TraceEngine(spec)
    start = net.clock
    run(engine, net)
    if firewalled:
        assert engine.end == "gap" and len(engine.all_hops()) == 3 + 5
        assert net.clock - start >= 1500 * MS
    else:
        assert engine.end == "reached"
        assert hop_line(engine.all_hops()[-1]).startswith(f" 4  * * * {net.dst}  ")


@pytest.mark.parametrize("late_ms", [3, 30, 300])
def test_a_loop_that_wakes_late_loses_no_answer_and_still_ends(late_ms) -> None:
    # The answers it sleeps through are read before any timeout past its
    # deadline is decided, so none turns into a star; and an answer stamped
    # after that deadline still ends the trace (it once hung there).
    net, spec = chain(4, "udp", refill_ns=1000 * MS, late=late_ms * MS, send_ns=MS // 5)
    net._tokens = {i: (1.0, net.clock) for i in range(1, 9)} | {9: (0.1, net.clock)}
    engine = TraceEngine(spec)
    run(engine, net)
    assert engine.done and engine.end == "reached"
    for hop in engine.all_hops():
        mine = [f for s, f in zip(net.sent, net.fate, strict=True) if s.ttl == hop.ttl]
        assert [p.answered_try == 1 for p in hop.probes] == [f == "answered" for f in mine[:3]]


def test_an_answer_stamped_past_the_deadline_waited_for_still_ends_the_trace() -> None:
    # Live, a loop woken late reads a datagram stamped after the deadline it
    # waited for; the poll that follows may not look past that deadline, yet
    # the destination's answer must end the trace there (it once hung).
    net, spec = chain(4, "udp", n=1)  # r1 at hop 1, the destination at hop 2
    engine = TraceEngine(spec, nqueries=1)
    t = net.clock
    sends = engine.poll(t)
    assert [s.ttl for s in sends] == [1, 2, 3, 4, 5, 30]
    for i, s in enumerate(sends):
        engine.sent(s, t + i * MS // 5)  # 0.2 ms a send

    def answer(send: Send, src: str, typ: int, code: int, ts: int) -> None:
        quoted = build_ip(spec.src, spec.dst, 17, 1, send.data)[:28]
        engine.received(Received(ts, icmp_error(4, src, spec.src, typ, code, quoted), "pcap"))

    answer(sends[0], net.routers[0], 11, 0, t + MS // 10)  # the destination is out of budget
    retry = None
    while retry is None:
        now = engine.next_deadline()
        assert now is not None
        retry = next((s for s in engine.poll(now) if s.ttl == 2), None)
    engine.sent(retry, now)
    waited = engine.next_deadline()
    assert waited is not None and waited < now + MS  # another hop's timeout, sooner
    answer(retry, spec.dst, 3, 3, now + MS)  # read late, with its later stamp
    engine.poll(now + 3 * MS)
    assert engine.done and engine.end == "reached"
    assert [h.ttl for h in engine.all_hops()] == [1, 2]


@pytest.mark.parametrize("gap,rows", [(1, 9), (2, 10), (None, 20)])
def test_the_gap_limit_is_counted_from_the_last_hop_that_answered(gap, rows) -> None:
    net, spec = chain(4, "icmp", dst_silent=True)
    engine = TraceEngine(spec, max_ttl=20, gap=gap)
    run(engine, net)
    assert len(engine.all_hops()) == rows
    assert engine.end == ("gap" if gap else "max-ttl")


def test_silent_routers_before_a_destination_the_scout_heard_do_not_end_the_trace() -> None:
    net, spec = chain(4, "udp", silent={2, 3, 4, 5, 6, 7})
    engine = TraceEngine(spec, gap=5)
    run(engine, net)
    got = addrs(engine)
    assert engine.end == "reached"
    assert got == [[net.routers[0]] * 3] + [[None] * 3] * 6 + [[net.routers[7]] * 3,
                                                                [net.dst] * 3]


def test_answers_to_probes_past_the_destination_place_it_but_are_not_its_samples() -> None:
    # Two routers: the first window (hops 1-5) overshoots the destination at hop 3.
    # Its own three probes (sent 7th to 9th) are lost on the way out.
    net, spec = chain(4, "udp", n=2, drop={6, 7, 8})
    engine = TraceEngine(spec)
    run(engine, net)
    hops = engine.all_hops()
    assert [h.ttl for h in hops] == [1, 2, 3] and engine.end == "reached"
    dst = hops[-1].probes
    # The hop-4 and hop-5 answers (quoting the TTL that arrived: 2 and 3) put the
    # destination at hop 3; one retry of its own then answered.
    assert [(p.addr, p.tries, p.answered_try) for p in dst] == [
        (None, 1, None), (None, 1, None), (net.dst, 2, 2)]
    assert hop_line(hops[-1]) == f" 3  * * * {net.dst}  {3 * net.rtt_ns / MS:.3f} ms (retry)"
    assert engine.counters.beyond == 1 + 6  # the scout, and hops 4 and 5


def test_a_later_round_sends_each_probe_once_and_stops_at_the_destination() -> None:
    net, spec = chain(4, "udp", n=3)
    first = TraceEngine(spec, nqueries=1)
    run(first, net)
    net.drop = {len(net.sent) + 1}  # the next round's hop-2 probe
    again = first.next_round()
    sent = len(net.sent)
    run(again, net)
    assert [s.ttl for s in net.sent[sent:]] == [1, 2, 3, 4]  # no scout, no retry
    assert addrs(again) == [[net.routers[0]], [None], [net.routers[2]], [net.dst]]
    assert again.end == "reached"


@pytest.mark.parametrize("version,code,note", [(4, 1, "!H"), (4, 0, "!N"), (4, 13, "!X"),
                                               (6, 3, "!H"), (6, 0, "!N"), (6, 1, "!X")])
def test_unreachables_are_annotated_and_end_the_trace(version: int, code: int, note: str) -> None:
    net, spec = chain(version, "udp", dst_unreach=(3 if version == 4 else 1, code))
    engine = TraceEngine(spec)
    run(engine, net)
    last = engine.all_hops()[-1]
    assert last.ttl == 9 and [p.note for p in last.probes] == [note] * 3
    assert [p.addr for p in last.probes] == [net.routers[-1]] * 3
    assert hop_line(last).endswith(f"ms {note}")
    assert not engine.reached


def test_noise_duplicates_and_reordering_do_not_change_the_result() -> None:
    net, spec = chain(4, "udp")
    clean = TraceEngine(spec)
    run(clean, net)
    net2, _ = chain(4, "udp")
    noisy = TraceEngine(spec)

    real_send = net2.send

    def send(s):  # every probe answered twice, plus someone else's error
        ts, wire = real_send(s)
        if net2.queue:
            _, _, pkt = max(net2.queue)
            net2.inject(net2.rtt_ns * 2, pkt)
        other = ProbeSpec("udp", 4, spec.src, spec.dst, 33434, False, sport=45001)
        quoted = build_ip(spec.src, spec.dst, 17, 1, other.build(3))[:28]
        net2.inject(1, icmp_error(4, "198.18.3.2", spec.src, 11, 0, quoted))
        return ts, wire

    net2.send = send
    run(noisy, net2)
    assert addrs(noisy) == addrs(clean)
    assert noisy.counters.duplicates > 0 and noisy.counters.unrelated > 0


def test_first_and_max_ttl_bound_the_lines() -> None:
    net, spec = chain(4, "icmp")
    engine = TraceEngine(spec, first_ttl=3, max_ttl=6)
    run(engine, net)
    assert [h.ttl for h in engine.all_hops()] == [3, 4, 5, 6]
    assert not engine.reached and engine.end == "max-ttl"
    assert min(s.ttl for s in net.sent) == 3 and max(s.ttl for s in net.sent) == 6


@pytest.mark.parametrize("kw, first_window", [({}, 16), ({"inflight": 1}, 1),
                                               ({"inflight": 0}, 1), ({"inflight": 5}, 5)])
def test_the_window_is_traceroutes_n_16_by_default_and_at_least_one(kw, first_window) -> None:
    """traceroute(8): -N squeries, "the number of probe packets sent out simultaneously",
    default 16. With the distance known (no scout, no first-window cap) the first poll
    fills exactly that window; a window under 1 would send nothing, so it is 1."""
    _net, spec = chain(4, "udp", n=20)
    engine = TraceEngine(spec, dst_ttl=21, **kw)
    sends = engine.poll(0)
    assert len(sends) == first_window
    assert [s.ttl for s in sends] == [t for t in range(1, 7) for _ in range(3)][:first_window]


def test_a_one_hop_trace_sends_its_queries_and_nothing_else() -> None:
    """traceroute -f 5 -m 5 prints one line from its -q (3) probes, all with TTL 5: with
    a single TTL there is no distance to scout for."""
    net, spec = chain(4, "udp", n=8)
    engine = TraceEngine(spec, first_ttl=5, max_ttl=5)
    run(engine, net)
    assert [s.ttl for s in net.sent] == [5, 5, 5]
    assert [h.ttl for h in engine.all_hops()] == [5]
    assert addrs(engine) == [[net.routers[4]] * 3]


def test_stop_ends_the_trace_and_nothing_more_is_sent() -> None:
    """rawtools.engine's contract: after stop(), done is true and poll sends nothing."""
    _net, spec = chain(4, "udp")
    engine = TraceEngine(spec)
    assert engine.poll(0) and not engine.done
    engine.stop(1)
    assert engine.done is True and engine.poll(2) == []


def test_the_scout_takes_one_place_of_the_window() -> None:
    """-N 4: four probes in flight in all, the scout (sent at max_ttl) among them."""
    _net, spec = chain(4, "udp")
    sends = TraceEngine(spec, inflight=4).poll(0)
    assert [s.ttl for s in sends] == [1, 1, 1, 30]
