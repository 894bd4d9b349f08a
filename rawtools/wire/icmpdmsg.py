"""The messages icmpd and its clients exchange over the Unix-domain stream socket.

Every message is an 8-byte header and a body of the length it announces, in
network byte order, so a client in any language reads one with two exact
reads and never guesses where a message ends:

    offset size  field
    0      2     magic   b"IE"
    2      1     version 1
    3      1     type    (below)
    4      4     length  of the body in bytes (at most MAX_BODY)

Types and bodies:

    1 REGISTER    client -> daemon  tag u32, with exactly one UDP socket
                                    descriptor attached (SCM_RIGHTS)
    2 REGISTERED  daemon -> client  tag u32, status i32 (0 or an errno),
                                    family u8 (4 or 6), pad u8, port u16,
                                    address 16 bytes, then a UTF-8 reason
                                    when status is not 0
    3 ERROR       daemon -> client  84 bytes, laid out below (see `IcmpError`)
    4 UNREGISTER  client -> daemon  tag u32: forget that socket, close the
                                    daemon's copy of it
    5 UNREGISTERED daemon -> client tag u32, status i32 (0, or ENOENT)
    6 BYE         daemon -> client  status i32 (an errno), UTF-8 reason; the
                                    daemon closes the connection after it

The ERROR body, by offset: 0 tag u32, 4 family u8 (4 or 6), 5 ICMP type
u8, 6 ICMP code u8, 7 TTL of the ICMP packet u8, 8 errno u32 (Linux
values), 12 next-hop MTU u32 (0: none), 16 destination port u16, 18 local
port u16, 20 rewritten u16 (bit 0 source-address, bit 1 udp-length, bit 2
udp-checksum), 22 two zero bytes, 24 kernel receive time u64 (ns since the
epoch), 32 destination address, 48 offender address, 64 local address,
80 dropped u32 (errors this connection lost to a full queue since the
previous ERROR).

A refused REGISTER still carries family 4 or 6 (4 when the descriptor had
neither), address and port zero, so a client can always parse it.

Addresses are 16 bytes: an IPv6 address, or an IPv4 address in the first 4
bytes with 12 zero bytes after it (the family field says which).

The tag is the client's own name for a registered socket (any u32); errors
carry it back, so one connection can register many sockets. Version 1 is
this layout; a daemon answers a message of another version with BYE.
"""

from __future__ import annotations

import errno as errnos
import os
import socket
import struct
from typing import Literal

from rawtools.values import frozen

DEFAULT_SOCKET = "/run/rawtools/icmpd.sock"
"""Where the daemon listens unless told otherwise (`--socket`), and where clients look."""
MAGIC = b"IE"
VERSION = 1
REGISTER, REGISTERED, ERROR, UNREGISTER, UNREGISTERED, BYE = 1, 2, 3, 4, 5, 6
MAX_BODY = 1024
"""The longest body either side sends; a header announcing more is garbage."""

HEADER = struct.Struct("!2sBBI")
_TAG = struct.Struct("!I")
_TAG_STATUS = struct.Struct("!Ii")
_REGISTERED = struct.Struct("!IiBxH16s")
_STATUS = struct.Struct("!i")
# tag, family, type, code, ttl, errno, mtu, dst port, local port, rewritten,
# (2 pad), kernel timestamp, dst, offender, local address, dropped.
_ERROR = struct.Struct("!IBBBBIIHHHxxQ16s16s16sI")
ERROR_SIZE = _ERROR.size

Rewrite = Literal["source-address", "udp-length", "udp-checksum"]
"""How a quoted datagram differs from anything the client's socket could have sent:
its source is not one of this host's addresses, its UDP length disagrees with
its IP length, or its UDP checksum does not match its addresses, ports and
payload (a middlebox changed them without fixing the checksum)."""
REWRITES: tuple[Rewrite, ...] = ("source-address", "udp-length", "udp-checksum")


class ProtocolError(ValueError):
    """Bytes that are not a message of this protocol (bad magic, version, type or length)."""


def pack_address(version: int, addr: str) -> bytes:
    if version == 6:
        return socket.inet_pton(socket.AF_INET6, addr)
    return socket.inet_aton(addr) + bytes(12)


def unpack_address(version: int, raw: bytes) -> str:
    if version == 6:
        return socket.inet_ntop(socket.AF_INET6, raw)
    return socket.inet_ntop(socket.AF_INET, raw[:4])


@frozen
class IcmpError:
    """One ICMP error caused by a datagram of a registered socket.

    `tag` names the socket (the client's choice at registration), `errno`
    is what a connected socket would have reported (ECONNREFUSED for a
    port unreachable, EMSGSIZE for fragmentation needed or packet too big,
    EHOSTUNREACH otherwise); `dst`/`dport` are where the offending datagram
    was going, `offender` who sent the ICMP error and `ttl` that packet's
    TTL or hop limit (its distance); `mtu` is the next-hop MTU where the
    error carries one; `ts_ns` the kernel's receive time (ns since the
    epoch); `local`/`lport` the quoted source; `rewritten` how the quote
    differs from what the socket sent; `dropped` how many errors for this
    connection were dropped before this one because the client read too slowly.
    """

    tag: int
    version: int
    type: int
    code: int
    errno: int
    dst: str
    dport: int
    offender: str
    ttl: int
    mtu: int | None
    ts_ns: int
    local: str
    lport: int
    rewritten: tuple[Rewrite, ...] = ()
    dropped: int = 0

    @property
    def strerror(self) -> str:
        """The errno's text as C's strerror gives it ("Connection refused")."""
        return os.strerror(self.errno)

    @property
    def errno_name(self) -> str:
        return errnos.errorcode.get(self.errno, str(self.errno))


def header(kind: int, length: int) -> bytes:
    return HEADER.pack(MAGIC, VERSION, kind, length)


def parse_header(raw: bytes) -> tuple[int, int]:
    """(type, body length) of an 8-byte header; ProtocolError for anything else."""
    magic, version, kind, length = HEADER.unpack(raw)
    if magic != MAGIC:
        raise ProtocolError("not an icmpd message (bad magic)")
    if version != VERSION:
        raise ProtocolError(f"protocol version {version} is not supported (this is {VERSION})")
    if kind not in (REGISTER, REGISTERED, ERROR, UNREGISTER, UNREGISTERED, BYE):
        raise ProtocolError(f"unknown message type {kind}")
    if length > MAX_BODY:
        raise ProtocolError(f"message body of {length} bytes is over {MAX_BODY}")
    return kind, length


def register(tag: int) -> bytes:
    return header(REGISTER, _TAG.size) + _TAG.pack(tag)


def unregister(tag: int) -> bytes:
    return header(UNREGISTER, _TAG.size) + _TAG.pack(tag)


def unpack_tag(body: bytes) -> int:
    if len(body) != _TAG.size:
        raise ProtocolError(f"a tag is 4 bytes, not {len(body)}")
    return int(_TAG.unpack(body)[0])


def registered(tag: int, status: int, version: int = 4, addr: str = "0.0.0.0", port: int = 0,
               reason: str = "") -> bytes:
    body = _REGISTERED.pack(tag, status, version, port, pack_address(version, addr))
    body += reason.encode()[:MAX_BODY - _REGISTERED.size]
    return header(REGISTERED, len(body)) + body


@frozen
class Registered:
    """The daemon's answer to REGISTER: the socket's address, or why it was refused."""

    tag: int
    status: int
    version: int
    addr: str
    port: int
    reason: str


def unpack_registered(body: bytes) -> Registered:
    if len(body) < _REGISTERED.size:
        raise ProtocolError("REGISTERED body too short")
    tag, status, version, port, raw = _REGISTERED.unpack_from(body)
    if version not in (4, 6):
        raise ProtocolError(f"REGISTERED: family {version}")
    reason = body[_REGISTERED.size:].decode(errors="replace")
    return Registered(tag, status, version, unpack_address(version, raw), port, reason)


def unregistered(tag: int, status: int) -> bytes:
    return header(UNREGISTERED, _TAG_STATUS.size) + _TAG_STATUS.pack(tag, status)


def unpack_unregistered(body: bytes) -> tuple[int, int]:
    if len(body) != _TAG_STATUS.size:
        raise ProtocolError("UNREGISTERED body is 8 bytes")
    tag, status = _TAG_STATUS.unpack(body)
    return int(tag), int(status)


def bye(status: int, reason: str) -> bytes:
    body = _STATUS.pack(status) + reason.encode()[:MAX_BODY - _STATUS.size]
    return header(BYE, len(body)) + body


def unpack_bye(body: bytes) -> tuple[int, str]:
    if len(body) < _STATUS.size:
        raise ProtocolError("BYE body too short")
    return int(_STATUS.unpack_from(body)[0]), body[_STATUS.size:].decode(errors="replace")


def error(e: IcmpError, dropped: int = 0) -> bytes:
    """An ERROR message for `e`, `dropped` saying how many were lost before it."""
    bits = 0
    for i, name in enumerate(REWRITES):
        if name in e.rewritten:
            bits |= 1 << i
    body = _ERROR.pack(e.tag, e.version, e.type, e.code, e.ttl, e.errno, e.mtu or 0, e.dport,
                       e.lport, bits, e.ts_ns, pack_address(e.version, e.dst),
                       pack_address(e.version, e.offender), pack_address(e.version, e.local),
                       dropped)
    return header(ERROR, len(body)) + body


def unpack_error(body: bytes) -> IcmpError:
    if len(body) < ERROR_SIZE:
        raise ProtocolError(f"ERROR body of {len(body)} bytes, not {ERROR_SIZE}")
    (tag, version, typ, code, ttl, err, mtu, dport, lport, bits, ts, dst, offender, local,
     dropped) = _ERROR.unpack_from(body)
    if version not in (4, 6):
        raise ProtocolError(f"ERROR: family {version}")
    rewritten = tuple(name for i, name in enumerate(REWRITES) if bits & (1 << i))
    return IcmpError(tag, version, typ, code, err, unpack_address(version, dst), dport,
                     unpack_address(version, offender), ttl, mtu or None, ts,
                     unpack_address(version, local), lport, rewritten, dropped)
