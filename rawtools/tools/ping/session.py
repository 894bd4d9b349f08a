"""One ping run from start to end: targets, transport, engine, loop.

Both front ends (the CLI and `rawtools.ping()`) come through here, so a
script gets exactly what the command line prints, only as data. The order
is the one that keeps root's time short: resolve names, open the socket
(raw needs CAP_NET_RAW), drop privileges, and only then run.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from rawtools.errors import ReplayError, RouteError, UsageError
from rawtools.io.icmpsock import IcmpSocket, IcmpSockets, is_broadcast
from rawtools.io.loop import Recorder, run
from rawtools.io.privileges import drop_privileges
from rawtools.io.stop import Stop
from rawtools.net.resolve import resolve
from rawtools.tools.ping.config import PingConfig
from rawtools.tools.ping.engine import PingEngine, Target
from rawtools.tools.ping.events import PingEvent
from rawtools.values import mutable
from rawtools.wire.icmp import parse_ip

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.engine import Mechanism, Transport
    from rawtools.io.loop import Ending
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


def plan_targets(cfg: PingConfig, replay: ReplayTransport | None,
                 ) -> tuple[list[Target], list[int]]:
    """Resolve every target once; the IP versions they use, the first target's first."""
    names = list(cfg.targets)
    if cfg.sweep:
        names += sweep_targets(cfg.sweep)
    if not names and replay is not None:
        names = replay.destinations()
    if not names:
        raise UsageError("no target given (usage: rawtools ping [options] HOST ...)")
    targets: list[Target] = []
    versions: list[int] = []
    for name in names:
        addr, version = resolve(name, cfg.version)
        if version not in versions:
            versions.append(version)
        targets.append(Target(addr, name))
    if len(versions) > 1 and cfg.source is not None:
        raise UsageError(f"-I {cfg.source}: a source address is of one IP version and the "
                         "targets mix IPv4 and IPv6; give -4 or -6, or an interface name")
    if len(targets) > 1:
        cfg.opts.multi = True  # a replayed sweep is a sweep, named or not
    return targets, versions


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


def _open_sockets(cfg: PingConfig, targets: list[Target], versions: list[int],
                  ) -> dict[int, IcmpSocket]:
    """One echo socket per IP version the targets use, each with its routes checked."""
    socks: dict[int, IcmpSocket] = {}
    try:
        for v in versions:
            socks[v] = IcmpSocket(v, cfg.mechanism, cfg.source, cfg.device, cfg.opts.ttl,
                                  cfg.broadcast, cfg.dont_fragment)
            check_routes(socks[v], [t for t in targets if t.version == v], cfg.opts.multi)
    except BaseException:
        for s in socks.values():
            s.close()
        raise
    return socks


def _recorded_idents(replay: ReplayTransport, cfg: PingConfig) -> dict[int, int]:
    """The identifier each IP version's echo requests carried in the recording."""
    first = parse_ip(replay.first_outgoing)
    if first is None or first.kind != "echo-request":
        raise ReplayError(f"{cfg.replay}: does not start with an echo request of ours; "
                          "nothing to replay")
    if cfg.version not in (None, replay.version):
        raise replay.diverged(f"probe 1: the recording is IPv{replay.version}, this run "
                              f"asks for IPv{cfg.version}")
    idents: dict[int, int] = {}
    for _ts, pkt, _dst in replay.outgoing:
        sent = parse_ip(pkt)
        if sent is not None and sent.kind == "echo-request" and sent.ident is not None:
            idents.setdefault(sent.version, sent.ident)
    return idents


@mutable
class PingRun:
    """What a finished run leaves: the engine's tallies and how it was done."""

    engine: PingEngine
    mechanism: Mechanism
    source: str | None


@mutable
class Prepared:
    """A run ready to go: sockets open (root given up) or a recording loaded, the engine made.

    The blocking loop (`execute`) and asyncio's (`rawtools.aio.ping`) drive
    the same prepared run; only the waiting differs.
    """

    engine: PingEngine
    transport: Transport
    recorder: Recorder | None
    replay: ReplayTransport | None
    mechanism: Mechanism
    source: str | None

    def close(self) -> None:
        self.transport.close()
        if self.recorder:
            self.recorder.writer.close()

    def conclude(self, ending: Ending) -> PingRun:
        """The finished run; a replay that ran dry or parted from its recording raises."""
        if self.replay is not None:
            if ending == "end-of-input" and self.replay.cut_at is not None:
                raise self.replay.cut_short()
            self.replay.finish(interrupted=ending == "stopped")
        return PingRun(self.engine, self.mechanism, self.source)


def execute(cfg: PingConfig, on_start: Callable[[list[Target], str | None], None],
            on_event: Callable[[PingEvent], None], stop: Stop | None = None) -> PingRun:
    """Run to the end (count, deadline, Ctrl-C or end of a replay file)."""
    p = prepare(cfg)
    on_start(p.engine.targets, p.source)
    try:
        ending = run(p.engine, p.transport, p.recorder, stop, on_event)
    finally:
        p.close()
    return p.conclude(ending)


def prepare(cfg: PingConfig) -> Prepared:
    """Resolve, open the sockets (then give up root) or load the recording; make the engine.

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
    idents: dict[int, int] = {}
    if replay is not None:
        idents = _recorded_idents(replay, cfg)
    targets, versions = plan_targets(cfg, replay)
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
        socks = _open_sockets(cfg, targets, versions)
        drop_privileges()
        idents = {v: s.ident for v, s in socks.items()}
        mechanism = socks[versions[0]].mechanism
        transport = socks[versions[0]] if len(socks) == 1 else IcmpSockets(socks)
        source = cfg.source
    try:
        recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None
    except BaseException:
        transport.close()
        raise
    return Prepared(PingEngine(targets, cfg.opts, idents), transport, recorder, replay,
                    mechanism, source)
