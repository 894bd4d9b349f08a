"""SOME/IP (UDP port 30490, AUTOSAR's service discovery) as tcpdump prints its header.

tcpdump names the protocol, then each header field as it reads it, so a
capture cut inside the 16-byte header shows the fields before the cut and
`[|someip]`; a datagram shorter than the header is `(invalid)`.
"""

from __future__ import annotations

import struct

PORT = 30490
_HEADER_LEN = 16
_WORDS = struct.Struct("!III")
_PIECE_ENDS = (4, 8, 12, 13, 14, 15, 16)
_CUT = " [|someip]"
_MESSAGE_TYPES = {0x00: "REQUEST", 0x01: "REQUEST_NO_RETURN", 0x02: "NOTIFICATION",
                  0x80: "RESPONSE", 0x81: "ERROR", 0x20: "TP_REQUEST",
                  0x21: "TP_REQUEST_NO_RETURN", 0x22: "TP_NOTIFICATION", 0xA0: "TP_RESPONSE",
                  0xA1: "TP_ERROR"}
_RETURN_CODES = ("E_OK", "E_NOT_OK", "E_UNKNOWN_SERVICE", "E_UNKNOWN_METHOD", "E_NOT_READY",
                 "E_NOT_REACHABLE", "E_TIMEOUT", "E_WRONG_PROTOCOL_VERSION",
                 "E_WRONG_INTERFACE_VERSION", "E_MALFORMED_MESSAGE", "E_WRONG_MESSAGE_TYPE",
                 "E_E2E_REPEATED", "E_E2E_WRONG_SEQUENCE", "E_E2E", "E_E2E_NOT_AVAILABLE",
                 "E_E2E_NO_NEW_DATA")


def someip(p: bytes, length: int) -> tuple[str, bool]:
    """`SOMEIP, service S, event E, len N, client C, session S, pver, iver, msgtype, retcode`."""
    if length < _HEADER_LEN:
        return "SOMEIP (invalid)", False
    pieces = _pieces(p[:_HEADER_LEN].ljust(_HEADER_LEN, b"\0"))
    shown = sum(end <= len(p) for end in _PIECE_ENDS)
    text = "SOMEIP" + "".join(pieces[:shown])
    return (text, True) if shown == len(pieces) else (text + _CUT, False)


def _pieces(h: bytes) -> list[str]:
    """The header's pieces of text in tcpdump's order; each needs the bytes up to its
    `_PIECE_ENDS` entry, tcpdump printing one as soon as it has read it."""
    message, size, request = _WORDS.unpack_from(h)
    kind = "event" if message & 0x8000 else "method"
    code = h[15]
    return [f", service {message >> 16}, {kind} {message & 0x7FFF}", f", len {size}",
            f", client {request >> 16}, session {request & 0xFFFF}", f", pver {h[12]}",
            f", iver {h[13]}", f", msgtype {_MESSAGE_TYPES.get(h[14], 'Unknown')}",
            f", retcode {_RETURN_CODES[code] if code < len(_RETURN_CODES) else 'Unknown'}"]
