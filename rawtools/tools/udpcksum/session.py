"""One udpcksum run from options to result: sockets and a capture, or a recording; the loop.

The CLI and the Python API both come through here. Live, the order keeps
root's time short: resolve, hold the local UDP port (which also gives the
kernel's source address and port), find the interface the route leaves
by, open the raw IP socket and the capture with its filter, drop
privileges, and only then send.

A replay learns our address and port and the IPv4 identification from the
first recorded datagram and rebuilds the datagram from the options given;
every recorded try must be byte for byte that datagram, and the run must
make as many tries as were recorded, or the replay says where they part.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawtools.errors import ReplayError
from rawtools.io.capture import DEFAULT_SNAPLEN, Capture
from rawtools.io.ipsend import HeaderMode, IpSender
from rawtools.io.loop import Recorder, run
from rawtools.io.pcapfile import PcapWriter
from rawtools.io.pcaptransport import CaptureTransport, hold_udp_port
from rawtools.io.privileges import drop_privileges
from rawtools.io.replay import ReplayTransport
from rawtools.io.route import route_interface
from rawtools.io.stop import Stop
from rawtools.net.resolve import resolve
from rawtools.tools.udpcksum.config import UdpCksumConfig
from rawtools.tools.udpcksum.engine import UdpCksumEngine
from rawtools.tools.udpcksum.events import UdpCksumEvent
from rawtools.tools.udpcksum.payloads import PayloadKind
from rawtools.values import mutable
from rawtools.wire.ip import PROTO_UDP, parse_header
from rawtools.wire.link import describe
from rawtools.wire.udp import UdpProbe

if TYPE_CHECKING:
    from rawtools.engine import Mechanism

# libpcap hands captured packets over at the latest this long after they
# arrived (no immediate mode in pcapy-ng); short, since only a few come.
CAPTURE_TIMEOUT_MS = 10


@mutable
class Plan:
    """What is sent, to whom, and how the answer is read (known before the first send)."""

    host: str
    probe: UdpProbe
    service: str | None
    kind: PayloadKind
    query: str | None
    mechanism: Mechanism
    device: str | None = None
    linktype: str | None = None
    bpf: str | None = None
    header_mode: HeaderMode | None = None


@mutable
class UdpCksumRun:
    """A finished run: the plan and the engine holding the outcome."""

    plan: Plan
    engine: UdpCksumEngine


def _words(addr: str) -> list[int]:
    return list(struct.unpack("!4I", socket.inet_pton(socket.AF_INET6, addr)))


def bpf_filter(probe: UdpProbe) -> str:
    """The server's answer, or an ICMP error quoting our very datagram.

    The quote is matched as far as BPF reaches: the error types that end a
    run, then the quoted header's protocol, both addresses and both ports at
    their fixed offsets (the datagram is ours, so its IPv4 header has no
    options and its IPv6 header no extensions). The engine checks again.
    """
    p = probe
    udp = (f"udp and src host {p.dst} and src port {p.dport} and dst host {p.src} "
           f"and dst port {p.sport}")
    if p.version == 4:
        src4 = struct.unpack("!I", socket.inet_aton(p.src))[0]
        dst4 = struct.unpack("!I", socket.inet_aton(p.dst))[0]
        err = (f"icmp and dst host {p.src} and (icmp[0] == 3 or icmp[0] == 11 or "
               f"icmp[0] == 12) and icmp[8] == 0x45 and icmp[17] == {PROTO_UDP} and "
               f"icmp[20:4] == {src4:#010x} and icmp[24:4] == {dst4:#010x} and "
               f"icmp[28:2] == {p.sport} and icmp[30:2] == {p.dport}")
    else:
        quoted = " and ".join(f"icmp6[{16 + 4 * i}:4] == {w:#010x}"
                              for i, w in enumerate(_words(p.src) + _words(p.dst)))
        err = (f"icmp6 and dst host {p.src} and icmp6[0] >= 1 and icmp6[0] <= 4 and "
               f"icmp6[14] == {PROTO_UDP} and {quoted} and icmp6[48:2] == {p.sport} and "
               f"icmp6[50:2] == {p.dport}")
    return f"({udp}) or ({err})"


def _summary(datagram: bytes) -> str:
    """A datagram in the few words that tell two tries apart."""
    h = parse_header(datagram)
    if h is None or h.proto != PROTO_UDP or len(datagram) < h.offset + 8:
        return "something else than a UDP datagram"
    sport, dport, _ulen, ck = struct.unpack_from("!HHHH", datagram, h.offset)
    return (f"{len(datagram)} bytes from {h.src}.{sport} to {h.dst}.{dport} with checksum "
            f"{ck:#06x}")


def _open_replay(cfg: UdpCksumConfig) -> tuple[ReplayTransport, Plan]:
    """The recording, and the datagram the options rebuild, which every recorded try must be."""
    transport = ReplayTransport(cfg.replay or "", probes=False)
    if not transport.outgoing:
        raise ReplayError(f"{cfg.replay}: no datagram of ours in the recording")
    first = transport.outgoing[0][1]
    h = parse_header(first)
    if h is None or h.proto != PROTO_UDP or len(first) < h.offset + 8:
        raise ReplayError(f"{cfg.replay}: the recording does not start with a UDP datagram; "
                          "not a udpcksum recording")
    if cfg.version not in (None, h.version):
        raise transport.diverged(f"try 1: the recording is IPv{h.version}, this run asks for "
                                 f"IPv{cfg.version}")
    sport, dport = struct.unpack_from("!HH", first, h.offset)
    addr = resolve(cfg.host, h.version)[0] if cfg.host else h.dst
    loc = cfg.local
    if loc is not None and loc.version != h.version:
        raise ReplayError(f"the recording is IPv{h.version}; -l {loc.addr} is not")
    probe = UdpProbe(h.version, loc.addr if loc else h.src, addr,
                     loc.port if loc and loc.port else sport, cfg.port or dport, cfg.payload,
                     h.ident, zero_checksum=cfg.zero)
    ours = probe.datagram()
    for n, (_ts, recorded, _dst) in enumerate(transport.outgoing, 1):
        if recorded != ours:
            raise transport.diverged(f"try {n}: it sent {_summary(recorded)}, this run "
                                     f"sends {_summary(ours)}")
    return transport, Plan(cfg.host or h.dst, probe, cfg.service, cfg.kind, cfg.query, "replay")


def _open_live(cfg: UdpCksumConfig, stack: contextlib.ExitStack) -> tuple[CaptureTransport, Plan]:
    """Everything that needs privileges, opened in one go; closed by `stack` on failure."""
    assert cfg.host is not None and cfg.port is not None
    addr, version = resolve(cfg.host, cfg.version)
    local = (cfg.local.addr, cfg.local.port) if cfg.local else None
    hold, src, sport = hold_udp_port(addr, cfg.port, local)
    stack.callback(hold.close)
    device = cfg.device or route_interface(addr, src)
    sender = IpSender(version)
    stack.callback(sender.close)
    capture = Capture.open_live(device, snaplen=DEFAULT_SNAPLEN, promisc=False,
                                timeout_ms=CAPTURE_TIMEOUT_MS)
    stack.callback(capture.close)
    # Non-zero: left 0, the kernel would choose one and the record would differ.
    ident = random.randrange(1, 0x10000)
    probe = UdpProbe(version, src, addr, sport, cfg.port, cfg.payload, ident,
                     zero_checksum=cfg.zero)
    bpf = bpf_filter(probe)
    capture.set_filter(bpf)
    transport = CaptureTransport(sender, capture, [hold])
    plan = Plan(cfg.host, probe, cfg.service, cfg.kind, cfg.query, "raw", device,
                describe(capture.linktype), bpf, sender.mode if version == 6 else None)
    return transport, plan


def execute(cfg: UdpCksumConfig, on_start: Callable[[Plan], None] | None = None,
            on_event: Callable[[UdpCksumEvent], None] | None = None,
            stop: Stop | None = None) -> UdpCksumRun:
    """Run to the end: an answer, an ICMP error, the last timeout, Ctrl-C or the recording's end."""
    transport: ReplayTransport | CaptureTransport
    if cfg.replay:
        transport, plan = _open_replay(cfg)
    else:
        with contextlib.ExitStack() as stack:
            transport, plan = _open_live(cfg, stack)
            stack.pop_all()
        drop_privileges()
    recorder = None
    try:
        if cfg.record:
            recorder = Recorder(PcapWriter.open(cfg.record))
        engine = UdpCksumEngine(plan.probe, cfg.wait_ns, cfg.retries)
        if on_start:
            on_start(plan)
        run(engine, transport, recorder, stop, on_event)
    finally:
        transport.close()
        if recorder:
            recorder.writer.close()
    if isinstance(transport, ReplayTransport):
        recorded = len(transport.outgoing)
        if engine.outcome != "interrupted" and engine.tries < recorded:
            raise transport.diverged(f"the end: it holds {recorded} tries, this run made "
                                     f"{engine.tries} (give the recorded -w and -r)")
    return UdpCksumRun(plan, engine)
