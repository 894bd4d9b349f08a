"""L2TPv2 (UDP port 1701, RFC 2661) as tcpdump prints it without -v.

The header's flags, tunnel and session ids and, where present, the
sequence numbers; then a control message's attribute-value pairs, each by
name with its value as tcpdump formats that attribute (a hidden one as
`???`, a vendor's as its number and bytes), or a data message's PPP frame
in braces. An AVP that runs past the message or the capture ends the line
with tcpdump's mark.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

_T, _L, _S, _O, _P = 0x8000, 0x4000, 0x0800, 0x0200, 0x0100
_VERSION_MASK, _L2F, _L2TP = 0x000F, 1, 2
_MANDATORY, _HIDDEN, _AVP_LEN = 0x8000, 0x4000, 0x03FF
_AVP_HEADER = 6
_TRUNCATED = " [|l2tp]"
_SHORT = "AVP too short"
_H = struct.Struct("!H")
_I = struct.Struct("!I")

MESSAGES = {1: "SCCRQ", 2: "SCCRP", 3: "SCCCN", 4: "StopCCN", 6: "HELLO", 7: "OCRQ", 8: "OCRP",
            9: "OCCN", 10: "ICRQ", 11: "ICRP", 12: "ICCN", 14: "CDN", 15: "WEN", 16: "SLI"}
_AUTH_TYPES = {0: "Reserved", 1: "Textual", 2: "CHAP", 3: "PAP", 4: "No Auth", 5: "MS-CHAPv1"}
_DIRECTIONS = {0: "global error", 1: "at peer", 2: "at local"}


class _Cut(Exception):
    """The message or the capture ends inside the header or an AVP."""


def _text(v: bytes) -> str:
    """Bytes as tcpdump's print_string puts them out: each as the character it is."""
    return v.decode("latin-1")


def _u16(v: bytes) -> str:
    return str(_H.unpack_from(v)[0]) if len(v) >= 2 else _SHORT


def _u32(v: bytes) -> str:
    return str(_I.unpack_from(v)[0]) if len(v) >= 4 else _SHORT


def _flags(names: str) -> Callable[[bytes], str]:
    """A 32-bit capability or type word: its first letter for bit 2, the second for bit 1."""
    def show(v: bytes) -> str:
        if len(v) < 4:
            return _SHORT
        word = _I.unpack_from(v)[0]
        return (names[0] if word & 2 else "") + (names[1] if word & 1 else "")
    return show


def _fixed_octets(n: int) -> Callable[[bytes], str]:
    return lambda v: v[:n].hex() if len(v) >= n else _SHORT


def _coded(names: dict[int, str], unknown: str) -> Callable[[bytes], str]:
    """A 16-bit code by its name, or `unknown` and its number."""
    def show(v: bytes) -> str:
        if len(v) < 2:
            return _SHORT
        code = _H.unpack_from(v)[0]
        return names.get(code) or f"{unknown}{code}"
    return show


def _result(v: bytes) -> str:
    if len(v) < 2:
        return _SHORT
    out = str(_H.unpack_from(v)[0])
    if len(v) == 2:
        return out
    if len(v) < 4:
        return out + " " + _SHORT
    out += f"/{_H.unpack_from(v, 2)[0]}"
    return out + (" " + _text(v[4:]) if len(v) > 4 else "")


def _proto_ver(v: bytes) -> str:
    return f"{v[0]}.{v[1]}" if len(v) >= 2 else _SHORT


def _q931(v: bytes) -> str:
    if len(v) < 3:
        return _SHORT
    return f"{_H.unpack_from(v)[0]}, {v[2]:02x}" + (" " + _text(v[3:]) if len(v) > 3 else "")


def _auth_id(v: bytes) -> str:
    return str(_H.unpack_from(v)[0] & 0xFF) if len(v) >= 2 else _SHORT


def _words(names: tuple[str, ...], form: str) -> Callable[[bytes], str]:
    """After 2 reserved bytes, 32-bit counters each as `NAME=value ` until one is missing."""
    def show(v: bytes) -> str:
        if len(v) < 2:
            return _SHORT
        out: list[str] = []
        at = 2
        for name in names:
            if len(v) < at + 4:
                return "".join(out) + _SHORT
            out.append(f"{name}={format(_I.unpack_from(v, at)[0], form)} ")
            at += 4
        return "".join(out)
    return show


def _discon(v: bytes) -> str:
    if len(v) < 5:
        return _SHORT
    code, proto = struct.unpack_from("!HH", v)
    direction = _DIRECTIONS.get(v[4]) or f"Direction-#{v[4]}"
    return f"{code:04x}, {proto:04x} {direction}" + (" " + _text(v[5:]) if len(v) > 5 else "")


# The IETF attributes by number: (name, how its value shows; None: nothing).
_AVPS: dict[int, tuple[str, Callable[[bytes], str] | None]] = {
    0: ("MSGTYPE", _coded(MESSAGES, "MSGTYPE-#")), 1: ("RESULT_CODE", _result),
    2: ("PROTO_VER", _proto_ver),
    3: ("FRAMING_CAP", _flags("AS")), 4: ("BEARER_CAP", _flags("AD")),
    5: ("TIE_BREAKER", _fixed_octets(8)), 6: ("FIRM_VER", _u16), 7: ("HOST_NAME", _text),
    8: ("VENDOR_NAME", _text), 9: ("ASSND_TUN_ID", _u16), 10: ("RECV_WIN_SIZE", _u16),
    11: ("CHALLENGE", bytes.hex), 12: ("Q931_CC", _q931),
    13: ("CHALLENGE_RESP", _fixed_octets(16)), 14: ("ASSND_SESS_ID", _u16),
    15: ("CALL_SER_NUM", _u32), 16: ("MINIMUM_BPS", _u32), 17: ("MAXIMUM_BPS", _u32),
    18: ("BEARER_TYPE", _flags("AD")), 19: ("FRAMING_TYPE", _flags("AS")),
    20: ("PACKET_PROC_DELAY", lambda v: "obsolete"), 21: ("CALLED_NUMBER", _text),
    22: ("CALLING_NUMBER", _text), 23: ("SUB_ADDRESS", _text), 24: ("TX_CONN_SPEED", _u32),
    25: ("PHY_CHANNEL_ID", _u32), 26: ("INI_RECV_LCP", bytes.hex),
    27: ("LAST_SENT_LCP", bytes.hex), 28: ("LAST_RECV_LCP", bytes.hex),
    29: ("PROXY_AUTH_TYPE", _coded(_AUTH_TYPES, "AuthType-#")), 30: ("PROXY_AUTH_NAME", _text),
    31: ("PROXY_AUTH_CHAL", bytes.hex), 32: ("PROXY_AUTH_ID", _auth_id),
    33: ("PROXY_AUTH_RESP", bytes.hex),
    34: ("CALL_ERRORS", _words(("CRCErr", "FrameErr", "HardOver", "BufOver", "Timeout",
                                "AlignErr"), "d")),
    35: ("ACCM", _words(("send", "recv"), "08x")), 36: ("RANDOM_VECTOR", bytes.hex),
    37: ("PRIVATE_GRP_ID", _text), 38: ("RX_CONN_SPEED", _u32), 39: ("SEQ_REQUIRED", None),
    46: ("PPP_DISCON_CC", _discon),
}


def l2tp(p: bytes, length: int) -> tuple[str, bool]:
    """` l2tp:[TLS](1/0)Ns=1,Nr=1 *MSGTYPE(HELLO)`, or a data message's `{PPP}`."""
    if len(p) < 2:
        return _TRUNCATED, False
    flags = _H.unpack_from(p)[0]
    version = flags & _VERSION_MASK
    if version == _L2F:
        return " l2f:", True
    if version != _L2TP:
        return " Unknown Version, neither L2F(1) nor L2TP(2)", True
    out = [" l2tp:[", *(c for bit, c in ((_T, "T"), (_L, "L"), (_S, "S"), (_O, "O"), (_P, "P"))
                        if flags & bit), "]"]
    try:
        at, declared = 2, 0
        if flags & _L:
            declared, at = _field(p, at)
        tunnel, at = _field(p, at)
        out.append(f"({tunnel}/")
        session, at = _field(p, at)
        out.append(f"{session})")
        if flags & _S:
            ns, at = _field(p, at)
            out.append(f"Ns={ns},")
            nr, at = _field(p, at)
            out.append(f"Nr={nr}")
        if flags & _O:
            pad, at = _field(p, at)
            at += pad
            if len(p) < at:
                raise _Cut  # tcpdump checks the padding was captured
    except _Cut:
        return "".join(out) + _TRUNCATED, False
    if flags & _L:
        if length < declared:
            return "".join(out) + f" Length {declared} larger than packet", True
        length = declared
    if length < at:
        return "".join(out) + f" Length {length} smaller than header length", True
    if not flags & _T:
        return "".join(out) + " {", True  # the decoder adds the PPP frame (data_at) and "}"
    if not flags & _L:
        return "".join(out) + " No length", True
    if length == at:
        return "".join(out) + " ZLB", True
    ok = _avps(p, at, length, out)
    return "".join(out), ok


def data_at(p: bytes, length: int) -> int | None:
    """Where a whole data message's PPP frame starts, for the decoder to print inside the
    braces l2tp() opened; None for a control message or one l2tp() ended early."""
    if len(p) < 2:
        return None
    flags = _H.unpack_from(p)[0]
    if flags & _T or flags & _VERSION_MASK != _L2TP:
        return None
    at = 2 + 2 * bool(flags & _L) + 4 + 4 * bool(flags & _S)
    if flags & _O:
        if len(p) < at + 2:
            return None
        at += 2 + _H.unpack_from(p, at)[0]
    declared = _H.unpack_from(p, 2)[0] if flags & _L and len(p) >= 4 else length
    if len(p) < at or min(length, declared) < at:
        return None
    return at


def _field(p: bytes, at: int) -> tuple[int, int]:
    if len(p) < at + 2:
        raise _Cut
    return _H.unpack_from(p, at)[0], at + 2


def _avps(p: bytes, at: int, end: int, out: list[str]) -> bool:
    while at < end:
        out.append(" ")
        if len(p) < at + 2:
            out.append(_TRUNCATED)
            return False
        head = _H.unpack_from(p, at)[0]
        size = head & _AVP_LEN
        if size < _AVP_HEADER or at + size > end or len(p) < at + size:
            out.append(_TRUNCATED)
            return False
        if head & _MANDATORY:
            out.append("*")
        if head & _HIDDEN:
            out.append("?")
        vendor, kind = struct.unpack_from("!HH", p, at + 2)
        value = p[at + _AVP_HEADER:at + size]
        if vendor:
            out.append(f"VENDOR{vendor:04x}:ATTR{kind:04x}({value.hex()})")
        else:
            name, show = _AVPS.get(kind, (f"AVP-#{kind}", None))
            shown = "???" if head & _HIDDEN else show(value) if show is not None else ""
            out.append(f"{name}({shown})")
        at += size
    return True
