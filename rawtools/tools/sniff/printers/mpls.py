"""MPLS label stacks (EtherTypes 0x8847/0x8848, PPP 0x0281/0x0283) as tcpdump prints them.

Each label stack entry reads `(label L, tc T, [S], ttl N)`, the bottom one
marked `[S]`. What follows the stack has no type field: tcpdump takes a
first nibble of 4 for IPv4 and 6 for IPv6 and prints nothing for the rest,
which the caller does with its IP layer.
"""

from __future__ import annotations

_BOTTOM = 0x100


def stack(p: bytes) -> tuple[str, int, bool]:
    """(`MPLS (label ...) ...`, the offset after the stack, whether it ended at [S]).

    An entry cut short ends the text with `(invalid)` and the stack unfinished.
    """
    out = ["MPLS"]
    i = 0
    while True:
        if len(p) < i + 4:
            out.append(" (invalid)")
            return "".join(out), i, False
        entry = int.from_bytes(p[i:i + 4], "big")
        i += 4
        bottom = entry & _BOTTOM
        out.append(f" (label {entry >> 12}, tc {entry >> 9 & 7}{', [S]' if bottom else ''}, "
                   f"ttl {entry & 0xFF})")
        if bottom:
            return "".join(out), i, True
