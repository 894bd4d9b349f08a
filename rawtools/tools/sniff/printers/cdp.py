"""Cisco Discovery Protocol (SNAP, OUI Cisco, protocol 0x2000): version, hold time, device id.

Without -v tcpdump walks the TLVs printing only Device-ID ones, and stops
without more at the first other TLV that has a value; if the walk runs to
the end it adds the PDU's length. Whether tcpdump calls that first other
TLV malformed depends on its own size rules per type, so `line` answers
only for the types whose values it takes at any size (addresses, port id,
software version, platform), for empty TLVs of the types without a size
rule, and for frames without either: None otherwise, and the decoder keeps
its short 802.3 line.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.chars import printable

_HEADER_LEN, _TLV_HEADER = 4, 4
_DEVICE_ID = 1
_ANY_SIZE = frozenset({2, 3, 5, 6})  # addresses, port id, version, platform
# Types with a fixed or minimum size, which tcpdump calls malformed when empty.
_SIZED = frozenset({4, 10, 11, 14, 15, 16, 17, 18, 19, 22, 23})


def line(p: bytes, length: int) -> tuple[str, bool] | None:
    """tcpdump's line for the PDU, or None where this decoder cannot tell it."""
    if len(p) < _HEADER_LEN or length < _HEADER_LEN:
        return None
    out = [f"CDPv{p[0]}, ttl: {p[1]}s"]
    i = _HEADER_LEN
    while i < length:
        left = length - i
        if left < _TLV_HEADER:
            out.append(f" (remaining packet length {left} < {_TLV_HEADER}) (invalid)")
            return "".join(out), False
        if len(p) < i + _TLV_HEADER:
            return None
        kind, size = p[i] << 8 | p[i + 1], p[i + 2] << 8 | p[i + 3]
        if size < _TLV_HEADER:
            if kind != _DEVICE_ID:
                return None
            out.append(f", Device-ID TLV length {size} too short (invalid)")
            return "".join(out), False
        if i + size > len(p) or i + size > length:
            return None
        if kind == _DEVICE_ID:
            out.append(f", Device-ID '{printable(p[i + 4:i + size])}'")
        elif size > _TLV_HEADER:
            return ("".join(out), True) if kind in _ANY_SIZE else None
        elif kind in _SIZED:
            return None  # an empty value tcpdump calls malformed, in its own words
        i += size
    out.append(f", length {length}")
    return "".join(out), True


def cdp(p: bytes, length: int) -> tuple[str, bool]:
    """The printer for frames `line` answers for (the LLC dispatch asks it first).

    It can still meet one it cannot answer for when the capture cut the frame
    short of its 802.3 length, which is what the mark then says.
    """
    found = line(p, length)
    return found if found is not None else ("CDP [|cdp]", False)
