"""What a udpcksum run reports as it goes: one frozen dataclass per kind of event.

Renderers (text, JSON lines) dispatch on the class with `match`. `try_no`
counts from 1; `rtt_ns` is measured from the latest try sent before the
answer came (every try carries the same datagram, so an answer cannot say
which one it answers).
"""

from __future__ import annotations

from rawtools.values import frozen
from rawtools.wire.icmp import Icmp
from rawtools.wire.udp import UdpCheck


@frozen
class Sent:
    """A try left: the datagram as it went out."""

    try_no: int
    tries: int
    ts_ns: int
    datagram: bytes


@frozen
class Timeout:
    """A try went unanswered for `waited_ns`; `again` when another try follows."""

    try_no: int
    waited_ns: int
    again: bool


@frozen
class Answered:
    """The server's UDP answer, its checksum judged."""

    check: UdpCheck
    try_no: int
    ts_ns: int
    rtt_ns: int


@frozen
class IcmpError:
    """An ICMP error quoting our datagram; `no_server` for a port unreachable."""

    icmp: Icmp
    try_no: int
    ts_ns: int
    rtt_ns: int
    no_server: bool


@frozen
class NoResponse:
    """The last try went unanswered too."""

    tries: int
    elapsed_ns: int


UdpCksumEvent = Sent | Timeout | Answered | IcmpError | NoResponse
