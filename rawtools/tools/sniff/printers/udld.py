"""UDLD (Cisco's UniDirectional Link Detection, over SNAP) as tcpdump prints it without -v."""

from __future__ import annotations

_CODES = {0: "Reserved", 1: "Probe message", 2: "Echo message", 3: "Flush message"}
_FLAGS = ((0x01, "RT"), (0x02, "RSY"), *((1 << b, f"MBZ-{b}") for b in range(2, 8)))


def udld(p: bytes, length: int) -> tuple[str, bool]:
    """`UDLDv1, Code Probe message (1), Flags [RT, RSY] (0x03), length 60`."""
    if len(p) < 2:
        return " [|udld]", False
    code, flags = p[0] & 0x1F, p[1]
    names = ", ".join(name for bit, name in _FLAGS if flags & bit) or "none"
    return (f"UDLDv{p[0] >> 5}, Code {_CODES.get(code, 'Reserved')} ({code:x}), "
            f"Flags [{names}] (0x{flags:02x}), length {length}"), True
