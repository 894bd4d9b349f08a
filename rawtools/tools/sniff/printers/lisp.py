"""LISP control messages (UDP port 4342, RFC 6830) as tcpdump's first line shows them.

tcpdump names the message type and, for the two it decodes (Map-Register
and Map-Notify), the number of EID records; the records go on lines of
their own. What it finds wrong before the first record ends the line with
`(invalid)`: no records, or an xTR-ID announced by the flags and missing
when the authentication data leaves no room for records.
"""

from __future__ import annotations

import struct

PORT = 4342
_HEADER_LEN = 16  # type and flags, record count, nonce, key id, authentication length
_EID_HEADER_LEN = 12  # a record's fixed part, read before its first line break
_XTR_LEN = 24  # xTR-ID and site id
_AUTH_LEN = struct.Struct("!H")
_MAP_REGISTER, _MAP_NOTIFY = 3, 4
# The bit of the first byte that announces an xTR-ID, per type.
_XTR_BIT = {_MAP_REGISTER: 0x02, _MAP_NOTIFY: 0x08}
_TYPES = {0: "LISP-Reserved", 1: "LISP-Map-Request", 2: "LISP-Map-Reply",
          _MAP_REGISTER: "LISP-Map-Register", _MAP_NOTIFY: "LISP-Map-Notify",
          8: "LISP-Encapsulated-Contol-Message"}
_CUT, _INVALID = " [|lisp]", " (invalid)"


def lisp(p: bytes, length: int) -> tuple[str, bool]:
    """`LISP-Map-Notify, 3 record(s),`, the type alone for the others."""
    if len(p) < _HEADER_LEN:
        return _CUT, False
    kind = p[0] >> 4
    text = _TYPES.get(kind, f"unknown-type-{kind}") + ","
    if kind not in _XTR_BIT:
        return text, True
    records = p[3]
    text += f" {records} record(s),"
    # tcpdump keeps this offset in 16 bits: a long authentication length wraps it.
    at = (_HEADER_LEN + _AUTH_LEN.unpack_from(p, 14)[0]) & 0xFFFF
    if records == 0:
        return text + _INVALID, False
    if length > at:
        # The first record starts on a line of its own once its header is read.
        return (text, True) if at + _EID_HEADER_LEN <= len(p) else (text + _CUT, False)
    if p[0] & _XTR_BIT[kind] and at + _XTR_LEN > len(p):
        return text + _INVALID, False
    return text, True
