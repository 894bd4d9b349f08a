"""BOOTP and DHCP (UDP ports 67 and 68) as tcpdump prints them without -v."""

from __future__ import annotations

_OPS = {1: "Request", 2: "Reply"}
_CHADDR = 28  # the client hardware address, after op, htype, hlen, hops, xid, secs,
# flags and the four addresses


def bootp(p: bytes, length: int) -> tuple[str, bool]:
    """`BOOTP/DHCP, Request from 02:00:00:00:00:01, length 300`."""
    if not p:
        return " [|bootp]", False
    text = f"BOOTP/DHCP, {_OPS.get(p[0], f'unknown (0x{p[0]:02x})')}"
    if len(p) < 3:
        return text + " [|bootp]", False
    if p[1] == 1 and p[2] == 6 and p[0] == 1:
        if len(p) < _CHADDR + 6:
            return text + " [|bootp]", False
        text += " from " + p[_CHADDR:_CHADDR + 6].hex(":")
    return f"{text}, length {length}", True
