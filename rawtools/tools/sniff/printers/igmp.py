"""IGMP (IP protocol 2; v1, v2 and v3 queries and reports) as tcpdump prints it without -v."""

from __future__ import annotations

from rawtools.tools.sniff.printers.reader import Cut, ip4, uint

_QUERY, _V1_REPORT, _V2_REPORT, _V3_REPORT, _LEAVE = 0x11, 0x12, 0x16, 0x22, 0x17
_DVMRP, _PIMV1, _MTRACE_RESP, _MTRACE = 0x13, 0x14, 0x1E, 0x1F
_NAMED = {_DVMRP: "igmp dvmrp", _PIMV1: "igmp pimv1", _MTRACE_RESP: "mresp", _MTRACE: "mtrace"}
_V2_MAX_RESP = 100  # tenths of a second: the default, which tcpdump does not print
# tcpdump's units for a duration (unsigned_relts_print).
_UNITS = ((31536000, "y"), (604800, "w"), (86400, "d"), (3600, "h"), (60, "m"), (1, "s"))


class _Ends(Exception):
    """The line ends with `mark`: a printer inside IGMP's found its message cut or invalid."""

    def __init__(self, mark: str) -> None:
        super().__init__(mark)
        self.mark = mark


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
    except Cut:
        return "".join(parts) + " [|igmp]", False
    except _Ends as end:
        return "".join(parts) + end.mark, False
    return "".join(parts), True


def _message(p: bytes, length: int, parts: list[str]) -> None:
    typ = uint(p, 0)
    if typ == _QUERY:
        parts.append("igmp query")
        if length >= 12:
            _v3_query(p, length, parts)
            return
        mrc = uint(p, 1)
        parts.append((" v2" + (f" [max resp time {mrc}]" if mrc != _V2_MAX_RESP else ""))
                     if mrc else " v1")
        if uint(p, 4, 4):
            parts.append(f" [gaddr {ip4(p, 4)}]")
        if length != 8:
            parts.append(f" [len {length}]")
    elif typ in (_V1_REPORT, _V2_REPORT, _LEAVE):
        name = {_V1_REPORT: "v1 report", _V2_REPORT: "v2 report", _LEAVE: "leave"}[typ]
        parts.append(f"igmp {name} {ip4(p, 4)}")
        if typ == _V1_REPORT and length != 8:
            parts.append(f" [len {length}]")
    elif typ == _V3_REPORT:
        parts.append("igmp v3 report")
        if length < 16 or length & 3:
            parts.append(f" [invalid len {length}]")
        else:
            parts.append(f", {uint(p, 6, 2)} group record(s)")
    elif typ == _DVMRP:
        parts.append("igmp dvmrp")
        if length < 8:
            parts.append(f" [len {length}]")  # IGMP's own check, before DVMRP's
        else:
            _dvmrp(p, length, parts)
    else:
        parts.append(_NAMED.get(typ, f"igmp-{typ}"))


# DVMRP (RFC 1075 and mrouted's later messages) rides in IGMP type 0x13, its own type in
# IGMP's code byte, its body after IGMP's 8-byte header.
_DVMRP_NAMES = {1: "Probe", 2: "Report", 3: "Ask-neighbors(old)", 4: "Neighbors(old)",
                5: "Ask-neighbors2", 6: "Neighbors2", 7: "Prune", 8: "Graft", 9: "Graft-ACK"}
_NEIGHBORS, _NEIGHBORS2, _PRUNE, _GRAFT_ACK = 4, 6, 7, 9
# Flags of a Neighbors2 entry, in the order tcpdump lists them.
_NF_FLAGS = ((0x01, "tunnel"), (0x02, "srcrt"), (0x40, "querier"), (0x20, "disabled"),
             (0x10, "down"))


def _dvmrp(p: bytes, length: int, parts: list[str]) -> None:
    """tcpdump's one-line DVMRP: the message's name, then a neighbour list or the source
    and group of a prune or graft. A field cut by the capture ends the line with
    DVMRP's own mark; one the message's length leaves no room for, as invalid."""
    try:
        kind = uint(p, 1)
        parts.append(" " + _DVMRP_NAMES.get(kind, f"[type {kind}]"))
        body, left = 8, length - 8
        if kind == _NEIGHBORS:
            _neighbors(p, body, left, parts)
        elif kind == _NEIGHBORS2:
            parts.append(f" (v {uint(p, 7)}.{uint(p, 6)}):")
            _neighbors2(p, body, left, parts)
        elif _PRUNE <= kind <= _GRAFT_ACK:
            parts.append(f" src {ip4(p, body)} grp {ip4(p, body + 4)}")
            if kind == _PRUNE:
                parts.append(" timer ")  # named before it is read, as tcpdump does
                parts.append(duration(uint(p, body + 8, 4)))
    except Cut:
        raise _Ends(" [|dvmrp]") from None


def _neighbors(p: bytes, i: int, left: int, parts: list[str]) -> None:
    """The old Neighbors reply: a local address, metric, threshold and its neighbours."""
    while left > 0:
        if left < 7:
            raise _Ends(f" [length {left} < 7] (invalid)")
        local, metric, thresh, count = ip4(p, i), uint(p, i + 4), uint(p, i + 5), \
            uint(p, i + 6)
        i, left = i + 7, left - 7
        for _ in range(count):
            if left < 4:
                raise _Ends(f" [length {left} < 4] (invalid)")
            parts.append(f" [{local} ->")
            parts.append(f" {ip4(p, i)}, ({metric}/{thresh})]")
            i, left = i + 4, left - 4


def _neighbors2(p: bytes, i: int, left: int, parts: list[str]) -> None:
    """Neighbors2: as the old reply with each interface's flags; an interface that claims
    more neighbours than the message holds is invalid."""
    while left > 0:
        if left < 8:
            raise _Ends(f" [length {left} < 8] (invalid)")
        local, metric, thresh, flags = ip4(p, i), uint(p, i + 4), uint(p, i + 5), \
            uint(p, i + 6)
        count = uint(p, i + 7)
        i, left = i + 8, left - 8
        tags = "".join("/" + n for bit, n in _NF_FLAGS if flags & bit)
        while count and left > 0:
            if left < 4:
                raise _Ends(f" [length {left} < 4] (invalid)")
            parts.append(f" [{local} -> ")
            parts.append(f"{ip4(p, i)} ({metric}/{thresh}{tags})]")
            i, left, count = i + 4, left - 4, count - 1
        if count:
            raise _Ends(" [invalid ncount] (invalid)")


def _v3_query(p: bytes, length: int, parts: list[str]) -> None:
    parts.append(" v3")
    if length & 3:
        parts.append(f" [invalid len {length}]")
        return
    mrc = uint(p, 1)
    mrt = mrc if mrc < 128 else ((mrc & 0x0F) | 0x10) << (((mrc & 0x70) >> 4) + 3)
    if mrc != _V2_MAX_RESP:
        when = f"{mrt * 0.1:.1f}s" if mrt < 600 else duration(mrt // 10)
        parts.append(f" [max resp time {when}]")
    if uint(p, 4, 4) == 0:
        return
    parts.append(f" [gaddr {ip4(p, 4)}")
    nsrcs = uint(p, 10, 2)
    if nsrcs:
        parts.append(" [invalid number of sources]" if length < 12 + (nsrcs << 2)
                     else f", {nsrcs} source(s)")
    parts.append("]")
