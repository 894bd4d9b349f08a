"""ICMP and ICMPv6 messages in tcpdump's words.

Errors name the datagram they quote (`198.18.1.2 udp port 33434 unreachable`),
because that is what someone reading a trace needs; the quote is read with
fixed offsets and anything cut short simply drops the detail, never the line.
"""

from __future__ import annotations

import socket
import struct

from rawtools.tools.sniff.dump import dump
from rawtools.tools.sniff.walk import TRUNCATED
from rawtools.wire.icmp import (
    ICMP6_ECHO,
    ICMP6_ECHOREPLY,
    ICMP6_MLD_QUERY,
    ICMP6_MLDV2_REPORT,
    ICMP6_ND_NEIGHBOR_ADVERT,
    ICMP6_ND_NEIGHBOR_SOLICIT,
    ICMP6_ND_REDIRECT,
    ICMP6_PACKET_TOO_BIG,
    ICMP6_PARAM_PROB,
    ICMP6_TIME_EXCEED_REASSEMBLY,
    ICMP6_TIME_EXCEEDED,
    ICMP6_UNREACH,
    ICMP6_UNREACH_NOPORT,
    ICMP_ECHO,
    ICMP_ECHOREPLY,
    ICMP_MASKREPLY,
    ICMP_PARAMPROB,
    ICMP_REDIRECT,
    ICMP_TIMXCEED,
    ICMP_TIMXCEED_REASS,
    ICMP_TSTAMP,
    ICMP_TSTAMPREPLY,
    ICMP_UNREACH,
    ICMP_UNREACH_NEEDFRAG,
    ICMP_UNREACH_PORT,
    ICMP_UNREACH_PROTOCOL,
)
from rawtools.wire.ip import PROTO_DSTOPTS, PROTO_HOPOPTS, PROTO_ROUTING, PROTO_TCP, PROTO_UDP

_HH = struct.Struct("!HH")
_H = struct.Struct("!H")
_I = struct.Struct("!I")


def ntop4(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET, raw)


def ntop6(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, raw)


# Names and texts by type or code, as the IANA registries list them.
_UNREACH4 = {
    0: "net {} unreachable",
    1: "host {} unreachable",
    4: "{} unreachable - need to frag",
    5: "{} unreachable - source route failed",
    6: "net {} unreachable - unknown",
    7: "host {} unreachable - unknown",
    8: "{} unreachable - source host isolated",
    9: "net {} unreachable - admin prohibited",
    10: "host {} unreachable - admin prohibited",
    11: "net {} unreachable - tos prohibited",
    12: "host {} unreachable - tos prohibited",
    13: "host {} unreachable - admin prohibited filter",
    14: "host {} unreachable - host precedence violation",
    15: "host {} unreachable - precedence cutoff",
}
_REDIRECT4 = {0: "net", 1: "host", 2: "tos net", 3: "tos host"}
_SIMPLE4 = {
    4: "source quench",
    9: "router advertisement",
    10: "router solicitation",
    15: "information request",
    16: "information reply",
    17: "address mask request",
}
_PROTO_NAMES = {PROTO_TCP: "tcp", PROTO_UDP: "udp"}
_ECHO4 = (ICMP_ECHOREPLY, ICMP_ECHO)
_TSTAMP4 = (ICMP_TSTAMP, ICMP_TSTAMPREPLY)
_ECHO6 = (ICMP6_ECHO, ICMP6_ECHOREPLY)
_NEIGHBOR6 = (ICMP6_ND_NEIGHBOR_SOLICIT, ICMP6_ND_NEIGHBOR_ADVERT)
# IPv6 extension headers a quoted datagram's port may sit behind.
_QUOTE_EXT6 = (PROTO_HOPOPTS, PROTO_ROUTING, PROTO_DSTOPTS)


def _quoted4(msg: bytes, off: int) -> tuple[str, int, bytes]:
    """(dst, proto, first transport bytes) of the IPv4 datagram an error quotes; a quote
    the message does not hold is a cut (IndexError)."""
    q = off + 8
    if len(msg) < q + 20:
        raise IndexError("quote cut")
    hl = (msg[q] & 15) * 4
    return ntop4(msg[q + 16:q + 20]), msg[q + 9], msg[q + hl:q + hl + 8]


CUT4 = " [|icmp]"  # an ICMP message's whole text when anything it needs is missing


def icmp4(msg: bytes, off: int, length: int) -> str:
    """The text after "IP a > b: " for the ICMP message at `off` (`length` bytes long, as
    the IPv4 header says).

    tcpdump builds the whole line before printing it and reads no further
    than the message's own length: a message too short for anything its type
    holds (the quoted datagram of an error included), by its length or by
    the capture, prints only the ` [|icmp]` mark.
    """
    end = off + length
    if len(msg) > end:
        msg = msg[:end]
    try:
        return _icmp4_body(msg, off, length)
    except TRUNCATED:
        return CUT4


def _icmp4_body(msg: bytes, off: int, length: int) -> str:
    """icmp4(), from bytes that end where the message does."""
    typ, code = msg[off], msg[off + 1]
    if typ in _ECHO4:
        ident, seq = _HH.unpack_from(msg, off + 4)
        kind = "echo request" if typ == ICMP_ECHO else "echo reply"
        return f"ICMP {kind}, id {ident}, seq {seq}, length {length}"
    if typ == ICMP_UNREACH:
        quote = _quoted4(msg, off)
        dst = quote[0]
        if code == ICMP_UNREACH_PORT and quote[1] in _PROTO_NAMES:
            port = _H.unpack_from(quote[2], 2)[0]
            text = f"{dst} {_PROTO_NAMES[quote[1]]} port {port} unreachable"
        elif code == ICMP_UNREACH_PROTOCOL:
            text = f"{dst} protocol {quote[1]} unreachable"
        elif code == ICMP_UNREACH_NEEDFRAG:
            mtu = _H.unpack_from(msg, off + 6)[0]
            text = f"{dst} unreachable - need to frag" + (f" (mtu {mtu})" if mtu else "")
        else:
            text = _UNREACH4.get(code, "{} unreachable - #" + str(code)).format(dst)
        return f"ICMP {text}, length {length}"
    if typ == ICMP_TIMXCEED:
        what = ("ip reassembly time exceeded" if code == ICMP_TIMXCEED_REASS
                else "time exceeded in-transit")
        return f"ICMP {what}, length {length}"
    if typ == ICMP_REDIRECT:
        quote = _quoted4(msg, off)
        kind = _REDIRECT4.get(code, f"#{code}")
        return f"ICMP redirect {quote[0]} to {kind} {ntop4(msg[off + 4:off + 8])}, length {length}"
    if typ == ICMP_PARAMPROB:
        return f"ICMP parameter problem - octet {msg[off + 4]}, length {length}"
    if typ in _TSTAMP4:
        ident, seq = _HH.unpack_from(msg, off + 4)
        kind = "query" if typ == ICMP_TSTAMP else "reply"
        return f"ICMP time stamp {kind} id {ident} seq {seq}, length {length}"
    if typ == ICMP_MASKREPLY:
        return f"ICMP address mask is 0x{_I.unpack_from(msg, off + 4)[0]:08x}, length {length}"
    name = _SIMPLE4.get(typ)
    return f"ICMP {name or f'type-#{typ}'}, length {length}"


_TYPES6 = {
    1: "destination unreachable", 2: "packet too big", 3: "time exceeded in-transit",
    4: "parameter problem", 128: "echo request", 129: "echo reply",
    130: "multicast listener query", 131: "multicast listener report",
    132: "multicast listener done", 133: "router solicitation", 134: "router advertisement",
    135: "neighbor solicitation", 136: "neighbor advertisement", 137: "redirect",
    138: "router renumbering", 139: "node information query", 140: "node information reply",
    141: "inverse neighbor solicitation", 142: "inverse neighbor advertisement",
    143: "multicast listener report v2", 144: "ha discovery request",
    145: "ha discovery reply", 146: "mobile router solicitation",
    147: "mobile router advertisement", 151: "multicast router advertisement",
    152: "multicast router solicitation", 153: "multicast router termination", 155: "RPL",
}
ICMP6_RPL = 155  # RPL's control messages (RFC 6550), the kind in the code
_RPL_NAMES = {0: "DODAG Information Solicitation", 1: "DODAG Information Object",
              2: "Destination Advertisement Object", 3: "Destination Advertisement Object Ack"}
_RPL_SECURED = 0x80


def _rpl(code: int) -> str:
    """`(CLR)Destination Advertisement Object`: tcpdump names the message in the clear,
    and leaves a secured one (the code's top bit) undecoded."""
    if code & _RPL_SECURED:
        return "(SEC) [worktodo]"
    name = _RPL_NAMES.get(code)
    return "(CLR)" + (name or f"RPL message, unknown code {code}")


_UNREACH6 = {0: "unreachable route", 1: "unreachable prohibited", 2: "beyond scope",
             3: "unreachable address", 4: "unreachable port"}
_PARAM6 = {0: "errorneous", 1: "next header", 2: "option"}


def _quoted6_port(msg: bytes, q: int) -> tuple[str, int, int] | None:
    """(dst, proto, dport) of an IPv6 datagram quoted at `q`, extension headers skipped."""
    if len(msg) < q + 40:
        return None
    nxt, p = msg[q + 6], q + 40
    while nxt in _QUOTE_EXT6 and len(msg) >= p + 8:
        nxt, p = msg[p], p + (msg[p + 1] + 1) * 8
    if nxt not in _PROTO_NAMES or len(msg) < p + 4:
        return None
    return ntop6(msg[q + 24:q + 40]), nxt, _H.unpack_from(msg, p + 2)[0]


def icmp6(msg: bytes, off: int, length: int) -> str:
    """The text after "IP6 a > b: " for the ICMPv6 message at `off` (`length` bytes long,
    as the IPv6 header says).

    tcpdump reads no further than the message's own length, even where the
    frame goes on: a message too short for what its type holds, or cut by the
    capture, is named and marked; an empty one is invalid.
    """
    if length == 0:
        return "ICMP6, length 0 (invalid)"
    end = off + length
    if len(msg) > end:
        msg = msg[:end]
    if len(msg) <= off:
        return " [|icmp6]"
    typ = msg[off]
    head = f"ICMP6, {_TYPES6.get(typ) or f'unknown icmp6 type ({typ})'}"
    try:
        return _icmp6_body(msg, off, length, typ, head)
    except TRUNCATED:
        return f"{head} [|icmp6]"


def _icmp6_body(msg: bytes, off: int, length: int, typ: int, head: str) -> str:
    """icmp6() after the type's name, from bytes that end where the message does."""
    code = msg[off + 1]
    if typ in _ECHO6:
        ident, seq = _HH.unpack_from(msg, off + 4)
        return f"{head}, id {ident}, seq {seq}, length {length}"
    if typ in _NEIGHBOR6:
        target = ntop6(msg[off + 8:off + 24]) if len(msg) >= off + 24 else None
        if target is None:
            return f"{head} [|icmp6]"
        what = "who has" if typ == ICMP6_ND_NEIGHBOR_SOLICIT else "tgt is"
        return f"{head}, {what} {target}, length {length}"
    if typ == ICMP6_UNREACH:
        return f"{head}, {_unreach6(msg, off, code)}, length {length}"
    if typ == ICMP6_PACKET_TOO_BIG:
        return f"{head}, mtu {_I.unpack_from(msg, off + 4)[0]}, length {length}"
    if typ == ICMP6_TIME_EXCEEDED:
        if code == ICMP6_TIME_EXCEED_REASSEMBLY:
            return f"{head} (reassembly), length {length}"
        if len(msg) >= off + 48:
            return f"{head} for {ntop6(msg[off + 32:off + 48])}, length {length}"
        return f"{head}, length {length}"
    if typ == ICMP6_PARAM_PROB:
        pointer = _I.unpack_from(msg, off + 4)[0]
        return f"{head}, {_PARAM6.get(code, f'code-#{code}')} - octet {pointer}, length {length}"
    if typ == ICMP6_ND_REDIRECT and len(msg) >= off + 40:
        return (f"{head}, {ntop6(msg[off + 8:off + 24])} to {ntop6(msg[off + 24:off + 40])},"
                f" length {length}")
    if typ == ICMP6_RPL:
        return f"{head}, {_rpl(code)}, length {length}"
    if typ == ICMP6_MLDV2_REPORT:
        return f"{head}, {_H.unpack_from(msg, off + 6)[0]} group record(s), length {length}"
    if typ == ICMP6_MLD_QUERY and length >= 28 and len(msg) >= off + 24:
        return f"{head} v2 [gaddr {ntop6(msg[off + 8:off + 24])}], length {length}"
    return f"{head}, length {length}"


# The types tcpdump gives their length right after the name at -v, as their
# options follow on lines of their own: router solicitation and advertisement,
# neighbour solicitation and advertisement, redirect, and Mobile IPv6's home
# agent discovery reply and prefix advertisement.
_ND6 = (133, 134, ICMP6_ND_NEIGHBOR_SOLICIT, ICMP6_ND_NEIGHBOR_ADVERT, ICMP6_ND_REDIRECT, 145,
        147)
# Where each ND message's options start, after its fixed part.
_ND6_OPTIONS_AT = {133: 8, 134: 16, ICMP6_ND_NEIGHBOR_SOLICIT: 24, ICMP6_ND_NEIGHBOR_ADVERT: 24,
                   ICMP6_ND_REDIRECT: 40}
_NA_FLAGS = ((0x80, "router"), (0x40, "solicited"), (0x20, "override"))
_LINK_ADDRESS_OPTIONS = {1: "source link-address", 2: "destination link-address"}


def icmp6_verbose(msg: bytes, off: int, length: int, verbose: int) -> str:
    """icmp6()'s text as -v shows it: no length at the end; the ND messages' length after
    their name, a neighbour advertisement's flags, and their link-address options on
    lines of their own (with their bytes from -vv on)."""
    text = icmp6(msg, off, length)
    tail = f", length {length}"
    if not text.endswith(tail):
        return text  # cut short ([|icmp6]): as without -v
    text = text[:-len(tail)]
    typ = msg[off]
    if typ not in _ND6:
        return text
    head = f"ICMP6, {_TYPES6[typ]}"
    text = head + tail + text[len(head):]
    if typ == ICMP6_ND_NEIGHBOR_ADVERT:
        flags = msg[off + 4]
        text += ", Flags [" + (", ".join(n for bit, n in _NA_FLAGS if flags & bit) or "none") + "]"
    at = _ND6_OPTIONS_AT.get(typ)
    return text if at is None else text + _nd_options(msg[off + at:off + length], verbose)


def _nd_options(opts: bytes, verbose: int) -> str:
    """The link-address options' lines; the first other option ends the walk."""
    out = []
    while len(opts) >= 2 and opts[1]:
        kind, size = opts[0], opts[1] * 8
        name = _LINK_ADDRESS_OPTIONS.get(kind)
        if name is None or len(opts) < size:
            break
        value = opts[2:size]
        out.append(f"\n\t  {name} option ({kind}), length {size} ({opts[1]}): "
                   + ":".join(f"{b:02x}" for b in value))
        if verbose > 1:
            out.append(dump(value, "x").replace("\n\t", "\n\t    "))
        opts = opts[size:]
    return "".join(out)


def _unreach6(msg: bytes, off: int, code: int) -> str:
    """What a destination unreachable says, with the port or address it quotes."""
    text = _UNREACH6.get(code, f"unknown unreach code ({code})")
    if code == ICMP6_UNREACH_NOPORT:
        quote = _quoted6_port(msg, off + 8)
        if quote:
            text += f", {quote[0]} {_PROTO_NAMES[quote[1]]} port {quote[2]}"
    elif len(msg) >= off + 48:
        text += " " + ntop6(msg[off + 32:off + 48])
    return text
