"""What the icmpd engine reports: one frozen dataclass per kind of event.

The daemon turns `Delivered` into an ERROR message on the client's
connection and logs the rest at -v; a replay prints them all.
"""

from __future__ import annotations

from rawtools.values import frozen
from rawtools.wire.icmpdmsg import IcmpError


@frozen
class Delivered:
    """An ICMP error matched registration `reg` of connection `client`."""

    client: int
    reg: int
    error: IcmpError


@frozen
class Unmatched:
    """An ICMP error quoting a UDP datagram of no registered socket."""

    ts_ns: int
    version: int
    type: int
    code: int
    offender: str
    src: str
    sport: int
    dst: str
    dport: int
    mtu: int | None = None


@frozen
class Malformed:
    """A packet that is not a readable ICMP message (cut short, bad checksum, bad quote)."""

    ts_ns: int
    reason: str


IcmpdEvent = Delivered | Unmatched | Malformed
