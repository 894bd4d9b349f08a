"""LLDP (EtherType 0x88CC): the length and, as tcpdump's line gives it, the system name.

Without -v tcpdump walks the TLVs up to the End TLV and prints only each
non-empty System Name (`: name`, unprintable bytes escaped); a TLV that runs
past the frame or the capture ends the line with `[|lldp]`.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.chars import printable

_END, _SYSTEM_NAME = 0, 5


def lldp(p: bytes, length: int) -> tuple[str, bool]:
    out = [f"LLDP, length {length}"]
    i = 0
    while length - i >= 2:
        if len(p) < i + 2:
            return "".join(out) + " [|lldp]", False
        kind, size = p[i] >> 1, (p[i] & 1) << 8 | p[i + 1]
        end = i + 2 + size
        if end > length or end > len(p):
            return "".join(out) + " [|lldp]", False
        if kind == _END:
            break
        if kind == _SYSTEM_NAME and size:
            out.append(": " + printable(p[i + 2:end]))
        i = end
    return "".join(out), True
