"""Arista's timestamp header (EtherType 0xD28B), which TapAgg switches put before a frame's own.

A subtype (1: timestamp), the timescale (TAI or UTC), a format (64-bit:
seconds and nanoseconds, printed as a UTC date; 48-bit: 16 bits of seconds
and 32 of nanoseconds) with the hardware series, then the frame's own
EtherType and payload, which the caller decodes.
"""

from __future__ import annotations

import struct
import time

ETHERTYPE = 0xD28B
_TIMESTAMP = 0x0001
_FORMAT_64, _FORMAT_48 = 1, 2
_TIMESCALES = {0: "TAI", 1: "UTC"}
_FORMATS = {_FORMAT_64: "64-bit", _FORMAT_48: "48-bit"}
_HW = {0: "R/R2", 1: "R3"}
_II = struct.Struct("!II")
_HI = struct.Struct("!HI")
_NS = 1_000_000_000
TRUNCATED = " [|arista]"


def header(p: bytes) -> tuple[str, int, bool | None]:
    """(text, the length of the header before the frame's EtherType, ok).

    ok is True when the text ends with ": " and the frame's EtherType
    follows, False when the header is cut short (the text ends with
    tcpdump's mark), and None for a subtype or format tcpdump does not
    read: the text is what it printed before dumping the frame.
    """
    if len(p) < 2:
        return TRUNCATED, 0, False
    subtype = p[0] << 8 | p[1]
    if subtype != _TIMESTAMP:
        return f"SubType Unknown (0x{subtype:04x}), ", 0, None
    text = f"SubType Timestamp (0x{subtype:04x}), "
    if len(p) < 4:
        return text + TRUNCATED, 0, False
    scale, fmt, hw = p[2], p[3] >> 4, p[3] & 15
    text += (f"Timescale {_TIMESCALES.get(scale, 'Unknown')} ({scale}), "
             f"Format {_FORMATS.get(fmt, 'Unknown')} ({fmt}), "
             f"HwInfo {_HW.get(hw, 'Unknown')} ({hw}), Timestamp ")
    if fmt == _FORMAT_64:
        if len(p) < 12:
            return text + TRUNCATED, 0, False
        seconds, nanoseconds = _II.unpack_from(p, 4)
        seconds += nanoseconds // _NS
        date = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
        return _then_ethertype(p, f"{text}{date}.{nanoseconds % _NS:09d}: ", 12)
    if fmt == _FORMAT_48:
        if len(p) < 10:
            return text + TRUNCATED, 0, False
        seconds, nanoseconds = _HI.unpack_from(p, 4)
        seconds += nanoseconds // _NS
        return _then_ethertype(p, f"{text}{seconds}.{nanoseconds % _NS:09d}: ", 10)
    return text, 0, None


def _then_ethertype(p: bytes, text: str, at: int) -> tuple[str, int, bool]:
    """The header's text, if the frame's EtherType after it was captured."""
    if len(p) < at + 2:
        return text + TRUNCATED, at, False
    return text, at, True
