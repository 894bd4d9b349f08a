"""Ethernet configuration testing protocol (EtherType 0x9000, "Loopback") as tcpdump prints it."""

from __future__ import annotations

_REPLY, _FORWARD = 1, 2
_FUNCTIONS = {_REPLY: "Reply", _FORWARD: "Forward Data"}
_TRUNCATED = " [|loopback]"


def _le16(p: bytes, i: int) -> int:
    return p[i] | p[i + 1] << 8


def loopback(p: bytes, length: int) -> tuple[str, bool]:
    """`Loopback, skipCount 0, Reply, receipt number 1, data (40 octets)`.

    The skip count and the function are little-endian, as the protocol
    (from DEC's Ethernet spec) has them.
    """
    text = "Loopback"
    if length < 2:
        return text + " (invalid)", False
    if len(p) < 2:
        return text + _TRUNCATED, False
    skip = _le16(p, 0)
    text += f", skipCount {skip}" + (" (bogus)" if skip % 8 else "")
    if skip > length - 2:
        return text + " (invalid)", False
    return _message(p, 2 + skip, length - 2 - skip, text)


def _message(p: bytes, o: int, length: int, text: str) -> tuple[str, bool]:
    if length < 2:
        return text + " (invalid)", False
    if len(p) < o + 2:
        return text + _TRUNCATED, False
    function = _le16(p, o)
    text += f", {_FUNCTIONS.get(function, f' invalid ({function})')}"
    if function == _REPLY:
        if length < 4:
            return text + " (invalid)", False
        if len(p) < o + 4:
            return text + _TRUNCATED, False
        text += f", receipt number {_le16(p, o + 2)}, data ({length - 4} octets)"
        ok = len(p) >= o + length
    elif function == _FORWARD:
        if length < 8:
            return text + " (invalid)", False
        if len(p) < o + 8:
            return text + _TRUNCATED, False
        text += f", forwarding address {p[o + 2:o + 8].hex(':')}, data ({length - 8} octets)"
        ok = len(p) >= o + length
    else:
        ok = len(p) >= o + length
    return (text, True) if ok else (text + _TRUNCATED, False)
