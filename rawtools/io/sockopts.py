"""Socket options and control messages every rawtools socket shares.

Python's socket module lacks most of the Linux constants these tools need
(timestamps, TTL reporting, device binding), and every receive path reads
the same control messages; keeping both here means one definition of each
number and one parser for what recvmsg returns.
"""

from __future__ import annotations

import socket
import struct

from rawtools.errors import InterfaceError
from rawtools.values import frozen

SO_BINDTODEVICE = 25
SO_TIMESTAMPNS = 35  # also SCM_TIMESTAMPNS, the control message type
IP_TTL = 2
IP_PKTINFO = 8
IP_RECVTTL = 12
IP_RECVERR = 11
IPV6_RECVERR = 25
IP_MTU_DISCOVER = 10
IPV6_UNICAST_HOPS = 16
IPV6_MTU_DISCOVER = 23
IPV6_RECVPKTINFO = 49
IPV6_PKTINFO = 50
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
PMTUDISC_PROBE = 3
"""IP_PMTUDISC_PROBE / IPV6_PMTUDISC_PROBE: set DF, ignore the cached path MTU."""

_TIMESPEC = struct.Struct("=qq")
_INT = struct.Struct("=i")


@frozen
class Ancillary:
    """What recvmsg's control messages told: kernel timestamp, TTL, our address."""

    ts_ns: int | None
    ttl: int | None
    dst: str | None


def parse_ancillary(anc: list[tuple[int, int, bytes]]) -> Ancillary:
    """Pick the kernel timestamp, the TTL/hop limit and the destination address."""
    ts = ttl = dst = None
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(data)
            ts = sec * 1_000_000_000 + nsec
        elif level == socket.IPPROTO_IP:
            if typ == IP_TTL and len(data) >= 4:
                ttl = _INT.unpack_from(data)[0]
            elif typ == IP_PKTINFO and len(data) >= 12:
                dst = socket.inet_ntop(socket.AF_INET, data[8:12])
        elif level == socket.IPPROTO_IPV6:
            if typ == IPV6_HOPLIMIT and len(data) >= 4:
                ttl = _INT.unpack_from(data)[0]
            elif typ == IPV6_PKTINFO and len(data) >= 16:
                dst = socket.inet_ntop(socket.AF_INET6, data[:16])
    return Ancillary(ts, ttl, dst)


def bind_device(sock: socket.socket, device: str | None) -> None:
    """SO_BINDTODEVICE, with a one-line error for a missing interface.

    Must run before privileges are dropped: older kernels demand CAP_NET_RAW.
    """
    if not device:
        return
    if device not in {name for _, name in socket.if_nameindex()}:
        raise InterfaceError(f"{device}: no such interface")
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
    except OSError as e:
        raise InterfaceError(f"SO_BINDTODEVICE {device}: {e.strerror}") from None

