"""One trace from options to results: sockets or a recording, the loop, the rounds.

The CLI and the Python API both come through here, so they cannot differ in
what they send. A replay learns the probe identity (method, ports, ICMP
identifier, TCP sequence base, source, distance cap) from the recording
itself; the pacing flags (-q, -N, -w, -z) must be those of the recorded run.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from rawtools.errors import ReplayError
from rawtools.io.loop import Recorder, run
from rawtools.io.privileges import drop_privileges
from rawtools.io.probesock import ProbeSocket
from rawtools.io.stop import Stop
from rawtools.net.resolve import resolve
from rawtools.tools.trace.config import DEFAULT_PORT, TraceConfig
from rawtools.tools.trace.engine import HopDone, TraceEngine
from rawtools.tools.trace.hops import Counters, Hop
from rawtools.values import field, mutable
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, parse_header
from rawtools.wire.probes import ProbeSpec

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:  # pcap files need dpkt: a third of a trace's start-up, paid when used
    from rawtools.engine import Mechanism
    from rawtools.io.loop import Ending
    from rawtools.io.replay import ReplayTransport
    from rawtools.tools.trace.explain import Explanation
    from rawtools.tools.trace.hops import EndReason


@mutable
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
    p = prepare(cfg)
    transport, other, result = p.transport, p.other, p.result
    if on_start:
        on_start(result)
    try:
        tag = _rounds(cfg, p.spec, transport, p.recorder, stop, result, on_hop, on_round)
        if other is not None and isinstance(transport, ProbeSocket) and result.rounds \
                and not result.interrupted:
            from rawtools.tools.trace.explain import explain

            result.explanations = explain(p.spec, transport, other, result.rounds[-1],
                                          p.recorder, stop, tag)
    finally:
        p.close()
    return result


@mutable
class Prepared:
    """A trace ready to go: sockets open (root given up) or a recording loaded."""

    spec: ProbeSpec
    transport: ReplayTransport | ProbeSocket
    other: ProbeSocket | None
    recorder: Recorder | None
    result: TraceRun

    def close(self) -> None:
        if self.other is not None:
            self.other.close()
        self.transport.close()
        if self.recorder:
            self.recorder.writer.close()


def prepare(cfg: TraceConfig) -> Prepared:
    """Open the probe sockets (then give up root) or the recording, and the run's record."""
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
    p = Prepared(spec, transport, other, None, result)
    try:
        p.recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None
    except BaseException:
        p.close()
        raise
    return p


def _rounds(cfg: TraceConfig, spec: ProbeSpec, transport: ReplayTransport | ProbeSocket,
            recorder: Recorder | None, stop: Stop | None, result: TraceRun,
            on_hop: Callable[[int, Hop], None] | None,
            on_round: Callable[[TraceRun], None] | None = None) -> int:
    """Every round of the run into `result`; returns the tag the next probe would carry."""
    rounds = Rounds(cfg, spec, transport, result, on_hop, on_round)
    while (step := rounds.next()) is not None:
        engine, pause = step
        if pause:
            if stop is not None:
                stop.sleep(pause)
            else:
                time.sleep(pause)
        if stop is not None and stop.requested:
            result.interrupted = True
            break
        if not rounds.ended(engine, run(engine, transport, recorder, stop, rounds.hop_done)):
            break
    return rounds.finish()


class Rounds:
    """The rounds of one trace and what each leaves in `result`, for either loop to drive.

    The blocking loop (`execute`) and asyncio's (`rawtools.aio.trace`) run
    the same rounds; only how they wait (for answers, and a second between
    rounds, mtr's pace, so routers' ICMP budgets refill) differs.
    """

    def __init__(self, cfg: TraceConfig, spec: ProbeSpec,
                 transport: ReplayTransport | ProbeSocket, result: TraceRun,
                 on_hop: Callable[[int, Hop], None] | None,
                 on_round: Callable[[TraceRun], None] | None = None) -> None:
        self.cfg, self.spec, self.transport, self.result = cfg, spec, transport, result
        self.on_hop, self.on_round = on_hop, on_round
        self.tag = 0
        self.rnd = -1
        self.previous: TraceEngine | None = None
        result.gap = cfg.gap

    def next(self) -> tuple[TraceEngine, float] | None:
        """The next round's engine and the seconds to wait before it; None after the last."""
        cfg = self.cfg
        if cfg.cycles and self.rnd + 1 >= cfg.cycles:
            return None
        self.rnd += 1
        # Several rounds send each probe once, as mtr does (they identify the
        # hops between them); later rounds continue the tags (a straggler
        # answering a probe of the previous round is never taken for one of
        # this round) and the destination's distance.
        engine = self.previous.next_round() if self.previous is not None else TraceEngine(
            self.spec, cfg.first_ttl, cfg.max_ttl, cfg.nqueries, cfg.inflight, cfg.timing,
            gap=cfg.gap, retry=cfg.cycles == 1)
        self.previous = engine
        pause = cfg.cycle_gap if self.rnd and not cfg.replay else 0.0
        return engine, pause

    def hop_done(self, ev: HopDone) -> None:
        if self.on_hop:
            self.on_hop(self.rnd, ev.hop)

    def ended(self, engine: TraceEngine, ending: Ending) -> bool:
        """File a round's hops and counts; whether another round may follow."""
        result, transport = self.result, self.transport
        if ending == "end-of-input" and not isinstance(transport, ProbeSocket) \
                and transport.cut_at is not None:
            _surviving(engine, transport, self.rnd, self.on_hop)
        result.rounds.append(engine.all_hops())
        result.reached = result.reached or engine.reached
        result.end = engine.end
        result.counters.add(engine.counters)
        self.tag = engine.next_tag
        if ending != "done":
            result.interrupted = True
            return False
        if self.on_round:
            self.on_round(result)
        return True

    def finish(self) -> int:
        """A replay checks it was used up; the tag the next probe would carry."""
        if not isinstance(self.transport, ProbeSocket):
            self.transport.finish(interrupted=self.result.interrupted)
        return self.tag


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
