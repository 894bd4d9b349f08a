"""One trace from options to results: sockets or a recording, the loop, the rounds.

The CLI and the Python API both come through here, so they cannot differ in
what they send. A replay learns the probe identity (method, ports, ICMP
identifier, TCP sequence base, source, distance cap) from the recording
itself; the pacing flags (-q, -N, -w, -z) must be those of the recorded run.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from rawtools.errors import ReplayError, UsageError
from rawtools.io.loop import Recorder, Stop, run
from rawtools.io.pcapfile import PcapWriter
from rawtools.io.privileges import drop_privileges
from rawtools.net.resolve import resolve
from rawtools.tools.trace.engine import Counters, Hop, Timing, TraceEngine
from rawtools.wire.icmp import ip6_transport
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
        drop_privileges()
        port = cfg.port if cfg.port is not None else DEFAULT_PORT[cfg.method]
        paris = cfg.paris if cfg.paris is not None else cfg.method != "udp"
        spec = ProbeSpec(cfg.method, version, transport.src, addr, port, paris,
                         ident=transport.ident, sport=transport.sport,
                         seq_base=getattr(transport, "seq_base", 0),
                         size=(40 if version == 6 else 20) + 40)
        mechanism, host = transport.mechanism, cfg.host
    recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None
    result = TraceRun(spec, host, mechanism, [], False, Counters())
    if on_start:
        on_start(result)
    tag = 0
    try:
        for rnd in range(cfg.cycles):
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
    finally:
        transport.close()
        if recorder:
            recorder.writer.close()
    return result
