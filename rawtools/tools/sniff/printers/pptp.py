"""PPTP's control connection (TCP port 1723, RFC 2637): the message and every field of it.

tcpdump prints `pptp CTRL_MSGTYPE=SCCRQ` and then each field of the
message in its own words (`PROTO_VER(1.0) FRAME_CAP(A) ... HOSTNAME(local)`),
without -v as with it, but for the meanings of result and error codes and
the header's length, which are -v's. The strings are printed up to their
first NUL, at most their field's size, with tcpdump's escapes (`M-^A`); a
message cut short ends where the capture does, with `[|pptp]`.
"""

from __future__ import annotations

import struct

from rawtools.tools.sniff.printers.chars import printable

_HEADER_LEN = 12
_MAGIC = 0x1A2B3C4D
_TYPES = ("NOT_DEFINED", "SCCRQ", "SCCRP", "StopCCRQ", "StopCCRP", "ECHORQ", "ECHORP", "OCRQ",
          "OCRP", "ICRQ", "ICRP", "ICCN", "CCRQ", "CDN", "WEN", "SLI")
_BEARER_TYPES = {1: "A", 2: "D", 3: "Any"}
_FRAMING_TYPES = {1: "A", 2: "S", 3: "E"}
_TRUNCATED = " [|pptp]"

# Each message's fields, in order: (kind, size). Kinds name tcpdump's print
# functions; "r" is a reserved field, printed only when it is not zero, "s"
# a string of that many bytes.
_Field = tuple[str, int]
_MESSAGES: dict[int, tuple[_Field, ...]] = {
    1: (("PROTO_VER", 2), ("r", 2), ("FRAME_CAP", 4), ("BEARER_CAP", 4), ("MAX_CHAN", 2),
        ("FIRM_REV", 2), ("HOSTNAME", 64), ("VENDOR", 64)),
    2: (("PROTO_VER", 2), ("RESULT_CODE", 1), ("ERR_CODE", 1), ("FRAME_CAP", 4),
        ("BEARER_CAP", 4), ("MAX_CHAN", 2), ("FIRM_REV", 2), ("HOSTNAME", 64), ("VENDOR", 64)),
    3: (("REASON", 1), ("r", 1), ("r", 2)),
    4: (("RESULT_CODE", 1), ("ERR_CODE", 1), ("r", 2)),
    5: (("ID", 4),),
    6: (("ID", 4), ("RESULT_CODE", 1), ("ERR_CODE", 1), ("r", 2)),
    7: (("CALL_ID", 2), ("CALL_SER_NUM", 2), ("MIN_BPS", 4), ("MAX_BPS", 4),
        ("BEARER_TYPE", 4), ("FRAME_TYPE", 4), ("RECV_WIN", 2), ("PROC_DELAY", 2),
        ("PHONE_NO_LEN", 2), ("r", 2), ("PHONE_NO", 64), ("SUB_ADDR", 64)),
    8: (("CALL_ID", 2), ("PEER_CALL_ID", 2), ("RESULT_CODE", 1), ("ERR_CODE", 1),
        ("CAUSE_CODE", 2), ("CONN_SPEED", 4), ("RECV_WIN", 2), ("PROC_DELAY", 2),
        ("PHY_CHAN_ID", 4)),
    9: (("CALL_ID", 2), ("CALL_SER_NUM", 2), ("BEARER_TYPE", 4), ("PHY_CHAN_ID", 4),
        ("DIALED_NO_LEN", 2), ("DIALING_NO_LEN", 2), ("DIALED_NO", 64), ("DIALING_NO", 64),
        ("SUB_ADDR", 64)),
    10: (("CALL_ID", 2), ("PEER_CALL_ID", 2), ("RESULT_CODE", 1), ("ERR_CODE", 1),
         ("RECV_WIN", 2), ("PROC_DELAY", 2), ("r", 2)),
    11: (("PEER_CALL_ID", 2), ("r", 2), ("CONN_SPEED", 4), ("RECV_WIN", 2), ("PROC_DELAY", 2),
         ("FRAME_TYPE", 4)),
    12: (("CALL_ID", 2), ("r", 2)),
    13: (("CALL_ID", 2), ("RESULT_CODE", 1), ("ERR_CODE", 1), ("CAUSE_CODE", 2), ("r", 2),
         ("CALL_STATS", 128)),
    14: (("PEER_CALL_ID", 2), ("r", 2), ("CRC_ERR", 4), ("FRAMING_ERR", 4),
         ("HARDWARE_OVERRUN", 4), ("BUFFER_OVERRUN", 4), ("TIMEOUT_ERR", 4), ("ALIGN_ERR", 4)),
    15: (("PEER_CALL_ID", 2), ("r", 2), ("SEND_ACCM", 4), ("RECV_ACCM", 4)),
}
_STRINGS = frozenset({"HOSTNAME", "VENDOR", "PHONE_NO", "SUB_ADDR", "DIALED_NO", "DIALING_NO",
                      "CALL_STATS"})


def _string(raw: bytes, size: int) -> tuple[str, bool]:
    """A string field of `size` bytes: up to its first NUL, escaped as tcpdump escapes it.

    False when the capture ends before the NUL or the field's end: tcpdump
    has printed what there was and ends the line without the parenthesis.
    """
    end = raw.find(0)
    if end >= 0:
        return printable(raw[:end]), True
    return printable(raw), len(raw) >= size


def _field(kind: str, raw: bytes) -> str:
    value = int.from_bytes(raw, "big")
    if kind == "r":
        return f" [ERROR: reserved={value} must be zero]" if value else ""
    if kind == "PROTO_VER":
        return f" PROTO_VER({value >> 8}.{value & 0xFF})"
    if kind == "FRAME_CAP":
        return f" FRAME_CAP({'A' if value & 1 else ''}{'S' if value & 2 else ''})"
    if kind == "BEARER_CAP":
        return f" BEARER_CAP({'D' if value & 2 else ''}{'A' if value & 1 else ''})"
    if kind == "BEARER_TYPE":
        return f" BEARER_TYPE({_BEARER_TYPES.get(value, '?')})"
    if kind == "FRAME_TYPE":
        return f" FRAME_TYPE({_FRAMING_TYPES.get(value, '?')})"
    if kind in ("SEND_ACCM", "RECV_ACCM"):
        return f" {kind}(0x{value:08x})"
    return f" {kind}({value})"


def pptp(p: bytes, length: int) -> tuple[str, bool]:
    """The control message in a TCP segment's payload `p`."""
    parts = ["pptp"]
    if len(p) < 8:
        return "pptp" + _TRUNCATED, False
    magic = struct.unpack_from("!I", p, 4)[0]
    if magic != _MAGIC:
        parts.append(f" UNEXPECTED Magic-Cookie!!({magic:08x}) Magic-Cookie={magic:08x}")
    if len(p) < 10:
        return "".join(parts) + _TRUNCATED, False
    kind = p[8] << 8 | p[9]
    parts.append(f" CTRL_MSGTYPE={_TYPES[kind]}" if kind < len(_TYPES)
                 else f" UNKNOWN_CTRL_MSGTYPE({kind})")
    if len(p) < _HEADER_LEN:
        return "".join(parts) + _TRUNCATED, False
    parts.append(_field("r", p[10:12]))
    at = _HEADER_LEN
    for name, size in _MESSAGES.get(kind, ()):
        raw = p[at:at + size]
        if name in _STRINGS:
            text, whole = _string(raw, size)
            if not whole:
                return f"{''.join(parts)} {name}({text}{_TRUNCATED}", False
            parts.append(f" {name}({text})")
        elif len(raw) < size:
            return "".join(parts) + _TRUNCATED, False
        else:
            parts.append(_field(name, raw))
        at += size
    return "".join(parts), True
