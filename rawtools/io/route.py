"""The interface the kernel routes a destination through: `ip route get`, over netlink.

A capture must sit on the interface where the answer will arrive, which is
the one the route to the destination leaves by. Only the kernel knows it
for sure (policy rules, several tables, a destination that is one of our own
addresses and so goes through `lo`), so it is asked the way iproute2 asks:
one RTM_GETROUTE request on a NETLINK_ROUTE socket, whose answer names the
output interface (RTA_OIF). No privilege is needed and nothing is sent.
"""

from __future__ import annotations

import os
import socket
import struct

from rawtools.errors import InterfaceError, RawtoolsError

NETLINK_ROUTE = 0
RTM_NEWROUTE = 24
RTM_GETROUTE = 26
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
RTA_DST = 1
RTA_SRC = 2
RTA_OIF = 4

_NLMSG = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTA = struct.Struct("=HH")


def _attr(kind: int, data: bytes) -> bytes:
    length = _RTA.size + len(data)
    return _RTA.pack(length, kind) + data + bytes(-length % 4)


def _request(dst: str, src: str | None) -> bytes:
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    daddr = socket.inet_pton(family, dst)
    attrs = _attr(RTA_DST, daddr)
    saddr = b""
    if src:
        saddr = socket.inet_pton(family, src)
        attrs += _attr(RTA_SRC, saddr)
    body = _RTMSG.pack(family, len(daddr) * 8, len(saddr) * 8, 0, 0, 0, 0, 0, 0) + attrs
    return _NLMSG.pack(_NLMSG.size + len(body), RTM_GETROUTE, NLM_F_REQUEST, 1, 0) + body


def _output_index(reply: bytes, dst: str) -> int:
    """RTA_OIF of the kernel's answer; its refusal (no route) as one line."""
    if len(reply) < _NLMSG.size + 4:
        raise RawtoolsError(f"route to {dst}: short netlink answer")
    _length, kind, _flags, _seq, _pid = _NLMSG.unpack_from(reply)
    if kind == NLMSG_ERROR:
        code = -struct.unpack_from("=i", reply, _NLMSG.size)[0]
        raise RawtoolsError(f"no route to {dst}: {os.strerror(code)}")
    off = _NLMSG.size + _RTMSG.size
    while kind == RTM_NEWROUTE and off + _RTA.size <= len(reply):
        length, attr = _RTA.unpack_from(reply, off)
        if length < _RTA.size:
            break
        if attr == RTA_OIF and length >= _RTA.size + 4:
            return int(struct.unpack_from("=i", reply, off + _RTA.size)[0])
        off += (length + 3) & ~3
    raise RawtoolsError(f"route to {dst}: the kernel named no output interface")


def route_interface(dst: str, src: str | None = None) -> str:
    """The name of the interface a datagram from `src` (or our choice) to `dst` leaves by."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as s:
        s.settimeout(2.0)
        try:
            s.send(_request(dst, src))
            reply = s.recv(65536)
        except OSError as e:
            raise RawtoolsError(f"route to {dst}: {e.strerror or e}") from None
    index = _output_index(reply, dst)
    try:
        return socket.if_indextoname(index)
    except OSError:
        raise InterfaceError(f"route to {dst}: interface {index} has no name") from None
