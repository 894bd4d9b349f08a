"""OSPF (IP protocol 89; v2 over IPv4, v3 over IPv6) as tcpdump prints it without -v."""

from __future__ import annotations

_TYPES = {1: "Hello", 2: "Database Description", 3: "LS-Request", 4: "LS-Update", 5: "LS-Ack"}


def ospf(p: bytes, length: int) -> tuple[str, bool]:
    """`OSPFv2, Hello, length 44`: the version and type from the header, the IP payload length."""
    return _ospf(p, length, "ospf2")


def ospf6(p: bytes, length: int) -> tuple[str, bool]:
    """The same over IPv6 (tcpdump names the truncation marks `ospf2` and `ospf3`)."""
    return _ospf(p, length, "ospf3")


def _ospf(p: bytes, length: int, mark: str) -> tuple[str, bool]:
    if len(p) < 2:
        return f" [|{mark}]", False
    name = _TYPES.get(p[1]) or (f"unknown LS-type {p[1]}" if p[0] == 2
                                else f"unknown packet type ({p[1]})")
    return f"OSPFv{p[0]}, {name}, length {length}", True
