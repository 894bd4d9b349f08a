"""LMP (UDP port 701, RFC 4204): the message type tcpdump names without -v.

tcpdump reads the whole 8-byte common header before it prints anything, so
a capture cut inside it shows only `[|lmp]`; the objects are for -v.
"""

from __future__ import annotations

PORT = 701
_HEADER_LEN = 8
_VERSION = 1
_TYPES = {1: "Config", 2: "Config ACK", 3: "Config NACK", 4: "Hello", 5: "Begin Verify",
          6: "Begin Verify ACK", 7: "Begin Verify NACK", 8: "End Verify", 9: "End Verify ACK",
          10: "Test", 11: "Test Status Success", 12: "Test Status Failure",
          13: "Test Status ACK", 14: "Link Summary", 15: "Link Summary ACK",
          16: "Link Summary NACK", 17: "Channel Status", 18: "Channel Status ACK",
          19: "Channel Status Request", 20: "Channel Status Response", 50: "Service Config",
          51: "Service Config ACK", 52: "Service Config NACK"}


def lmp(p: bytes, length: int) -> tuple[str, bool]:
    """`LMPv1 Config Message, length: 683` (the datagram's length, not the header's)."""
    if len(p) < _HEADER_LEN:
        return " [|lmp]", False
    version = p[0] >> 4
    if version != _VERSION:
        return f"LMP version {version} packet not supported", True
    kind = _TYPES.get(p[3], f"unknown ({p[3]})")
    return f"LMPv{version} {kind} Message, length: {length}", True
