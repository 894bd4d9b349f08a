"""Reading ICMP errors from a socket's error queue (IP_RECVERR / IPV6_RECVERR).

Unprivileged sockets (ICMP datagram "ping" sockets, plain UDP) never see
ICMP errors as packets: the kernel matches the error to the socket and
queues our own datagram with a `sock_extended_err` that names the router
(the offender), the ICMP type and code. This is how tracepath and
unprivileged traceroute work; rebuilding a real ICMP error datagram from it
lets the engines treat both paths alike. `ErrQueue` gives the same queue to
applications, as the `IcmpError`s icmpd would have sent them
(`rawtools.icmpd` explains when to prefer which).
"""

from __future__ import annotations

import errno as errnos
import socket
import struct

from rawtools.errors import UsageError
from rawtools.io.sockopts import (
    IP_RECVERR,
    IP_RECVTTL,
    IPV6_RECVERR,
    IPV6_RECVHOPLIMIT,
    SO_TIMESTAMPNS,
    parse_ancillary,
)
from rawtools.values import frozen
from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmp import (
    ICMP6_PACKET_TOO_BIG,
    ICMP6_PARAM_PROB,
    ICMP_PARAMPROB,
    ICMP_UNREACH,
    ICMP_UNREACH_NEEDFRAG,
    with_icmp6_checksum,
)
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, build_ip

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.wire.icmpdmsg import IcmpError

MSG_ERRQUEUE = 0x2000
SO_EE_ORIGIN_LOCAL = 1
SO_EE_ORIGIN_ICMP = 2
SO_EE_ORIGIN_ICMP6 = 3
_EE = struct.Struct("=IBBBBII")


@frozen
class ExtendedError:
    """One `sock_extended_err` with the offender's address."""

    errno: int
    origin: int
    type: int
    code: int
    info: int
    offender: str | None

    @property
    def is_icmp(self) -> bool:
        return self.origin in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6)


def parse_extended_err(data: bytes, family: int) -> ExtendedError | None:
    """Decode the IP_RECVERR/IPV6_RECVERR control message payload."""
    if len(data) < _EE.size:
        return None
    errno, origin, typ, code, _pad, info, _data = _EE.unpack_from(data)
    offender = None
    off = data[_EE.size:]
    if len(off) >= 8:
        fam = struct.unpack_from("=H", off)[0]
        if fam == socket.AF_INET:
            offender = socket.inet_ntop(socket.AF_INET, off[4:8])
        elif fam == socket.AF_INET6 and len(off) >= 24:
            offender = socket.inet_ntop(socket.AF_INET6, off[8:24])
    if offender in ("0.0.0.0", "::"):
        offender = None
    return ExtendedError(errno, origin, typ, code, info, offender)


def rebuild_icmp_error(err: ExtendedError, our_src: str, our_dst: str, proto: int,
                       original: bytes, reply_ttl: int = 0) -> bytes:
    """The ICMP error datagram the offender sent, as far as it can be known.

    The quote carries our datagram's header with the addresses we used and
    `original` (what we had sent from the transport header on). Its TTL is 0:
    the kernel does not say with which TTL our datagram reached the offender,
    and a real quote never holds 0, so nobody (the tracer inferring a
    distance, live or in a replay of the recording) takes it for a measured
    value. The outer TTL is `reply_ttl` when the socket reported it
    (IP_RECVTTL / IPV6_RECVHOPLIMIT also apply to the error queue), else 0
    for the same reason.
    """
    offender = err.offender or our_dst
    quoted = build_ip(our_src, our_dst, proto, 0, original)
    if ":" in our_src:
        carries_info = err.type in (ICMP6_PACKET_TOO_BIG, ICMP6_PARAM_PROB)
        rest = struct.pack("!I", err.info) if carries_info else b"\0\0\0\0"
        msg = bytes([err.type, err.code, 0, 0]) + rest + quoted[:1232]
        msg = with_icmp6_checksum(offender, our_src, msg)
        return build_ip(offender, our_src, PROTO_ICMP6, reply_ttl, msg)
    needfrag = err.type == ICMP_UNREACH and err.code == ICMP_UNREACH_NEEDFRAG
    rest = struct.pack("!HH", 0, err.info) if needfrag else b"\0\0\0\0"
    if err.type == ICMP_PARAMPROB:
        rest = bytes([err.info & 0xFF, 0, 0, 0])
    msg = bytes([err.type, err.code]) + b"\0\0" + rest + quoted[:548]
    msg = msg[:2] + struct.pack("!H", inet_checksum(msg)) + msg[4:]
    return build_ip(offender, our_src, PROTO_ICMP, reply_ttl, msg)


@frozen
class QueuedError:
    """One error read from a socket's error queue, with what came along.

    `data` is our own datagram from the transport payload on (for UDP: the
    payload alone; the port it went to is in `dst_port`); `reply_ttl` the TTL
    of the ICMP error itself when IP_RECVTTL / IPV6_RECVHOPLIMIT is on.
    """

    ts_ns: int | None
    err: ExtendedError
    data: bytes
    dst: str
    dst_port: int
    reply_ttl: int | None


def read_error_queue(sock: socket.socket, family: int, anc_size: int = 512) -> list[QueuedError]:
    """Drain the error queue of a non-blocking socket (ICMP-originated errors only).

    Kernel timestamps come with SO_TIMESTAMPNS, exactly as for normal reads.
    """
    v6 = family == socket.AF_INET6
    key = (socket.IPPROTO_IPV6, IPV6_RECVERR) if v6 else (socket.IPPROTO_IP, IP_RECVERR)
    out: list[QueuedError] = []
    while True:
        try:
            data, anc, _flags, addr = sock.recvmsg(65535, anc_size, MSG_ERRQUEUE)
        except OSError:
            break
        err = None
        for lvl, typ, cdata in anc:
            if (lvl, typ) == key:
                err = parse_extended_err(cdata, family)
        if err is None or not err.is_icmp:
            continue
        info = parse_ancillary(anc)
        out.append(QueuedError(info.ts_ns, err, data, addr[0].split("%")[0], addr[1],
                               info.ttl))
    return out


def require_udp(sock: socket.socket) -> None:
    """Refuse anything but an IPv4 or IPv6 UDP socket, in one line."""
    if sock.type != socket.SOCK_DGRAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        raise UsageError(f"not a UDP socket: {sock!r}")


class ErrQueue:
    """The kernel's own error queue of one UDP socket, read as `IcmpError`s.

    Sets on the caller's socket: IP_RECVERR (IPV6_RECVERR for AF_INET6) so
    that errors are queued even though the socket is unconnected,
    SO_TIMESTAMPNS for the ICMP error's kernel receive time, and IP_RECVTTL
    (IPV6_RECVHOPLIMIT) for the TTL it arrived with. Two consequences the
    caller must know: with IP_RECVERR, a pending error also makes the
    socket's next recvfrom or sendto fail with that errno, and the socket
    turns readable for an error as for a datagram. So in a select loop, when
    the socket is readable call `read()` first (it drains the queue and
    clears the pending error), then recvfrom. Plain recvmsg callers also
    get the timestamp and TTL control messages from then on.

    Errors carry tag 0, and no rewrite detection: the kernel hands back only
    our own payload, not the quote as it came. IPv4 destinations reached
    through an AF_INET6 socket (IPv4-mapped) are not reported.
    """

    def __init__(self, sock: socket.socket) -> None:
        require_udp(sock)
        self.sock = sock
        self.version = 6 if sock.family == socket.AF_INET6 else 4
        if self.version == 6:
            opts = [(socket.IPPROTO_IPV6, IPV6_RECVERR), (socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT)]
        else:
            opts = [(socket.IPPROTO_IP, IP_RECVERR), (socket.IPPROTO_IP, IP_RECVTTL)]
        for level, opt in [*opts, (socket.SOL_SOCKET, SO_TIMESTAMPNS)]:
            sock.setsockopt(level, opt, 1)

    def fileno(self) -> int:
        """The socket's own descriptor: readable for an error as for a datagram."""
        return self.sock.fileno()

    def read(self) -> list[IcmpError]:
        """Drain the queue (never waits). `ts_ns` 0 and `ttl` 0 mean the kernel did not say."""
        from rawtools.wire.icmpdmsg import IcmpError  # icmpd's format: ping and trace skip it
        family = socket.AF_INET6 if self.version == 6 else socket.AF_INET
        local, lport = self.sock.getsockname()[:2]
        unspecified = "::" if self.version == 6 else "0.0.0.0"
        out = []
        for q in read_error_queue(self.sock, family):
            e = q.err
            out.append(IcmpError(
                tag=0, version=self.version, type=e.type, code=e.code, errno=e.errno,
                dst=q.dst, dport=q.dst_port, offender=e.offender or unspecified,
                ttl=q.reply_ttl or 0, mtu=e.info if e.errno == errnos.EMSGSIZE else None,
                ts_ns=q.ts_ns or 0, local=local.split("%")[0], lport=lport))
        return out
