"""What a ping run reports as it goes: one frozen dataclass per kind of event.

Renderers (iputils text, fping text, JSON lines) dispatch on the class with
`match`, so a new kind of event is a new class that every renderer can be
checked against, not a new string in a field shared by all. `target` is the
live tally of the destination (its counters as they stand when the event is
handled); `number` is the probe's index for that target, from 0.
"""

from __future__ import annotations

from rawtools.values import frozen
from rawtools.wire.icmp import Icmp

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.engine import Clock
    from rawtools.tools.ping.engine import Target


@frozen
class Reply:
    """An echo reply to one of our probes (`dup`: the probe was already answered)."""

    target: Target
    seq: int
    ts_ns: int
    icmp: Icmp
    rtt_ns: int
    clock: Clock
    dup: bool
    number: int


@frozen
class RouterError:
    """An ICMP error (time exceeded, unreachable, ...) quoting one of our probes."""

    target: Target
    seq: int
    ts_ns: int
    icmp: Icmp
    number: int


@frozen
class Corrupt:
    """A reply to one of our probes with a bad checksum: counted and skipped."""

    target: Target
    seq: int
    ts_ns: int
    icmp: Icmp


@frozen
class Outstanding:
    """-O: the previous probe was still unanswered when this one was sent."""

    target: Target
    seq: int
    ts_ns: int


@frozen
class Sent:
    """A probe left (flood mode draws a dot for it)."""

    target: Target
    seq: int
    ts_ns: int


@frozen
class Alive:
    """Several targets: the first reply from this one."""

    target: Target
    seq: int
    ts_ns: int
    src: str


@frozen
class Unreachable:
    """Several targets: this one never answered, retries included."""

    target: Target
    ts_ns: int


@frozen
class NoRoute:
    """Several targets: the kernel has no route to this one, so it is never probed.

    `reason` is the kernel's words (`Network is unreachable`); one target
    alone is an error instead (`rawtools.errors.RouteError`), as in iputils.
    """

    target: Target
    ts_ns: int
    reason: str


PingEvent = Reply | RouterError | Corrupt | Outstanding | Sent | Alive | Unreachable | NoRoute
