"""One trace from options to results: sockets or a recording, the loop, the rounds.

The CLI and the Python API both come through here, so they cannot differ in
what they send. A replay learns the probe identity (method, ports, ICMP
identifier, TCP sequence base, source, distance cap) from the recording
itself; the pacing flags (-q, -N, -w, -z) must be those of the recorded run.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rawtools.errors import ReplayError, UsageError
from rawtools.io.loop import Recorder, Stop, run
from rawtools.io.pcapfile import PcapWriter
from rawtools.io.privileges import drop_privileges
from rawtools.net.resolve import resolve
from rawtools.tools.trace.engine import Counters, Hop, Timing, TraceEngine
from rawtools.wire.ip import ip6_transport
from rawtools.wire.probes import ProbeSpec

DEFAULT_PORT = {"udp": 33434, "tcp": 80, "icmp": 0}


@dataclass
class TraceConfig:
    """Everything a trace is asked to do, validated."""

    host: str | None
    method: str = "udp"
    version: int | None = None
    first_ttl: int = 1
    max_ttl: int = 30
    nqueries: int = 3
    inflight: int = 16
    timing: Timing = field(default_factory=Timing)
    port: int | None = None
    paris: bool | None = None
    source: str | None = None
    device: str | None = None
    mechanism: str | None = None
    cycles: int = 1
    explain: bool = False
    cycle_gap: float = 0.0
    record: str | None = None
    replay: str | None = None

    def check(self) -> None:
        """Refuse what traceroute refuses, each with one line."""
        if self.method not in DEFAULT_PORT:
            raise UsageError(f"unknown method {self.method!r}")
        if not 1 <= self.max_ttl <= 255:
            raise UsageError(f"max hops cannot be more than 255 (got {self.max_ttl})"
                             if self.max_ttl > 255 else
                             f"max hops must be at least 1 (got {self.max_ttl})")
        if not 1 <= self.first_ttl <= 255:
            raise UsageError(f"first hop out of range: {self.first_ttl} (1..255)")
        if self.first_ttl > self.max_ttl:
            raise UsageError(f"first hop {self.first_ttl} is beyond max hops {self.max_ttl}")
        if not 1 <= self.nqueries <= 10:
            raise UsageError(f"probes per hop must be 1..10 (got {self.nqueries})")
        if self.inflight < 1:
            raise UsageError(f"simultaneous probes must be at least 1 (got {self.inflight})")
        if self.timing.wait <= 0:
            raise UsageError("wait time must be positive")
        if self.timing.pause < 0:
            raise UsageError("send pause cannot be negative")
        if self.port is not None and not 0 < self.port < 65536:
            raise UsageError(f"port out of range: {self.port}")
        if self.cycles < 1:
            raise UsageError(f"cycles must be at least 1 (got {self.cycles})")
        if self.host is None and self.replay is None:
            raise UsageError("a host to trace is needed")
        if self.explain and self.replay is not None:
            raise UsageError("--explain re-probes the network; it cannot run on a replay")


@dataclass
class TraceRun:
    """What one session produced: every round's hops, and how it was done."""

    spec: ProbeSpec
    host: str
    mechanism: str
    rounds: list[list[Hop]]
    reached: bool
    counters: Counters
    interrupted: bool = False
    explanations: list[Explanation] = field(default_factory=list)


# Which other method tells "this router drops our kind of probe" from "this
# router sends no errors at all".
OTHER_METHOD = {"udp": "icmp", "icmp": "udp", "tcp": "icmp"}
EXPLAIN_GAP = 1_050_000_000  # just over the 1 s an IPv4 router needs per error
EXPLAIN_PROBES = 3


@dataclass
class Explanation:
    """Why a hop showed stars, from probes re-sent one by one after the trace.

    Sent slower than any ICMP rate limit refills: a hop that now answers every
    probe was rate-limited; one that answers some is lossy; one that answers
    only the other method filters ours; one that answers nothing sends no
    errors at all (filtered, for whatever reason).
    """

    ttl: int
    verdict: str
    method: str
    answered: int
    sent: int
    other_method: str | None = None
    other_answered: int = 0
    other_sent: int = 0
    addr: str | None = None

    def text(self) -> str:
        own = f"{self.answered}/{self.sent} {self.method}"
        other = (f", {self.other_answered}/{self.other_sent} {self.other_method}"
                 if self.other_method and self.other_sent else "")
        why = {"rate-limited": "answers every probe when paced: its ICMP rate limit ate the "
                               "stars",
               "lossy": "answers only some probes even when paced",
               "filtered": (f"drops or ignores {self.method} probes but answers "
                            f"{self.other_method}" if self.other_answered else
                            "sends no ICMP errors at all (filtered or configured silent)")}
        return (f"hop {self.ttl}: {self.verdict}: {why[self.verdict]} ({own}{other} probes "
                f"answered, {EXPLAIN_GAP / 1e9:g} s apart)")


def _spec_from_recording(first: bytes, second: bytes | None) -> ProbeSpec:
    """The probe identity of a recorded trace, read from its first probes."""
    version = first[0] >> 4
    if version == 4:
        off, proto = (first[0] & 0xF) * 4, first[9]
        src = socket.inet_ntop(socket.AF_INET, first[12:16])
        dst = socket.inet_ntop(socket.AF_INET, first[16:20])
    else:
        proto, off = ip6_transport(first)
        src = socket.inet_ntop(socket.AF_INET6, first[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, first[24:40])
    t = first[off:]
    if len(t) < 8:
        raise ReplayError("the first recorded probe is truncated")
    common = dict(version=version, src=src, dst=dst, size=len(first))
    if proto == 17:
        sport, dport = struct.unpack_from("!HH", t)
        paris = second is not None and struct.unpack_from("!H", second, off + 2)[0] == dport
        return ProbeSpec("udp", port=dport, paris=paris, sport=sport, **common)
    if proto == 6:
        sport, dport, seq = struct.unpack_from("!HHI", t)
        return ProbeSpec("tcp", port=dport, paris=True, sport=sport, seq_base=seq >> 16,
                         **common)
    if proto in (1, 58):
        ident = struct.unpack_from("!H", t, 4)[0]
        return ProbeSpec("icmp", port=0, paris=True, ident=ident, **common)
    raise ReplayError(f"the recording does not start with a trace probe (protocol {proto})")


def _scout_ttl(first: bytes) -> int:
    return first[8] if first[0] >> 4 == 4 else first[7]


def execute(cfg: TraceConfig, on_start: Callable[[TraceRun], None] | None = None,
            on_hop: Callable[[int, Hop], None] | None = None,
            stop: Stop | None = None) -> TraceRun:
    """Run `cfg.cycles` rounds of the trace; `on_hop(round, hop)` as lines complete."""
    cfg.check()
    stop = stop or Stop()
    if cfg.replay:
        from rawtools.io.replay import ReplayTransport
        transport = ReplayTransport(cfg.replay)
        if not transport.outgoing:
            raise ReplayError(f"{cfg.replay}: no probes in the recording")
        second = transport.outgoing[1][1] if len(transport.outgoing) > 1 else None
        spec = _spec_from_recording(transport.outgoing[0][1], second)
        # The scout goes first with the highest TTL: that is the recorded -m.
        scout_ttl = _scout_ttl(transport.outgoing[0][1])
        if cfg.max_ttl != scout_ttl and scout_ttl >= cfg.first_ttl:
            cfg.max_ttl = scout_ttl
        mechanism, host = "replay", cfg.host or spec.dst
    else:
        assert cfg.host is not None
        addr, version = resolve(cfg.host, cfg.version)
        from rawtools.io.probesock import ProbeSocket
        transport = ProbeSocket(cfg.method, version, addr, cfg.mechanism, cfg.source,
                                cfg.device)
        if cfg.explain:
            # Opened now: after the privilege drop a raw socket could not be.
            other = ProbeSocket(OTHER_METHOD[cfg.method], version, addr,
                                "dgram" if transport.mechanism == "dgram" else None,
                                cfg.source, cfg.device)
        drop_privileges()
        port = cfg.port if cfg.port is not None else DEFAULT_PORT[cfg.method]
        paris = cfg.paris if cfg.paris is not None else cfg.method != "udp"
        spec = ProbeSpec(cfg.method, version, transport.src, addr, port, paris,
                         ident=transport.ident, sport=transport.sport,
                         seq_base=getattr(transport, "seq_base", 0),
                         size=(40 if version == 6 else 20) + 40)
        mechanism, host = transport.mechanism, cfg.host
    explainer = None if cfg.replay or not cfg.explain else other
    recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None
    result = TraceRun(spec, host, mechanism, [], False, Counters())
    if on_start:
        on_start(result)
    tag = 0
    try:
        for rnd in range(cfg.cycles):
            if rnd and cfg.cycle_gap and not cfg.replay:
                # mtr's pace: a round a second lets the routers' ICMP budget refill.
                time.sleep(cfg.cycle_gap)
            if stop.requested:
                break
            engine = TraceEngine(spec, cfg.first_ttl, cfg.max_ttl, cfg.nqueries, cfg.inflight,
                                 cfg.timing, first_tag=tag)

            def flush(engine: TraceEngine = engine, rnd: int = rnd) -> None:
                for hop in engine.take_ready():
                    if on_hop:
                        on_hop(rnd, hop)

            run(engine, transport, recorder, stop, on_idle=flush)
            flush()
            result.rounds.append(engine.all_hops())
            result.reached = result.reached or engine.reached
            for name in Counters.__slots__:
                setattr(result.counters, name,
                        getattr(result.counters, name) + getattr(engine.counters, name))
            tag = engine.next_tag
            if stop.requested or not engine.done:
                result.interrupted = True
                break
        if explainer is not None and result.rounds and not result.interrupted:
            result.explanations = _explain(spec, transport, explainer, result.rounds[-1],
                                           recorder, stop, tag)
    finally:
        if explainer is not None:
            explainer.close()
        transport.close()
        if recorder:
            recorder.writer.close()
    return result


def _slow(spec: ProbeSpec, transport, ttl: int, recorder: Recorder | None, stop: Stop,
          tag: int) -> tuple[Hop, int]:
    """Probes at one TTL, one at a time, `EXPLAIN_GAP` apart, no retries."""
    gap = EXPLAIN_GAP
    timing = Timing(wait=gap - 100_000_000, floor=gap - 100_000_000, pause=gap)
    engine = TraceEngine(spec, ttl, ttl, EXPLAIN_PROBES, 1, timing, scout=False,
                         first_tag=tag)
    run(engine, transport, recorder, stop)
    return engine.all_hops()[0] if engine.all_hops() else Hop(ttl, []), engine.next_tag


def _explain(spec: ProbeSpec, transport, other, hops: list[Hop], recorder: Recorder | None,
             stop: Stop, tag: int) -> list[Explanation]:
    """Re-probe every hop that showed a star, slowly and with another method too."""
    other_spec = ProbeSpec(other.method, spec.version, other.src, spec.dst,
                           DEFAULT_PORT[other.method], other.method != "udp",
                           ident=other.ident, sport=other.sport,
                           seq_base=getattr(other, "seq_base", 0), size=spec.size)
    out = []
    for hop in hops:
        if all(p.addr is not None for p in hop.probes) or stop.requested:
            continue
        same, tag = _slow(spec, transport, hop.ttl, recorder, stop, tag)
        got = [p for p in same.probes if p.addr is not None]
        exp = Explanation(hop.ttl, "", spec.method, len(got), len(same.probes),
                          addr=got[0].addr if got else None)
        if len(got) == len(same.probes) and got:
            exp.verdict = "rate-limited"
        elif got:
            exp.verdict = "lossy"
        else:
            alt, tag = _slow(other_spec, other, hop.ttl, recorder, stop, tag)
            alt_got = [p for p in alt.probes if p.addr is not None]
            exp.verdict = "filtered"
            exp.other_method, exp.other_sent = other.method, len(alt.probes)
            exp.other_answered = len(alt_got)
            exp.addr = alt_got[0].addr if alt_got else None
        out.append(exp)
    return out
