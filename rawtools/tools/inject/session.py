"""One inject run from options to figures: interface, capture, engine, loop.

Both front ends (the CLI and `rawtools.inject()`) come through here. The
order keeps root's time short and its reach small: the interface is opened
(root or CAP_NET_RAW), privileges are dropped, and only then is the capture
read, as the invoking user, so sudo never reads a file its user could not.
"""

from __future__ import annotations

from collections.abc import Callable

from rawtools.errors import UsageError
from rawtools.io.inject import PcapInjector, bpf_matcher, open_injector, read_frames
from rawtools.io.loop import run
from rawtools.io.privileges import drop_privileges
from rawtools.io.stop import Stop
from rawtools.io.txring import RingInjector
from rawtools.tools.inject.config import InjectConfig
from rawtools.tools.inject.engine import InjectEngine
from rawtools.tools.inject.events import InjectEvent
from rawtools.values import mutable
from rawtools.wire import link
from rawtools.wire.ethernet import ethernet_framer

Frames = list[tuple[int, bytes]]
Addresses = tuple[bytes, bytes]


@mutable
class InjectRun:
    """What a finished run leaves: the engine's tally, the transport's, and the framing."""

    cfg: InjectConfig
    engine: InjectEngine
    transport: PcapInjector | RingInjector
    capture_linktype: int
    frames: int
    unsendable: int
    framed: Addresses | None
    interrupted: bool = False


def fit_to_link(cfg: InjectConfig, linktype: int, frames: Frames,
                transport: PcapInjector | RingInjector) -> tuple[Frames, int, Addresses | None]:
    """The frames as the interface takes them, how many could not be made so, and
    the (destination, source) hardware addresses given to them, if any.

    Same link type: unchanged. Header-less or cooked captures onto Ethernet:
    an Ethernet header from --dmac/--smac. Anything else is refused.
    """
    target = transport.linktype
    if linktype == target:
        return frames, 0, None
    framer = None
    macs = (cfg.dmac, cfg.smac or transport.facts.mac)
    if target == link.LINKTYPE_ETHERNET:
        framer = ethernet_framer(linktype, *macs)
    if framer is None:
        raise UsageError(f"{cfg.file}: link type {link.describe(linktype)} cannot be sent on "
                         f"{cfg.interface}, whose link type is {link.describe(target)}")
    out: Frames = []
    for ts, frame in frames:
        framed = framer(frame)
        if framed is not None:
            out.append((ts, framed))
    return out, len(frames) - len(out), macs


def execute(cfg: InjectConfig, on_event: Callable[[InjectEvent], None] | None = None,
            stop: Stop | None = None) -> InjectRun:
    """Send the capture as configured; return once done, stopped, or out of frames."""
    transport = open_injector(cfg.interface, cfg.backend,
                              bypass=cfg.opts.pacing == "topspeed")
    try:
        drop_privileges()
        linktype, frames = read_frames(cfg.file)
        sendable, unsendable, framed = fit_to_link(cfg, linktype, frames, transport)
        keep = bpf_matcher(cfg.filter, transport.linktype)
        engine = InjectEngine(sendable, cfg.opts, keep)
        del frames, sendable  # the engine holds what it sends; let the rest go
        transport.preload(engine.sends)
        result = InjectRun(cfg, engine, transport, linktype, engine.frames + unsendable,
                           unsendable, framed)
        run(engine, transport, None, stop, on_event)
        result.interrupted = engine.stopped
    finally:
        transport.close()
    return result
