"""LDP (UDP port 646, RFC 5036): the first PDU's label space and length, as tcpdump's line has it.

tcpdump prints a PDU only when more than a PDU header and a message header
remain (so a datagram of 18 bytes or less prints nothing at all), shows
`LDP, Label-Space-ID: LSR:SPACE, pdu-length: N` for the first, and says
so for a version other than 1; the messages are for -v.
"""

from __future__ import annotations

import struct

_HEADER = struct.Struct("!HH4sH")
_MIN_LEFT = _HEADER.size + 8  # the PDU header and one message header
_VERSION = 1


def ldp(p: bytes, length: int) -> tuple[str, bool]:
    if length <= _MIN_LEFT:
        return "", True
    if len(p) < _HEADER.size:
        return " [|ldp]", False
    version, pdu_len, lsr, space = _HEADER.unpack_from(p)
    if version != _VERSION:
        return f"LDP version {version} packet not supported", True
    return (f"LDP, Label-Space-ID: {'.'.join(map(str, lsr))}:{space}, "
            f"pdu-length: {pdu_len}"), True
