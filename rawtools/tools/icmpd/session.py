"""An icmpd run from options to exit: the live daemon, or a recording replayed.

Live, root's part is short and comes first: raise the descriptor limit,
open the raw ICMPv4 and ICMPv6 sockets, bind the Unix socket; then the
process becomes the invoking (or --user) user and stays so. One selector
loop serves everything: the listener, every client, both raw sockets and
the `Stop` wake-up descriptor, so a signal ends the wait at once and the
daemon leaves through one door (clients closed, socket unlinked, counts).

`run_daemon` is what the CLI calls and what a test runs in a subprocess
or a thread; `replay` feeds a pcap through the same engine with the
registrations given as --watch, with no socket and no privilege.
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import os
import pwd
import resource
import selectors
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawtools.engine import Received
from rawtools.errors import PermissionNeeded, RawtoolsError, ReplayError
from rawtools.io.icmpsock import IcmpSocket
from rawtools.io.privileges import drop_privileges, drop_target
from rawtools.io.stop import Stop
from rawtools.tools.icmpd.config import IcmpdConfig
from rawtools.tools.icmpd.engine import IcmpdEngine, Registration
from rawtools.tools.icmpd.listener import Listener, open_listener
from rawtools.tools.icmpd.report import Counts, Event, Notice, Started
from rawtools.tools.icmpd.server import Server
from rawtools.values import field, mutable
from rawtools.wire.link import ETHERTYPE_IP, ETHERTYPE_IPV6, NAMES, decapsulator

if TYPE_CHECKING:  # pcapfile loads dpkt, which a daemon without --record never needs
    from rawtools.io.pcapfile import PcapWriter

SO_RCVBUFFORCE = 33
ADDRESS_REFRESH_S = 10.0
"""How often the host's addresses are read again (for telling a rewritten source)."""
RAW_RCVBUF = 8 << 20
"""Receive buffer of each raw socket: the kernel counts a packet's whole buffer (about
a kilobyte for a 100-byte error), so the default 208 KiB would hold only a couple of
hundred errors of a burst while the loop is busy writing to clients."""
RECORD_FLUSH_EVERY = 1 << 30
"""The recording is flushed after each batch of packets read, not per record."""


def raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit.

    Every registration keeps the daemon's copy of the client's socket open
    (so the port stays owned by that socket and nobody else can take it and
    its errors), so the daemon needs a descriptor per registered socket on
    top of one per client: a thousand clients exceed the usual soft 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def local_addresses() -> set[str]:
    """Every address of this host (this network namespace), in canonical form."""
    import netifaces

    out = set()
    for name in netifaces.interfaces():
        info = netifaces.ifaddresses(name)
        for fam in (netifaces.AF_INET, netifaces.AF_INET6):
            for a in info.get(fam, []):
                with contextlib.suppress(ValueError):
                    out.add(str(ipaddress.ip_address(a["addr"].split("%")[0])))
    return out


def _grow_rcvbuf(sock: socket.socket) -> None:
    """RAW_RCVBUF, beyond net.core.rmem_max where privileged (SO_RCVBUFFORCE)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RAW_RCVBUF)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RAW_RCVBUF)


def _open_raw() -> list[IcmpSocket]:
    socks: list[IcmpSocket] = []
    try:
        for version in (4, 6):
            socks.append(IcmpSocket(version, "raw"))
            _grow_rcvbuf(socks[-1].sock)
    except PermissionNeeded:
        for s in socks:
            s.close()
        raise PermissionNeeded("cannot open raw ICMP sockets: run with sudo or give "
                               "CAP_NET_RAW") from None
    except RawtoolsError:
        for s in socks:
            s.close()
        raise
    return socks


@mutable
class Daemon:
    """Everything a live run holds; `close` gives it all back."""

    cfg: IcmpdConfig
    log: Callable[[Event], None]
    listener: Listener
    raws: list[IcmpSocket]
    engine: IcmpdEngine
    selector: selectors.BaseSelector
    server: Server
    counts: Counts
    writer: PcapWriter | None = None
    closed: bool = field(default=False)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.close()
        problem = self.listener.remove()
        if problem:
            self.log(Notice(problem))
        for raw in self.raws:
            raw.close()
        self.selector.close()
        if self.writer is not None:
            self.writer.close()
        _engine_totals(self.counts, self.engine)


def _become(cfg: IcmpdConfig, listener: Listener) -> str:
    """Drop root for good; first hand our own new directory to who we become, to unlink in it."""
    target = drop_target(cfg.user)
    if target is not None and listener.created_dir and target[0] != os.geteuid():
        os.chown(listener.created_dir, target[0], target[1])
    drop_privileges(cfg.user)
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def open_daemon(cfg: IcmpdConfig, log: Callable[[Event], None]) -> Daemon:
    """The privileged part, then the drop; nothing is left open if any step fails."""
    raise_fd_limit()
    raws = _open_raw()
    try:
        listener, stale = open_listener(cfg.socket_path, cfg.mode, cfg.gid)
    except BaseException:
        for raw in raws:
            raw.close()
        raise
    try:
        user = _become(cfg, listener)
        writer = None
        if cfg.record:
            from rawtools.io.pcapfile import PcapWriter
            writer = PcapWriter.open(cfg.record, flush_every=RECORD_FLUSH_EVERY)
    except BaseException:
        listener.remove()
        for raw in raws:
            raw.close()
        raise
    engine = IcmpdEngine(local_addresses())
    selector = selectors.DefaultSelector()
    counts = Counts()
    server = Server(listener.sock, selector, engine, log, counts, cfg.verbose)
    d = Daemon(cfg, log, listener, raws, engine, selector, server, counts, writer)
    for raw in raws:
        selector.register(raw.sock, selectors.EVENT_READ, _packets(d, raw))
    if stale:
        log(Notice(f"removed the stale socket {cfg.socket_path} of a daemon that is gone"))
    log(Started(cfg.socket_path, cfg.mode, cfg.group, user, os.getpid()))
    return d


def _packets(d: Daemon, raw: IcmpSocket) -> Callable[[int], None]:
    """The raw socket's handler: read all that waits, match it, write to the clients now."""
    engine, server, writer, counts = d.engine, d.server, d.writer, d.counts
    received, drain, take = engine.received, raw.drain, engine.take_events

    def ready(_mask: int) -> None:
        pkts = drain()
        counts.packets += len(pkts)
        # Each error is written before the next is matched: the first of a
        # burst should not wait for the work of the rest (latency is the point).
        for p in pkts:
            received(p)
            server.deliver(take())
        if writer is not None:
            for p in pkts:
                writer.write(p.ts_ns, p.packet)
            writer.flush()

    return ready


def serve(d: Daemon, stop: Stop) -> None:
    """The loop: until a stop is requested, dispatch whatever is ready."""
    sel = d.selector
    sel.register(stop.fd, selectors.EVENT_READ, None)
    # The per-packet path makes no reference cycles, but its short-lived
    # objects trigger the cyclic collector, whose full passes over a
    # thousand clients' state stall delivery for milliseconds: collect
    # the young generation rarely and leave what exists now out of it.
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    refresh_at = time.monotonic() + ADDRESS_REFRESH_S
    while not stop.requested:
        for key, mask in sel.select(max(0.0, refresh_at - time.monotonic())):
            if key.data is not None:
                key.data(mask)
        if time.monotonic() >= refresh_at:
            d.engine.set_local_addresses(local_addresses())
            refresh_at = time.monotonic() + ADDRESS_REFRESH_S


def run_daemon(cfg: IcmpdConfig, stop: Stop, log: Callable[[Event], None]) -> Counts:
    """Open, serve until `stop`, close; the counts of the run."""
    d = open_daemon(cfg, log)
    try:
        serve(d, stop)
    finally:
        d.close()
    return d.counts


def replay(cfg: IcmpdConfig, log: Callable[[Event], None]) -> Counts:
    """Every ICMP packet of the recording through the engine, with --watch as registrations.

    Raw IP (--record) and link-layer captures (tcpdump on Ethernet, cooked,
    loopback) are read alike; the link header is stripped per record.
    """
    from rawtools.io.pcapfile import read_packets

    assert cfg.replay is not None
    linktype, records = read_packets(cfg.replay)
    strip = decapsulator(linktype)
    if strip is None:
        raise ReplayError(f"{cfg.replay}: link type {NAMES.get(linktype, linktype)} cannot be "
                          "replayed (raw IP from --record, or Ethernet/Linux cooked/loopback "
                          "captures)")
    engine = IcmpdEngine()
    for i, w in enumerate(cfg.watches, 1):
        engine.register(Registration(i, i, i, w.version, w.addr, w.port))
    counts = Counts(registrations=len(cfg.watches))
    for ts, frame in records:
        d = strip(frame)
        if d is None or d[0] not in (ETHERTYPE_IP, ETHERTYPE_IPV6):
            continue
        counts.packets += 1
        engine.received(Received(ts, frame[d[1]:], "pcap"))
        for ev in engine.take_events():
            log(ev)
    _engine_totals(counts, engine)
    return counts


def _engine_totals(c: Counts, e: IcmpdEngine) -> None:
    """The engine's tallies into the run's counts: an error dropped for a slow
    client was matched by the engine but never delivered."""
    c.delivered, c.unmatched = e.delivered - c.dropped, e.unmatched
    c.malformed, c.ignored = e.malformed, e.ignored
