"""Giving header-less captures an Ethernet header, so they can go out of an Ethernet port.

A capture taken on a tunnel (raw IP), on Linux's `any` device (cooked) or
on a BSD loopback carries no Ethernet header, yet replaying it onto a LAN is
what people want. The payload and its EtherType are already in the capture;
only the two hardware addresses are missing, and the caller chooses them.

Cooked captures keep what follows their header unchanged (a VLAN tag stays a
tag: the protocol field becomes the Ethernet type, tag and all). Their
802.3 pseudo-types (LLC, Novell raw) become a length field, as on the wire.
A frame that has no Ethernet form (a netlink message, raw bytes that are
neither IPv4 nor IPv6, a header cut short) converts to None.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from rawtools.wire import link

BROADCAST = b"\xff" * 6
_HEX_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-]?)(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}")
_ARPHRD_NETLINK = 824
_H = struct.Struct("!H")
_COOKED = {link.LINKTYPE_LINUX_SLL: (14, 2, 16), link.LINKTYPE_LINUX_SLL2: (0, 8, 20)}
"""Cooked link type: (offset of the protocol field, of the ARPHRD type, header length)."""
_HEADERLESS = frozenset({link.LINKTYPE_NULL, link.DLT_RAW, link.DLT_RAW_OPENBSD,
                         link.LINKTYPE_RAW, link.LINKTYPE_LOOP, link.LINKTYPE_IPV4,
                         link.LINKTYPE_IPV6})

Framer = Callable[[bytes], bytes | None]


def parse_mac(text: str) -> bytes | None:
    """`02:00:00:00:00:01` (or with dashes, or bare hex) as 6 bytes; None if malformed."""
    if not _HEX_MAC.fullmatch(text):
        return None
    return bytes.fromhex(text.replace(":", "").replace("-", ""))


def format_mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def ethernet_framer(linktype: int, dst: bytes, src: bytes) -> Framer | None:
    """A function putting frames of `linktype` into Ethernet, or None if it cannot.

    Ethernet itself is not converted (the caller sends it as it is).
    """
    head = dst + src
    cooked = _COOKED.get(linktype)
    if cooked is not None:
        proto_at, hatype_at, size = cooked

        def from_cooked(frame: bytes) -> bytes | None:
            if len(frame) < size or _H.unpack_from(frame, hatype_at)[0] == _ARPHRD_NETLINK:
                return None
            proto = _H.unpack_from(frame, proto_at)[0]
            payload = frame[size:]
            if proto in (link.ETH_P_802_3, link.ETH_P_802_2) and len(payload) <= 1500:
                proto = len(payload)
            elif proto < 0x0600:
                return None
            return head + _H.pack(proto) + payload

        return from_cooked
    if linktype not in _HEADERLESS:
        return None

    def from_headerless(frame: bytes) -> bytes | None:
        d = link.decap(linktype, frame)
        if d is None or d[0] is None:
            return None
        return head + _H.pack(d[0]) + frame[d[1]:]

    return from_headerless
