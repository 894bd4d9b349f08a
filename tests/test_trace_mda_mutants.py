"""trace --mda at the edges its mutants showed untested: node control's count of fresh
flows at the hop before, the pause of one TTL after a loss, the total in-flight
bound, what is reported when, the backoff's cap, late answers, an interface
answered by one flow, the gap past a silent hop.

The engine is driven by hand, in lockstep: every probe a poll sends is answered
(or not) by a route the test chooses per flow and TTL, 1 ms later, before the next
poll. Oracles: the MDA's stopping points n_1 = 6 and n_2 = 11 (Augustin et al.,
Table 1) and its node control rule (fresh flows at hop h-1 in proportion to the
share of the flows a node has had, at most `short` per node at h-1, less those
still out there), worked out by hand for each poll; Timing's values; the
routes given here.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable

from test_trace_mda import DST, R1, R2, V4, spec, trace
from tracesim import MS, icmp_error

from rawtools.engine import Received, Send
from rawtools.tools.trace.config import Timing
from rawtools.tools.trace.mda import MdaEngine
from rawtools.wire.flows import FlowProbes
from rawtools.wire.ip import build_ip

S = 1_000_000_000
A, B = "198.18.11.2", "198.18.12.2"
PORT = 33434  # spec("udp"): flow f probes UDP port PORT + f

Route = Callable[[int, int], tuple[str, int] | None]  # (flow, ttl) -> (from, reply TTL)


def flow_of(s: Send) -> int:
    return int(struct.unpack_from("!H", s.data, 2)[0]) - PORT


def answer(engine: MdaEngine, s: Send, src: str, reply_ttl: int, ts: int) -> None:
    """The time-exceeded `src` sends for `s` (a port unreachable from the destination)."""
    host = V4[0]
    quoted = build_ip(host, DST, 17, 1, s.data)[:28]
    typ, code = (3, 3) if src == DST else (11, 0)
    engine.received(Received(ts, icmp_error(4, src, host, typ, code, quoted, ttl=reply_ttl),
                             "pcap"))


Held = frozenset[tuple[int, int]] | set[tuple[int, int]]


def step(engine: MdaEngine, t: int, route: Route, hold: Held = frozenset(),
         ) -> tuple[list[tuple[int, int]], list[Send]]:
    """Poll at `t`, send everything at `t`, answer 1 ms later all but the (ttl, flow) in
    `hold` (kept in flight); the sends as (ttl, flow) in order, and the sends themselves."""
    sends = engine.poll(t)
    for s in sends:
        engine.sent(s, t)
    for s in sends:
        ttl = s.ttl or 0
        got = route(flow_of(s), ttl)
        if (ttl, flow_of(s)) not in hold and got is not None:
            answer(engine, s, got[0], got[1], t + MS)
    return [(s.ttl or 0, flow_of(s)) for s in sends], sends


def quarter_to_b(flow: int, ttl: int) -> tuple[str, int] | None:
    """Hop 1 balances flow f to B when f % 4 == 1, to A otherwise; hop 2 is R2, 3 the
    destination."""
    if ttl == 1:
        return (B if flow % 4 == 1 else A), 255
    return (R2, 254) if ttl == 2 else (DST, 62)


def _first_hop_settled(engine: MdaEngine, route: Route) -> None:
    """Hop 1 found whole: n_1 = 6 flows show two next hops (0..5: A and B), so n_2 = 11
    flows in all (6..10 are fresh), then hop 2 is the frontier."""
    assert step(engine, 0, route)[0] == [(1, f) for f in range(6)]
    assert step(engine, 2 * MS, route)[0] == [(1, f) for f in range(6, 11)]


# Once hop 1 is found, A has flows 0 2 3 4 6 7 8 10 (8) and B has 1 5 9 (3), 11 in
# all. Hop 2 needs n_1 = 6 flows through each: A's first six, B's three, and for B's
# 3 missing ones fresh flows at hop 1: ceil(3 x 11 / 3) = 11, at most 3 x 2 nodes = 6.
HOP2_FIRST = [(2, f) for f in (0, 2, 3, 4, 6, 7, 1, 5, 9)] + [(1, f) for f in range(11, 17)]


def test_node_control_sends_fresh_flows_to_the_hop_before_in_proportion_less_those_out():
    """Paris traceroute's node control, worked out poll by poll. After HOP2_FIRST, with
    hop 1's fresh flows 15 and 16 and hop 2's flow 7 still out: hop 1 gave 13 to B and
    11, 12, 14 to A (15 flows known; B has 4). A has 5 answers and one out of its 6:
    nothing more for it (and B is still looked at). B has 3 of 6 and flow 13 to try:
    2 short, ceil(2 x 15 / 4) = 8, at most 2 x 2 = 4 fresh flows at hop 1, less the
    2 still out there: 2. Then everything answers (17 to B, 18, 15, 16 to A): A has
    its 6 (met; B is still looked at), B has 4 and flow 17 to try: 1 short,
    ceil(1 x 19 / 5) = 4, at most 2, none out: 2 fresh flows."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    _first_hop_settled(engine, quarter_to_b)
    got, sends3 = step(engine, 4 * MS, quarter_to_b, hold={(1, 15), (1, 16), (2, 7)})
    assert got == HOP2_FIRST
    assert step(engine, 6 * MS, quarter_to_b)[0] == [(2, 13), (1, 17), (1, 18)]
    for s in sends3:
        if (s.ttl, flow_of(s)) in {(1, 15), (1, 16), (2, 7)}:
            route = quarter_to_b(flow_of(s), s.ttl or 0)
            assert route is not None
            answer(engine, s, *route, 7 * MS)
    assert step(engine, 8 * MS, quarter_to_b)[0] == [(2, 17), (1, 19), (1, 20)]


def test_a_hop_is_reported_once_the_next_hop_is_settled_and_the_trace_completes():
    """HopSettled: a hop is reported once its interfaces and links cannot change, that
    is once node control through it for the next hop is over (the next hop settled).
    The route above, run in lockstep to the end: hop 1 (A, B), hop 2 (R2), hop 3 the
    destination; hop 1 is reported by the poll that settles hop 2."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    t = 0
    reported_when: dict[int, int] = {}  # ttl -> the frontier once it was reported
    while not engine.done and t < 10 * S:
        step(engine, t, quarter_to_b)
        for ev in engine.take_events():
            reported_when[ev.hop.ttl] = engine.frontier
        t += 2 * MS
    assert engine.done and engine.reached
    assert [h.addrs for h in engine.hops] == [[A, B], [R2], [DST]]
    assert reported_when[1] == 3


def test_a_ttl_paused_after_a_loss_does_not_hold_back_node_control_at_the_hop_before():
    """After HOP2_FIRST, everything answers but hop 2's flow 0, lost. Its timeout, 3 round
    trips of its hop (1 ms) under the 50 ms floor, comes at 4 + 50 ms; hop 2 then
    pauses for `backoff`. Hop 1 is not paused: node control for B goes on there. B
    got flow 13 (of 11-16) and has 3 answers of 6: 2 short after trying 13,
    ceil(2 x 17 / 4) = 9, at most 4 fresh flows at hop 1, none out: 17 to 20 leave,
    while the lost flow 0 and B's flow 13 wait for hop 2's pause to end."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    _first_hop_settled(engine, quarter_to_b)
    assert step(engine, 4 * MS, quarter_to_b, hold={(2, 0)})[0] == HOP2_FIRST
    assert engine.next_deadline() == 54 * MS
    assert step(engine, 54 * MS, quarter_to_b)[0] == [(1, f) for f in range(17, 21)]


def test_a_lost_node_control_probe_at_the_hop_before_is_retried_first():
    """After HOP2_FIRST, hop 1's flow 16 is lost, the rest answers. Its timeout (50 ms,
    the floor) pauses hop 1 for `backoff` (100 ms): meanwhile only B's flow 13 goes
    to hop 2. At 154 ms the lost probe is tried again, before anything new: lost
    probes first (the engine's rule), at the hop before the frontier too."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    _first_hop_settled(engine, quarter_to_b)
    assert step(engine, 4 * MS, quarter_to_b, hold={(1, 16)})[0] == HOP2_FIRST
    assert engine.next_deadline() == 54 * MS
    assert step(engine, 54 * MS, quarter_to_b)[0] == [(2, 13)]
    assert engine.next_deadline() == 154 * MS
    assert step(engine, 154 * MS, quarter_to_b)[0][0] == (1, 16)


def test_no_more_tries_are_in_flight_than_the_window_across_both_ttls():
    """-N 8: hop 2's first poll wants HOP2_FIRST (9 probes at hop 2, 6 at hop 1), but
    only 8 datagrams may be in flight in all, whatever their TTL: hop 2's first 8."""
    engine = MdaEngine(FlowProbes(spec("udp")), inflight=8)
    _first_hop_settled(engine, quarter_to_b)
    assert step(engine, 4 * MS, quarter_to_b)[0] == HOP2_FIRST[:8]


def one_to_b(flow: int, ttl: int) -> tuple[str, int] | None:
    """Hop 1 sends flow 1 to B (its answers arrive with TTL 250), every other to A (254)."""
    if ttl == 1:
        return (B, 250) if flow == 1 else (A, 254)
    return R2, 253


def test_an_address_answered_by_one_flow_is_an_interface_of_its_own_and_stop_reports_it():
    """Flow 1 alone reaches B at hop 1: B is an interface with that one flow, its kind
    (time-exceeded, no note, not final) and reply TTL (250) those of its answer. Hop 1
    is settled (n_2 = 11 flows, flows 0-10); stop() then reports it ("what is settled")."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    _first_hop_settled(engine, one_to_b)
    engine.poll(4 * MS)
    assert engine.hops == []
    engine.stop(4 * MS)
    assert engine.done and [h.ttl for h in engine.hops] == [1]
    a, b = engine.hops[0].interfaces
    assert (a.addr, a.flows, a.reply_ttl) == (A, (0, *range(2, 11)), 254)
    assert (b.addr, b.flows, b.rtt_ns) == (B, (1,), MS)
    assert (b.kind, b.note, b.final, b.reply_ttl) == ("time-exceeded", "", False, 250)


def test_the_backoff_stops_doubling_after_eight_losses_in_a_row():
    """-N 1 at a silent hop, `backoff` 1 ms and no practical `backoff_max`: each try times
    out after `beyond` (100 ms) and the next leaves a backoff later, doubling with each
    loss in a row: 1, 2, 4 ... 256 ms after 8 doublings, where it stays."""
    t = Timing(wait=10 * S, beyond=100 * MS, backoff=MS, backoff_max=10 * S)
    engine = MdaEngine(FlowProbes(spec("udp")), inflight=1, max_ttl=1, timing=t)
    tries: list[int] = []
    now = 0
    while len(tries) < 11:
        sends = engine.poll(now)
        for s in sends:
            assert flow_of(s) == 0
            engine.sent(s, now)
            tries.append(now)
        deadline = engine.next_deadline()
        assert deadline is not None
        now = deadline
    gaps = [b - a - t.beyond for a, b in itertools.pairwise(tries)]
    assert gaps == [MS << min(k, 8) for k in range(10)]


def test_answers_to_tries_already_answered_by_a_retry_are_late_each_once():
    """-N 1: flow 0's first try is lost at 100 ms (`beyond`), retried after the 100 ms
    backoff; the retry answers, then the first try does: late. Flow 1 the same, its
    timeout now 3 round trips of the hop (1 ms) under the 50 ms floor. Two late
    answers, four answers in all."""
    engine = MdaEngine(FlowProbes(spec("udp")), inflight=1, max_ttl=1)
    first0 = engine.poll(0)
    engine.sent(first0[0], 0)
    assert engine.next_deadline() == 100 * MS and engine.poll(100 * MS) == []
    retry0 = engine.poll(200 * MS)
    assert [flow_of(s) for s in retry0 + first0] == [0, 0]
    engine.sent(retry0[0], 200 * MS)
    answer(engine, retry0[0], R1, 255, 201 * MS)
    answer(engine, first0[0], R1, 255, 202 * MS)
    first1 = engine.poll(202 * MS)
    assert [flow_of(s) for s in first1] == [1]
    engine.sent(first1[0], 202 * MS)
    assert engine.poll(252 * MS) == []
    retry1 = engine.poll(352 * MS)
    assert [flow_of(s) for s in retry1] == [1]
    engine.sent(retry1[0], 352 * MS)
    answer(engine, retry1[0], R1, 255, 353 * MS)
    answer(engine, first1[0], R1, 255, 354 * MS)
    assert engine.counters.late == 2 and engine.counters.answers == 4


def test_a_silent_hop_followed_by_three_that_answer_is_no_gap():
    """`gap_limit` 3: only three silent hops in a row end the trace. Hop 2 is silent,
    hops 3 to 5 answer: the trace goes on to the destination at hop 6."""
    r3, r4, r5 = "198.18.3.2", "198.18.4.2", "198.18.5.2"
    graph = {"host": [R1], R1: [R2], R2: [r3], r3: [r4], r4: [r5], r5: [DST]}
    engine, _ = trace(graph, silent={R2}, timing=Timing(wait=1 * S))
    assert [h.addrs for h in engine.hops] == [[R1], [], [r3], [r4], [r5], [DST]]
    assert engine.reached


def test_out_of_flows_a_hop_still_waits_for_a_probe_out_at_the_hop_before():
    """--mda with 17 flows at most, all numbered by HOP2_FIRST. Hop 1's flow 13 is lost
    once (its retry, after the 50 ms floor and the 100 ms backoff, answers: B). The
    hop is as complete as it gets only with nothing left to wait for: B's flow 13 is
    then tried at hop 2 too, and hop 1 keeps all 17 flows, 4 of them B's."""
    engine = MdaEngine(FlowProbes(spec("udp")), max_flows=17)
    _first_hop_settled(engine, quarter_to_b)
    assert step(engine, 4 * MS, quarter_to_b, hold={(1, 13)})[0] == HOP2_FIRST
    sent: list[tuple[int, int]] = []
    t = 6 * MS
    while not engine.done and t < 10 * S:
        sent += step(engine, t, quarter_to_b)[0]
        deadline = engine.next_deadline()
        t = max(t + 2 * MS, deadline or 0)
    assert engine.done and engine.reached
    assert (1, 13) in sent and (2, 13) in sent
    assert max(f for _, f in sent) < 17  # no flow past max_flows
    hop1, hop2, _ = engine.hops
    assert [(i.addr, i.flows) for i in hop1.interfaces] == [
        (A, (0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16)), (B, (1, 5, 9, 13))]
    assert (hop1.flows, hop1.lost) == (17, 0)
    assert hop2.addrs == [R2] and hop2.flows == 10
