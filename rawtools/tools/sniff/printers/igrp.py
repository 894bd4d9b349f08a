"""Cisco's IGRP (IP protocol 9) as tcpdump prints it: the header, then every route.

tcpdump walks the routes by the IP payload length, not by what was
captured, and marks the packet invalid when the route counts of the header
and the routes that follow disagree.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.reader import Cut, take, uint

_HEADER, _ROUTE = 12, 14
_OPS = {1: "update", 2: "request"}
_U32 = 1 << 32  # tcpdump's lengths are unsigned: a header longer than the packet wraps


def igrp(p: bytes, length: int) -> tuple[str, bool]:
    """`igrp: update V1 edit=3 AS=100 (1/0/0) *.0.2.0 d=100 b=1000 ... in 0 hops`."""
    parts = ["igrp:"]
    try:
        ok = _message(p, length, parts)
    except Cut:
        return "".join(parts) + " [|igrp]", False
    return "".join(parts) + ("" if ok else " (invalid)"), ok


def _message(p: bytes, length: int, parts: list[str]) -> bool:
    """The header and the routes; False when their counts and the length disagree."""
    counts = [uint(p, 4, 2), uint(p, 6, 2), uint(p, 8, 2)]  # interior, system, exterior
    vop = uint(p, 0, 1)
    op = _OPS.get(vop & 0x0F, f"op-#{vop & 0x0F}")
    parts.append(f" {op} V{vop >> 4} edit={uint(p, 1, 1)} AS={uint(p, 2, 2)} "
                 f"({counts[0]}/{counts[1]}/{counts[2]})")
    uint(p, 10, 2)  # the checksum, shown at -v only, read all the same
    left, at = (length - _HEADER) % _U32, _HEADER
    while left >= _ROUTE:
        net = take(p, at, 3)
        kind = next((k for k in range(3) if counts[k]), None)
        if kind is None:
            parts.append(f" [extra bytes {left}]")
            break
        counts[kind] -= 1
        dotted = ".".join(map(str, net))
        parts.append((" *." + dotted, f" {dotted}.0", f" X{dotted}.0")[kind])
        parts.append(_route(p, at))
        at, left = at + _ROUTE, left - _ROUTE
    return not (any(counts) or left)


def _route(p: bytes, at: int) -> str:
    """One route's delay, bandwidth, reliability, load, composite metric, MTU and hops."""
    delay, bandwidth = uint(p, at + 3, 3), uint(p, at + 6, 3)
    mtu, rel, load, hops = uint(p, at + 9, 2), uint(p, at + 11, 1), uint(p, at + 12, 1), \
        uint(p, at + 13, 1)
    metric = min(delay + bandwidth, 0xFFFFFF)
    bw = 10000000 // bandwidth if bandwidth else 0
    return f" d={10 * delay} b={bw} r={rel} l={load} M={metric} mtu={mtu} in {hops} hops"
