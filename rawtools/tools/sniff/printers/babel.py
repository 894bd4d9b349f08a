"""Babel routing (UDP ports 6696 and 6697, RFC 8966): the version, body length and TLV names.

tcpdump's one line names each TLV of the body in order, then, after ` |`,
those of the packet trailer (where MACs and packet counters go). A TLV is
named only once all its bytes are captured (`[|babel]` otherwise), and one
that runs past its section, or an update too short for its fixed fields,
ends the line with `(invalid)`.
"""

from __future__ import annotations

_MAGIC, _VERSION = 42, 2
_PAD1, _UPDATE = 0, 8
_UPDATE_MIN = 10  # AE, flags, prefix length, omitted, interval, seqno, metric
_NAMES = ("pad1", "padN", "ack-req", "ack", "hello", "ihu", "router-id", "nh", "update",
          "route-request", "seqno-request", "tspc", "hmac", "ss-update", "ss-request",
          "ss-mh-request", "mac", "pc", "challenge_request", "challenge_reply")
_CUT, _INVALID = " [|babel]", " (invalid)"


def _update(flags: int) -> str:
    """`update` with its flags: /prefix (0x80), /id (0x40), /unknown for any other bit."""
    return ("update" + ("/prefix" if flags & 0x80 else "") + ("/id" if flags & 0x40 else "")
            + ("/unknown" if flags & 0x3F else ""))


def _tlvs(p: bytes, i: int, end: int, out: list[str]) -> bool:
    """Append the names of the TLVs in p[i:end]; False once the line has ended."""
    while i < end:
        if i >= len(p):
            out.append(_CUT)
            return False
        kind = p[i]
        if kind == _PAD1:
            out.append(" pad1")
            i += 1
            continue
        if i + 1 >= end:
            out.append(_INVALID)
            return False
        if i + 1 >= len(p):
            out.append(_CUT)
            return False
        nxt = i + 2 + p[i + 1]
        if nxt > end:
            out.append(_INVALID)
            return False
        if nxt > len(p):
            out.append(_CUT)
            return False
        if kind == _UPDATE:
            if nxt - i - 2 < _UPDATE_MIN:
                out.append(" update" + _INVALID)
                return False
            out.append(" " + _update(p[i + 3]))
        else:
            out.append(" " + (_NAMES[kind] if kind < len(_NAMES) else "unknown"))
        i = nxt
    return True


def babel(p: bytes, length: int) -> tuple[str, bool]:
    if len(p) < 4:
        return "babel" + _CUT, False
    if p[0] != _MAGIC:
        return "babel invalid header", False
    if p[1] != _VERSION:
        return f"babel {p[1]} unknown version", True
    body = p[2] << 8 | p[3]
    out = [f"babel {_VERSION} ({body})"]
    end = 4 + body
    if end > length:
        return out[0] + _INVALID, False
    ok = _tlvs(p, 4, end, out)
    if ok and length > end:
        out.append(" |")
        ok = _tlvs(p, end, length, out)
    return "".join(out), ok
