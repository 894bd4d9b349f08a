"""GRE (IP protocol 47, RFC 2784/2890, and PPTP's enhanced GRE, RFC 2637): its header.

tcpdump prints the header's key, sequence and acknowledgement numbers, the
length, and then the payload on the same line; which payloads it decodes
(IPv4, IPv6, Ethernet) is the IP layer's business, so `header` only says
where the payload starts and what its EtherType is.
"""

from __future__ import annotations

import struct

# Flag bits of the first 16 bits: checksum, routing, key, sequence, (v1) ack present.
GRE_CP, GRE_RP, GRE_KP, GRE_SP, GRE_AP = 0x8000, 0x4000, 0x2000, 0x1000, 0x0080
_VERSION = 0x0007
_HH = struct.Struct("!HH")
_I = struct.Struct("!I")
_TRUNCATED = " [|gre]"


def header(p: bytes, length: int) -> tuple[str, int, int, bool]:
    """(the text up to the payload, the payload's EtherType, where it starts, ok).

    The EtherType is -1 when no payload is to be printed: the header was cut
    short or lied about its length (the text then ends in tcpdump's mark), it
    is of an unknown version, or it is a PPTP packet without a sequence
    number (`no-payload`). The text ends with `: ` when a payload follows.
    """
    if length < 2 or len(p) < 2:
        return _TRUNCATED, -1, 0, False
    flags = p[0] << 8 | p[1]
    version = flags & _VERSION
    if version > 1:
        return f"GREv{version} ERROR: unknown-version", -1, 0, True
    if length < 4 or len(p) < 4:
        return f"GREv{version}" + _TRUNCATED, -1, 0, False
    proto = p[2] << 8 | p[3]
    fields, o = (_fields0 if version == 0 else _fields1)(p, length, flags)
    text = f"GREv{version}" + "".join(fields)
    if o < 0:
        return text + _TRUNCATED, -1, 0, False
    text += f", length {length}"
    if version == 1 and not flags & GRE_SP:
        return text, -1, 0, True
    return text + ": ", proto, o, True


def _fields0(p: bytes, length: int, flags: int) -> tuple[list[str], int]:
    """Version 0's optional fields as tcpdump prints them, and where the payload starts
    (-1: the packet ends inside them)."""
    fields: list[str] = []
    o = 4
    if flags & (GRE_CP | GRE_RP):
        if length < o + 4 or len(p) < o + 4:
            return fields, -1
        fields.append(f", off 0x{_HH.unpack_from(p, o)[1]:x}")
        o += 4
    for bit, name in ((GRE_KP, ", key=0x{:x}"), (GRE_SP, ", seq {}")):
        if flags & bit:
            if length < o + 4 or len(p) < o + 4:
                return fields, -1
            fields.append(name.format(_I.unpack_from(p, o)[0]))
            o += 4
    if flags & GRE_RP:
        return fields, _source_routes(p, length, o, fields)
    return fields, o


def _source_routes(p: bytes, length: int, o: int, fields: list[str]) -> int:
    """RFC 1701's source route entries from `o`, as tcpdump prints them, up to the empty
    one that ends the list; where the payload starts, or -1 when the packet ends first."""
    while True:
        if length < o + 4 or len(p) < o + 4:
            return -1
        af, sreoff, srelen = _HH.unpack_from(p, o)[0], p[o + 2], p[o + 3]
        o += 4
        if af == 0 and srelen == 0:
            return o
        text, whole = _route_entry(p[o:length], af, sreoff, srelen)
        fields.append(text)
        if not whole or length < o + srelen:
            return -1
        o += srelen


# Address families of a source route entry tcpdump decodes: IPv4 addresses and AS numbers.
_SRE_IP, _SRE_ASN = 0x0800, 0xFFFE


def _route_entry(p: bytes, af: int, sreoff: int, srelen: int) -> tuple[str, bool]:
    """`, (rtaf=ip 198.18.0.1 *198.18.0.2)`: one entry's addresses, the one `sreoff` points
    at starred; False when they run past the packet."""
    if af not in (_SRE_IP, _SRE_ASN):
        return f", (rtaf=0x{af:x})", True
    size, name = (4, "ip") if af == _SRE_IP else (2, "asn")
    text = f", (rtaf={name}"
    if sreoff % size:
        return f"{text}, badoffset={sreoff})", True
    if srelen % size:
        return f"{text}, badlength={srelen})", True
    if sreoff >= srelen:
        return f"{text}, badoff/len={sreoff}/{srelen})", True
    for at in range(0, srelen, size):
        if len(p) < at + size:
            return text + ")", False
        item = p[at:at + size]
        shown = ".".join(map(str, item)) if size == 4 else f"{int.from_bytes(item, 'big'):x}"
        text += f" {'*' if at == sreoff else ''}{shown}"
    return text + ")", True


def _fields1(p: bytes, length: int, flags: int) -> tuple[list[str], int]:
    """Enhanced GRE's (PPTP) call id, sequence and ack numbers, as `_fields0`."""
    fields: list[str] = []
    o = 4
    for bit, name, mask in ((GRE_KP, ", call {}", 0xFFFF), (GRE_SP, ", seq {}", 0xFFFFFFFF),
                            (GRE_AP, ", ack {}", 0xFFFFFFFF)):
        if flags & bit:
            if length < o + 4 or len(p) < o + 4:
                return fields, -1
            fields.append(name.format(_I.unpack_from(p, o)[0] & mask))
            o += 4
    if not flags & GRE_SP:
        fields.append(", no-payload")
    return fields, o
