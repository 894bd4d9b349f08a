"""DCCP (IP protocol 33, RFC 4340): the ports, the packet type and its first fields.

Without -v tcpdump names the hosts with their ports (as for TCP), then
`DCCP`, the packet type, a Request's or Response's service code, a Reset's
code and, for every type but Request and Data, the acknowledgement number;
options and sequence numbers are for -vv. The generic header holds a 24-bit
sequence number, or 48 bits when its X bit is set, which moves everything
after it by four bytes.
"""

from __future__ import annotations

import struct

_PORTS = struct.Struct("!HH")
_U32 = struct.Struct("!I")
_BASIC_LEN = 12  # the generic header with a 24-bit sequence number
_EXTENDED_LEN = 16  # and with a 48-bit one (X bit set)
_REQUEST, _RESPONSE, _DATA, _ACK, _DATAACK, _CLOSEREQ, _CLOSE, _RESET, _SYNC, _SYNCACK = \
    range(10)
_TYPES = ("DCCP-Request", "DCCP-Response", "DCCP-Data", "DCCP-Ack", "DCCP-DataAck",
          "DCCP-CloseReq", "DCCP-Close", "DCCP-Reset", "DCCP-Sync", "DCCP-SyncAck")
# What each type adds to the generic header: the service code (4), the
# acknowledgement subheader (8), Reset's code and data after it (12 in all).
_EXTRA = {_REQUEST: 4, _RESPONSE: 12, _ACK: 8, _DATAACK: 8, _CLOSEREQ: 8, _CLOSE: 8,
          _RESET: 12, _SYNC: 8, _SYNCACK: 8}
# The types whose subheader tcpdump reads before naming them; the others are
# named first, and their acknowledgement number is read after.
_READ = frozenset({_REQUEST, _RESPONSE, _RESET})
_RESET_CODES = ("unspecified", "closed", "aborted", "no_connection", "packet_error",
                "option_error", "mandatory_error", "connection_refused", "bad_service_code",
                "too_busy", "bad_init_cookie", "aggression_penalty")
_TRUNCATED = " [|dccp]"


def dccp(p: bytes, length: int, src: str, dst: str) -> tuple[str, bool]:
    """The line from the hosts on; `length` is the IP payload's by its header."""
    if len(p) < _BASIC_LEN:
        return _TRUNCATED, False
    if length < _BASIC_LEN:
        return f"truncated-dccp - {_BASIC_LEN - length} bytes missing!", False
    extended = p[8] & 1
    fixed = _EXTENDED_LEN if extended else _BASIC_LEN
    if length < fixed:
        return f"truncated-dccp - {fixed - length} bytes missing!", False
    if len(p) < fixed:
        return _TRUNCATED, False
    sport, dport = _PORTS.unpack_from(p)
    # The data offset is checked against the length only with -q and -v.
    text = f"{src}.{sport} > {dst}.{dport}: DCCP"
    kind = (p[8] >> 1) & 0xF
    extra = _EXTRA.get(kind, 0)
    if extra:
        need = fixed + extra
        if length < need:
            return f"{text} truncated-{_TYPES[kind]} - {need - length} bytes missing!", False
        if len(p) < need and kind in _READ:
            return text + _TRUNCATED, False
    if kind in (_REQUEST, _RESPONSE):
        service = _U32.unpack_from(p, fixed + extra - 4 if kind == _REQUEST else fixed + 8)[0]
        text += f" {_TYPES[kind]} (service={service}) "
    elif kind < len(_TYPES):
        text += f" {_TYPES[kind]} "
        if kind == _RESET:
            code = p[fixed + 8]
            text += f"(code={_RESET_CODES[code] if code < len(_RESET_CODES) else 'invalid'}) "
    else:
        text += f" unknown-type-{kind} "
    if kind in (_REQUEST, _DATA):
        return text, True
    # The acknowledgement number: 48 bits after two bytes, or 24 after one.
    at, size = (fixed + 2, 6) if extended else (fixed + 1, 3)
    if len(p) < at + size:
        return text + _TRUNCATED, False
    return f"{text}(ack={int.from_bytes(p[at:at + size], 'big')}) ", True
