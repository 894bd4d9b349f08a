"""Bytes shown as tcpdump shows text it did not check: control characters as ^X, high as M-x.

Names and strings read off the wire (IPX service names, Kerberos
principals) may hold any byte; tcpdump prints each so that the line stays
one line of ASCII, and the decoder must print the same characters.
"""

from __future__ import annotations


def printable(raw: bytes) -> str:
    out = []
    for c in raw:
        if c >= 0x80:
            out.append("M-")
            c &= 0x7F
        out.append(chr(c) if 0x20 <= c < 0x7F else "^?" if c == 0x7F else "^" + chr(c + 0x40))
    return "".join(out)
