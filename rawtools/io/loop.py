"""The one event loop: moves packets between a transport and a sans-I/O engine.

The loop is the same for a live run, where the transport is real sockets and
time is the wall clock, and for a replay, where the transport is a pcap and
time is virtual: `Transport.wait` is the only place where time passes, so a
replay never sleeps. The contract it drives is `rawtools.engine`.
"""

from __future__ import annotations

import selectors
import time
from collections.abc import Callable

from rawtools.engine import EndOfInput, Received
from rawtools.io.stop import Stop
from rawtools.values import mutable

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Literal, TypeVar

    from rawtools.engine import Engine, Transport
    from rawtools.io.pcapfile import PcapWriter  # it loads dpkt; the loop never needs it

    E = TypeVar("E")

    Ending = Literal["done", "stopped", "end-of-input"]
    """Why `run` returned: the engine finished, a stop was requested, or a replay ran dry."""


@mutable
class Recorder:
    """Writes every datagram sent and received to a DLT_RAW pcap, in order."""

    writer: PcapWriter
    count: int = 0

    def add(self, ts_ns: int, packet: bytes | None) -> None:
        if packet:
            self.writer.write(ts_ns, packet)
            self.count += 1


def run(engine: Engine[E], transport: Transport, recorder: Recorder | None = None,
        stop: Stop | None = None, on_event: Callable[[E], None] | None = None) -> Ending:
    """Drive `engine` until it is done, `stop` is requested or the input ends.

    Sends are issued before waiting so that a probe due "now" is never
    delayed by a read; received packets are handed over in arrival order;
    events go to `on_event` as soon as the step that made them is over. An
    engine that did not finish by itself is stopped at the transport's time,
    so its figures (a run's duration) always have an end.
    """
    wake = stop.fd if stop is not None else None
    # A BatchTransport (rawtools.engine) takes a burst in one call.
    send_all = getattr(transport, "send_all", None)

    def flush() -> None:
        for ev in engine.take_events():
            if on_event is not None:
                on_event(ev)

    ending: Ending = "done"
    try:
        while not engine.done:
            if stop is not None and stop.requested:
                ending = "stopped"
                break
            sends = engine.poll(transport.now())
            if send_all is not None and len(sends) > 1:
                done = send_all(sends)
            else:
                done = [transport.send(send) for send in sends]
            for send, (ts, wire) in zip(sends, done, strict=True):
                engine.sent(send, ts)
                if recorder:
                    recorder.add(ts, wire)
            flush()
            if finished(engine):
                break
            for pkt in transport.wait(engine.next_deadline(), wake):
                if recorder:
                    recorder.add(pkt.ts_ns, pkt.packet)
                engine.received(pkt)
            flush()
    except EndOfInput:
        ending = "end-of-input"
    if not engine.done:
        engine.stop(transport.now())
    flush()
    return ending


def finished(engine: Engine[E]) -> bool:
    """`engine.done`, read anew: a type checker would keep the loop condition's answer."""
    return engine.done


class SelectorWait:
    """Waiting on several non-blocking sockets with the wall clock.

    Live transports inherit this: `readers` maps a file descriptor to a
    function that drains it and returns the Received datagrams. A wake-up
    descriptor (a `Stop`'s) ends the wait early and is never read here.
    """

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._wake: int | None = None

    def add_reader(self, fd: int, drain: Callable[[], list[Received]]) -> None:
        self.selector.register(fd, selectors.EVENT_READ, drain)

    def now(self) -> int:
        return time.time_ns()

    def wait(self, deadline_ns: int | None, wake_fd: int | None = None) -> list[Received]:
        if wake_fd != self._wake:
            if self._wake is not None:
                self.selector.unregister(self._wake)
            if wake_fd is not None:
                self.selector.register(wake_fd, selectors.EVENT_READ, None)
            self._wake = wake_fd
        timeout = None if deadline_ns is None else max(0.0, (deadline_ns - time.time_ns()) / 1e9)
        out: list[Received] = []
        for key, _ in self.selector.select(timeout):
            if key.data is not None:
                out.extend(key.data())
        return out

    def close(self) -> None:
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
        self.selector.close()
