"""MACsec's SecTAG (IEEE 802.1AE, EtherType 0x88E5), as tcpdump reads it.

A frame protected for integrity only carries its payload in the clear after
the SecTAG, with a 16-byte ICV at the end: tcpdump strips both and prints
the payload as the frame's own (an IP packet's line, nothing of MACsec
without -e). An encrypted or changed payload (the E or C bit) cannot be
read: tcpdump names MACsec, shows the SecTAG and dumps the rest in hex.
"""

from __future__ import annotations

from typing import NamedTuple

ICV_LEN = 16  # the default integrity check value at the frame's end
_VERSION = 0x80
_SC = 0x20  # an SCI follows the packet number
_HIDDEN = 0x08 | 0x04  # E (encrypted) or C (changed): the payload is not the frame's
_FLAGS = ((0x08, "E"), (0x04, "C"), (0x40, "S"), (0x10, "B"), (_SC, "I"))
_SL_MASK = 0x3F
CUT = " [|macsec]"
INVALID = " (invalid)"


class SecTag(NamedTuple):
    """The SecTAG's text, its size, whether the payload after it is readable, and the
    payload's own length (the short length, or the rest but the ICV); -1 where the
    frame is too short for it (tcpdump marks the cut after the SecTAG)."""

    text: str
    size: int
    clear: bool
    payload: int


def read(p: bytes, length: int) -> SecTag | str:
    """The SecTAG at the start of `p` (`length` bytes on the wire from there), or the
    mark tcpdump prints instead: CUT where the capture or the frame ends too soon,
    INVALID for a version other than 0."""
    if not p:
        return CUT
    tci = p[0]
    if tci & _VERSION:
        return INVALID
    size = 14 if tci & _SC else 6
    if len(p) < size:
        return CUT
    flags = "".join(name for bit, name in _FLAGS if tci & bit) or "none"
    sl = p[1] & _SL_MASK
    text = f"an {tci & 3}, pn {int.from_bytes(p[2:6], 'big')}, flags {flags}, "
    if sl:
        text += f"sl {sl}, "
    if tci & _SC:
        text += f"sci {p[6:14].hex()}, "
    rest = length - size
    payload = sl if sl else rest - ICV_LEN
    if not tci & _HIDDEN and (rest < ICV_LEN or payload > rest - ICV_LEN):
        payload = -1
    return SecTag(text, size, not tci & _HIDDEN, payload)
