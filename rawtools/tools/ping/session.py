"""One ping run from start to end: targets, transport, engine, loop.

Both front ends (the CLI and `rawtools.ping()`) come through here, so a
script gets exactly what the command line prints, only as data. The order
is the one that keeps root's time short: resolve names, open the socket
(raw needs CAP_NET_RAW), drop privileges, and only then run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rawtools.engine import Mechanism, Transport
from rawtools.errors import ReplayError, RouteError, UsageError
from rawtools.io.icmpsock import IcmpSocket, is_broadcast
from rawtools.io.loop import Recorder, run
from rawtools.io.privileges import drop_privileges
from rawtools.io.stop import Stop
from rawtools.net.resolve import resolve
from rawtools.tools.ping.config import PingConfig
from rawtools.tools.ping.engine import PingEngine, Target
from rawtools.tools.ping.events import PingEvent
from rawtools.wire.icmp import parse_ip

if TYPE_CHECKING:
    from rawtools.io.replay import ReplayTransport

MAX_SWEEP = 65536


def sweep_targets(cidr: str) -> list[str]:
    """Host addresses of a CIDR range (network and broadcast left out for /0../30)."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError as e:
        raise UsageError(f"-g {cidr}: {e}") from None
    if net.num_addresses > MAX_SWEEP:
        raise UsageError(f"-g {cidr}: more than {MAX_SWEEP} addresses")
    hosts = list(net.hosts()) if net.num_addresses > 2 else list(net)
    return [str(a) for a in hosts]


def plan_targets(cfg: PingConfig, replay: ReplayTransport | None) -> tuple[list[Target], int]:
    """Resolve every target once; all must be of one IP version (one socket)."""
    names = list(cfg.targets)
    if cfg.sweep:
        names += sweep_targets(cfg.sweep)
    if not names and replay is not None:
        names = replay.destinations()
    if not names:
        raise UsageError("no target given (usage: rawtools ping [options] HOST ...)")
    targets: list[Target] = []
    versions = set()
    for name in names:
        addr, version = resolve(name, cfg.version)
        versions.add(version)
        targets.append(Target(addr, name))
    if len(versions) > 1:
        raise UsageError("targets mix IPv4 and IPv6; give -4 or -6, or ping them separately")
    if len(targets) > 1:
        cfg.opts.multi = True  # a replayed sweep is a sweep, named or not
    return targets, versions.pop()


def _options_from_recording(cfg: PingConfig, replay: ReplayTransport) -> None:
    """Fill in what the user did not repeat: count, interval and size as recorded.

    A replay must make the engine send when the live run sent, or replies
    would arrive "before" their probes; the recording shows the pace.
    """
    o = cfg.opts
    if o.count is None and not o.multi and o.deadline_ns is None:
        o.count = sum(1 for p in replay.outgoing if parse_ip(p[1]) is not None)
    if not cfg.interval_given:
        gap = replay.send_gap_ns()
        if gap is not None:
            o.interval_ns = gap
    first = parse_ip(replay.first_outgoing)
    if first is not None and first.kind == "echo-request" and not cfg.size_given:
        o.size = len(first.payload)


def check_routes(sock: IcmpSocket, targets: list[Target], multi: bool) -> None:
    """Ask the kernel for a route to every target before the first probe.

    One target without a route is iputils' error (`connect: Network is
    unreachable`, exit 2), raised before the header as iputils does; in a
    sweep it is that target's state, and the others are probed. Asked with
    the socket's source and device, from the cache every later send uses.
    """
    for t in targets:
        try:
            sock.source_for(t.addr)
        except RouteError as e:
            if not multi:
                raise
            t.no_route = e.reason


@dataclass
class PingRun:
    """What a finished run leaves: the engine's tallies and how it was done."""

    engine: PingEngine
    mechanism: Mechanism
    source: str | None


def execute(cfg: PingConfig, on_start: Callable[[list[Target], str | None], None],
            on_event: Callable[[PingEvent], None], stop: Stop | None = None) -> PingRun:
    """Run to the end (count, deadline, Ctrl-C or end of a replay file).

    Recording and replay modules load only when asked: they bring dpkt,
    70 ms of a `ping -c 1` that records nothing.
    """
    replay = None
    if cfg.record:
        # Loaded now, while the interpreter's files are surely readable: once
        # the socket is open, root is given up.
        from rawtools.io.pcapfile import PcapWriter
    if cfg.replay:
        from rawtools.io.replay import ReplayTransport
        replay = ReplayTransport(cfg.replay)
    ident = 0
    if replay is not None:
        first = parse_ip(replay.first_outgoing)
        if first is None or first.kind != "echo-request":
            raise ReplayError(f"{cfg.replay}: does not start with an echo request of ours; "
                              "nothing to replay")
        ident = first.ident or 0
        if cfg.version not in (None, replay.version):
            raise replay.diverged(f"probe 1: the recording is IPv{replay.version}, this run "
                                  f"asks for IPv{cfg.version}")
    targets, version = plan_targets(cfg, replay)
    transport: Transport
    mechanism: Mechanism
    source: str | None
    if replay is not None:
        _options_from_recording(cfg, replay)
        transport = replay
        mechanism, source = "replay", replay.local
    else:
        if not cfg.broadcast and not cfg.opts.multi and is_broadcast(targets[0].addr):
            # iputils asks before its header; a sweep meets it at the send instead.
            raise UsageError(f"{targets[0].addr} is a broadcast address: give -b to ping it "
                             "(if it is not, check the local firewall rules)")
        sock = IcmpSocket(version, cfg.mechanism, cfg.source, cfg.device, cfg.opts.ttl,
                          cfg.broadcast, cfg.dont_fragment)
        try:
            check_routes(sock, targets, cfg.opts.multi)
        except BaseException:
            sock.close()
            raise
        drop_privileges()
        transport, ident, mechanism = sock, sock.ident, sock.mechanism
        source = cfg.source
    recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None
    engine = PingEngine(targets, cfg.opts, ident, version)
    on_start(targets, source)
    try:
        ending = run(engine, transport, recorder, stop, on_event)
    finally:
        transport.close()
        if recorder:
            recorder.writer.close()
    if replay is not None:
        if ending == "end-of-input" and replay.cut_at is not None:
            raise replay.cut_short()
        replay.finish(interrupted=ending == "stopped")
    return PingRun(engine, mechanism, source)
