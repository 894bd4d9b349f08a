"""Cisco's Dynamic Trunking Protocol (SNAP, OUI Cisco, protocol 0x2004): version and length.

tcpdump prints only these two without -v; an empty PDU is invalid.
"""

from __future__ import annotations


def dtp(p: bytes, length: int) -> tuple[str, bool]:
    if length == 0:
        return "[zero packet length] (invalid)", False
    if not p:
        return "DTP [|dtp]", False
    return f"DTPv{p[0]}, length {length}", True
