"""Geneve (UDP port 6081, RFC 8926): its header, then the packet it carries on the same line.

Unlike VXLAN's, Geneve's header names the payload's protocol by EtherType,
so tcpdump prints the payload the way a frame of that EtherType would be
printed (an IP packet, an ARP message, or a whole Ethernet frame for
Transparent Ethernet Bridging) after `: `, and `geneve-proto-0x...` for a
type it does not know. Options are counted in bytes, as tcpdump shows them
without -v.
"""

from __future__ import annotations

from typing import NamedTuple

HEADER_LEN = 8
_FLAGS = ((0x80, "O"), (0x40, "C"))  # the control-packet and critical-options bits
_CUT = " [|geneve]"
_INVALID = " (invalid)"


class Header(NamedTuple):
    """The header's text, and where the payload starts and what it is (-1: not printed)."""

    text: str
    ethertype: int
    at: int
    ok: bool


def header(p: bytes, length: int) -> Header:
    """The header of the Geneve message `p` (`length` bytes on the wire)."""
    if length < HEADER_LEN:
        return Header(f"Geneve [length {length} < {HEADER_LEN}]{_INVALID}", -1, 0, False)
    if not p:
        return Header("Geneve" + _CUT, -1, 0, False)
    version = p[0] >> 6
    if version:
        return Header(f"Geneve ERROR: unknown-version {version}", -1, 0, False)
    if len(p) < HEADER_LEN:
        return Header("Geneve" + _CUT, -1, 0, False)
    flags = "".join(name for bit, name in _FLAGS if p[1] & bit) or "none"
    text = f"Geneve, Flags [{flags}], vni 0x{int.from_bytes(p[4:7], 'big'):x}"
    if p[7]:
        text += f", rsvd 0x{p[7]:x}"
    options = (p[0] & 0x3F) * 4
    if options > length - HEADER_LEN:
        missing = options - (length - HEADER_LEN)
        return Header(f"{text} truncated-geneve - {missing} bytes missing", -1, 0, False)
    if options:
        if len(p) < HEADER_LEN + options:
            return Header(text + _CUT, -1, 0, False)
        text += f", options [{options} bytes]"
    return Header(text + ": ", p[2] << 8 | p[3], HEADER_LEN + options, True)


def geneve(p: bytes, length: int) -> tuple[str, bool]:
    """The header's text alone (the decoder prints the payload after it, see `header`)."""
    found = header(p, length)
    return found.text, found.ok
