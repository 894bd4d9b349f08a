"""Cisco's IGRP (IP protocol 9) as tcpdump prints it: the header, then every route.

tcpdump walks the routes by the IP payload length, not by what was
captured, and marks the packet invalid when the route counts of the header
and the routes that follow disagree.
"""

from __future__ import annotations

_HEADER, _ROUTE = 12, 14
_OPS = {1: "update", 2: "request"}
_U32 = 1 << 32  # tcpdump's lengths are unsigned: a header longer than the packet wraps


class _Cut(Exception):
    """The capture ended before the field being read."""


def _u(p: bytes, i: int, size: int) -> int:
    if i + size > len(p):
        raise _Cut
    return int.from_bytes(p[i:i + size], "big")


def igrp(p: bytes, length: int) -> tuple[str, bool]:
    """`igrp: update V1 edit=3 AS=100 (1/0/0) *.0.2.0 d=100 b=1000 ... in 0 hops`."""
    parts = ["igrp:"]
    try:
        ok = _message(p, length, parts)
    except _Cut:
        return "".join(parts) + " [|igrp]", False
    return "".join(parts) + ("" if ok else " (invalid)"), ok


def _message(p: bytes, length: int, parts: list[str]) -> bool:
    """The header and the routes; False when their counts and the length disagree."""
    counts = [_u(p, 4, 2), _u(p, 6, 2), _u(p, 8, 2)]  # interior, system, exterior
    vop = _u(p, 0, 1)
    op = _OPS.get(vop & 0x0F, f"op-#{vop & 0x0F}")
    parts.append(f" {op} V{vop >> 4} edit={_u(p, 1, 1)} AS={_u(p, 2, 2)} "
                 f"({counts[0]}/{counts[1]}/{counts[2]})")
    _u(p, 10, 2)  # the checksum, shown at -v only, read all the same
    left, at = (length - _HEADER) % _U32, _HEADER
    while left >= _ROUTE:
        net = _u(p, at, 3).to_bytes(3, "big")
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
    delay, bandwidth = _u(p, at + 3, 3), _u(p, at + 6, 3)
    mtu, rel, load, hops = _u(p, at + 9, 2), _u(p, at + 11, 1), _u(p, at + 12, 1), \
        _u(p, at + 13, 1)
    metric = min(delay + bandwidth, 0xFFFFFF)
    bw = 10000000 // bandwidth if bandwidth else 0
    return f" d={10 * delay} b={bw} r={rel} l={load} M={metric} mtu={mtu} in {hops} hops"
