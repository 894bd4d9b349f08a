"""DNS messages summarised the way tcpdump prints them, parsed by hand.

A capture is often mostly DNS, and dpkt's DNS class builds an object per
record and raises on the first oddity, which costs more than the rest of a
packet's decoding and loses what was readable before the damage. tcpdump's
summary needs only the header counts, the first question and the answers'
types and data, so a direct walk over the bytes gives both the speed and the
partial output (`[|domain]`) for a truncated or hostile message.
"""

from __future__ import annotations

import contextlib
import socket
import struct

from rawtools.tools.sniff.walk import Fields

# Record types and the class summaries branch on (dpkt's names), and header flags.
DNS_A, DNS_NS, DNS_CNAME, DNS_PTR, DNS_MX, DNS_TXT = 1, 2, 5, 12, 15, 16
DNS_AAAA, DNS_SRV, DNS_DNAME, DNS_OPT = 28, 33, 39, 41
DNS_IN = 1
DNS_QR, DNS_AA, DNS_TC, DNS_RD, DNS_RA, DNS_AD, DNS_CD = (
    0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010)
_QR_HIGH = DNS_QR >> 8  # the QR bit in the flags' first byte
_NAME_DATA = (DNS_NS, DNS_CNAME, DNS_PTR, DNS_DNAME)  # rdata that is one name
_IQUERY = 1  # the opcode of an inverse query (RFC 1035, obsoleted by RFC 3425)
_POINTER = 0xC0  # a label length byte this high starts a compression pointer

_HDR = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_QQ = struct.Struct("!HH")
_H = struct.Struct("!H")

# The names of record types, classes, response codes and opcodes, by number
# as the IANA registry lists them.
TYPES = {
    1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
    10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP",
    18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP_PTR", 24: "SIG",
    25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID",
    32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6",
    39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
    46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM",
    52: "TLSA", 53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY",
    62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 100: "UINFO", 101: "UID",
    102: "GID", 103: "UNSPEC", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR",
    253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 32768: "TA", 32769: "DLV",
}
CLASSES = {1: "IN", 3: "CHAOS", 4: "HS", 255: "ANY"}  # tcpdump names no others (not NONE)
# tcpdump 4.99's names, its two missing spaces (17 and 21) included; past 23 it prints
# " Resp" and the number.
RCODES = {
    0: "", 1: " FormErr", 2: " ServFail", 3: " NXDomain", 4: " NotImp", 5: " Refused",
    6: " YXDomain", 7: " YXRRSet", 8: " NXRRSet", 9: " NotAuth", 10: " NotZone",
    15: " NoChange", 16: " BadVers", 17: "Resp17", 21: "Resp21", 23: " BadCookie",
}
OPCODES = {0: "", 1: " inv_q", 2: " stat", 3: " op3", 4: " notify", 5: " update",
           6: " op6", 7: " op7", 8: " op8", 9: " updateA", 10: " updateD", 11: " updateDA",
           12: " updateM", 13: " updateMA", 14: " zoneInit", 15: " zoneRef"}

# Printable ASCII except the backslash and the dot, which would be ambiguous
# inside a label and are escaped like the unprintable bytes.
_PLAIN = frozenset(range(0x21, 0x7F)) - {0x5C, 0x2E}
_PLAIN_BYTES = bytes(sorted(_PLAIN))
_MAX_HOPS = 64
_MAX_NAME = 255


class Truncated(Exception):
    """The message ends (or points) outside itself: print what came before."""


def type_name(rtype: int) -> str:
    return TYPES.get(rtype) or f"Type{rtype}"


def _label(raw: bytes) -> str:
    if not raw.translate(None, _PLAIN_BYTES):
        return raw.decode("ascii")
    return "".join(chr(b) if b in _PLAIN else f"\\{b:03d}" for b in raw)


def name(msg: bytes, off: int) -> tuple[str, int]:
    """(dotted name, offset after it) of the name at `off`, following pointers.

    Pointers are followed a bounded number of times because a crafted message
    can point a name at itself, and a name longer than DNS allows (255 bytes)
    is refused because a crafted one can chain thousands of labels.
    """
    labels: list[str] = []
    end = -1
    hops = 0
    size = 1
    n = len(msg)
    while True:
        if off >= n:
            raise Truncated
        ln = msg[off]
        if ln == 0:
            off += 1
            break
        if ln >= _POINTER:
            if off + 2 > n:
                raise Truncated
            if end < 0:
                end = off + 2
            hops += 1
            if hops > _MAX_HOPS:
                raise Truncated
            off = ((ln & 0x3F) << 8) | msg[off + 1]
            continue
        if ln >= 0x40:
            # Extended/bit-string labels (RFC 2673) were withdrawn; stop here.
            raise Truncated
        size += 1 + ln
        if off + 1 + ln > n or size > _MAX_NAME:
            raise Truncated
        labels.append(_label(msg[off + 1:off + 1 + ln]))
        off += 1 + ln
    text = ".".join(labels) + "." if labels else "."
    return text, (end if end >= 0 else off)


def skip_name(msg: bytes, off: int) -> int:
    """The offset after the name at `off`, for names that are not printed.

    Answers' owner names are almost always a pointer to the question, and
    tcpdump's summary does not show them, so they are stepped over, not read.
    """
    n = len(msg)
    while True:
        if off >= n:
            raise Truncated
        ln = msg[off]
        if ln == 0:
            return off + 1
        if ln >= _POINTER:
            if off + 2 > n:
                raise Truncated
            return off + 2
        if ln >= 0x40:
            raise Truncated
        off += 1 + ln


def _question_name(msg: bytes) -> tuple[str, int]:
    """The first question's name, from a cache when it is the usual uncompressed one.

    The same few names are asked and answered over and over; the raw bytes up
    to the root label identify a name that contains no pointer exactly.
    """
    end = msg.find(b"\0", 12) + 1
    if end > 12:
        raw = msg[12:end]
        text = _NAMES.get(raw)
        if text is not None:
            return text, end
        text, after = name(msg, 12)
        if after == end:
            if len(_NAMES) > 4096:
                _NAMES.clear()
            _NAMES[raw] = text
        return text, after
    return name(msg, 12)


_NAMES: dict[bytes, str] = {}


def _rdata(msg: bytes, rtype: int, off: int, rdlen: int) -> str:
    """What tcpdump shows after an answer's type in a one-line summary."""
    end = off + rdlen
    if end > len(msg):
        raise Truncated
    if rtype == DNS_A and rdlen == 4:
        return " " + socket.inet_ntop(socket.AF_INET, msg[off:end])
    if rtype == DNS_AAAA and rdlen == 16:
        return " " + socket.inet_ntop(socket.AF_INET6, msg[off:end])
    if rtype in _NAME_DATA:
        return " " + name(msg, off)[0]
    if rtype == DNS_MX and rdlen >= 3:
        return f" {name(msg, off + 2)[0]} {_H.unpack_from(msg, off)[0]}"
    if rtype == DNS_SRV and rdlen >= 7:
        prio, weight, port = struct.unpack_from("!HHH", msg, off)
        return f" {name(msg, off + 6)[0]}:{port} {prio} {weight}"
    if rtype == DNS_TXT:
        parts = []
        p = off
        while p < end:
            ln = msg[p]
            if p + 1 + ln > end:
                raise Truncated
            parts.append('"' + _label(msg[p + 1:p + 1 + ln]) + '"')
            p += 1 + ln
        return " " + " ".join(parts) if parts else ""
    return ""


# Flags a query should not carry (AA, TC, RA, Z, a response code): tcpdump shows
# the whole flags word when any is set.
_QUERY_ODD = 0x6CF


def _head_text(flags: int, qd: int, an: int, ns: int, ar: int, extended: int = 0) -> str:
    """The summary's text after the id and before the question: flags and counts.

    `extended`: the upper bits of a response's code, from its OPT record.
    """
    opcode = OPCODES[(flags >> 11) & 0xF]
    if flags & DNS_QR:
        rcode = extended << 4 | flags & 0xF
        return "".join((opcode, RCODES.get(rcode, f" Resp{rcode}"),
                        "*" if flags & DNS_AA else "", "" if flags & DNS_RA else "-",
                        "|" if flags & DNS_TC else "", "$" if flags & DNS_AD else "",
                        f" [{qd}q]" if qd != 1 else "", f" {an}/{ns}/{ar}"))
    return opcode + _query_counts(flags, qd, an, ns, ar)


def _query_counts(flags: int, qd: int, an: int, ns: int, ar: int) -> str:
    """A query's flags and the counts that are not what a query holds, in tcpdump's order."""
    out = ["+" if flags & DNS_RD else "", "%" if flags & DNS_CD else ""]
    if flags & _QUERY_ODD:
        out.append(f" [b2&3=0x{flags:x}]")
    if (flags >> 11) & 0xF == _IQUERY:
        # An inverse query asks with one answer and (normally) no question.
        out += [f" [{qd}q]" if qd else "", f" [{an}a]" if an != 1 else ""]
    else:
        out += [f" [{an}a]" if an else "", f" [{qd}q]" if qd != 1 else ""]
    out += [f" [{ns}n]" if ns else "", f" [{ar}au]" if ar else ""]
    return "".join(out)


_HEADS: dict[bytes, str] = {}
# Queries' text after the id, keyed by the message after the id (see summary()).
_QUERIES: dict[bytes, tuple[str, bool]] = {}
_CACHE_MAX = 4096
# An A or AAAA answer's text, keyed by its address (4 or 16 bytes: no clash).
_ADDRS: dict[bytes, str] = {}


def summary(msg: bytes, length: int, fields: Fields | None = None, *,
            mdns: bool = False, verbose: bool = False) -> tuple[str, bool]:
    """(tcpdump's one-line DNS summary of `msg`, whether it was whole).

    `length` is the on-wire size tcpdump puts in parentheses. Damage anywhere
    ends the summary with `[|domain]` so that the readable part is still shown.

    Clients ask the same few questions over and over, and a query's text
    after its id depends only on the bytes after the id, so it is cached,
    keyed by them. Only a compression pointer to offset 0 or 1 could read
    the id, and such a pointer (bytes C0 00 or C0 01) must then sit after the
    id: messages holding those bytes are not cached. Only whole messages
    (`length` is their own) are, as the text ends with that length. Answers
    are not cached: their TTLs make nearly every response new.

    `mdns`: the message came to or from multicast DNS's port, whose classes
    carry a flag in their top bit (RFC 6762 §5.4, §10.2): a question shows
    whether it asks for a unicast (QU) or multicast (QM) answer, an answer
    whether it flushes the cache. mDNS is never cached here: it is rare, and
    the same bytes mean another line on port 53.

    `verbose` (-v): each answer starts with its owner name, as tcpdump's -v
    shows it (queries read the same).
    """
    if length < _HDR.size:
        # Too short for a header by its own length: tcpdump names the protocol and says so.
        return f"domain [length {length} < {_HDR.size}] (invalid)", False
    if mdns or verbose:
        return _summary(msg, length, fields, mdns, verbose)
    if fields is None and len(msg) == length and length >= 12 and not msg[2] & _QR_HIGH:
        key = msg[2:]
        hit = _QUERIES.get(key)
        if hit is None:
            text, ok = _summary(msg, length, None)
            if b"\xc0\x00" not in key and b"\xc0\x01" not in key:
                if len(_QUERIES) >= _CACHE_MAX:
                    _QUERIES.clear()
                _QUERIES[key] = (text[len(str(msg[0] << 8 | msg[1])):], ok)
            return text, ok
        return f"{msg[0] << 8 | msg[1]}{hit[0]}", hit[1]
    return _summary(msg, length, fields)


def over_tcp(p: bytes, size: int, fields: Fields | None = None, *,
             verbose: bool = False) -> tuple[str, bool]:
    """DNS over TCP (RFC 1035 4.2.2), from the segment's payload (`size` on the wire).

    A two-byte length comes first; tcpdump prints the message after it only
    when that length is the rest of the segment (a message split over
    segments is called invalid), and after a space, not the colon of other
    payloads: the text starts with that space.
    """
    if size < 2:
        return f" [DNS over TCP: length {size} < 2] (invalid)", False
    if len(p) < 2:
        return " [|domain]", False
    prefix = p[0] << 8 | p[1]
    if prefix != size - 2:
        return f" [prefix length({prefix}) != length({size - 2})] (invalid)", False
    text, ok = summary(p[2:], size - 2, fields, verbose=verbose)
    return " " + text, ok


def _summary(msg: bytes, length: int, fields: Fields | None, mdns: bool = False,
             verbose: bool = False) -> tuple[str, bool]:
    """summary(), worked out from the bytes."""
    if len(msg) < 12:
        return " [|domain]", False  # cut by the capture: tcpdump's mark, with its space
    ident, flags, qd, an, ns, ar = _HDR.unpack_from(msg)
    dns: Fields | None = None
    if fields is not None:
        fields["dns"] = dns = {"id": ident, "qr": bool(flags & DNS_QR),
                               "opcode": (flags >> 11) & 0xF, "rcode": flags & 0xF,
                               "qd": qd, "an": an, "ns": ns, "ar": ar}
    extended = _extended_rcode(msg, qd, an + ns, ar) if ar and flags & DNS_QR else 0
    if extended:
        head = _head_text(flags, qd, an, ns, ar, extended)
    else:
        head = _HEADS.get(msg[2:12]) or _head(msg[2:12], flags, qd, an, ns, ar)
    out = [str(ident), head]
    try:
        if dns is not None and qd:
            with contextlib.suppress(Truncated, struct.error, IndexError, ValueError):
                qname, off = _question_name(msg)
                dns["qname"], dns["qtype"] = qname, type_name(_H.unpack_from(msg, off)[0])
        off = 12
        if flags & DNS_QR:
            # A response's questions are stepped over, their type and class unread;
            # tcpdump prints the counts after them, so a cut there leaves them out.
            try:
                for _ in range(qd):
                    off = skip_name(msg, off) + 4
            except Truncated:
                out[1] = head[:-len(f" {an}/{ns}/{ar}")]
                raise
            answers: list[str] | None = [] if dns is not None else None
            left = _answers(msg, off, an, out, answers, mdns, verbose)
            if dns is not None:
                dns["answers"] = answers
            if left:
                raise Truncated
        else:
            # A query shows every question it asks.
            for i in range(qd):
                qname, off = _question_name(msg) if i == 0 else name(msg, off)
                qtype, qclass = _QQ.unpack_from(msg, off)
                off += 4
                out.append(f" {type_name(qtype)}{_question_class(qclass, mdns)}? {qname}")
    except (Truncated, struct.error, IndexError, ValueError):
        out.append(" [|domain]")
        return "".join(out), False
    out.append(f" ({length})")
    return "".join(out), True


def _extended_rcode(msg: bytes, qd: int, records: int, ar: int) -> int:
    """The upper eight bits of the response code, from the first OPT record's TTL
    (RFC 6891 §6.1.3); 0 without one.

    tcpdump looks for it before printing anything, stepping over the
    questions and the answer and authority `records` to the additional ones,
    and gives up quietly where the message (as captured) ends first.
    """
    n = len(msg)
    off = 12
    try:
        for _ in range(qd):
            off = skip_name(msg, off) + 4
            if off >= n:
                return 0
        for i in range(records + ar):
            off = skip_name(msg, off)
            if i >= records:
                if off + 2 > n:
                    return 0
                if msg[off] << 8 | msg[off + 1] == DNS_OPT:
                    return msg[off + 4] if off + 5 <= n else 0
            off += 8
            if off + 2 > n:
                return 0
            off += 2 + (msg[off] << 8 | msg[off + 1])
            if off >= n:
                return 0
    except Truncated:
        return 0
    return 0


def _head(raw: bytes, flags: int, qd: int, an: int, ns: int, ar: int) -> str:
    """`_head_text`, cached by `raw`, the header after the id.

    Everything between the id and the question depends only on the flags and
    counts, and the same few combinations recur.
    """
    if len(_HEADS) > _CACHE_MAX:
        _HEADS.clear()
    head = _HEADS[raw] = _head_text(flags, qd, an, ns, ar)
    return head


_MDNS_FLAG = 0x8000  # a class's top bit in mDNS: unicast response (QU), cache flush


def _class_text(rclass: int) -> str:
    """A class's name, or its number: outside mDNS the top bit is part of the number."""
    return CLASSES.get(rclass) or f"(Class {rclass})"


def _question_class(qclass: int, mdns: bool) -> str:
    """What follows a question's type: its class unless IN; in mDNS, QU or QM too."""
    if not mdns:
        return "" if qclass == DNS_IN else " " + _class_text(qclass)
    cls = qclass & ~_MDNS_FLAG
    text = "" if cls == DNS_IN else " " + _class_text(cls)
    return text + (" (QU)" if qclass & _MDNS_FLAG else " (QM)")


def _answers(msg: bytes, off: int, an: int, out: list[str], answers: list[str] | None,
             mdns: bool = False, owners: bool = False) -> int:
    """The answers' text into `out` (and each, stripped, into `answers`); `owners`
    starts each with its owner name (-v). Returns how many answers were left
    unread where the capture ended the section (tcpdump then marks the cut).

    Like tcpdump, an answer whose owner name or fixed fields the capture cut
    prints nothing and ends the section quietly: a comma before it may be the
    line's last word, and only answers still counted after it make a cut.
    """
    n = len(msg)
    for i in range(an):
        if i:
            if off >= n:
                return an - i
            out.append(",")
        owner = ""
        if owners:
            owner, off = name(msg, off)
            owner = " " + owner
        else:
            try:
                # The owner name is nearly always one pointer to the question.
                off = off + 2 if off + 2 <= n and msg[off] >= _POINTER else skip_name(msg, off)
            except Truncated:
                return an - i - 1
        if off + 10 > n:
            return an - i - 1
        rtype, rclass, _, rdlen = _RR.unpack_from(msg, off)
        off += 10
        end = off + rdlen
        # The usual answers, addresses, without the general walk.
        if rclass == DNS_IN and end <= n and ((rtype == DNS_A and rdlen == 4)
                                              or (rtype == DNS_AAAA and rdlen == 16)):
            raw = msg[off:end]
            text = owner + (_ADDRS.get(raw) or _address_answer(raw))
        else:
            # tcpdump names the class (unless IN) and mDNS's cache flush before the type.
            cls = rclass & ~_MDNS_FLAG if mdns else rclass
            text = owner + (" " + _class_text(cls) if cls != DNS_IN and rtype != DNS_OPT else "")
            if mdns and rclass & _MDNS_FLAG:
                text += " (Cache flush)"
            text += " " + type_name(rtype)
            try:
                text += _rdata(msg, rtype, off, rdlen)
            except (Truncated, struct.error, IndexError, ValueError):
                out.append(text)  # tcpdump has named the type before it reads the data
                raise
        off = end
        out.append(text)
        if answers is not None:
            answers.append(text.strip())
    return 0


def _address_answer(raw: bytes) -> str:
    """An A or AAAA answer's text (` A 198.18.0.5`) for a 4- or 16-byte address, cached."""
    if len(_ADDRS) >= _CACHE_MAX:
        _ADDRS.clear()
    text = _ADDRS[raw] = (" A " + socket.inet_ntop(socket.AF_INET, raw) if len(raw) == 4
                          else " AAAA " + socket.inet_ntop(socket.AF_INET6, raw))
    return text
