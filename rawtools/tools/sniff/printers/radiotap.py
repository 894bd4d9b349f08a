"""802.11 frames behind a radiotap header (link type 127), for the fields this decoder knows.

tcpdump's line starts with the radiotap fields it prints (rate, channel,
signal quality, antenna, signal) and goes on with the 802.11 frame. The
fields are aligned to their own size and follow the present bitmap in bit
order, so a frame is printed only when every present field is one whose
size and text are known here, and its 802.11 frame one `ieee80211` reads;
other frames keep the decoder's short line (None here).
"""

from __future__ import annotations

import struct

from rawtools.tools.sniff.printers import ieee80211

_HEADER = struct.Struct("<BBHI")
_FLAGS, _RATE, _CHANNEL, _LOCK_QUALITY, _ANTENNA, _DB_SIGNAL, _RX_FLAGS = 1, 2, 3, 7, 11, 12, 14
# Per present bit: (alignment, struct format) of the fields read here.
_FIELDS = {_FLAGS: (1, "B"), _RATE: (1, "B"), _CHANNEL: (2, "<HH"), _LOCK_QUALITY: (2, "<H"),
           _ANTENNA: (1, "B"), _DB_SIGNAL: (1, "B"), _RX_FLAGS: (2, "<H")}
_KNOWN = sum(1 << bit for bit in _FIELDS)
# Channel flags as tcpdump names the PHY: 2 GHz CCK.
_PHY = {0x00A0: "11b"}
_FLAG_FCS = 0x10


def _text(bit: int, values: tuple[int, ...]) -> str | None:
    """The words tcpdump prints for one field; None for a value not rendered here."""
    if bit == _RATE:
        return f"{values[0] / 2:.1f} Mb/s "
    if bit == _CHANNEL:
        phy = _PHY.get(values[1])
        return f"{values[0]} MHz {phy} " if phy else None
    if bit == _LOCK_QUALITY:
        return f"{values[0]} sq "
    if bit == _ANTENNA:
        return f"antenna {values[0]} "
    if bit == _DB_SIGNAL:
        return f"{values[0]}dB signal "
    return ""  # the flags (checked by the caller) and the receive flags print nothing


def radiotap(p: bytes, length: int) -> tuple[str, bool] | None:
    """The line of a radiotap frame, or None when a field or the frame is not known here."""
    if len(p) < _HEADER.size:
        return " [|802.11_radio]", False
    _, _, hlen, present = _HEADER.unpack_from(p)
    if hlen > len(p):
        return " [|802.11_radio]", False
    if present & ~_KNOWN:
        return None
    out = []
    at = _HEADER.size
    for bit in range(32):
        if not present >> bit & 1:
            continue
        align, fmt = _FIELDS[bit]
        at += -at % align
        if at + struct.calcsize(fmt) > hlen:
            return None
        values = struct.unpack_from(fmt, p, at)
        at += struct.calcsize(fmt)
        if bit == _FLAGS and values[0] & ~_FLAG_FCS:
            return None
        text = _text(bit, values)
        if text is None:
            return None
        out.append(text)
    fcs = 4 if present >> _FLAGS & 1 and p[_HEADER.size] & _FLAG_FCS else 0
    frame = ieee80211.frame(p[hlen:len(p) - fcs if fcs else len(p)], length - hlen - fcs)
    if frame is None:
        return None
    return "".join(out) + frame[0], frame[1]
