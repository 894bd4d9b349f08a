"""SNMP v1/v2c (UDP ports 161 and 162) as tcpdump prints it with -n and without -v.

The message is BER: a sequence of the version, the community and one PDU.
tcpdump shows the community only when it is not "public", then the PDU's
name and length, its error status and index where they say something, and
each variable binding as the OID in dotted numbers and, except in the
requests that carry no values, `=` and the value. A v1 trap shows its
enterprise, agent, generic and specific trap and time stamp first.

Each element's length is checked against the message's length on the
wire and its contents against what was captured, as tcpdump checks them:
a message cut by the snapshot length prints only `[|snmp]`. Only what
tcpdump prints for well-formed messages is rebuilt here: a broken encoding
(which tcpdump describes in words of its own) or a value type it prints in
a raw form ends the line with the same mark.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.chars import printable

# Universal tags, then SNMP's application tags (RFC 2578) and the v2 exceptions.
_INT, _STR, _NULL, _OID, _SEQ = 0x02, 0x04, 0x05, 0x06, 0x30
_IPADDR, _COUNTER64 = 0x40, 0x46
_UNSIGNED = (0x41, 0x42, 0x43, _COUNTER64)  # Counter32, Gauge32, TimeTicks, Counter64
_EXCEPTIONS = {0x80: "[noSuchObject]", 0x81: "[noSuchInstance]", 0x82: "[endOfMibView]"}
_GET, _NEXT, _RESPONSE, _SET, _TRAP, _BULK, _INFORM, _V2TRAP, _REPORT = range(0xA0, 0xA9)
_PDUS = {_GET: "GetRequest", _NEXT: "GetNextRequest", _RESPONSE: "GetResponse",
         _SET: "SetRequest", _TRAP: "Trap", _BULK: "GetBulk", _INFORM: "Inform",
         _V2TRAP: "V2Trap", _REPORT: "Report"}
# Requests whose bindings carry no value, and those whose error fields must be 0.
_NO_VALUES = (_GET, _NEXT, _BULK)
_NO_ERRORS = (_GET, _NEXT, _SET, _INFORM, _V2TRAP, _REPORT)
_ERRORS = ("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
           "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
           "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
           "authorizationError", "notWritable", "inconsistentName")
_GENERIC = ("coldStart", "warmStart", "linkDown", "linkUp", "authenticationFailure",
            "egpNeighborLoss", "enterpriseSpecific")
_ENTERPRISE_SPECIFIC = 6
_TRUNCATED = " [|snmp]"


class _Bad(Exception):
    """The encoding ends or breaks before the element being read."""


def _element(p: bytes, at: int, end: int) -> tuple[int, int, int]:
    """(tag, start of the contents, end of the contents) of the element at `at`.

    `end` is where the enclosing element ends by its length; the contents
    must also have been captured, a sequence's or a PDU's whole included (so a
    message cut anywhere prints nothing of itself, as in tcpdump).
    """
    if at + 2 > end or at + 2 > len(p):
        raise _Bad
    tag, n = p[at], p[at + 1]
    at += 2
    if n & 0x80:
        size = n & 0x7F
        if not 0 < size <= 4 or at + size > end or at + size > len(p):
            raise _Bad
        n = int.from_bytes(p[at:at + size], "big")
        at += size
    if at + n > end or at + n > len(p):
        raise _Bad
    return tag, at, at + n


def _oid(raw: bytes) -> str:
    """X.690's subidentifiers as tcpdump shows them: `.1.3.6.1.2.1.1.1.0`."""
    out, value, first = [], 0, True
    for b in raw:
        value = value << 7 | (b & 0x7F)
        if b & 0x80:
            continue
        if first:  # the first holds two: 40 * first + second
            top = min(value // 40, 2)
            out.append(f".{top}")
            value -= top * 40
            first = False
        out.append(f".{value}")
        value = 0
    return "".join(out)


def _value(tag: int, raw: bytes) -> str:
    if tag == _INT:
        return str(int.from_bytes(raw, "big", signed=True))
    if tag in _UNSIGNED:
        return str(int.from_bytes(raw, "big"))
    if tag == _STR:
        if all(0x20 <= b < 0x7F for b in raw):
            return f'"{printable(raw)}"'
        return "_".join(f"{b:02x}" for b in raw)
    if tag == _OID:
        return _oid(raw)
    if tag == _NULL:
        return ""
    if tag == _IPADDR:
        return ".".join(str(b) for b in raw)
    exception = _EXCEPTIONS.get(tag)
    if exception is not None:
        return exception
    raise _Bad  # an encoding tcpdump prints in a form of its own, not rebuilt here


def snmp(p: bytes, length: int) -> tuple[str, bool]:
    """` GetRequest(26)  .1.3.6.1.2.1.1.1.0`, ` C="private" SetRequest(...)`..."""
    out = [" "]
    try:
        _message(p, length, out)
    except _Bad:
        out.append(_TRUNCATED)
        return "".join(out), False
    return "".join(out), True


def _message(p: bytes, end: int, out: list[str]) -> None:
    tag, at, end = _element(p, 0, end)
    if tag != _SEQ:
        raise _Bad
    tag, v, at = _element(p, at, end)
    if tag != _INT:
        raise _Bad
    version = int.from_bytes(p[v:at], "big", signed=True)
    if version not in (0, 1):
        if version == 3:
            raise _Bad  # v3's security parameters: not rebuilt here
        out.append(f"SNMP [version = {version}]")
        return
    tag, c, at = _element(p, at, end)
    if tag != _STR:
        raise _Bad
    if p[c:at] != b"public":
        out.append(f'C="{printable(p[c:at])}" ')
    tag, start, stop = _element(p, at, end)
    name = _PDUS.get(tag)
    if name is None:
        raise _Bad
    if stop < end:
        out.append(f"[{end - stop} extra after PDU]")
    out.append(f"{name}({stop - start}) ")
    if tag == _TRAP:
        _trap(p, start, stop, out)
    else:
        _pdu(p, tag, start, stop, out)


def _integer(p: bytes, at: int, end: int) -> tuple[int, int]:
    tag, v, at = _element(p, at, end)
    if tag != _INT:
        raise _Bad
    return int.from_bytes(p[v:at], "big", signed=True), at


def _pdu(p: bytes, pdu: int, at: int, end: int, out: list[str]) -> None:
    _request_id, at = _integer(p, at, end)
    status, at = _integer(p, at, end)
    if pdu in _NO_ERRORS and status:
        out.append(f"[errorStatus({_error(status)})!=0]")
    elif pdu == _BULK:
        out.append(f" N={status}")
    elif status:
        out.append(" " + _error(status))
    index, at = _integer(p, at, end)
    if pdu in _NO_ERRORS and index:
        out.append(f"[errorIndex({index})!=0]")
    elif pdu == _BULK:
        out.append(f" M={index}")
    elif index:
        out.append(f"@{index}" if status else f"[errorIndex({index}) w/o errorStatus]")
    elif status:
        out.append("[errorIndex==0]")
    _bindings(p, pdu, at, end, out)


def _error(status: int) -> str:
    return _ERRORS[status] if 0 <= status < len(_ERRORS) else f"err={status}"


def _trap(p: bytes, at: int, end: int, out: list[str]) -> None:
    tag, v, at = _element(p, at, end)
    if tag != _OID:
        raise _Bad
    out.append(" " + _oid(p[v:at]) + " ")
    tag, v, at = _element(p, at, end)
    if tag != _IPADDR:
        raise _Bad
    out.append(_value(tag, p[v:at]))
    generic, at = _integer(p, at, end)
    out.append(" " + (_GENERIC[generic] if 0 <= generic < len(_GENERIC) else str(generic)))
    specific, at = _integer(p, at, end)
    if generic == _ENTERPRISE_SPECIFIC:
        out.append(f" s={specific}")
    elif specific:
        out.append(f"[specific-trap({specific})!=0]")
    out.append(" ")
    tag, v, at = _element(p, at, end)
    if tag not in _UNSIGNED:
        raise _Bad
    out.append(_value(tag, p[v:at]))
    _bindings(p, _TRAP, at, end, out)


def _bindings(p: bytes, pdu: int, at: int, end: int, out: list[str]) -> None:
    tag, at, stop = _element(p, at, end)
    if tag != _SEQ:
        raise _Bad
    while at < stop:
        out.append(" ")
        tag, v, at = _element(p, at, stop)
        if tag != _SEQ:
            raise _Bad
        tag, o, after = _element(p, v, at)
        if tag != _OID:
            raise _Bad
        out.append(_oid(p[o:after]))
        tag, x, after = _element(p, after, at)
        if pdu in _NO_VALUES:
            if tag != _NULL:
                out.append("[objVal!=NULL]" + _value(tag, p[x:after]))
        else:
            out.append("=" + _value(tag, p[x:after]))
