"""Cisco Auto-RP (UDP port 496) as tcpdump prints it: each RP and its group ranges, one line.

tcpdump prints as it reads; where the datagram's length or the capture runs
out before a field, what was printed stays and `[|cisco_autorp]` ends the line.
"""

from __future__ import annotations

import struct

from rawtools.tools.sniff.printers.igmp import duration
from rawtools.tools.sniff.printers.reader import Cut, take

PORT = 496
_HEADER_LEN = 8  # type, RP count, hold time, reserved
_ENTRY_LEN = 6  # flags, mask length, group prefix
_TYPES = {0x11: "candidate-advert", 0x12: "mapping"}
_PIM_VERSIONS = ("PIMv?", "PIMv1", "PIMv2", "PIMv1+2")
_CUT = " [|cisco_autorp]"


def autorp(p: bytes, length: int) -> tuple[str, bool]:
    """` auto-rp candidate-advert Hold 1m RP 198.18.0.1 PIMv2 224.0.0.0/4`."""
    if length < _HEADER_LEN:
        return _CUT, False
    out = [" auto-rp "]
    try:
        _message(p, length, out)
    except Cut:
        return "".join(out) + _CUT, False
    return "".join(out), True


def _message(p: bytes, length: int, out: list[str]) -> None:
    kind = take(p, 0, 1)[0]
    out.append(_TYPES.get(kind, f"type-0x{kind:02x}"))
    rps = take(p, 1, 1)[0]
    out.append(" Hold ")
    hold = struct.unpack("!H", take(p, 2, 2))[0]
    out.append(duration(hold) if hold else "FOREVER")
    at, left = _HEADER_LEN, length - _HEADER_LEN
    for _ in range(rps):
        at, left = _rp(p, at, left, out)


def _rp(p: bytes, at: int, left: int, out: list[str]) -> tuple[int, int]:
    """One RP and its group ranges; (where the next starts, the length left)."""
    if left < 4:
        raise Cut
    out.append(" RP " + ".".join(map(str, take(p, at, 4))))
    if left < 5:
        raise Cut
    flags = take(p, at + 4, 1)[0]
    out.append(" " + _PIM_VERSIONS[flags & 3])
    if flags & 0xFC:
        out.append(f" [rsvd=0x{flags & 0xFC:02x}]")
    if left < 6:
        raise Cut
    entries = take(p, at + 5, 1)[0]
    at, left = at + 6, left - 6
    sep = " "
    for _ in range(entries):
        if left < _ENTRY_LEN:
            raise Cut
        entry = take(p, at, _ENTRY_LEN)
        out.append(f"{sep}{'!' if entry[0] & 1 else ''}{'.'.join(map(str, entry[2:]))}"
                   f"/{entry[1]}")
        if entry[0] & 0x02:
            out.append(" bidir")
        if entry[0] & 0xFC:
            out.append(f"[rsvd=0x{entry[0] & 0xFC:02x}]")
        sep = ","
        at, left = at + _ENTRY_LEN, left - _ENTRY_LEN
    return at, left
