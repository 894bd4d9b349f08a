"""Sending IP datagrams whose header we built: the IP half of the injection core.

Tools that must control every header byte (udpcksum's UDP checksum, a zero
one included) cannot send through a UDP socket, which writes its own header.
A raw socket with the header included hands the datagram to the kernel as
it is; the kernel still routes it and adds the link header, so no link-layer
knowledge (ARP, neighbour discovery, the gateway's address) is needed here.

- IPv4: a raw socket of protocol IPPROTO_RAW implies IP_HDRINCL (set anyway,
  to say so). The kernel keeps our header; it fills in the header checksum
  and the total length, and the identification only where we left it 0.
- IPv6: IPV6_HDRINCL (36, Linux 4.5 and later) on an IPPROTO_RAW socket does
  the same, and the kernel fills in nothing. Older kernels lack the option:
  there the datagram's payload goes through a raw socket of its next-header
  protocol, and what our header said is passed as options: the source
  (IPV6_PKTINFO), hop limit (IPV6_HOPLIMIT) and traffic class (IPV6_TCLASS);
  the automatic flow label is turned off (IPV6_AUTOFLOWLABEL) so the label
  stays our 0. Such a socket leaves the transport checksum as we wrote it
  (IPV6_CHECKSUM is off for everything but ICMPv6). A non-zero flow label
  would need a lease from the kernel (IPV6_FLOWLABEL_MGR) and is refused.

Sockets are opened in the constructor, before privileges are dropped;
`send` needs no privilege.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Iterable
from typing import Literal

from rawtools.errors import PermissionNeeded, RawtoolsError, UsageError
from rawtools.io.sockopts import IPV6_HOPLIMIT, IPV6_PKTINFO
from rawtools.wire.ip import IP6_HEADER_LEN, PROTO_UDP

IPV6_HDRINCL = 36
IPV6_TCLASS = 67
IPV6_AUTOFLOWLABEL = 70

HeaderMode = Literal["hdrincl", "options"]
"""How an IPv6 datagram leaves: our header as is, or the kernel's built from options."""

_NEED = "a raw IP socket needs root or CAP_NET_RAW (run with sudo)"


def _raw_socket(family: int, proto: int) -> socket.socket:
    try:
        return socket.socket(family, socket.SOCK_RAW, proto)
    except PermissionError:
        raise PermissionNeeded(_NEED) from None
    except OSError as e:
        raise RawtoolsError(f"raw socket: {e.strerror}") from None


class IpSender:
    """Sends whole IPv4 or IPv6 datagrams with the header we built.

    `hdrincl` None takes IPV6_HDRINCL where the kernel has it and the
    options otherwise; True or False forces one (False is how the older
    kernels' path is tested on a newer one). `protocols` are the next-header
    values the options path must be able to send, each needing its own socket.
    """

    def __init__(self, version: int, hdrincl: bool | None = None,
                 protocols: Iterable[int] = (PROTO_UDP,)) -> None:
        self.version = version
        self._by_proto: dict[int, socket.socket] = {}
        self.mode: HeaderMode = "hdrincl"
        if version == 4:
            self.sock = _raw_socket(socket.AF_INET, socket.IPPROTO_RAW)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
            return
        self.sock = _raw_socket(socket.AF_INET6, socket.IPPROTO_RAW)
        if hdrincl is not False:
            try:
                self.sock.setsockopt(socket.IPPROTO_IPV6, IPV6_HDRINCL, 1)
                return
            except OSError as e:
                if hdrincl or e.errno != errno.ENOPROTOOPT:
                    self.sock.close()
                    raise RawtoolsError(f"IPV6_HDRINCL: {e.strerror}") from None
        self.mode = "options"
        for proto in protocols:
            s = _raw_socket(socket.AF_INET6, proto)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0)
            # Send-only: a raw socket of a protocol also gets a copy of every
            # datagram of it that arrives; keep that queue as small as allowed.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
            self._by_proto[proto] = s

    def send(self, datagram: bytes) -> None:
        """Send `datagram`; a local refusal (no route, too big, a firewall) is one line."""
        version = datagram[0] >> 4 if datagram else 0
        if version != self.version:
            raise UsageError(f"an IPv{self.version} sender was given an IPv{version} datagram")
        try:
            if version == 4:
                self.sock.sendto(datagram, (socket.inet_ntop(socket.AF_INET, datagram[16:20]),
                                            0))
            elif self.mode == "hdrincl":
                self.sock.sendto(datagram, (socket.inet_ntop(socket.AF_INET6, datagram[24:40]),
                                            0, 0, 0))
            else:
                self._send_with_options(datagram)
        except OSError as e:
            if e.errno in (errno.EPERM, errno.EACCES):
                raise PermissionNeeded(f"sendto: {e.strerror} (a firewall rule?)") from None
            if e.errno == errno.EMSGSIZE:
                raise RawtoolsError(f"sendto: {e.strerror}: a {len(datagram)}-byte datagram "
                                    "does not fit the route's MTU") from None
            raise RawtoolsError(f"sendto: {e.strerror}") from None

    def _send_with_options(self, datagram: bytes) -> None:
        """Without IPV6_HDRINCL: the payload, and the header's fields as options."""
        word, _plen, nxt, hlim = struct.unpack_from("!IHBB", datagram)
        sock = self._by_proto.get(nxt)
        if sock is None:
            raise RawtoolsError(f"no IPV6_HDRINCL on this kernel, and next header {nxt} is "
                                "not one this sender opened a socket for (extension headers "
                                "cannot be sent this way)")
        tclass, flow = (word >> 20) & 0xFF, word & 0xFFFFF
        if flow:
            raise RawtoolsError("no IPV6_HDRINCL on this kernel, and a flow label other than "
                                "0 cannot be sent without it")
        src, dst = datagram[8:24], datagram[24:40]
        anc = [(socket.IPPROTO_IPV6, IPV6_PKTINFO, src + struct.pack("=I", 0)),
               (socket.IPPROTO_IPV6, IPV6_HOPLIMIT, struct.pack("=i", hlim)),
               (socket.IPPROTO_IPV6, IPV6_TCLASS, struct.pack("=i", tclass))]
        sock.sendmsg([datagram[IP6_HEADER_LEN:]], anc, 0,
                     (socket.inet_ntop(socket.AF_INET6, dst), 0))

    def close(self) -> None:
        self.sock.close()
        for s in self._by_proto.values():
            s.close()
