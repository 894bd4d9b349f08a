"""One trace from options to results: sockets or a recording, the loop, the rounds.

The CLI and the Python API both come through here, so they cannot differ in
what they send. A replay learns the probe identity (method, ports, ICMP
identifier, TCP sequence base, source, distance cap) from the recording
itself; the pacing flags (-q, -N, -w, -z) must be those of the recorded run.
"""

from __future__ import annotations

import itertools
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rawtools.engine import Mechanism
from rawtools.errors import ReplayError
from rawtools.io.loop import Recorder, run
from rawtools.io.privileges import drop_privileges
from rawtools.io.probesock import ProbeSocket
from rawtools.io.stop import Stop
from rawtools.net.resolve import resolve
from rawtools.tools.trace.config import DEFAULT_PORT, TraceConfig
from rawtools.tools.trace.engine import HopDone, TraceEngine
from rawtools.tools.trace.hops import Counters, EndReason, Hop
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, parse_header
from rawtools.wire.probes import ProbeSpec

if TYPE_CHECKING:  # pcap files need dpkt: a third of a trace's start-up, paid when used
    from rawtools.io.replay import ReplayTransport
    from rawtools.tools.trace.explain import Explanation


@dataclass
class TraceRun:
    """What one session produced: every round's hops, and how it was done."""

    spec: ProbeSpec
    host: str
    mechanism: Mechanism
    rounds: list[list[Hop]]
    reached: bool
    counters: Counters
    interrupted: bool = False
    explanations: list[Explanation] = field(default_factory=list)
    end: EndReason | None = None
    gap: int | None = None


def spec_from_recording(first: bytes, second: bytes | None) -> ProbeSpec:
    """The probe identity of a recorded trace, read from its first probes."""
    h = parse_header(first)
    if h is None:
        raise ReplayError("the first recorded probe is not an IP datagram")
    t = first[h.offset:]
    if len(t) < 8:
        raise ReplayError("the first recorded probe is truncated")
    v, src, dst, size = h.version, h.src, h.dst, len(first)
    if h.proto == PROTO_UDP:
        sport, dport = struct.unpack_from("!HH", t)
        paris = second is not None and struct.unpack_from("!H", second, h.offset + 2)[0] == dport
        return ProbeSpec("udp", v, src, dst, port=dport, paris=paris, sport=sport, size=size)
    if h.proto == PROTO_TCP:
        sport, dport, seq = struct.unpack_from("!HHI", t)
        return ProbeSpec("tcp", v, src, dst, port=dport, paris=True, sport=sport,
                         seq_base=seq >> 16, size=size)
    if h.proto in (PROTO_ICMP, PROTO_ICMP6):
        ident = struct.unpack_from("!H", t, 4)[0]
        return ProbeSpec("icmp", v, src, dst, port=0, paris=True, ident=ident, size=size)
    raise ReplayError(f"not a trace recording: it starts with protocol {h.proto}, not a UDP, "
                      "ICMP or TCP probe")


def _open_replay(cfg: TraceConfig) -> tuple[ReplayTransport, ProbeSpec]:
    """The recording and the probe identity it shows, refused unless it is a trace's.

    A trace's first probe carries tag 0 (the first probe of the first hop);
    anything else (a ping, some other capture) is not a trace recording,
    however much it looks like ICMP or UDP. The highest TTL recorded is the
    scout's, which is the recorded -m.
    """
    from rawtools.io.replay import ReplayTransport, describe, identity

    transport = ReplayTransport(cfg.replay or "", end_at_cut=True, eager=True)
    if not transport.outgoing:
        raise ReplayError(f"{cfg.replay}: no probes in the recording")
    first = transport.outgoing[0][1]
    second = transport.outgoing[1][1] if len(transport.outgoing) > 1 else None
    spec = spec_from_recording(first, second)
    h = parse_header(first)
    assert h is not None  # spec_from_recording refused anything else
    if identity(h.proto, first[h.offset:]) != identity(h.proto, spec.build(0)):
        raise ReplayError(f"{cfg.replay}: not a trace recording (its first datagram, "
                          f"{describe(h.proto, first[h.offset:], h.ttl)}, is not a trace's "
                          "first probe)")
    if cfg.version not in (None, h.version):
        raise transport.diverged(f"probe 1: the recording is IPv{h.version}, this run asks "
                                 f"for IPv{cfg.version}")
    if spec.method != cfg.method and cfg.method_given:
        raise transport.diverged(f"probe 1: the recording sent {spec.method.upper()} probes, "
                                 f"this run sends {cfg.method.upper()}")
    if not cfg.max_ttl_given:
        top = max(ttl for ttl in (_ttl(pkt) for _, pkt, _ in transport.outgoing) if ttl)
        cfg.max_ttl = max(top, cfg.first_ttl)
    return transport, spec


def _ttl(packet: bytes) -> int | None:
    h = parse_header(packet)
    return h.ttl if h is not None else None


def _open_live(cfg: TraceConfig) -> tuple[ProbeSocket, ProbeSocket | None, ProbeSpec]:
    """The probe socket (and --explain's second one), opened before root is given up."""
    assert cfg.host is not None
    addr, version = resolve(cfg.host, cfg.version)
    transport = ProbeSocket(cfg.method, version, addr, cfg.mechanism, cfg.source, cfg.device)
    other = None
    if cfg.explain:
        from rawtools.tools.trace.explain import OTHER_METHOD  # --explain alone needs it

        other = ProbeSocket(OTHER_METHOD[cfg.method], version, addr,
                            "dgram" if transport.mechanism == "dgram" else None,
                            cfg.source, cfg.device)
    drop_privileges()
    port = cfg.port if cfg.port is not None else DEFAULT_PORT[cfg.method]
    paris = cfg.paris if cfg.paris is not None else cfg.method != "udp"
    spec = ProbeSpec(cfg.method, version, transport.src, addr, port, paris,
                     ident=transport.ident, sport=transport.sport, seq_base=transport.seq_base,
                     size=(40 if version == 6 else 20) + 40)
    return transport, other, spec


def execute(cfg: TraceConfig, on_start: Callable[[TraceRun], None] | None = None,
            on_hop: Callable[[int, Hop], None] | None = None,
            stop: Stop | None = None,
            on_round: Callable[[TraceRun], None] | None = None) -> TraceRun:
    """Run `cfg.cycles` rounds of the trace (0: until `stop`).

    `on_hop(round, hop)` as lines complete, `on_round(run)` after each
    round with every round so far in `run.rounds` (a watch redraws then).
    """
    transport: ReplayTransport | ProbeSocket
    other: ProbeSocket | None = None
    if cfg.record:
        # Loaded now, while the interpreter's files are surely readable: once
        # the sockets are open, root is given up.
        from rawtools.io.pcapfile import PcapWriter
    if cfg.replay:
        transport, spec = _open_replay(cfg)
        result = TraceRun(spec, cfg.host or spec.dst, "replay", [], False, Counters())
    else:
        transport, other, spec = _open_live(cfg)
        assert cfg.host is not None
        result = TraceRun(spec, cfg.host, transport.mechanism, [], False, Counters())
    recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None
    if on_start:
        on_start(result)
    try:
        tag = _rounds(cfg, spec, transport, recorder, stop, result, on_hop, on_round)
        if other is not None and isinstance(transport, ProbeSocket) and result.rounds \
                and not result.interrupted:
            from rawtools.tools.trace.explain import explain

            result.explanations = explain(spec, transport, other, result.rounds[-1], recorder,
                                          stop, tag)
    finally:
        if other is not None:
            other.close()
        transport.close()
        if recorder:
            recorder.writer.close()
    return result


def _rounds(cfg: TraceConfig, spec: ProbeSpec, transport: ReplayTransport | ProbeSocket,
            recorder: Recorder | None, stop: Stop | None, result: TraceRun,
            on_hop: Callable[[int, Hop], None] | None,
            on_round: Callable[[TraceRun], None] | None = None) -> int:
    """Every round of the run into `result`; returns the tag the next probe would carry."""
    tag = 0
    previous: TraceEngine | None = None
    result.gap = cfg.gap
    for rnd in itertools.count() if cfg.cycles == 0 else range(cfg.cycles):
        if rnd and cfg.cycle_gap and not cfg.replay:
            # mtr's pace: a round a second lets the routers' ICMP budget refill.
            if stop is not None:
                stop.sleep(cfg.cycle_gap)
            else:
                time.sleep(cfg.cycle_gap)
        if stop is not None and stop.requested:
            result.interrupted = True
            break
        # Several rounds send each probe once, as mtr does (they identify the
        # hops between them); later rounds continue the tags (a straggler
        # answering a probe of the previous round is never taken for one of
        # this round) and the destination's distance.
        engine = previous.next_round() if previous is not None else TraceEngine(
            spec, cfg.first_ttl, cfg.max_ttl, cfg.nqueries, cfg.inflight, cfg.timing,
            gap=cfg.gap, retry=cfg.cycles == 1)
        previous = engine

        def hop_done(ev: HopDone, rnd: int = rnd) -> None:
            if on_hop:
                on_hop(rnd, ev.hop)

        ending = run(engine, transport, recorder, stop, hop_done)
        if ending == "end-of-input" and not isinstance(transport, ProbeSocket) \
                and transport.cut_at is not None:
            _surviving(engine, transport, rnd, on_hop)
        result.rounds.append(engine.all_hops())
        result.reached = result.reached or engine.reached
        result.end = engine.end
        result.counters.add(engine.counters)
        tag = engine.next_tag
        if ending != "done":
            result.interrupted = True
            break
        if on_round:
            on_round(result)
    if not isinstance(transport, ProbeSocket):
        transport.finish(interrupted=result.interrupted)
    return tag


def _surviving(engine: TraceEngine, transport: ReplayTransport, rnd: int,
               on_hop: Callable[[int, Hop], None] | None) -> None:
    """A truncated recording: show each unsettled hop's answers that survive, then say so.

    The answers recorded after the last whole probe are still whole; each
    probe they answer gets its RTT, and the probes whose answers were cut
    off are left out rather than shown as lost.
    """
    for pkt in transport.remaining():
        engine.received(pkt)
    printed = engine.first_ttl + len(engine.all_hops())
    if on_hop:
        for ttl in range(printed, engine.max_ttl + 1):
            answered = [s.probe for s in engine.hops[ttl] if s.probe.addr is not None]
            if answered:
                on_hop(rnd, Hop(ttl, answered))
    raise transport.cut_short()
