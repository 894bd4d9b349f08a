"""LSP ping (UDP port 3503, RFC 8029): version, message type, sequence number and length.

That is tcpdump's line without -v (the TLVs are for -v); a datagram too
short for the 32-byte header prints nothing, a version other than 1 says
it is not supported.
"""

from __future__ import annotations

import struct

_HEADER = struct.Struct("!HHB3xII")
_HEADER_LEN = 32  # with the sent and received timestamps
_VERSION = 1
_TYPES = {1: "MPLS Echo Request", 2: "MPLS Echo Reply"}


def lspping(p: bytes, length: int) -> tuple[str, bool]:
    if length < _HEADER_LEN:
        return "", True
    if len(p) < _HEADER_LEN:
        return " [|lspping]", False
    version, _, kind, _, seq = _HEADER.unpack_from(p)
    if version != _VERSION:
        return f"LSP-PING version {version} packet not supported", True
    name = _TYPES.get(kind, f"unknown ({kind})")
    return f"LSP-PINGv{version}, {name}, seq {seq}, length: {length}", True
