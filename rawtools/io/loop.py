"""The one event loop: moves packets between a transport and a sans-I/O engine.

Engines (ping, trace, ...) never touch a socket or a clock. They are asked
what to send now (`poll`), told when it really left (`sent`), handed every
received datagram (`received`) and asked when they next need the time
(`next_deadline`). The loop is the same for a live run, where the transport
is real sockets and time is the wall clock, and for a replay, where the
transport is a pcap and time is virtual: `Transport.wait` is the only place
where time passes, so a replay never sleeps.

All times are integer nanoseconds since the epoch: kernel receive timestamps
are nanoseconds, and integers make a replayed RTT identical to the live one.
"""

from __future__ import annotations

import selectors
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rawtools.io.pcapfile import PcapWriter


@dataclass(slots=True)
class Send:
    """A packet an engine wants sent: payload for the socket named by `channel`.

    `data` is what goes into the socket (an ICMP message, a UDP payload, a
    whole TCP segment); `ttl` sets IP_TTL / IPV6_UNICAST_HOPS for this packet;
    `meta` is the engine's own bookkeeping, given back in `Engine.sent`.
    """

    dst: str
    data: bytes
    ttl: int | None = None
    channel: str = "main"
    sport: int | None = None
    meta: Any = None


@dataclass(slots=True)
class Received:
    """A received IP datagram (header included, synthesized where the socket hid it).

    `clock` says which clock stamped `ts_ns`: "kernel" (SO_TIMESTAMPNS),
    "pcap" (a capture file's record header) or "user" (time read after recv).
    `channel` names the socket it came from; `origin` is "wire" for a datagram
    read as it arrived, or "errqueue" for one rebuilt from the error queue.
    """

    ts_ns: int
    packet: bytes
    clock: str = "kernel"
    channel: str = "main"
    origin: str = "wire"


class Engine(Protocol):
    """What the loop needs from a tool's state machine."""

    done: bool

    def poll(self, now_ns: int) -> list[Send]: ...

    def sent(self, send: Send, ts_ns: int) -> None: ...

    def received(self, pkt: Received, now_ns: int) -> None: ...

    def next_deadline(self) -> int | None: ...


class Transport(Protocol):
    """Sockets (or a recording) that send and receive for an engine."""

    def send(self, send: Send) -> tuple[int, bytes | None]:
        """Send; return (timestamp, the IP datagram as it went out, if known)."""
        ...

    def wait(self, deadline_ns: int | None) -> list[Received]:
        """Block until a packet arrives or `deadline_ns`; return what arrived."""
        ...

    def now(self) -> int: ...

    def close(self) -> None: ...


class EndOfInput(Exception):
    """A replay transport ran out of recorded packets: the run ends there."""


class Interrupted(Exception):
    """Raised by the stop handler to break out of a wait, and only there."""


@dataclass
class Stop:
    """Set by a signal handler; the loop checks it between steps.

    Python restarts an interrupted select() (PEP 475), so a signal arriving
    while the loop waits would only be seen at the next timeout; while
    `waiting` is true the handler raises `Interrupted` instead, which cannot
    land in the middle of a send or of a recorder write.
    """

    requested: bool = False
    signum: int | None = None
    waiting: bool = False


@dataclass
class Recorder:
    """Writes every datagram sent and received to a DLT_RAW pcap, in order."""

    writer: PcapWriter
    count: int = field(default=0)

    def add(self, ts_ns: int, packet: bytes | None) -> None:
        if packet:
            self.writer.write(ts_ns, packet)
            self.count += 1


def run(engine: Engine, transport: Transport, recorder: Recorder | None = None,
        stop: Stop | None = None, on_idle: Callable[[], None] | None = None) -> None:
    """Drive `engine` until it is done or `stop` is requested (Ctrl-C, SIGTERM).

    Sends are issued before waiting so that a probe due "now" is never delayed
    by a read; received packets are handed over in arrival order.
    """
    stop = stop or Stop()
    while not engine.done and not stop.requested:
        now = transport.now()
        try:
            for send in engine.poll(now):
                ts, wire = transport.send(send)
                engine.sent(send, ts)
                if recorder:
                    recorder.add(ts, wire)
            if engine.done:
                break
            stop.waiting = True
            try:
                packets = transport.wait(engine.next_deadline())
            finally:
                stop.waiting = False
        except (Interrupted, EndOfInput):
            break
        now = transport.now()
        for pkt in packets:
            if recorder:
                recorder.add(pkt.ts_ns, pkt.packet)
            engine.received(pkt, now)
        if on_idle:
            on_idle()


class SelectorWait:
    """Waiting on several non-blocking sockets with the wall clock.

    Live transports inherit this: `readers` maps a file descriptor to a
    function that drains it and returns the Received datagrams.
    """

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()

    def add_reader(self, fd: int, drain: Callable[[], list[Received]]) -> None:
        self.selector.register(fd, selectors.EVENT_READ, drain)

    def now(self) -> int:
        return time.time_ns()

    def wait(self, deadline_ns: int | None) -> list[Received]:
        timeout = None if deadline_ns is None else max(0.0, (deadline_ns - time.time_ns()) / 1e9)
        out: list[Received] = []
        for key, _ in self.selector.select(timeout):
            out.extend(key.data())
        return out

    def close(self) -> None:
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
        self.selector.close()


def install_stop(stop: Stop, signums: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
    """Turn SIGINT/SIGTERM into a clean end of the loop (summary still printed)."""

    def handler(signum: int, _frame: object) -> None:
        stop.requested = True
        stop.signum = signum
        if stop.waiting:
            stop.waiting = False
            raise Interrupted

    for s in signums:
        signal.signal(s, handler)
