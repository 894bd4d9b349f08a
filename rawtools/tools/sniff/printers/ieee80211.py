"""IEEE 802.11 frames, for the management frames this decoder names as tcpdump does.

Without -v tcpdump names the management frame and gives the few fields
that say what happened: an authentication's algorithm and transaction
number, with the status where tcpdump shows it. Other frames are not
decoded here (None), and the caller keeps its short line.
"""

from __future__ import annotations

import struct

_MGMT_HEADER = 24
_AUTH = struct.Struct("<HHH")
_MGMT, _AUTHENTICATION = 0, 11
_ALGORITHMS = {0: "Open System", 1: "Shared Key", 2: "EAP"}
_SHARED_KEY = 1


def _authentication(body: bytes) -> tuple[str, bool] | None:
    if len(body) < _AUTH.size:
        return "Authentication [|802.11]", False
    algorithm, seq, status = _AUTH.unpack_from(body)
    name = _ALGORITHMS.get(algorithm, "Reserved")
    if algorithm == _SHARED_KEY and seq in (2, 3):
        return None  # the challenge text and its status: not rendered here
    if seq % 2 == 0:
        return f"Authentication ({name})-{seq:x}: ", True
    if status != 0:
        return None  # tcpdump's status texts are not rendered here
    return f"Authentication ({name})-{seq:x}: Successful", True


def frame(p: bytes, length: int) -> tuple[str, bool] | None:
    """tcpdump's text of an 802.11 frame, or None where it is not decoded here."""
    if len(p) < 2:
        return None
    fc = p[0] | p[1] << 8
    kind, subtype = fc >> 2 & 3, fc >> 4 & 15
    if kind != _MGMT or subtype != _AUTHENTICATION or len(p) < _MGMT_HEADER:
        return None
    return _authentication(p[_MGMT_HEADER:])
