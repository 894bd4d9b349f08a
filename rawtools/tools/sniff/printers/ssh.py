"""SSH (TCP port 22) as tcpdump prints it: the version line that opens each direction.

Only the identification string (RFC 4253 §4.2, `SSH-protoversion-...`
ended by CR LF, or a bare LF as tcpdump also takes) says anything readable;
every later segment is encrypted, and tcpdump prints nothing after the
length for it, nor for a version line that binary data or the segment's end
interrupts. Bytes the capture cut off before that decision end the line
with the `[|ssh]` mark instead.
"""

from __future__ import annotations

import re

_PREFIX = b"SSH-"
# Where the version line stops being printable ASCII: its end, or binary data.
_STOP = re.compile(rb"[^\x20-\x7e]")
_CR, _LF = 0x0D, 0x0A
_CUT = " [|ssh]"


def ssh(p: bytes, length: int) -> tuple[str, bool]:
    """`SSH: <version line>`, or "" when the segment holds no whole version line."""
    # tcpdump reads the prefix byte by byte: a differing byte ends it quietly, the
    # end of the bytes at hand (the capture's or the segment's) with the mark.
    if not _PREFIX.startswith(p[:len(_PREFIX)]):
        return "", True
    if len(p) < len(_PREFIX):
        return _CUT, False
    end = min(length, len(p))
    m = _STOP.search(p, len(_PREFIX), end)
    if m is None:
        # Printable to the end of what the capture holds: the rest was cut off, or
        # the line runs to the end of the segment without ending.
        return (_CUT, False) if end < length else ("", True)
    i = m.start()
    if p[i] == _LF:
        return "SSH: " + p[:i].decode("ascii"), True
    if p[i] != _CR or i + 1 >= length:
        return "", True
    if i + 1 >= len(p):
        return _CUT, False
    return ("SSH: " + p[:i].decode("ascii"), True) if p[i + 1] == _LF else ("", True)
