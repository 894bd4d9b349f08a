"""The contract every tool's engine keeps with the loop and the transports that drive it.

An engine is a tool's logic as a sans-I/O state machine (h11's style): it
is told the time and handed datagrams, and it answers with datagrams to
send, the next instant it needs to be woken, and typed events. Because it
never touches a socket or a clock, the same engine runs live, from a
recorded pcap on a virtual clock, and in unit tests fed literal bytes.

An engine may:
  - take packets (`received`) with their timestamps, and the time (`poll`);
  - hand back packets to send (`poll`), learn when each really left (`sent`);
  - name the next instant it must be polled (`next_deadline`);
  - queue typed events, frozen dataclasses, taken out with `take_events`;
  - end itself (`done`), or be ended from outside (`stop`).
An engine may not: open sockets, read a clock, sleep, print, or import
from `rawtools.io`. Everything it needs from the outside world arrives as
arguments; everything it wants done leaves as return values.

All times are integer nanoseconds since the epoch. Kernel receive stamps
are nanoseconds, and integers make a replayed RTT identical to the live one.

The loop (`rawtools.io.loop.run`) and the transports (`rawtools.io`) are
written against `Engine` and `Transport` below; this module sits beneath
both, so neither imports the other for the contract.
"""

from __future__ import annotations

from rawtools.values import frozen

# typing is for the type checker only: every tool loads this module as it
# starts, and importing typing (with the Protocol and Literal machinery) was
# a tenth of what `ping -c 1` spent before its first probe. The aliases and
# protocols below are seen by mypy and by readers, never built at run time:
# import them under `if TYPE_CHECKING:`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Literal, Protocol, TypeVar

    Clock = Literal["kernel", "pcap", "user"]
    """What stamped a received packet: SO_TIMESTAMPNS, a capture file's record, or a
    time read after recv() because the kernel gave none."""

    Origin = Literal["wire", "errqueue"]
    """A datagram as it arrived, or one rebuilt from a socket's error queue."""

    Channel = Literal["main", "udp", "tcp", "icmp"]
    """Which of a transport's sockets a packet leaves by or came from."""

    SocketKind = Literal["raw", "dgram"]
    """Raw sockets (root or CAP_NET_RAW) or unprivileged datagram sockets, whose
    ICMP errors arrive on the error queue; `--socket` picks one."""

    Mechanism = SocketKind | Literal["replay"]
    """How a run reaches the network: one of the socket kinds, or not at all (a recording)."""

    E = TypeVar("E")


@frozen
class Send:
    """A packet an engine wants sent.

    `data` is what goes into the socket (an ICMP message, a UDP datagram
    header first, a whole TCP segment); `ttl` sets IP_TTL /
    IPV6_UNICAST_HOPS for this packet; `meta` is the engine's own
    bookkeeping, handed back unchanged in `Engine.sent`.
    """

    dst: str
    data: bytes
    ttl: int | None = None
    channel: Channel = "main"
    meta: Any = None


@frozen
class Received:
    """A received IP datagram, header included (rebuilt where the socket hid it)."""

    ts_ns: int
    packet: bytes
    clock: Clock = "kernel"
    channel: Channel = "main"
    origin: Origin = "wire"


if TYPE_CHECKING:
    class Engine(Protocol[E]):
        """A tool's state machine, as the loop sees it; `E` is its event type."""

        @property
        def done(self) -> bool:
            """True once the engine wants nothing more: no sends, no wake-ups."""
            ...

        def poll(self, now_ns: int) -> list[Send]:
            """Advance to `now_ns` (timers that fell due fire here); return what to send now."""
            ...

        def sent(self, send: Send, ts_ns: int) -> None:
            """`send` left at `ts_ns` (the transport's stamp, the recorded one in a replay)."""
            ...

        def received(self, pkt: Received) -> None:
            """A datagram arrived; `pkt.ts_ns` is when."""
            ...

        def next_deadline(self) -> int | None:
            """The next instant `poll` must be called even if nothing arrives (None: no timer)."""
            ...

        def take_events(self) -> list[E]:
            """Events queued since the last call, oldest first."""
            ...

        def stop(self, now_ns: int) -> None:
            """End the run at `now_ns` (Ctrl-C, end of a recording): `done` turns true."""
            ...


    class Transport(Protocol):
        """Sockets, or a recording, that send and receive for an engine."""

        def send(self, send: Send) -> tuple[int, bytes | None]:
            """Send; return (timestamp, the IP datagram as it went out, if known)."""
            ...

        def wait(self, deadline_ns: int | None, wake_fd: int | None = None) -> list[Received]:
            """What arrives before `deadline_ns`, or sooner once `wake_fd` turns readable."""
            ...

        def now(self) -> int:
            """The transport's clock: the wall clock live, the recording's in a replay."""
            ...

        def close(self) -> None: ...


    class BatchTransport(Transport, Protocol):
        """A transport that sends many packets for the price of one call.

        Where one poll hands over a burst (a capture replayed at top speed), the
        loop gives it to `send_all` whole, so a memory-mapped ring can take it
        with one system call instead of one per packet.
        """

        def send_all(self, sends: Sequence[Send]) -> list[tuple[int, bytes | None]]:
            """Send every packet of `sends` in order; (timestamp, datagram) for each."""
            ...


class EndOfInput(Exception):
    """A replay transport ran out of recorded packets: the run ends there."""
