"""IEEE 802.3 Slow Protocols (EtherType 0x8809) as tcpdump names them without -v.

LACP (802.1AX link aggregation) and its Marker protocol carry a version
after the subtype, which tcpdump prints and checks; OAM (802.3ah) has none.
Any other subtype is named by number and its bytes dumped, as tcpdump does
with protocols it does not know.
"""

from __future__ import annotations

from rawtools.tools.sniff.dump import dump

_LACP, _MARKER, _OAM = 1, 2, 3
_NAMES = {_LACP: "LACP", _MARKER: "MARKER", _OAM: "OAM"}
_VERSION = 1  # LACP's and Marker's only version
_TOO_SHORT = " (packet is too short)"  # by its length on the wire
_CUT = " [|slow]"  # by the snapshot length


def slow(p: bytes, length: int) -> tuple[str, bool]:
    """`LACPv1, length 110`, `OAM, length 42`, `unknown (9), length 46` and its bytes."""
    if length < 1:
        return _TOO_SHORT, False
    if not p:
        return _CUT, False
    subtype = p[0]
    if subtype in (_LACP, _MARKER):
        if length < 2:
            return _TOO_SHORT, False
        if len(p) < 2:
            return _CUT, False
        if p[1] != _VERSION:
            return f"{_NAMES[subtype]} version {p[1]} packet not supported", True
        return f"{_NAMES[subtype]}v{p[1]}, length {length}", True
    if subtype == _OAM:
        return f"OAM, length {length}", True
    return f"unknown ({subtype}), length {length}" + dump(p[:length], "x"), True
