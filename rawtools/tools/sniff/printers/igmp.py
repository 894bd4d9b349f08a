"""IGMP (IP protocol 2; v1, v2 and v3 queries and reports) as tcpdump prints it without -v."""

from __future__ import annotations

import socket

_QUERY, _V1_REPORT, _V2_REPORT, _V3_REPORT, _LEAVE = 0x11, 0x12, 0x16, 0x22, 0x17
_DVMRP, _PIMV1, _MTRACE_RESP, _MTRACE = 0x13, 0x14, 0x1E, 0x1F
_NAMED = {_DVMRP: "igmp dvmrp", _PIMV1: "igmp pimv1", _MTRACE_RESP: "mresp", _MTRACE: "mtrace"}
_V2_MAX_RESP = 100  # tenths of a second: the default, which tcpdump does not print
# tcpdump's units for a duration (unsigned_relts_print).
_UNITS = ((31536000, "y"), (604800, "w"), (86400, "d"), (3600, "h"), (60, "m"), (1, "s"))


class _Cut(Exception):
    """The message ended before the field being read."""


def _u8(p: bytes, i: int) -> int:
    if i >= len(p):
        raise _Cut
    return p[i]


def _addr(p: bytes, i: int) -> str:
    if i + 4 > len(p):
        raise _Cut
    return socket.inet_ntop(socket.AF_INET, p[i:i + 4])


def _u(p: bytes, i: int, size: int) -> int:
    if i + size > len(p):
        raise _Cut
    return int.from_bytes(p[i:i + size], "big")


def duration(secs: int) -> str:
    """`3m20s`: a number of seconds in tcpdump's units."""
    if secs == 0:
        return "0s"
    out = []
    for unit, name in _UNITS:
        if secs >= unit:
            out.append(f"{secs // unit}{name}")
            secs %= unit
    return "".join(out)


def igmp(p: bytes, length: int) -> tuple[str, bool]:
    """`igmp query v2`, `igmp v2 report 239.1.1.1`, `igmp v3 report, 1 group record(s)`..."""
    parts: list[str] = []
    try:
        _message(p, length, parts)
    except _Cut:
        return "".join(parts) + " [|igmp]", False
    return "".join(parts), True


def _message(p: bytes, length: int, parts: list[str]) -> None:
    typ = _u8(p, 0)
    if typ == _QUERY:
        parts.append("igmp query")
        if length >= 12:
            _v3_query(p, length, parts)
            return
        mrc = _u8(p, 1)
        parts.append((" v2" + (f" [max resp time {mrc}]" if mrc != _V2_MAX_RESP else ""))
                     if mrc else " v1")
        if _u(p, 4, 4):
            parts.append(f" [gaddr {_addr(p, 4)}]")
        if length != 8:
            parts.append(f" [len {length}]")
    elif typ in (_V1_REPORT, _V2_REPORT, _LEAVE):
        name = {_V1_REPORT: "v1 report", _V2_REPORT: "v2 report", _LEAVE: "leave"}[typ]
        parts.append(f"igmp {name} {_addr(p, 4)}")
        if typ == _V1_REPORT and length != 8:
            parts.append(f" [len {length}]")
    elif typ == _V3_REPORT:
        parts.append("igmp v3 report")
        if length < 16 or length & 3:
            parts.append(f" [invalid len {length}]")
        else:
            parts.append(f", {_u(p, 6, 2)} group record(s)")
    else:
        parts.append(_NAMED.get(typ, f"igmp-{typ}"))


def _v3_query(p: bytes, length: int, parts: list[str]) -> None:
    parts.append(" v3")
    if length & 3:
        parts.append(f" [invalid len {length}]")
        return
    mrc = _u8(p, 1)
    mrt = mrc if mrc < 128 else ((mrc & 0x0F) | 0x10) << (((mrc & 0x70) >> 4) + 3)
    if mrc != _V2_MAX_RESP:
        when = f"{mrt * 0.1:.1f}s" if mrt < 600 else duration(mrt // 10)
        parts.append(f" [max resp time {when}]")
    if _u(p, 4, 4) == 0:
        return
    parts.append(f" [gaddr {_addr(p, 4)}")
    nsrcs = _u(p, 10, 2)
    if nsrcs:
        parts.append(" [invalid number of sources]" if length < 12 + (nsrcs << 2)
                     else f", {nsrcs} source(s)")
    parts.append("]")
