"""HNCP (UDP port 8231, RFC 7788) as tcpdump's line shows it without -v: the TLV types.

Without -v tcpdump lists the types of the top-level TLVs in one line, a run
of the same type counted (`Node state (x3)`), reserved and unassigned types
by their range. A TLV running past the datagram ends the line with
`(invalid)`, past the capture with `[|hncp]`; in either case a pending run
of types is not shown.
"""

from __future__ import annotations

import struct

PORT = 8231
_TLV_HEADER = struct.Struct("!HH")
_NAMES = {1: "Request network state", 2: "Request node state", 3: "Node endpoint",
          4: "Network state", 5: "Node state", 8: "Peer", 9: "Keep-alive interval",
          10: "Trust-Verdict", 32: "HNCP-Version", 33: "External-Connection",
          34: "Delegated-Prefix", 43: "Prefix-Policy", 37: "DHCPv4-Data", 38: "DHCPv6-Data",
          35: "Assigned-Prefix", 36: "Node-Address", 39: "DNS-Delegated-Zone",
          40: "Domain-Name", 41: "Node-Name", 42: "Managed-PSK"}


def _range(kind: int) -> str:
    """The name of a type tcpdump does not know, by the range it falls in."""
    if kind == 0:
        return "Reserved"
    if 44 <= kind <= 511:
        return "Unassigned"
    if 768 <= kind <= 1023:
        return "Private use"
    return "Future use"


def hncp(p: bytes, length: int) -> tuple[str, bool]:
    """`hncp (104) Node endpoint, Network state, Node state (x2)`."""
    runs: list[str] = []
    last, count = "", 0
    at = 0
    while at < length:
        if at + _TLV_HEADER.size > len(p):
            return _line(length, runs) + " [|hncp]", False
        if at + _TLV_HEADER.size > length:
            return _line(length, runs) + " (invalid)", False
        kind, size = _TLV_HEADER.unpack_from(p, at)
        if at + _TLV_HEADER.size + size > len(p):
            return _line(length, runs) + " [|hncp]", False
        if at + _TLV_HEADER.size + size > length:
            return _line(length, runs) + " (invalid)", False
        name = _NAMES.get(kind) or _range(kind)
        if name == last:
            count += 1
        else:
            _close(runs, last, count)
            last, count = name, 1
        at += _TLV_HEADER.size + (size + 3) // 4 * 4
    _close(runs, last, count)
    return _line(length, runs), True


def _close(runs: list[str], name: str, count: int) -> None:
    """A finished run of one type: its name, and how many when more than one."""
    if count:
        runs.append(name + (f" (x{count})" if count > 1 else ""))


def _line(length: int, runs: list[str]) -> str:
    return f"hncp ({length})" + (" " + ", ".join(runs) if runs else "")
