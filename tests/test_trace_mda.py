"""trace --mda without a network: the stopping rule, flow probes, the engine on simulated balancers.

Oracles: the n_k table as published (Augustin et al.) and two independent
computations of it (a Markov chain over the number of next hops seen, and
plain enumeration of every sequence of next hops); for the engine, the
literal topology given to `mdasim.MultiNet`, whose routers pick paths from
the probes' own bytes.
"""

from __future__ import annotations

import ast
import ipaddress
import itertools
import json
import re
import struct
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import rawtools_argv
from mdasim import MS, MultiNet
from oracles import dpkt_checksum
from tracesim import icmp_error

from rawtools.engine import Received, Send
from rawtools.errors import UsageError
from rawtools.io.loop import run
from rawtools.tools.trace.config import MDA_FLOWS, Timing, trace_config
from rawtools.tools.trace.hops import Counters
from rawtools.tools.trace.mda import STAR, Interface, Link, MdaEngine, MdaHop, stopping_point
from rawtools.tools.trace.mdarender import dot, footer, hop_lines, hop_record
from rawtools.tools.trace.mdasession import MdaResult
from rawtools.wire.flows import ECHO_CKSUM, FlowProbes
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import build_ip
from rawtools.wire.probes import ProbeSpec

ROOT = Path(__file__).resolve().parent.parent
S = 1_000_000_000

# -- the stopping rule -----------------------------------------------------------

# Augustin, Friedman, Teixeira, "Multipath tracing with Paris traceroute",
# E2EMON 2007, Table 1: n_1..n_16 at 95 %; the 99 % column and the rows past
# 16 as scamper's tracelb tabulates them (computed there with GMP).
PUBLISHED_95 = [6, 11, 16, 21, 27, 33, 38, 44, 51, 57, 63, 70, 76, 83, 90, 96, 103, 110, 117,
                124, 131, 138, 145, 152, 159, 167, 174, 181, 189, 196, 203, 211]
PUBLISHED_99 = [8, 15, 21, 28, 36, 43, 51, 58, 66, 74, 82, 90, 98, 106, 115, 123, 132, 140,
                149, 157, 166, 175, 183, 192, 201, 210, 219, 228, 237, 246, 255, 264]


def test_the_stopping_points_are_the_published_table():
    assert [stopping_point(k) for k in range(1, 33)] == PUBLISHED_95
    assert [stopping_point(k, 99) for k in range(1, 33)] == PUBLISHED_99


def _seen_all(hops: int, n: int) -> Fraction:
    """P(n uniform draws among `hops` next hops see every one): a Markov chain on how many seen."""
    p = [Fraction(0)] * (hops + 1)
    p[0] = Fraction(1)
    for _ in range(n):
        q = [Fraction(0)] * (hops + 1)
        for seen, pr in enumerate(p):
            if pr:
                q[seen] += pr * Fraction(seen, hops)
                if seen < hops:
                    q[seen + 1] += pr * Fraction(hops - seen, hops)
        p = q
    return p[hops]


@pytest.mark.parametrize("confidence", [95, 99, 90, 50, 1])  # 1 and 99: the edges allowed
def test_the_stopping_points_agree_with_a_markov_chain(confidence):
    alpha = Fraction(100 - confidence, 100)
    for k in range(1, 13):
        n = stopping_point(k, confidence)
        assert 1 - _seen_all(k + 1, n) <= alpha < 1 - _seen_all(k + 1, n - 1), k


def test_n1_and_n2_by_enumerating_every_sequence_of_next_hops():
    def missed(hops: int, n: int) -> Fraction:
        seqs = list(itertools.product(range(hops), repeat=n))
        return Fraction(sum(len(set(s)) < hops for s in seqs), len(seqs))

    five = Fraction(5, 100)
    assert missed(2, 5) > five >= missed(2, 6)
    assert missed(3, 10) > five >= missed(3, 11)
    assert (stopping_point(1), stopping_point(2)) == (6, 11)


def test_a_bad_stopping_point_question_is_refused():
    for k, c in ((0, 95), (1, 100), (1, 0)):
        with pytest.raises(ValueError, match=rf"^stopping_point: k={k} \(1 or more\), "
                                             rf"confidence={c} \(1\.\.99\)$"):
            stopping_point(k, c)


# -- flow probes -----------------------------------------------------------------

V4 = ("198.18.0.1", "198.18.30.2")
V6 = ("2001:db8::1", "2001:db8:0:30::2")


def spec(method: str, version: int = 4) -> ProbeSpec:
    src, dst = V4 if version == 4 else V6
    port = {"udp": 33434, "tcp": 80, "icmp": 0}[method]
    return ProbeSpec(method, version, src, dst, port, True, ident=4321, sport=45000,
                     seq_base=0x1111, size=60 if version == 4 else 80)


def hashed(method: str, probe: bytes, version: int = 4, src: str = "", dst: str = "") -> int:
    """The field a balancer hashes, read from the bytes as they go on the wire."""
    if method == "icmp" and version == 6:
        return dpkt_checksum(src, dst, 58, probe[:2] + b"\0\0" + probe[4:])
    return int(struct.unpack_from("!H", probe, 0 if method == "tcp" else 2)[0])


def ones_complement_ok(src: str, dst: str, proto: int, seg: bytes) -> bool:
    """RFC 1071 by hand over the pseudo-header: the sum of a correct segment is 0xffff."""
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    pseudo = a + b + (struct.pack("!BBH", 0, proto, len(seg)) if len(a) == 4
                      else struct.pack("!IxxxB", len(seg), proto))
    data = pseudo + seg + (b"\0" if len(seg) % 2 else b"")
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("method", ["udp", "tcp", "icmp"])
def test_each_flow_has_its_own_hashed_field_and_every_tag_comes_back(method, version):
    s = spec(method, version)
    fp = FlowProbes(s)
    base = {"udp": 33434, "tcp": 45000, "icmp": ECHO_CKSUM}[method]
    router = "198.18.11.2" if version == 4 else "2001:db8:0:11::2"
    for flow in (0, 1, 7, 300):
        fields = set()
        for tag in (0, 1, 99, 0x7FFF):
            probe = fp.build(flow, tag)
            fields.add(hashed(method, probe, version, s.src, s.dst))
            if method == "udp":
                assert ones_complement_ok(s.src, s.dst, s.proto, probe)
            quoted = build_ip(s.src, s.dst, s.proto, 1, probe)[: 28 if version == 4 else 48]
            err = icmp_error(version, router, s.src, 11 if version == 4 else 3, 0, quoted)
            icmp = parse_ip(err)
            assert icmp is not None
            assert fp.match(icmp) == (None if method == "icmp" else flow, tag)
        assert fields == {base + flow}


def test_an_icmp_probes_checksum_is_its_flows_by_a_hand_sum():
    fp = FlowProbes(spec("icmp"))
    for flow in (0, 5, 1000):
        msg = fp.build(flow, 42)
        assert struct.unpack_from("!H", msg, 2)[0] == ECHO_CKSUM + flow
        total = sum(struct.unpack(f"!{len(msg) // 2}H", msg))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        assert total == 0xFFFF


def test_answers_to_other_ports_or_sockets_are_not_ours():
    s = spec("udp")
    fp = FlowProbes(s)
    other = ProbeSpec("udp", 4, s.src, s.dst, 33434, True, sport=45001)  # another socket
    quoted = build_ip(s.src, s.dst, 17, 1, other.build(3))[:28]
    icmp = parse_ip(icmp_error(4, "198.18.11.2", s.src, 11, 0, quoted))
    assert icmp is not None and fp.match(icmp) is None
    below = ProbeSpec("udp", 4, s.src, s.dst, 33000, True, sport=45000)  # below the base port
    quoted = build_ip(s.src, s.dst, 17, 1, below.build(3))[:28]
    icmp = parse_ip(icmp_error(4, "198.18.11.2", s.src, 11, 0, quoted))
    assert icmp is not None and fp.match(icmp) is None


def test_a_syn_ack_names_its_flow_by_the_port_it_is_sent_to():
    fp = FlowProbes(spec("tcp"))
    syn = fp.build(9, 77)
    sport, dport, seq = struct.unpack_from("!HHI", syn)
    assert sport == 45009 and dport == 80
    seg = struct.pack("!HHIIBBHHH", 80, sport, 5, seq + 1, 0x50, 0x12, 8192, 0, 0)
    assert fp.match_tcp(seg, V4[1]) == (9, 77, "SA")
    assert fp.match_tcp(seg, "198.18.99.9") is None


# -- the engine on simulated balancers -----------------------------------------------

R1 = "198.18.0.2"
R2 = "198.18.21.2"
DST = V4[1]


def mids(width: int) -> list[str]:
    return [f"198.18.{10 + i}.2" for i in range(1, width + 1)]


def diamond(width: int, dst: str = DST) -> dict[str, list[str]]:
    m = mids(width)
    return {"host": [R1], R1: m, **{x: [R2] for x in m}, R2: [dst]}


def as_v6(graph: dict[str, list[str]]) -> dict[str, list[str]]:
    """The same topology numbered in IPv6: 198.18.X.Y becomes 2001:db8:0:X::Y."""
    def six(a: str) -> str:
        if a == "host":
            return a
        x, y = a.split(".")[2:]
        return str(ipaddress.ip_address(f"2001:db8:0:{x}::{y}"))
    return {six(a): [six(b) for b in bs] for a, bs in graph.items()}


def trace(graph: dict[str, list[str]], method: str = "udp", version: int = 4,
          **kw) -> tuple[MdaEngine, MultiNet]:
    """Run the engine over `graph` to its one sink; `kw` go to the engine or the network."""
    engine_kw = {k: kw.pop(k) for k in ("max_ttl", "timing", "gap_limit") if k in kw}
    (dst,) = {n for v in graph.values() for n in v} - set(graph)
    s = spec(method, version)
    net = MultiNet(version, s.src, dst, graph, method, **kw)
    target = ProbeSpec(s.method, s.version, s.src, dst, s.port, True, ident=s.ident,
                       sport=s.sport, seq_base=s.seq_base, size=s.size)
    engine = MdaEngine(FlowProbes(target), **engine_kw)
    run(engine, net)
    return engine, net


def layers(graph: dict[str, list[str]]) -> list[set[str]]:
    """The oracle's hops: nodes by their distance from the host (every path, no cycles)."""
    out: list[set[str]] = []
    frontier = {"host"}
    while frontier:
        frontier = {n for x in frontier for n in graph.get(x, [])}
        if frontier:
            out.append(frontier)
    return out


def edges(graph: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, bs in graph.items() if a != "host" for b in bs}


def found_links(engine: MdaEngine) -> set[tuple[str, str]]:
    return {(link.src, link.dst) for h in engine.hops for link in h.links}


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("method", ["udp", "tcp", "icmp"])
@pytest.mark.parametrize("width", [2, 4])
def test_a_diamond_is_found_whole(width, method, version):
    graph = diamond(width) if version == 4 else as_v6(diamond(width))
    engine, _net = trace(graph, method, version)
    assert engine.done and engine.reached
    assert [set(h.addrs) for h in engine.hops] == layers(graph)
    assert found_links(engine) == edges(graph)
    assert all(h.lost == 0 for h in engine.hops)
    assert engine.hops[-1].interfaces[0].final


def test_a_chain_costs_n1_flows_a_hop_and_no_node_control():
    chain = ["198.18.1.2", "198.18.2.2", "198.18.3.2"]
    graph = {"host": [chain[0]], chain[0]: [chain[1]], chain[1]: [chain[2]], chain[2]: [DST]}
    engine, net = trace(graph)
    assert [h.addrs for h in engine.hops] == [[a] for a in [*chain, DST]]
    assert [h.flows for h in engine.hops] == [6, 6, 6, 6]
    # The same six flows at every hop: no fresh flows where the hop before is a single node.
    assert {hashed("udp", s.data) - 33434 for s in net.sent} == set(range(6))
    assert len(net.sent) == 24


def test_two_next_hops_seen_early_take_exactly_n2_flows():
    _, net = trace(diamond(2))
    # Both middle routers show within n_1 = 6 flows (no 1-in-32 bad luck with
    # this hash), so hop 2 takes n_2 = 11 flows and no more before hop 3 starts
    # (whose node control then probes fresh flows at hop 2 again).
    ttls = [s.ttl for s in net.sent]
    assert ttls[:ttls.index(3)] == [1] * 6 + [2] * 11


def test_paths_of_unequal_length_and_a_mesh():
    a, b, c, d = "198.18.11.2", "198.18.12.2", "198.18.13.2", "198.18.14.2"
    uneven = {"host": [R1], R1: [a, b], a: [c], c: [DST], b: [DST]}
    engine, _ = trace(uneven)
    assert [set(h.addrs) for h in engine.hops] == [{R1}, {a, b}, {c, DST}, {DST}]
    assert found_links(engine) == edges(uneven)
    mesh = {"host": [R1], R1: [a, b], a: [c, d], b: [c, d], c: [R2], d: [R2], R2: [DST]}
    engine, _ = trace(mesh)
    assert [set(h.addrs) for h in engine.hops] == layers(mesh)
    assert found_links(engine) == edges(mesh)


def test_a_silent_router_among_others_is_a_star_and_the_rest_is_found():
    graph = diamond(4)
    engine, _ = trace(graph, silent={mids(4)[2]})
    hop2 = engine.hops[1]
    assert set(hop2.addrs) == set(mids(4)) - {mids(4)[2]} and hop2.lost > 0
    assert "*" in hop_lines(hop2)[0].split()
    assert found_links(engine) == {e for e in edges(graph) if mids(4)[2] not in e}
    assert engine.reached


def test_a_silent_hop_is_a_star_that_every_flow_crosses():
    r3 = "198.18.3.2"
    graph = {"host": [R1], R1: [R2], R2: [r3], r3: [DST]}
    timing = Timing(wait=1 * S)
    engine, _ = trace(graph, silent={R2}, timing=timing)
    assert [h.addrs for h in engine.hops] == [[R1], [], [r3], [DST]]
    assert found_links(engine) == {(R1, STAR), (STAR, r3), (r3, DST)}
    assert [h.silent for h in engine.hops] == [False, True, False, False]
    # n_1 = 6 flows through the one anonymous node, every one of them lost there.
    assert engine.hops[1].flows == engine.hops[1].lost == 6


def test_a_silent_destination_ends_the_trace_after_the_gap():
    graph = diamond(2)
    engine, net = trace(graph, silent={DST}, timing=Timing(wait=1 * S), max_ttl=30)
    assert [len(h.addrs) for h in engine.hops] == [1, 2, 1, 0, 0, 0]
    assert not engine.reached and max(s.ttl or 0 for s in net.sent) == 6


def test_max_ttl_ends_the_trace():
    engine, net = trace(diamond(2), max_ttl=2)
    assert [set(h.addrs) for h in engine.hops] == layers(diamond(2))[:2]
    assert max(s.ttl or 0 for s in net.sent) == 2 and not engine.reached


@pytest.mark.parametrize("refill_ns,within_s", [(1 * S, 30), (100 * MS, 5)])
def test_rate_limited_routers_are_paced_and_answer_every_flow(refill_ns, within_s):
    # Linux's budget: a burst of 6 errors, then one per second (IPv4) or ten (IPv6).
    graph = diamond(4)
    engine, net = trace(graph, refill_ns=refill_ns, burst=6)
    assert [set(h.addrs) for h in engine.hops] == layers(graph)
    assert found_links(engine) == edges(graph)
    assert all(h.lost == 0 for h in engine.hops)
    elapsed = (net.clock - 1_000_000_000_000) / S
    assert elapsed < within_s
    # Paced, not flooded: a few tries per answer where a router is out of budget.
    assert engine.counters.sent < 5 * engine.counters.answers


def test_stray_late_and_duplicate_answers_are_counted_not_taken():
    src, dst = V4
    engine = MdaEngine(FlowProbes(spec("udp")))
    t0 = 10 * S
    sends = engine.poll(t0)
    for s in sends:
        engine.sent(s, t0)
    answer = icmp_error(4, R1, src, 11, 0, build_ip(src, dst, 17, 1, sends[0].data)[:28])
    engine.received(Received(t0 + MS, answer))
    engine.received(Received(t0 + MS, answer))
    foreign = ProbeSpec("udp", 4, src, dst, 40000, True, sport=1234).build(1)
    engine.received(Received(t0 + MS, icmp_error(
        4, R1, src, 11, 0, build_ip(src, dst, 17, 1, foreign)[:28])))
    engine.received(Received(t0 + MS, b"\x45garbage"))
    c = engine.counters
    assert (c.answers, c.duplicates, c.unrelated, c.malformed) == (1, 1, 1, 1)


def test_an_engine_built_with_no_options_runs_as_trace_mda_with_none():
    """The API's defaults are the command's: hops 1 to 30, 95 % confidence, 16 probes
    in flight (traceroute's -N), and at most MDA_FLOWS flows (fewer than the 32,102
    ports above 33434 would allow)."""
    cfg = trace_config("198.18.0.1", mda=True)
    flows = FlowProbes(spec("udp"))
    engine = MdaEngine(flows)
    assert (engine.first_ttl, engine.max_ttl, engine.confidence, engine.inflight) \
        == (cfg.first_ttl, cfg.max_ttl, cfg.confidence, cfg.inflight)
    assert engine.max_flows == MDA_FLOWS < flows.max_flows


def test_flows_are_numbered_from_the_first_port():
    """Flow 0 is the base port, as Paris traceroute's first flow: the first poll asks
    n_1 = 6 flows of hop 1, on ports 33434 to 33439."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    sends = engine.poll(0)
    assert [(s.ttl, struct.unpack_from("!H", s.data, 2)[0]) for s in sends] \
        == [(1, 33434 + f) for f in range(6)]


def test_stop_reports_what_is_settled():
    engine = MdaEngine(FlowProbes(spec("udp")))
    engine.stop(0)
    assert engine.done and engine.hops == [] and engine.take_events() == []


def test_the_engine_is_sans_io():
    tree = ast.parse((ROOT / "rawtools" / "tools" / "trace" / "mda.py").read_text())
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in mods if m.startswith("rawtools.io")
                or m in ("socket", "select", "selectors", "time")}


# -- output ------------------------------------------------------------------------

def _result(engine: MdaEngine) -> MdaResult:
    return MdaResult("dst.example", DST, V4[0], "udp", 4, "raw", 95, engine.reached,
                     engine.hops, engine.counters)


def test_text_json_and_dot_say_the_same_links():
    graph = diamond(4)
    engine, _ = trace(graph)
    result = _result(engine)
    assert result.paths == 4
    text = "\n".join(line for h in result.hops for line in hop_lines(h))
    assert {tuple(m.groups()) for m in re.finditer(r"^ +(\S+) -> (\S+)$", text, re.M)} \
        == edges(graph)
    assert re.search(r"^ 2  198\.18\.11\.2  198\.18\.12\.2  198\.18\.13\.2  198\.18\.14\.2$",
                     text, re.M)
    records = [json.loads(json.dumps(hop_record(h))) for h in result.hops]
    assert {(x["from"], x["to"]) for r in records for x in r["links"]} == edges(graph)
    assert [sorted(i["addr"] for i in r["interfaces"]) for r in records] == \
        [sorted(x) for x in layers(graph)]
    summary = result.to_dict()
    assert summary["paths"] == 4 and summary["mda"] is True and summary["reached"] is True
    assert {(x["from"], x["to"]) for x in summary["links"]} == edges(graph)
    graph_text = dot(result)
    drawn = set(re.findall(r'^  "([^"]+)" -> "([^"]+)";$', graph_text, re.M))
    assert drawn == edges(graph) | {(V4[0], R1)}
    assert graph_text.startswith("digraph ") and graph_text.rstrip().endswith("}")
    assert graph_text.count("{") == graph_text.count("}")
    assert footer(result).startswith("4 paths, 7 interfaces, 9 links; ")


def test_a_silent_hop_is_drawn_as_its_own_star():
    hops = [MdaHop(1, (Interface(R1, (0,), MS, "time-exceeded", "", False, 64),), (), 6, 6, 0),
            MdaHop(2, (), (Link(1, R1, STAR),), 6, 6, 6),
            MdaHop(3, (Interface(DST, (0,), MS, "unreachable", "", True, 62),),
                   (Link(2, STAR, DST),), 6, 6, 0)]
    result = MdaResult("h", DST, V4[0], "udp", 4, "raw", 95, True, hops, Counters())
    assert result.paths == 1
    assert hop_lines(hops[1]) == [" 2  *", f"      {R1} -> *"]
    drawn = set(re.findall(r'^  "([^"]+)" -> "([^"]+)";$', dot(result), re.M))
    assert drawn == {(V4[0], R1), (R1, "*2"), ("*2", DST)}


# -- edges of the engine: -z, -f, -N, the pacing of a silent hop -----------------------
# Oracles: traceroute(8)'s -z (a minimal interval between probes: one at a time, the next
# once it is over) and -N (probes in flight at once); the published n_1 = 6; the
# simulator's delays (a hop h answers h * rtt_ns after the probe); Timing's documented
# pacing (`backoff` growing to `backoff_max`); instants worked out by hand.

PAUSE = 30 * MS
CHAIN = {"host": [R1], R1: [R2], R2: [DST]}


def _engine(graph=CHAIN, port: int | None = None, **kw) -> tuple[MdaEngine, MultiNet]:
    (dst,) = {n for v in graph.values() for n in v} - set(graph)
    s = spec("udp", 4)
    net = MultiNet(4, s.src, dst, graph, "udp")
    target = ProbeSpec("udp", 4, s.src, dst, s.port if port is None else port, True,
                       ident=s.ident, sport=s.sport, seq_base=s.seq_base, size=s.size)
    return MdaEngine(FlowProbes(target), **kw), net


def test_with_a_pause_mda_sends_one_probe_at_a_time_once_it_is_over():
    engine, _ = _engine(timing=Timing(pause=PAUSE))
    first = engine.poll(0)
    assert [s.ttl for s in first] == [1]
    engine.sent(first[0], 0)
    assert engine.next_deadline() == PAUSE  # nothing else is due sooner
    assert engine.poll(PAUSE - 1) == []
    second = engine.poll(PAUSE)  # exactly the interval: allowed, it is a minimum
    assert [s.ttl for s in second] == [1]
    engine.sent(second[0], PAUSE)
    assert engine.next_deadline() == 2 * PAUSE


def test_a_paused_mda_run_sends_n1_probes_a_hop_exactly_a_pause_apart():
    engine, net = _engine(timing=Timing(pause=PAUSE))
    times: list[tuple[int, int | None]] = []
    real = net.send

    def send(s):
        times.append((net.clock, s.ttl))
        return real(s)

    net.send = send
    t0 = net.clock
    run(engine, net)
    assert [h.addrs for h in engine.hops] == [[R1], [R2], [DST]] and engine.reached
    assert times == [(t0 + k * PAUSE, 1 + k // 6) for k in range(18)]
    # Each probe alone on the path: every hop's time is its own, h * 0.1 ms.
    assert [h.interfaces[0].rtt_ns for h in engine.hops] == [net.rtt_ns * h for h in (1, 2, 3)]


@pytest.mark.parametrize("inflight, first", [(16, 6), (4, 4), (1, 1), (0, 1)])
def test_the_first_poll_fills_the_window_up_to_n1(inflight, first):
    engine, _ = _engine(inflight=inflight)
    sends = engine.poll(0)
    assert len(sends) == first and {s.ttl for s in sends} == {1}


def test_the_first_ttl_starts_the_trace_where_every_flow_is_one_path():
    """-f 2 over a 2-wide diamond: hop 1 is never probed; hop 2 shows both middle
    routers, with no links into it (the hop before was not traced)."""
    graph = diamond(2)
    engine, net = _engine(graph, first_ttl=2)
    run(engine, net)
    assert min(s.ttl or 0 for s in net.sent) == 2
    assert [set(h.addrs) for h in engine.hops] == layers(graph)[1:]
    assert [h.ttl for h in engine.hops] == [2, 3, 4]
    assert engine.hops[0].links == ()
    assert found_links(engine) == {e for e in edges(graph) if e[0] != R1}


@pytest.mark.parametrize("gap_limit", [1, 2])
def test_the_gap_counts_silent_hops_from_the_first_ttl(gap_limit):
    r3, r4 = "198.18.3.2", "198.18.4.2"
    graph = {"host": [R1], R1: [R2], R2: [r3], r3: [r4], r4: [DST]}
    engine, net = _engine(graph, first_ttl=3, gap_limit=gap_limit, timing=Timing(wait=S))
    net.silent = {r3, r4, DST}
    run(engine, net)
    assert [h.ttl for h in engine.hops] == list(range(3, 3 + gap_limit))
    assert all(h.silent for h in engine.hops) and not engine.reached


def test_a_silent_hop_is_retried_at_gaps_growing_from_backoff_to_backoff_max():
    """One probe at a time (-N 1) to a hop that never answers: each try times out after
    `beyond` (nothing is heard at that TTL), and the next leaves a backoff later, the
    gap growing with every loss in a row from `backoff` up to `backoff_max`. A flow is
    given up once `wait` has passed since its first try; the next flow follows."""
    t = Timing(wait=3 * S, beyond=100 * MS, backoff=100 * MS, backoff_max=500 * MS)
    engine, net = _engine(inflight=1, timing=t, max_ttl=1)
    net.silent = {R1}
    sent: list[tuple[int, int]] = []  # (when, the UDP destination port: the flow's field)
    real = net.send

    def send(s):
        sent.append((net.clock, struct.unpack_from("!H", s.data, 2)[0]))
        return real(s)

    net.send = send
    run(engine, net)
    assert engine.done and engine.hops[0].silent and engine.hops[0].probes == len(sent)
    assert engine.hops[0].flows == 6 == len({port for _, port in sent})  # n_1 flows
    first = [when for when, port in sent if port == 33434]
    gaps = [b - a - t.beyond for a, b in itertools.pairwise(first)]
    assert gaps[0] == t.backoff
    assert all(x <= y for x, y in itertools.pairwise(gaps))
    assert max(gaps) == t.backoff_max and gaps.count(t.backoff_max) >= 2
    nxt = sent[len(first)][0]  # the second flow's first try
    assert first[-1] - first[0] < t.wait <= nxt - first[0]



def _time_exceeded(engine: MdaEngine, send, src: str) -> bytes:
    quoted = build_ip(engine.spec.src, engine.spec.dst, 17, 1, send.data)[:28]
    return icmp_error(4, src, engine.spec.src, 11, 0, quoted)


def test_each_ttls_window_halves_on_a_loss_and_grows_by_one_an_answer():
    """-N 16 at hop 1, where two routers answer four of the six first flows after
    20 ms and two flows are lost. A lost try is waited for 3 round trips of its hop
    (traceroute's -w HERE factor, 3.0): 60 ms. Two losses halve the window twice
    (TCP's AIMD), 16 -> 4: when the backoff is over, the two lost flows and two
    fresh ones leave (n_2 = 11 flows are due now that two next hops showed), no
    more. One answer then makes it 5: with three still out, two more leave."""
    a, b = "198.18.11.2", "198.18.12.2"
    engine, _ = _engine(inflight=16)
    sends = engine.poll(0)
    assert len(sends) == 6
    for s in sends:
        engine.sent(s, 0)
    for i, s in enumerate(sends[2:]):
        engine.received(Received(20 * MS, _time_exceeded(engine, s, a if i < 2 else b), "pcap"))
    assert engine.next_deadline() == 60 * MS
    assert engine.poll(60 * MS) == []  # lost; their hop pauses for a backoff
    late = 60 * MS + Timing().backoff_max  # past any backoff
    again = engine.poll(late)
    assert len(again) == 4
    # The lost flows first (their UDP destination port is the flow's), then fresh ones.
    assert [s.data[2:4] for s in again[:2]] == [s.data[2:4] for s in sends[:2]]
    for s in again:
        engine.sent(s, late)
    engine.received(Received(late + 20 * MS, _time_exceeded(engine, again[2], a), "pcap"))
    assert len(engine.poll(late + 20 * MS)) == 2


def test_a_window_never_closes_below_one():
    """Six losses in a row halve -N 16 six times, to a quarter: the window stays 1."""
    engine, _ = _engine(inflight=16)
    sends = engine.poll(0)
    for s in sends:
        engine.sent(s, 0)
    t = Timing()
    assert engine.poll(t.beyond) == []  # nothing heard at that TTL: `beyond` is the timeout
    assert len(engine.poll(t.beyond + t.backoff_max)) == 1



@pytest.mark.parametrize("kw, port", [({"max_flows": 4}, 33434), ({}, 0x10000 - 4)])
def test_mda_numbers_no_more_flows_than_it_may(kw, port):
    """Four flows at most: asked for (max_flows), or all the UDP ports left above -p
    (65532 to 65535). Each hop then settles with the four it has, short of n_1."""
    engine, net = _engine(port=port, **kw)
    run(engine, net)
    assert {struct.unpack_from("!H", s.data, 2)[0] for s in net.sent} \
        == set(range(port, port + 4))
    assert [h.addrs for h in engine.hops] == [[R1], [R2], [DST]] and engine.reached
    assert [h.flows for h in engine.hops] == [4, 4, 4]


@pytest.mark.parametrize("rtt_ns", [0, 7 * MS])
def test_an_interfaces_time_is_its_answers_stamp_less_its_probes(rtt_ns):
    """The simulator answers hop h after h * rtt_ns: with an instant network every
    round trip is 0 ns, with 7 ms a hop, h * 7 ms."""
    engine, _ = trace(diamond(2), rtt_ns=rtt_ns)
    assert [{i.rtt_ns for i in h.interfaces} for h in engine.hops] \
        == [{h.ttl * rtt_ns} for h in engine.hops]


def test_a_routers_unreachable_ends_the_paths_without_reaching_the_destination():
    """The first router answers every flow with a host unreachable (type 3, code 1:
    traceroute's !H): the path ends there, at a router, so the destination is not
    reached, and nothing is probed past it."""
    engine, _ = _engine()
    sends = engine.poll(0)
    assert len(sends) == 6 and {s.ttl for s in sends} == {1}
    for s in sends:
        engine.sent(s, 0)
    for s in sends:
        quoted = build_ip(engine.spec.src, engine.spec.dst, 17, 1, s.data)[:28]
        engine.received(Received(MS, icmp_error(4, R1, engine.spec.src, 3, 1, quoted), "pcap"))
    assert engine.poll(MS) == [] and engine.done and not engine.reached
    (hop,) = engine.hops
    assert [(i.addr, i.note, i.final) for i in hop.interfaces] == [(R1, "!H", True)]


def test_mda_counts_what_it_sent_and_the_datagrams_it_could_not_use():
    engine, net = trace(diamond(2))
    assert engine.counters.sent == len(net.sent)  # the simulator's own record
    engine, _ = _engine()
    sends = engine.poll(0)
    for s in sends:
        engine.sent(s, 0)
    other = ProbeSpec("udp", 4, engine.spec.src, engine.spec.dst, 33434, True, sport=45001)
    stray = icmp_error(4, R1, engine.spec.src, 11, 0,
                       build_ip(engine.spec.src, engine.spec.dst, 17, 1, other.build(0))[:28])
    quoted = build_ip(engine.spec.src, engine.spec.dst, 17, 1, sends[0].data)[:28]
    good = icmp_error(4, R1, engine.spec.src, 11, 0, quoted)
    bad_sum = good[:22] + bytes([good[22] ^ 0xFF]) + good[23:]  # the ICMP checksum spoiled
    for i, pkt in enumerate([stray, stray, bad_sum, bad_sum, b"\x45"]):
        engine.received(Received(MS + i, pkt, "pcap"))
    # Two errors quoting another socket's probe; two bad sums and a truncated header.
    assert (engine.counters.unrelated, engine.counters.malformed) == (2, 3)
    assert engine.counters.answers == 0


def test_a_tcp_destination_answers_with_a_syn_ack_and_stray_segments_are_unrelated():
    engine, _ = trace(diamond(2), "tcp")
    assert [i.kind for i in engine.hops[-1].interfaces] == ["syn-ack"]
    tcp_engine = MdaEngine(FlowProbes(spec("tcp", 4)))
    seg = struct.pack("!HHIIBBHHH", 80, 9999, 1, 2, 0x50, 0x12, 8192, 0, 0)  # to no port of ours
    for i in range(2):
        tcp_engine.received(Received(i, build_ip(DST, spec("tcp", 4).src, 6, 64, seg), "pcap"))
    assert tcp_engine.counters.unrelated == 2

# -- options (near the end: the CLI's run in subprocesses, slow for a mutation run's -x) ---

@pytest.mark.parametrize("args,needle", [
    (["--mda", "--report", "198.18.0.1"], "--report"),
    (["--mda", "-c", "3", "198.18.0.1"], "-c"),
    (["--mda", "--explain", "198.18.0.1"], "--explain"),
    (["--mda", "--paris", "198.18.0.1"], "--paris"),
    (["--mda", "--replay", "x.pcap"], "--replay"),
    (["--dot", "x.dot", "198.18.0.1"], "--mda"),
    (["--confidence", "99", "198.18.0.1"], "--mda"),
    (["--mda", "--confidence", "100", "198.18.0.1"], "confidence"),
    (["--mda", "-p", "62000", "198.18.0.1"], "port"),
])
def test_bad_mda_combinations_are_one_line_and_exit_2(args, needle):
    r = subprocess.run(rawtools_argv("trace", *args), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2, r.stderr
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1 and needle in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("kw", [{"confidence": 100}, {"confidence": "95"}, {"port": 65000},
                                {"wait": float("nan")}, {"max_ttl": 0}, {"method": "sctp"}])
def test_the_api_refuses_what_the_cli_refuses(kw):
    import rawtools
    with pytest.raises(UsageError):
        rawtools.trace_mda("198.18.0.1", **kw)


def test_the_config_takes_mda_from_both_front_ends_alike():
    cfg = trace_config("198.18.0.1", mda=True, confidence=99, dot="x.dot", method="tcp")
    assert (cfg.mda, cfg.confidence, cfg.dot, cfg.method) == (True, 99, "x.dot", "tcp")
    with pytest.raises(UsageError):
        trace_config("198.18.0.1", mda="yes")  # type: ignore[arg-type]



# Last: the slowest test (6 s), so that a mutation run's `-x` reaches it only for a
# mutant every quicker test let through.
def test_the_95_percent_bound_holds_over_many_hashes():
    # A 2-way balancer fools MDA when its first n_1 = 6 flows all take one
    # side: probability 2 / 2**6 = 1/32, under the 5 % bound. Over 300
    # hash salts the misses must stay near that: more would mean too few
    # probes, far fewer too many.
    graph = diamond(2)
    misses = 0
    for salt in range(300):
        engine, _ = trace(graph, salt=salt)
        misses += set(engine.hops[1].addrs) != set(mids(2))
    assert 2 <= misses <= 15


# -- the edges mutation testing showed untested ---------------------------------------
#
# Node control's count of fresh flows at the hop before, the pause of one TTL after a
# loss, the total in-flight bound, what is reported when, max_flows running out,
# the backoff's cap, late answers, an interface answered by one flow, the gap past
# a silent hop.
#
# The engine is driven by hand, in lockstep: every probe a poll sends is answered
# (or not) by a route the test chooses per flow and TTL, 1 ms later, before the next
# poll. Oracles: the MDA's stopping points n_1 = 6 and n_2 = 11 (Augustin et al.,
# Table 1) and its node control rule (fresh flows at hop h-1 in proportion to the
# share of the flows a node has had, at most `short` per node at h-1, less those
# still out there), worked out by hand for each poll; Timing's values; the
# routes given here.

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


def test_a_node_control_probe_still_out_when_the_next_hop_settles_is_dropped():
    """MdaHop: a node-control probe still out at hop h-1 when hop h settles is dropped,
    counted in hop h-1's `probes` but in neither its `flows` nor its `lost`. After
    HOP2_FIRST, hop 1's fresh flow 16 (A's) is held, never answered; its timeout (the
    50 ms floor, at 54 ms) is never reached. Hop 1 gave 13 to B, 11 12 14 15 to A: B
    has 4 flows of 16 known and 3 answers of 6 at hop 2 (A has its 6). Poll by poll:
    at 6 ms B's 13 to hop 2, 2 short: ceil(2 x 16 / 4) = 8, at most 4, less flow 16
    out: 3 fresh (17 to B, 18 19 to A); at 8 ms B's 17 to hop 2, 1 short:
    ceil(1 x 19 / 5) = 4, at most 2, less 1: one (20 to A); at 10 ms, 1 short:
    ceil(1 x 20 / 5) = 4, at most 2, less 1: one (21 to B); at 12 ms B's 21 to hop 2.
    B then has its 6 answers: the poll at 14 ms settles hop 2 and reports hop 1 with
    flow 16 still out. Hop 1 sent 11 + 6 + 3 + 1 + 1 = 22 datagrams, one per flow
    (0 to 21); flow 16 dropped: 21 flows, none lost. Its answer, if it came now,
    would be late."""
    engine = MdaEngine(FlowProbes(spec("udp")))
    _first_hop_settled(engine, quarter_to_b)
    got, sends3 = step(engine, 4 * MS, quarter_to_b, hold={(1, 16)})
    assert got == HOP2_FIRST
    assert step(engine, 6 * MS, quarter_to_b)[0] == [(2, 13), (1, 17), (1, 18), (1, 19)]
    assert step(engine, 8 * MS, quarter_to_b)[0] == [(2, 17), (1, 20)]
    assert step(engine, 10 * MS, quarter_to_b)[0] == [(1, 21)]
    assert step(engine, 12 * MS, quarter_to_b)[0] == [(2, 21)]
    assert engine.hops == []
    step(engine, 14 * MS, quarter_to_b)
    assert engine.frontier == 3
    (hop1,) = engine.hops
    assert [(i.addr, i.flows) for i in hop1.interfaces] == [
        (A, (0, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 18, 19, 20)), (B, (1, 5, 9, 13, 17, 21))]
    assert (hop1.probes, hop1.flows, hop1.lost) == (22, 21, 0)
    (held,) = [s for s in sends3 if (s.ttl, flow_of(s)) == (1, 16)]
    answer(engine, held, A, 255, 15 * MS)
    assert engine.counters.late == 1
