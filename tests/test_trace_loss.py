"""Loss reported as it is: the trace engine on a simulated lossy path, against the
simulator's own record of what became of every probe it was given.

The oracle is `SimNet.fate`: for each probe sent, whether the network lost it on
the way out, lost its answer on the way back, or answered it. The engine never
sees that record; it only sees answers arrive or not. Loss% is recomputed here
from the fates by counting, and compared with the set loss by the binomial's
own spread.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from test_trace_engine import chain
from tracesim import SimNet

from rawtools.io.loop import run
from rawtools.tools.trace.engine import TraceEngine
from rawtools.tools.trace.hops import MS, Hop
from rawtools.tools.trace.render import hop_line, hop_record
from rawtools.tools.trace.report import report_stats
from rawtools.wire.probes import ProbeSpec

LOSS = 0.10  # each way, as on the delay line
ROUND_TRIP = 1 - (1 - LOSS) ** 2  # 0.19: what ping reports on such a path


def by_ttl(net: SimNet, start: int = 0) -> dict[int, list[str]]:
    """TTL -> the fates of the probes sent with it, in sending order."""
    out: dict[int, list[str]] = {}
    for s, f in zip(net.sent[start:], net.fate[start:], strict=True):
        out.setdefault(s.ttl or 0, []).append(f)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_a_probe_lost_on_the_wire_is_a_star_even_when_a_retry_answered(seed):
    net, spec = chain(4, "udp", n=2, rtt_ns=25 * MS, loss=LOSS, seed=seed)
    engine = TraceEngine(spec)
    run(engine, net)
    fates = by_ttl(net)
    hops = engine.all_hops()
    assert [h.ttl for h in hops] == [1, 2, 3]
    for hop in hops:
        own = fates[hop.ttl]
        for i, p in enumerate(hop.probes):
            if own[i] == "answered":
                # Answered the first time, after the simulated delay to that node.
                assert (p.answered_try, p.rtt_ns) == (1, hop.ttl * net.rtt_ns)
            else:
                assert p.answered_try != 1
        # A retry only where the hop had no answer from its own three probes.
        retries = own[3:]
        assert bool(retries) == ("answered" not in own[:3])
        assert sum(p.tries for p in hop.probes) == len(own)
        line = hop_line(hop)
        assert line.count(" *") == sum(f != "answered" for f in own[:3])
        if retries:
            assert line.endswith(" (retry)") and "answered" in retries


@pytest.mark.parametrize("rtt_ms", [60, 120, 400])
def test_answers_slower_than_the_first_timeout_are_no_stars(rtt_ms):
    # Before any answer, a probe is waited for 100 ms; the first answers of a
    # slow path (or one whose first packet waits for ARP) come later, together:
    # the probes sent beside them are waited for again, not starred.
    net, spec = chain(4, "udp", n=2, rtt_ns=rtt_ms * MS)
    engine = TraceEngine(spec)
    run(engine, net)
    assert [[p.answered_try for p in h.probes] for h in engine.all_hops()] == [[1, 1, 1]] * 3
    assert [h.probes[0].rtt_ns for h in engine.all_hops()] == [t * rtt_ms * MS
                                                                 for t in (1, 2, 3)]


def lossy(n: int = 2, seed: int = 1) -> tuple[SimNet, ProbeSpec]:
    return chain(4, "udp", n=n, rtt_ns=25 * MS, loss=LOSS, seed=seed)


def report_rounds(net: SimNet, spec: ProbeSpec, rounds: int) -> list[list[Hop]]:
    """`-c rounds` as the session runs it: one probe per hop and round, each sent
    once (the rounds identify the hops between them), a second apart."""
    engine = TraceEngine(spec, nqueries=1, retry=False)
    out = []
    for _ in range(rounds):
        run(engine, net)
        out.append(engine.all_hops())
        net.clock += 1000 * MS
        engine = engine.next_round()
    return out


def test_report_loss_counts_every_try_and_only_the_destinations_own_probes():
    net, spec = lossy()
    rounds = report_rounds(net, spec, 60)
    fates = by_ttl(net)
    stats = report_stats(rounds)
    assert [s.ttl for s in stats] == [1, 2, 3]  # no row past the destination, ever
    for s in stats:
        # Snt: every probe sent with that TTL (no scout, nor a probe past the
        # destination, is any row's); Loss%: those the network left unanswered.
        own = fates[s.ttl]
        f = s.figures()
        assert f["sent"] == len(own)
        assert f["loss_pct"] == pytest.approx(100 * sum(x != "answered" for x in own) / len(own))
    assert net.sent[0].ttl == 1 and Counter(x.ttl for x in net.sent)[30] == 1  # one scout


def test_report_loss_agrees_with_the_set_loss_within_sampling_error():
    net, spec = lossy(seed=7)
    n = 400
    stats = report_stats(report_rounds(net, spec, n))
    for s in stats:
        f = s.figures()
        sigma = math.sqrt(ROUND_TRIP * (1 - ROUND_TRIP) / f["sent"])
        assert abs(f["loss_pct"] / 100 - ROUND_TRIP) < 4 * sigma, (s.ttl, f)
        assert f["sent"] == n


def test_the_json_record_says_which_try_answered():
    net, spec = lossy(seed=3)
    net.drop = {0, 1, 2}  # hop 1's three probes
    engine = TraceEngine(spec)
    run(engine, net)
    rec = hop_record(engine.all_hops()[0])
    assert [(p["addr"], p["tries"], p["answered_try"]) for p in rec["probes"]] == [
        (None, 1, None), (None, 1, None), (net.routers[0], 2, 2)]


@pytest.mark.parametrize("seed", range(60))
def test_any_path_any_loop_the_trace_ends_and_every_star_is_a_lost_probe(seed):
    """Random paths, losses, rate limits, silent routers, quotes without the TTL
    that arrived (an error queue's), loops that wake late and sends that take
    time: the trace always ends (the simulator refuses to wait forever), and a
    slot is a star exactly where the network left its own probe unanswered."""
    rng = random.Random(seed)
    n = rng.randint(1, 8)
    net, spec = chain(4, rng.choice(["udp", "icmp"]), n=n, rtt_ns=rng.choice([MS // 10, 5 * MS]),
                      loss=rng.choice([0.0, 0.1, 0.3]), seed=seed,
                      silent={rng.randint(1, n)} if n > 1 and rng.random() < 0.3 else set(),
                      refill_ns=rng.choice([None, 100 * MS, 1000 * MS]),
                      errqueue=rng.random() < 0.3, late=rng.choice([0, MS, 7 * MS]),
                      send_ns=rng.choice([0, MS // 20]))
    if net.refill_ns:
        net._tokens = {i: (rng.uniform(0, 6), net.clock) for i in range(1, n + 2)}
    engine = TraceEngine(spec)
    run(engine, net)
    assert engine.done and engine.end is not None
    fates = by_ttl(net)
    for hop in engine.all_hops():
        own = fates[hop.ttl][:3]
        assert [p.answered_try == 1 for p in hop.probes] == [f == "answered" for f in own]
