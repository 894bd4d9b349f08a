"""ICMP extensions (RFC 4884) in time-exceeded and unreachable messages.

Routers append them after the quoted datagram: MPLS label stacks (RFC 4950)
tell which tunnel a hop is inside, interface information (RFC 5837) says by
which interface, address, name and MTU the probe came in or would have gone
out. Traceroute shows them with -e; they explain hops that an address alone
does not.

RFC 4884 says where the extension structure starts: the "length" field of
the ICMP header (32-bit words for ICMPv4, 64-bit words for ICMPv6) gives the
size of the quoted datagram. Older routers leave that field 0 and put the
structure at byte 128 of the quote, so that place is tried too, but only if
the structure there is well formed (version 2, a valid checksum).
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from rawtools.values import frozen
from rawtools.wire.checksum import ones_sum
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import ip6_transport

EXT_VERSION = 2
CLASS_MPLS = 1
CLASS_INTERFACE = 2
_ROLES = ("incoming", "sub-ip", "outgoing", "next-hop")
# ICMPv4 and ICMPv6 messages that may carry extensions (RFC 4884 section 4).
_EXTENSIBLE = {(4, 3), (4, 11), (4, 12), (6, 1), (6, 3)}


@frozen
class MplsEntry:
    """One label stack entry: label, traffic class (formerly EXP), bottom flag, TTL."""

    label: int
    tc: int
    bottom: bool
    ttl: int


@frozen
class InterfaceInfo:
    """An RFC 5837 interface information object; absent fields are None."""

    role: str
    ifindex: int | None = None
    addr: str | None = None
    name: str | None = None
    mtu: int | None = None


@frozen
class RawObject:
    """An extension object of a class this module does not decode."""

    class_num: int
    ctype: int
    data: bytes


ExtObject = list[MplsEntry] | InterfaceInfo | RawObject


def _structure_ok(buf: bytes) -> bool:
    if len(buf) < 4 or buf[0] >> 4 != EXT_VERSION:
        return False
    cksum = struct.unpack_from("!H", buf, 2)[0]
    return cksum == 0 or ones_sum(buf) == 0xFFFF


def _interface(ctype: int, data: bytes) -> InterfaceInfo | None:
    role = _ROLES[ctype >> 6]
    off = 0
    ifindex = addr = name = mtu = None
    try:
        if ctype & 0x08:
            ifindex = struct.unpack_from("!I", data, off)[0]
            off += 4
        if ctype & 0x04:
            afi = struct.unpack_from("!H", data, off)[0]
            if afi == 1:
                addr = socket.inet_ntop(socket.AF_INET, data[off + 4:off + 8])
                off += 8
            elif afi == 2:
                addr = socket.inet_ntop(socket.AF_INET6, data[off + 4:off + 20])
                off += 20
            else:
                return None
        if ctype & 0x02:
            n = data[off]
            if n < 1 or off + n > len(data):
                return None
            name = data[off + 1:off + n].rstrip(b"\0").decode("utf-8", "replace")
            off += n
        if ctype & 0x01:
            mtu = struct.unpack_from("!I", data, off)[0]
    except (struct.error, IndexError, ValueError):
        return None
    return InterfaceInfo(role, ifindex, addr, name, mtu)


def parse_structure(buf: bytes) -> list[ExtObject] | None:
    """Decode an extension structure (header and objects); None if malformed."""
    if not _structure_ok(buf):
        return None
    out: list[ExtObject] = []
    off = 4
    while off + 4 <= len(buf):
        length, class_num, ctype = struct.unpack_from("!HBB", buf, off)
        if length < 4 or off + length > len(buf):
            return None
        data = buf[off + 4:off + length]
        if class_num == CLASS_MPLS and ctype == 1 and len(data) % 4 == 0:
            stack = []
            for (word,) in struct.iter_unpack("!I", data):
                stack.append(MplsEntry(word >> 12, (word >> 9) & 7, bool(word >> 8 & 1),
                                       word & 0xFF))
            out.append(stack)
        elif class_num == CLASS_INTERFACE and (info := _interface(ctype, data)) is not None:
            out.append(info)
        else:
            out.append(RawObject(class_num, ctype, data))
        off += length
    return out


def parse_extensions(packet: bytes) -> list[ExtObject] | None:
    """The extension objects of an ICMP(v6) error datagram, or None if it has none."""
    icmp = parse_ip(packet)
    if icmp is None or (icmp.version, icmp.type) not in _EXTENSIBLE:
        return None
    body = icmp.body
    start = (packet[0] & 0xF) * 4 if icmp.version == 4 else ip6_transport(packet)[1]
    words = packet[start + 5] if icmp.version == 4 else packet[start + 4]
    unit = 4 if icmp.version == 4 else 8
    if words:
        # Nothing after the quote (or a length past the end) slices to b"": not a structure.
        return parse_structure(body[words * unit:])
    # RFC 4884 section 7: a structure is its header and one or more objects, each with a
    # 4-byte header of its own; fewer bytes after the 128 are padding, not a structure.
    if len(body) >= 128 + 4 + 4:
        return parse_structure(body[128:])
    return None


def describe(objects: list[ExtObject]) -> str:
    """traceroute -e style: `<MPLS:L=16,E=0,S=1,T=1>` `<IN:ip=..,name=..>`."""
    parts = []
    for obj in objects:
        if isinstance(obj, list):
            parts.append("<MPLS:" + "/".join(
                f"L={e.label},E={e.tc},S={int(e.bottom)},T={e.ttl}" for e in obj) + ">")
        elif isinstance(obj, InterfaceInfo):
            fields = [f"{k}={v}" for k, v in (("index", obj.ifindex), ("ip", obj.addr),
                                             ("name", obj.name), ("mtu", obj.mtu))
                      if v is not None]
            parts.append(f"<{obj.role.upper()}:" + ",".join(fields) + ">")
        else:
            parts.append(f"<{obj.class_num}/{obj.ctype}:{obj.data.hex()}>")
    return " ".join(parts)


def as_json(objects: list[ExtObject]) -> list[dict[str, Any]]:
    """The objects as JSON-ready dicts, each with its `class`."""
    out: list[dict[str, Any]] = []
    for obj in objects:
        if isinstance(obj, list):
            out.append({"class": "mpls", "stack": [
                {"label": e.label, "tc": e.tc, "bottom": e.bottom, "ttl": e.ttl} for e in obj]})
        elif isinstance(obj, InterfaceInfo):
            out.append({"class": "interface", "role": obj.role, "ifindex": obj.ifindex,
                        "addr": obj.addr, "name": obj.name, "mtu": obj.mtu})
        else:
            out.append({"class": obj.class_num, "ctype": obj.ctype, "data": obj.data.hex()})
    return out
