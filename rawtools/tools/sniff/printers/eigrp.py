"""EIGRP (IP protocol 88) as tcpdump prints it without -v: the opcode and the length."""

from __future__ import annotations

_OPCODES = {1: "Update", 3: "Query", 4: "Reply", 5: "Hello", 6: "IPX SAP", 7: "Probe"}
_VERSION = 2
_HEADER_LEN = 20


def eigrp(p: bytes, length: int) -> tuple[str, bool]:
    """`EIGRP Hello, length: 40`."""
    if len(p) < _HEADER_LEN:
        return " [|eigrp]", False
    if p[0] != _VERSION:
        return f"EIGRP version {p[0]} packet not supported", True
    return f"EIGRP {_OPCODES.get(p[1], f'unknown ({p[1]})')}, length: {length}", True
