"""RIP v1/v2 (UDP port 520, RFC 1058/2453) as tcpdump prints it without -v: version, command."""

from __future__ import annotations

_COMMANDS = {1: "Request", 2: "Response", 3: "Trace on", 4: "Trace off", 5: "Poll",
             6: "Poll Entry"}
_HEADER = 4  # command, version, a 16-bit field (zero, or RIPv2's routing domain)


def rip(p: bytes, length: int) -> tuple[str, bool]:
    """`RIPv2, Response, length: 64`; the route entries are -v's."""
    if length < _HEADER or len(p) < _HEADER:
        return " [|rip]", False
    if p[1] == 0:
        return "RIPv0", True  # RFC 1058: datagrams of version 0 are to be ignored
    cmd = p[0]
    name = _COMMANDS.get(cmd) or f"unknown command ({cmd})"
    return f"RIPv{p[1]}, {name}, length: {length}", True
