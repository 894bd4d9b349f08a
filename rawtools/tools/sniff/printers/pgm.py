"""PGM (IP protocol 113, RFC 3208): the hosts again with their ports, then the data length.

tcpdump's line names the hosts twice for PGM, once as IP does and once with
the PGM ports, and without -v says only `PGM, length N` (the TSDU length of
the header) whatever the packet type.
"""

from __future__ import annotations

_HEADER_LEN = 16
_TSDU_AT = 14


def pgm(p: bytes, src: str, dst: str) -> tuple[str, bool]:
    """The text after IP's own `src > dst: `."""
    if len(p) < 4:
        return f"{src} > {dst}: [|pgm]", False
    ports = f"{src}.{p[0] << 8 | p[1]} > {dst}.{p[2] << 8 | p[3]}: "
    if len(p) < _HEADER_LEN:
        return ports + " [|pgm]", False
    return f"{ports}PGM, length {p[_TSDU_AT] << 8 | p[_TSDU_AT + 1]}", True
