"""Sockets for traceroute probes: UDP, TCP SYN and ICMP echo, with or without root.

With root (or CAP_NET_RAW) the answers are read as they arrived on raw ICMP
sockets: real TTLs, real quotes, ICMP extensions. Without it, UDP probes go
out of an ordinary UDP socket with IP_RECVERR / IPV6_RECVERR and routers'
errors are read from its error queue, as Linux traceroute and tracepath do;
ICMP probes use the ICMP datagram socket (`IcmpSocket`) the same way. TCP SYN
probes need a raw socket and therefore root.

Whatever the path, every arrival is handed over as a whole IP datagram, so
the trace engine matches answers with one set of rules.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time

from rawtools.engine import Received, Send
from rawtools.errors import InterfaceError, PermissionNeeded, RawtoolsError
from rawtools.io.errqueue import read_error_queue, rebuild_icmp_error
from rawtools.io.icmpsock import IcmpSocket, route_source
from rawtools.io.loop import SelectorWait
from rawtools.io.sockopts import (
    IP_RECVERR,
    IP_RECVTTL,
    IP_TTL,
    IPV6_RECVERR,
    IPV6_RECVHOPLIMIT,
    IPV6_UNICAST_HOPS,
    SO_TIMESTAMPNS,
    bind_device,
    parse_ancillary,
)
from rawtools.wire.ip import PROTO_TCP, PROTO_UDP, build_ip
from rawtools.wire.probes import udp_header

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.engine import Clock, SocketKind
    from rawtools.wire.probes import Method

_PENDING = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN,
            errno.ENETDOWN, errno.EMSGSIZE, errno.EPROTO}


def _bind(sock: socket.socket, addr: str, port: int = 0) -> None:
    try:
        sock.bind((addr, port))
    except OSError as e:
        raise InterfaceError(f"bind {addr}: {e.strerror}") from None


class ProbeSocket(SelectorWait):
    """The transport of one trace: sends with a per-probe TTL, reads every answer.

    `method` is "udp", "tcp" or "icmp"; `mechanism` "raw" (answers read on raw
    sockets) or "dgram" (answers from the error queue, no privilege needed).
    `src` is the source address probes carry, `sport` the UDP/TCP source port
    and `ident` the ICMP identifier: the engine writes them into its probes.
    """

    def __init__(self, method: Method, version: int, dst: str,
                 mechanism: SocketKind | None = None,
                 source: str | None = None, device: str | None = None) -> None:
        super().__init__()
        self.method = method
        self.version = version
        self.family = socket.AF_INET6 if version == 6 else socket.AF_INET
        try:
            self.src = route_source(dst, source, device)
        except OSError as e:
            raise InterfaceError(f"cannot send from {source}: {e.strerror}") from None
        self.ident = 0
        self.sport = 0
        self.seq_base = 0
        self.ttl: int | None = None
        self.mechanism: SocketKind = "raw"
        self.icmp: IcmpSocket | None = None
        self.sock: socket.socket | None = None
        if method == "icmp":
            self._open_icmp(mechanism, source, device)
        elif method == "tcp":
            if mechanism == "dgram":
                raise PermissionNeeded("TCP probes need a raw socket; there is no "
                                       "unprivileged way to send a bare SYN")
            self._open_tcp(source, device)
        else:
            self._open_udp(mechanism, source, device)

    # -- opening -----------------------------------------------------------------
    def _open_icmp(self, mechanism: SocketKind | None, source: str | None,
                   device: str | None) -> None:
        order: list[SocketKind] = [mechanism] if mechanism else ["raw", "dgram"]
        for i, mech in enumerate(order):
            try:
                self.icmp = IcmpSocket(self.version, mech, source, device)
                break
            except PermissionNeeded:
                if i == len(order) - 1:
                    raise
        assert self.icmp is not None
        self.mechanism = self.icmp.mechanism
        self.ident = self.icmp.ident
        self._read_icmp(self.icmp)

    def _raw_icmp_reader(self, source: str | None, device: str | None) -> None:
        self.icmp = IcmpSocket(self.version, "raw", source, device)
        self._read_icmp(self.icmp)

    def _read_icmp(self, icmp: IcmpSocket) -> None:
        """Answers on `icmp` come in with everything else this transport waits on."""
        self.add_reader(icmp.sock.fileno(), lambda: icmp.wait(0))

    def _open_tcp(self, source: str | None, device: str | None) -> None:
        try:
            s = socket.socket(self.family, socket.SOCK_RAW, socket.IPPROTO_TCP)
        except PermissionError:
            raise PermissionNeeded("TCP probes need a raw socket: run with sudo or give "
                                   "the interpreter CAP_NET_RAW") from None
        self._setup(s, device)
        if source:
            _bind(s, source)
        if self.version == 6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
        self.sock = s
        self._raw_icmp_reader(source, device)
        self.mechanism = "raw"
        # A source port nobody listens on, so the destination's SYN-ACK is ours.
        # os.urandom rather than the random module, whose import costs every start.
        self.sport = 33000 + int.from_bytes(os.urandom(4)) % 27000
        self.seq_base = (os.getpid() ^ int.from_bytes(os.urandom(2))) & 0xFFFF
        self.add_reader(s.fileno(), self._drain_tcp)

    def _open_udp(self, mechanism: SocketKind | None, source: str | None,
                  device: str | None) -> None:
        s = socket.socket(self.family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        self._setup(s, device)
        _bind(s, source or ("::" if self.version == 6 else "0.0.0.0"))
        self.sock = s
        self.sport = s.getsockname()[1]
        if mechanism != "dgram":
            try:
                self._raw_icmp_reader(source, device)
                self.mechanism = "raw"
                return
            except PermissionNeeded:
                if mechanism == "raw":
                    raise
        self.mechanism = "dgram"
        if self.version == 6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
            s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        self.add_reader(s.fileno(), self._drain_udp_errors)

    def _setup(self, s: socket.socket, device: str | None) -> None:
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        bind_device(s, device)

    # -- Transport ---------------------------------------------------------------
    def _set_ttl(self, sock: socket.socket, ttl: int) -> None:
        if self.version == 6:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl)
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_TTL, ttl)

    def send(self, send: Send) -> tuple[int, bytes | None]:
        if self.method == "icmp":
            assert self.icmp is not None
            ts, wire = self.icmp.send(send)
            if wire is None and self.mechanism == "dgram" \
                    and getattr(self.icmp, "last_send_error", None):
                # The pending error of an earlier probe, reported by this send
                # instead of sending (see below): send again.
                self.icmp.last_send_error = None
                ts, wire = self.icmp.send(send)
            return ts, wire
        sock = self.sock
        assert sock is not None
        if send.ttl is not None and send.ttl != self.ttl:
            self._set_ttl(sock, send.ttl)
            self.ttl = send.ttl
        data = send.data
        if self.method == "udp":
            dport = struct.unpack_from("!H", data, 2)[0]
            payload, proto = data[8:], PROTO_UDP
        else:
            dport, payload, proto = 0, data, PROTO_TCP
        addr = (send.dst, dport, 0, 0) if self.version == 6 else (send.dst, dport)
        for _ in range(2):
            ts = time.time_ns()
            try:
                sock.sendto(payload, addr)
                break
            except BlockingIOError:
                return ts, None
            except OSError as e:
                if e.errno in (errno.EPERM, errno.EACCES):
                    raise PermissionNeeded(f"sendto: {e.strerror} (a firewall rule?)") from None
                if e.errno not in _PENDING:
                    raise RawtoolsError(f"sendto {send.dst}: {e.strerror}") from None
                # With IP_RECVERR an earlier probe's error is also reported
                # once by the next call, which then sent nothing: send again.
        else:
            return ts, None
        return ts, build_ip(self.src, send.dst, proto, self.ttl or 64, data)

    def _drain_tcp(self) -> list[Received]:
        out: list[Received] = []
        assert self.sock is not None
        while True:
            try:
                data, anc, _flags, addr = self.sock.recvmsg(65535, 512)
            except OSError:
                break
            got = parse_ancillary(anc)
            clock: Clock = "kernel" if got.ts_ns is not None else "user"
            ts = got.ts_ns or time.time_ns()
            if self.version == 6:
                data = build_ip(addr[0].split("%")[0], self.src, PROTO_TCP, got.ttl or 0, data)
            out.append(Received(ts, data, clock, channel="tcp"))
        return out

    def _drain_udp_errors(self) -> list[Received]:
        assert self.sock is not None
        # A pending error makes the next recv fail; reading the queue clears it.
        out: list[Received] = []
        for q in read_error_queue(self.sock, self.family):
            original = udp_header(self.src, q.dst, self.sport, q.dst_port, q.data)
            pkt = rebuild_icmp_error(q.err, self.src, q.dst, PROTO_UDP, original,
                                     q.reply_ttl or 0)
            clock: Clock = "kernel" if q.ts_ns is not None else "user"
            out.append(Received(q.ts_ns or time.time_ns(), pkt, clock, channel="udp",
                                origin="errqueue"))
        return out

    def close(self) -> None:
        super().close()
        if self.icmp is not None:
            self.icmp.close()
        if self.sock is not None:
            self.sock.close()
