"""AppleTalk ARP (EtherType 0x80F3): who-has, reply and probe, as tcpdump prints them.

tcpdump reads the whole 28-byte packet before anything else, and decodes
only Ethernet hardware addresses with AppleTalk's (net, node) addresses;
anything else gets its fields in a row.
"""

from __future__ import annotations

import struct

_HEADER = struct.Struct("!HHBBH6s4s6s4s")
_SIZE = _HEADER.size
_HTYPE_ETHERNET, _PTYPE_ATALK = 1, 0x809B
_REQUEST, _REPLY, _PROBE = 1, 2, 3


def _at(raw: bytes) -> str:
    """An AppleTalk address (a pad byte, the network, the node) as `net.node`."""
    return f"{raw[1] << 8 | raw[2]}.{raw[3]}"


def aarp(p: bytes, length: int) -> tuple[str, bool]:
    """`aarp who-has 1.2 tell 1.3`, or the packet's fields where tcpdump names no operation."""
    if len(p) < _SIZE:
        return "aarp  [|aarp]", False
    if length < _SIZE:
        return f"aarp  [|aarp {length}]", False
    htype, ptype, halen, palen, op, hsaddr, psaddr, _, pdaddr = _HEADER.unpack_from(p)
    if (htype, ptype, halen, palen) == (_HTYPE_ETHERNET, _PTYPE_ATALK, 6, 4):
        if op in (_REQUEST, _PROBE):
            verb = "who-has" if op == _REQUEST else "probe"
            return f"aarp {verb} {_at(pdaddr)} tell {_at(psaddr)}", True
        if op == _REPLY:
            return f"aarp reply {_at(psaddr)} is-at {hsaddr.hex(':')}", True
    return (f"aarp len {length} op {op} htype {htype} ptype {ptype:#x} halen {halen} "
            f"palen {palen}"), True
