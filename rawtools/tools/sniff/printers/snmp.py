"""SNMP (UDP ports 161 and 162) as tcpdump prints it with -n and without -v.

The message is BER: a sequence of the version, the community and one PDU.
tcpdump shows the community only when it is not "public", then the PDU's
name and length, its error status and index where they say something, and
each variable binding as the OID in dotted numbers and, except in the
requests that carry no values, `=` and the value. A v1 trap shows its
enterprise, agent, generic and specific trap and time stamp first.

The element reader follows tcpdump's: each element's length is checked
against the message's length on the wire (a complaint in brackets ends the
line) and its contents against what was captured (`[|snmp]` ends it), and
a type the SMI does not use is named in brackets and shown as bytes. The
line is tcpdump's for well-formed and broken messages alike; SNMPv3's
security parameters are not decoded here (`[|snmp]` after the version).
"""

from __future__ import annotations

# Tag classes and forms (X.690 8.1.2), and the names tcpdump gives each class's tags.
_UNIVERSAL, _APPLICATION, _CONTEXT, _PRIVATE = range(4)
_IDS: tuple[tuple[str, ...], ...] = (
    ("U-0", "Boolean", "Integer", "Bitstring", "String", "Null", "ObjID", "ObjectDes",
     "U-8", "U-9", "U-10", "U-11", "U-12", "U-13", "U-14", "U-15", "Sequence", "Set"),
    ("IpAddress", "Counter", "Gauge", "TimeTicks", "Opaque", "C-5", "Counter64"),
    ("GetRequest", "GetNextRequest", "GetResponse", "SetRequest", "Trap", "GetBulk", "Inform",
     "V2Trap", "Report"),
    ("P-0",),
)
# tcpdump's class table names every class "x" (its macro quotes the parameter's name).
_CLASS_NAME = "x"
_EXCEPTIONS = ("noSuchObject", "noSuchInstance", "endOfMibView")
_INTEGER, _STRING, _NULL, _OBJECTID, _SEQUENCE = 2, 4, 5, 6, 16
_IPADDR, _COUNTER64 = 0, 6
_UNSIGNED32 = (1, 2, 3)  # Counter, Gauge, TimeTicks
# What an element is once read, as tcpdump sorts them.
(_ANY, _NULL_T, _OCTET, _OID, _INT, _UNS, _STR, _SEQ, _INETADDR, _PDU, _UNS64,
 _EXCEPTION) = range(12)
# The universal primitive types read as such (the integer is worked out apart).
_UNIVERSAL_KINDS = {_STRING: _STR, _OBJECTID: _OID, _NULL: _NULL_T}
_GET, _NEXT, _RESPONSE, _SET, _TRAP, _BULK, _INFORM, _V2TRAP, _REPORT = range(9)
_NO_VALUES = (_GET, _NEXT, _BULK)
_NO_ERRORS = (_GET, _NEXT, _SET, _INFORM, _V2TRAP, _REPORT)
_V2_ONLY = (_BULK, _INFORM, _V2TRAP, _REPORT)
_ERRORS = ("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess",
           "wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation",
           "inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed",
           "authorizationError", "notWritable", "inconsistentName")
_GENERIC = ("coldStart", "warmStart", "linkDown", "linkUp", "authenticationFailure",
            "egpNeighborLoss", "enterpriseSpecific")
_ENTERPRISE_SPECIFIC = 6
_V1, _V2C, _V3 = 0, 1, 3
_U32, _U64 = (1 << 32) - 1, (1 << 64) - 1
_TRUNCATED = " [|snmp]"


class _Stop(Exception):
    """The line ends here: the complaint, or the mark of a cut capture, is printed."""


class _Elem:
    """One element: its tag, where its contents lie, its kind and its value."""

    __slots__ = ("end", "form", "id", "kind", "start", "tag_class", "value")

    def __init__(self, form: int, tag_class: int, ident: int, start: int, end: int) -> None:
        self.form, self.tag_class, self.id = form, tag_class, ident
        self.start, self.end = start, end
        self.kind, self.value = _ANY, 0


class _Reader:
    """The message: `p` as captured, each read bounded by the length left on the wire."""

    def __init__(self, p: bytes, out: list[str]) -> None:
        self.p, self.out = p, out

    def byte(self, at: int) -> int:
        if at >= len(self.p):
            self.stop(_TRUNCATED)
        return self.p[at]

    def stop(self, text: str) -> None:
        self.out.append(text)
        raise _Stop

    def parse(self, at: int, left: int) -> tuple[_Elem, int]:
        """The element at `at` with `left` bytes of the message after it on the wire, and the
        bytes it takes; complaints and the names of unusual types go to the line."""
        if left < 1:
            self.stop("[nothing to parse]")
        first = self.byte(at)
        ident, form, tag_class = first & 0x1F, (first & 0x20) >> 5, first >> 6
        at, left, head = at + 1, left - 1, 1
        if ident == 0x1F:  # the tag number follows, 7 bits a byte
            ident = 0
            while self.byte(at) & 0x80:
                if left < 1:
                    self.stop("[Xtagfield?]")
                ident = (ident << 7 | self.byte(at) & 0x7F) & 0xFF
                at, left, head = at + 1, left - 1, head + 1
            if left < 1:
                self.stop("[Xtagfield?]")
            ident = (ident << 7 | self.byte(at)) & 0xFF
            at, left, head = at + 1, left - 1, head + 1
        if left < 1:
            self.stop("[no asnlen]")
        size = self.byte(at)
        at, left, head = at + 1, left - 1, head + 1
        if size & 0x80:
            count, size = size & 0x7F, 0
            if left < count:
                self.stop(f"[asnlen? {left}<{count}]")
            if len(self.p) < at + count:
                self.stop(_TRUNCATED)
            for b in self.p[at:at + count]:
                size = (size << 8 | b) & _U32
            at, left, head = at + count, left - count, head + count
        if left < size:
            self.stop(f"[len{left}<asnlen{size}]")
        form_char = "PC"[form]
        if ident >= len(_IDS[tag_class]):
            self.stop(f"[id?{form_char}/{_CLASS_NAME}/{ident}]")
        if len(self.p) < at + size:
            self.stop(_TRUNCATED)
        elem = _Elem(form, tag_class, ident, at, at + size)
        self._classify(elem)
        return elem, head + size

    def _classify(self, e: _Elem) -> None:
        name = _IDS[e.tag_class][e.id]
        if not e.form:
            self._primitive(e, name)
        elif e.tag_class == _UNIVERSAL and e.id == _SEQUENCE:
            e.kind = _SEQ
        elif e.tag_class == _CONTEXT:
            e.kind = _PDU
        else:
            e.kind = _OCTET
            self.out.append(f"C/{'U' if e.tag_class == _UNIVERSAL else _CLASS_NAME}/{name}")

    def _primitive(self, e: _Elem, name: str) -> None:
        raw = self.p[e.start:e.end]
        if e.tag_class == _UNIVERSAL:
            if e.id == _INTEGER:
                if not raw:
                    self.stop("[asnlen=0]")
                value = _U32 if raw[0] & 0x80 else 0
                for b in raw:
                    value = (value << 8 | b) & _U32
                e.kind, e.value = _INT, value - (1 << 32) if value & 0x80000000 else value
            else:
                e.kind = _UNIVERSAL_KINDS.get(e.id, _OCTET)
                if e.kind == _OCTET:
                    self.out.append(f"[P/U/{name}]")
        elif e.tag_class == _APPLICATION:
            if e.id == _IPADDR:
                e.kind = _INETADDR
            elif e.id in _UNSIGNED32 or e.id == _COUNTER64:
                value = 0
                for b in raw:
                    value = (value << 8) + b
                e.kind, e.value = (_UNS, value & _U32) if e.id != _COUNTER64 else (_UNS64,
                                                                                  value & _U64)
            else:
                e.kind = _OCTET
                self.out.append(f"[P/A/{name}]")
        elif e.tag_class == _CONTEXT:
            if e.id < len(_EXCEPTIONS):
                e.kind = _EXCEPTION
        else:
            e.kind = _OCTET
            self.out.append(f"[P/{_CLASS_NAME}/{name}]")

    def show(self, e: _Elem) -> None:
        """tcpdump's asn1_print of an element already read."""
        raw = self.p[e.start:e.end]
        kind = e.kind
        if kind == _OCTET:
            self.out.append("".join(f"_{b:02x}" for b in raw))
        elif kind == _OID:
            self.out.append(_oid(raw))
        elif kind in (_INT, _UNS, _UNS64):
            self.out.append(str(e.value))
        elif kind == _STR:
            self.out.append(_string(raw))
        elif kind == _SEQ:
            self.out.append(f"Seq({len(raw)})")
        elif kind == _INETADDR:
            if len(raw) != 4:
                self.out.append("[inetaddr len!=4]")
            self.out.append(".".join(str(b) for b in raw))
        elif kind == _EXCEPTION:
            self.out.append(f"[{_EXCEPTIONS[e.id]}]")
        elif kind == _PDU:
            self.out.append(f"{_IDS[_CONTEXT][e.id]}({len(raw)})")
        elif kind == _ANY:
            self.out.append("[BE_ANY!?]")

    def expect(self, at: int, left: int, kind: int, complaint: str) -> tuple[_Elem, int]:
        """The element at `at`, which must be of `kind`; otherwise the complaint and the
        element end the line."""
        elem, count = self.parse(at, left)
        if elem.kind != kind:
            self.out.append(complaint)
            self.show(elem)
            raise _Stop
        return elem, count


def _oid(raw: bytes) -> str:
    """X.690's subidentifiers as tcpdump shows them: `.1.3.6.1.2.1.1.1.0`."""
    out, value, first = [], 0, True
    for b in raw:
        value = (value << 7 | (b & 0x7F)) & _U32
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


def _string(raw: bytes) -> str:
    """An OCTET STRING: quoted when all printable ASCII, else its bytes in hex."""
    if all(0x20 <= b < 0x7F for b in raw):
        return f'"{raw.decode("ascii")}"'
    return "_".join(f"{b:02x}" for b in raw)


def snmp(p: bytes, length: int) -> tuple[str, bool]:
    """` GetRequest(26)  .1.3.6.1.2.1.1.1.0`, ` C="private" SetRequest(...)`..."""
    out = [" "]
    r = _Reader(p, out)
    try:
        _message(r, length)
    except _Stop:
        return "".join(out), not out[-1].endswith(_TRUNCATED)
    return "".join(out), True


def _message(r: _Reader, length: int) -> None:
    seq, count = r.expect(0, length, _SEQ, "[!init SEQ]")
    if count < length:
        r.out.append(f"[{length - count} extra after iSEQ]")
    at, left = seq.start, seq.end - seq.start
    version, count = r.expect(at, left, _INT, "[version!=INT]")
    if version.value not in (_V1, _V2C, _V3):
        r.stop(f"SNMP [version = {version.value}]")
    at, left = at + count, left - count
    if version.value == _V3:
        r.stop(_TRUNCATED)
    community, count = r.expect(at, left, _STR, "[comm!=STR]")
    raw = r.p[community.start:community.end]
    if raw != b"public":
        r.out.append(f"C={_string(raw)} ")
    _pdu(r, version.value, at + count, left - count)


def _pdu(r: _Reader, version: int, at: int, left: int) -> None:
    pdu, count = r.parse(at, left)
    if pdu.kind != _PDU:
        r.stop("[no PDU]")
    if count < left:
        r.out.append(f"[{left - count} extra after PDU]")
    r.show(pdu)
    r.out.append(" ")
    if version == _V1 and pdu.id in _V2_ONLY:
        r.stop("[v2 PDU in v1 message]")
    if version == _V2C and pdu.id == _TRAP:
        r.stop("[v1 PDU in v2 message]")
    if pdu.id == _TRAP:
        _trap(r, pdu.start, pdu.end - pdu.start)
    else:
        _request(r, pdu.id, pdu.start, pdu.end - pdu.start)


def _request(r: _Reader, pdu: int, at: int, left: int) -> None:
    _, count = r.expect(at, left, _INT, "[reqId!=INT]")
    at, left = at + count, left - count
    status, count = r.expect(at, left, _INT, "[errorStatus!=INT]")
    at, left = at + count, left - count
    error = status.value
    if pdu in _NO_ERRORS and error:
        r.out.append(f"[errorStatus({_error(error)})!=0]")
    elif pdu == _BULK:
        r.out.append(f" N={error}")
    elif error:
        r.out.append(" " + _error(error))
    index, count = r.expect(at, left, _INT, "[errorIndex!=INT]")
    at, left = at + count, left - count
    if pdu in _NO_ERRORS and index.value:
        r.out.append(f"[errorIndex({index.value})!=0]")
    elif pdu == _BULK:
        r.out.append(f" M={index.value}")
    elif index.value:
        r.out.append(f"@{index.value}" if error
                     else f"[errorIndex({index.value}) w/o errorStatus]")
    elif error:
        r.out.append("[errorIndex==0]")
    _bindings(r, pdu, at, left)


def _error(status: int) -> str:
    return _ERRORS[status] if 0 <= status < len(_ERRORS) else f"err={status & _U32}"


def _trap(r: _Reader, at: int, left: int) -> None:
    r.out.append(" ")
    enterprise, count = r.expect(at, left, _OID, "[enterprise!=OID]")
    r.show(enterprise)
    at, left = at + count, left - count
    r.out.append(" ")
    agent, count = r.expect(at, left, _INETADDR, "[agent-addr!=INETADDR]")
    r.show(agent)
    at, left = at + count, left - count
    generic, count = r.expect(at, left, _INT, "[generic-trap!=INT]")
    g = generic.value
    r.out.append(" " + (_GENERIC[g] if 0 <= g < len(_GENERIC) else f"gt={g}"))
    at, left = at + count, left - count
    specific, count = r.expect(at, left, _INT, "[specific-trap!=INT]")
    if g == _ENTERPRISE_SPECIFIC:
        r.out.append(f" s={specific.value}")
    elif specific.value:
        r.out.append(f"[specific-trap({specific.value})!=0]")
    at, left = at + count, left - count
    r.out.append(" ")
    stamp, count = r.expect(at, left, _UNS, "[time-stamp!=TIMETICKS]")
    r.show(stamp)
    _bindings(r, _TRAP, at + count, left - count)


def _bindings(r: _Reader, pdu: int, at: int, left: int) -> None:
    seq, count = r.expect(at, left, _SEQ, "[!SEQ of varbind]")
    if count < left:
        r.out.append(f"[{left - count} extra after SEQ of varbind]")
    at, left = seq.start, seq.end - seq.start
    while left:
        r.out.append(" ")
        bind, count = r.expect(at, left, _SEQ, "[!varbind]")
        after, rest = at + count, left - count
        at, left = bind.start, bind.end - bind.start
        name, count = r.expect(at, left, _OID, "[objName!=OID]")
        r.show(name)
        at, left = at + count, left - count
        if pdu not in _NO_VALUES:
            r.out.append("=")
        value, count = r.parse(at, left)
        if pdu in _NO_VALUES:
            if value.kind != _NULL_T:
                r.out.append("[objVal!=NULL]")
                r.show(value)
        elif value.kind != _NULL_T:
            r.show(value)
        at, left = after, rest
