"""MPLS label stacks (EtherTypes 0x8847/0x8848, PPP 0x0281/0x0283) as tcpdump prints them.

Each label stack entry reads `(label L, tc T, [S], ttl N)`, the bottom one
marked `[S]`. What follows the stack has no type field: `payload_type`
guesses it as tcpdump does, and the caller prints it with its IP or OSI
layer.
"""

from __future__ import annotations

_BOTTOM = 0x100
# The reserved labels' names (RFC 3032 and tcpdump's words), shown at -v.
_RESERVED = ["IPv4 explicit NULL", "router alert", "IPv6 explicit NULL", "implicit NULL",
             *["rsvd"] * 12]
# What a bottom label says of the payload: IPv4's and IPv6's null labels.
_IPV4_LABELS, _IPV6_LABEL = (0, 3), 2
IPV4, IPV6, OSI = 4, 6, 0x81


def stack(p: bytes, verbose: int = 0) -> tuple[str, int, bool, int]:
    """(`MPLS (label ...) ...`, the offset after the stack, whether it ended at [S],
    the bottom label).

    An entry cut short ends the text with `(invalid)` and the stack unfinished.
    With -v each entry after the first starts a line of its own, and a
    reserved label is named.
    """
    out = ["MPLS"]
    i = 0
    while True:
        if len(p) < i + 4:
            out.append(" (invalid)")
            return "".join(out), i, False, -1
        entry = int.from_bytes(p[i:i + 4], "big")
        label = entry >> 12
        bottom = entry & _BOTTOM
        name = f" ({_RESERVED[label]})" if verbose and label < len(_RESERVED) else ""
        sep = "\n\t" if verbose and i else " "
        out.append(f"{sep}(label {label}{name}, tc {entry >> 9 & 7}"
                   f"{', [S]' if bottom else ''}, ttl {entry & 0xFF})")
        i += 4
        if bottom:
            return "".join(out), i, True, label


def payload_type(bottom_label: int, payload: bytes) -> int | None:
    """IPV4, IPV6, OSI or None, as tcpdump guesses it with no type field to read.

    The null labels say; otherwise the first byte (a plausible IP version and
    header length, or an OSI NLPID), as Cisco's control traffic relies on.
    """
    if bottom_label in _IPV4_LABELS:
        return IPV4
    if bottom_label == _IPV6_LABEL:
        return IPV6
    first = payload[0] if payload else 0
    if 0x45 <= first <= 0x4F:
        return IPV4
    if 0x60 <= first <= 0x6F:
        return IPV6
    if 0x81 <= first <= 0x83:
        return OSI
    return None
