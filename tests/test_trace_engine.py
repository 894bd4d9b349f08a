"""The trace engine against a simulated chain of routers, on virtual time."""

from __future__ import annotations

import ipaddress

import pytest
from tracesim import SimNet, icmp_error

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
    assert engine.done and engine.reached
    assert addrs(engine) == [[r] * 3 for r in net.routers] + [[net.dst] * 3]
    hop1 = engine.all_hops()[0].probes[0]
    assert hop1.rtt_ns == net.rtt_ns
    # Nothing is sent past the destination but the scout.
    assert max(s.ttl for s in net.sent[1:]) == 9


def test_a_silent_hop_is_starred_alone_and_the_trace_completes() -> None:
    net, spec = chain(4, "udp", silent={4})
    engine = TraceEngine(spec)
    run(engine, net)
    got = addrs(engine)
    assert got[3] == [None] * 3
    assert all(None not in hop for i, hop in enumerate(got) if i != 3)
    assert engine.reached and len(got) == 9
    assert "4  * * *" in hop_line(engine.all_hops()[3])


@pytest.mark.parametrize("method", ["udp", "icmp", "tcp"])
def test_rate_limited_routers_get_retries_not_stars(method: str) -> None:
    net, spec = chain(4, method, refill_ns=1000 * MS)
    tag = 0
    for _ in range(4):  # back to back: the routers' burst runs out in round 3
        engine = TraceEngine(spec, first_tag=tag)
        run(engine, net)
        tag = engine.next_tag
        assert engine.reached
        assert all(None not in hop for hop in addrs(engine))
    assert any(p.tries > 1 for h in engine.all_hops() for p in h.probes)


def test_firewalled_destination_ends_at_max_ttl_without_hanging() -> None:
    net, spec = chain(4, "udp", dst_silent=True)
    engine = TraceEngine(spec, max_ttl=20)
    start = net.clock
    run(engine, net)
    got = addrs(engine)
    assert len(got) == 20 and not engine.reached
    assert got[:8] == [[r] * 3 for r in net.routers]
    assert all(hop == [None] * 3 for hop in got[8:])
    assert net.clock - start < 20 * 1000 * MS  # bounded, far below 5 s per hop


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
    assert not engine.reached
    assert min(s.ttl for s in net.sent) == 3 and max(s.ttl for s in net.sent) == 6
