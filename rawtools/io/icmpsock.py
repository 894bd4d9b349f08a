"""ICMP and ICMPv6 echo sockets: raw when allowed, datagram ("ping") otherwise.

Like iputils ping, the unprivileged ICMP datagram socket is tried first
(allowed by net.ipv4.ping_group_range, no root needed), then the raw socket
(root or CAP_NET_RAW). The two differ in what they hand back: a raw IPv4
socket gives whole datagrams, raw IPv6 and datagram sockets give the ICMP
message alone, and on a datagram socket router errors only reach the error
queue. `IcmpSocket` hides all of that: it returns every arrival as a whole IP
datagram (rebuilt where the kernel kept the header) stamped by the kernel.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
import time

from rawtools.engine import Received, Send
from rawtools.errors import (
    InterfaceError,
    PermissionNeeded,
    RawtoolsError,
    RouteError,
    UsageError,
)
from rawtools.io.errqueue import read_error_queue, rebuild_icmp_error
from rawtools.io.loop import SelectorWait
from rawtools.io.sockopts import (
    IP_MTU_DISCOVER,
    IP_PKTINFO,
    IP_RECVERR,
    IP_RECVTTL,
    IP_TTL,
    IPV6_MTU_DISCOVER,
    IPV6_RECVERR,
    IPV6_RECVHOPLIMIT,
    IPV6_RECVPKTINFO,
    IPV6_UNICAST_HOPS,
    PMTUDISC_PROBE,
    SO_BINDTODEVICE,
    SO_TIMESTAMPNS,
    bind_device,
    parse_ancillary,
)
from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmp import with_icmp6_checksum
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, build_ip

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.engine import Clock, SocketKind

ICMP6_FILTER = 1
_ANCBUF = 512


def route_source(dst: str, bind_addr: str | None = None, device: str | None = None) -> str:
    """The source address the kernel would use towards `dst` (nothing is sent).

    Connecting a UDP socket only consults the routing table; its local
    address is what a probe to `dst` carries, which is needed to rebuild the
    IP header of what we sent for the recorder and the error queue. A
    refusal is iputils' and traceroute's `connect: ...` (RouteError).
    """
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        if fam == socket.AF_INET:  # a broadcast (allowed by -b) has a route and a source too
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if device:
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
        if bind_addr:
            s.bind((bind_addr, 0))
        try:
            s.connect((dst, 9))
        except OSError as e:
            reason = e.strerror or str(e)
            raise RouteError(f"connect: {reason}", reason) from None
        return str(s.getsockname()[0])


def is_broadcast(dst: str) -> bool:
    """Whether the kernel routes `dst` as a broadcast (nothing is sent).

    iputils' test: connecting a UDP socket without SO_BROADCAST to a
    broadcast address fails with EACCES, whatever the firewall says, so a
    refused send can be told from a rule that drops it.
    """
    if ":" in dst:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((dst, 9))
        except OSError as e:
            return e.errno == errno.EACCES
    return False


def _icmp6_filter(passed: tuple[int, ...]) -> bytes:
    words = [0xFFFFFFFF] * 8
    for t in passed:
        words[t >> 5] &= ~(1 << (t & 31))
    return struct.pack("=8I", *words)


class IcmpSocket(SelectorWait):
    """One ICMP (version 4) or ICMPv6 echo socket, used as an engine transport.

    `mechanism` is "dgram" or "raw"; `ident` is the echo identifier replies
    carry (the kernel's choice on a datagram socket, where it is the local
    "port"). `device` binds to an interface (SO_BINDTODEVICE), `source` to an
    address; both are resolved before privileges are dropped. `dont_fragment`
    sets DF with IP_PMTUDISC_PROBE (iputils' `-M probe`): every probe leaves
    unfragmented whatever path MTU the kernel cached, so each one too big for
    a link draws its own fragmentation-needed / packet-too-big; only probes
    over the interface's own MTU fail locally (EMSGSIZE, an unanswered probe).
    """

    def __init__(self, version: int, mechanism: SocketKind | None = None,
                 source: str | None = None,
                 device: str | None = None, ttl: int | None = None,
                 broadcast: bool = False, dont_fragment: bool = False) -> None:
        super().__init__()
        self.version = version
        self.family = socket.AF_INET6 if version == 6 else socket.AF_INET
        self.proto = PROTO_ICMP6 if version == 6 else PROTO_ICMP
        self.source = source
        self.device = device
        self.sock, self.mechanism = self._open(mechanism)
        s = self.sock
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if broadcast:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if dont_fragment:
            if version == 6:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_PROBE)
            else:
                s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_PROBE)
        bind_device(s, device)
        if source:
            try:
                s.bind((source, 0))
            except OSError as e:
                raise InterfaceError(f"bind icmp socket: {source}: {e.strerror}") from None
        elif self.mechanism == "dgram":
            s.bind(("::" if version == 6 else "0.0.0.0", 0))
        if version == 6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
            if self.mechanism == "raw":
                s.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER,
                             _icmp6_filter((129, 1, 2, 3, 4)))
            else:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        else:
            if self.mechanism == "dgram":
                s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
                s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
                s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        self.default_ttl = self._get_ttl()
        self.ttl = self.default_ttl
        if ttl is not None:
            self.set_ttl(ttl)
        if self.mechanism == "dgram":
            self.ident = s.getsockname()[1]
        else:
            self.ident = (os.getpid() ^ int.from_bytes(os.urandom(2))) & 0xFFFF
        self._sources: dict[str, str] = {}
        self.add_reader(s.fileno(), self.drain)

    def _open(self, mechanism: SocketKind | None) -> tuple[socket.socket, SocketKind]:
        order: list[SocketKind] = [mechanism] if mechanism else ["dgram", "raw"]
        last: OSError | None = None
        for mech in order:
            typ = socket.SOCK_DGRAM if mech == "dgram" else socket.SOCK_RAW
            proto = socket.IPPROTO_ICMPV6 if self.version == 6 else socket.IPPROTO_ICMP
            try:
                return socket.socket(self.family, typ, proto), mech
            except OSError as e:
                if e.errno not in (errno.EPERM, errno.EACCES, errno.EPROTONOSUPPORT):
                    raise RawtoolsError(f"socket: {e.strerror}") from None
                last = e
        what = "a raw ICMP socket" if mechanism == "raw" else "an ICMP socket"
        raise PermissionNeeded(
            f"cannot open {what} ({last.strerror if last else 'denied'}): run with sudo, "
            "give the interpreter CAP_NET_RAW, or add your group to net.ipv4.ping_group_range")

    def _get_ttl(self) -> int:
        if self.version == 6:
            v = self.sock.getsockopt(socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS)
            return 64 if v < 0 else v
        return self.sock.getsockopt(socket.IPPROTO_IP, IP_TTL)

    def set_ttl(self, ttl: int) -> None:
        """Set the TTL / hop limit of the packets sent from now on."""
        if ttl == self.ttl:
            return
        if self.version == 6:
            self.sock.setsockopt(socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl)
        else:
            self.sock.setsockopt(socket.IPPROTO_IP, IP_TTL, ttl)
        self.ttl = ttl

    def source_for(self, dst: str) -> str:
        """Our address towards `dst`, cached: a /24 sweep asks 254 times."""
        src = self._sources.get(dst)
        if src is None:
            src = self._sources[dst] = route_source(dst, self.source, self.device)
        return src

    # -- Transport -------------------------------------------------------
    def send(self, send: Send) -> tuple[int, bytes | None]:
        if send.ttl is not None:
            self.set_ttl(send.ttl)
        addr = (send.dst, 0, 0, 0) if self.version == 6 else (send.dst, 0)
        ts = time.time_ns()
        try:
            self.sock.sendto(send.data, addr)
        except BlockingIOError:
            return ts, None
        except OSError as e:
            # Local refusals (no route, ENOBUFS, EMSGSIZE) are what ping reports
            # as "sendmsg: ..." and goes on; the engine sees an unanswered probe.
            if e.errno == errno.EACCES and is_broadcast(send.dst):
                raise UsageError(f"{send.dst} is a broadcast address: give -b to ping it "
                                 "(if it is not, check the local firewall rules)") from None
            if e.errno in (errno.EPERM, errno.EACCES):
                raise PermissionNeeded(f"sendmsg: {e.strerror} (a firewall rule?)") from None
            self.last_send_error = e.strerror
            return ts, None
        src = self.source_for(send.dst)
        data = send.data
        if self.mechanism == "dgram":
            data = data[:4] + struct.pack("!H", self.ident) + data[6:]
        if self.version == 6:
            data = with_icmp6_checksum(src, send.dst, data)
        elif self.mechanism == "dgram":
            data = data[:2] + b"\0\0" + data[4:]
            data = data[:2] + struct.pack("!H", inet_checksum(data)) + data[4:]
        return ts, build_ip(src, send.dst, self.proto, self.ttl, data)

    def drain(self) -> list[Received]:
        """Everything waiting on the socket, read until it would block: one wake-up, one call."""
        out: list[Received] = []
        recvmsg = self.sock.recvmsg
        while True:
            try:
                data, anc, _flags, addr = recvmsg(65535, _ANCBUF)
            except BlockingIOError:
                break
            except OSError:
                # A pending error on the socket (ECONNREFUSED, EHOSTUNREACH...):
                # the details are on the error queue, read below.
                break
            info = parse_ancillary(anc)
            clock: Clock = "kernel" if info.ts_ns is not None else "user"
            ts = info.ts_ns or time.time_ns()
            if self.version == 4 and self.mechanism == "raw":
                out.append(Received(ts, data, clock))
                continue
            src = addr[0].split("%")[0]
            dst = info.dst or self.source_for(src)
            out.append(Received(ts, build_ip(src, dst, self.proto, info.ttl or 0, data), clock))
        if self.mechanism == "dgram":
            out.extend(self._drain_errqueue())
        return out

    def _drain_errqueue(self) -> list[Received]:
        out: list[Received] = []
        for q in read_error_queue(self.sock, self.family, _ANCBUF):
            src = self.source_for(q.dst)
            data = q.data
            # The queued copy is what we passed to sendto; the kernel put its
            # own identifier in the datagram that the router quoted.
            original = data[:4] + struct.pack("!H", self.ident) + data[6:] \
                if len(data) >= 8 else data
            pkt = rebuild_icmp_error(q.err, src, q.dst, self.proto, original)
            clock: Clock = "kernel" if q.ts_ns is not None else "user"
            out.append(Received(q.ts_ns or time.time_ns(), pkt, clock, origin="errqueue"))
        return out

    def close(self) -> None:
        super().close()
        self.sock.close()


class IcmpSockets(SelectorWait):
    """An IPv4 and an IPv6 echo socket as one transport: one run pings both families.

    Each send leaves by the socket of its destination's family and both
    sockets are waited on together, so a target list that mixes the two
    (a host's A and AAAA addresses, a dual-stack inventory) is one run with
    one summary instead of two runs whose timings cannot be compared.
    """

    def __init__(self, socks: dict[int, IcmpSocket]) -> None:
        super().__init__()
        self.socks = socks
        for s in socks.values():
            self.add_reader(s.sock.fileno(), s.drain)

    def send(self, send: Send) -> tuple[int, bytes | None]:
        return self.socks[6 if ":" in send.dst else 4].send(send)

    def close(self) -> None:
        super().close()
        for s in self.socks.values():
            s.close()

