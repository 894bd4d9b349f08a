"""IPv6 extension headers tcpdump decodes on the first line: routing, hop-by-hop, destination
options, and the Mobility Header (RFC 6275), which ends the chain.

Each function takes the header's bytes up to the end of what was captured
(and no further than the IPv6 payload length) and answers (text, length). A
length of 0 says the line ends with the text: the header was cut (tcpdump's
`[|rt6]`-style mark) or is invalid. tcpdump names a cut header after the
printer that was reading, so the mark differs from header to header.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.reader import Cut, ip6, uint

_RT_DEPRECATED, _RT_MOBILE, _RT_SRH = 0, 2, 4
# Hop-by-hop options tcpdump checks without -v: router alert, jumbo payload, home address;
# each with the least room it needs and the length byte it insists on (None: at least).
_PAD1, _RTALERT, _JUMBO, _HOMEADDR = 0, 5, 0xC2, 0xC9
_OPT_RULES = {_RTALERT: ("rtalert", 4, 2, True), _JUMBO: ("jumbo", 6, 4, True),
              _HOMEADDR: ("homeaddr", 18, 16, False)}
# Mobility Header message types: name, and the least header length tcpdump accepts.
_MH_TYPES = {0: ("BRR", 8), 1: ("HoTI", 16), 2: ("CoTI", 16), 3: ("HoT", 24), 4: ("CoT", 24),
             5: ("BU", 12), 6: ("BA", 12), 7: ("BE", 24)}
_BU_BITS = ((0x8, "A"), (0x4, "H"), (0x2, "L"), (0x1, "K"))


# -- routing header ---------------------------------------------------------------


def routing(p: bytes, verbose: int) -> tuple[str, int]:
    """`RT6 (len=4, type=4, segleft=1, last-entry=1, tag=0, [0]a::1, [1]b::2)`.

    tcpdump names the header before reading it, so a cut one still says
    `RT6`; with not one byte of it captured the mark is IPv6's.
    """
    if not p:
        return " [|ip6]", 0
    parts = ["RT6"]
    try:
        ln = uint(p, 1)
        parts.append(f" (len={ln}")
        typ = uint(p, 2)
        parts.append(f", type={typ}" + (" [Deprecated]" if typ == _RT_DEPRECATED else ""))
        parts.append(f", segleft={uint(p, 3)}")
        if typ in (_RT_DEPRECATED, _RT_MOBILE):
            rsv = uint(p, 4, 4)
            if rsv or verbose:
                parts.append(f", rsv=0x{rsv:x}")
        elif typ == _RT_SRH:
            _srh_fields(p, verbose, parts)
        else:
            return "".join(parts) + " (unknown type) (invalid)", 0
        if ln % 2:
            return "".join(parts) + f" (invalid length {ln}) (invalid)", 0
        for i in range(ln // 2):
            parts.append(f", [{i}]{ip6(p, 8 + 16 * i)}")
    except Cut:
        return "".join(parts) + " [|rt6]", 0
    return "".join(parts) + ")", (ln + 1) * 8


def _srh_fields(p: bytes, verbose: int, parts: list[str]) -> None:
    """The Segment Routing Header's (RFC 8754) fields before its segment list."""
    parts.append(f", last-entry={uint(p, 4)}")
    flags = uint(p, 5)
    if flags or verbose:
        parts.append(f", flags=0x{flags:x}")
    parts.append(f", tag={uint(p, 6, 2):x}")


# -- hop-by-hop and destination options ----------------------------------------------


def hop_by_hop(p: bytes) -> tuple[str, int]:
    """`HBH`: tcpdump checks the options even without -v, and marks the header cut when
    one of them runs past it or has the wrong length for its type."""
    size = _options_size(p)
    if size == 0:
        return " [|hbhopt]", 0
    problem = option_problem(p[2:size])
    if problem is not None:
        return f"HBH {problem} [|hbhopt]", 0
    return "HBH", size


def destination(p: bytes, verbose: int) -> tuple[str, int]:
    """`DSTOPT`: the whole header must be captured; its options are checked at -v only."""
    size = _options_size(p)
    if size == 0:
        return " [|dstopt]", 0
    problem = option_problem(p[2:size]) if verbose else None
    if problem is not None:
        return f"DSTOPT {problem} [|dstopt]", 0
    return "DSTOPT", size


def _options_size(p: bytes) -> int:
    """An options header's length when all of it was captured, else 0."""
    if len(p) < 2:
        return 0
    size = (p[1] + 1) * 8
    return size if len(p) >= size else 0


def option_problem(opts: bytes) -> str | None:
    """What tcpdump says of the first option it rejects ('' when it says nothing but
    the mark), or None when all are well formed."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == _PAD1:
            i += 1
            continue
        if i + 1 >= len(opts):
            return ""
        size = opts[i + 1] + 2
        if i + size > len(opts):
            return ""
        rule = _OPT_RULES.get(kind)
        if rule is not None:
            name, room, want, exact = rule
            if len(opts) - i < room:
                return f"({name}: trunc)"
            if (opts[i + 1] != want) if exact else (opts[i + 1] < want):
                return f"({name}: invalid len {opts[i + 1]})"
        i += size
    return None


# -- Mobility Header ------------------------------------------------------------------


def mobility(p: bytes) -> tuple[str, bool]:
    """`mobility: BU seq#=116 A lifetime=15360`: the message's type and its fixed fields
    (its options only at -v). The Mobility Header ends tcpdump's line, whatever its
    payload-protocol field says."""
    if len(p) < 3:
        return " [|mobility]", False
    mhlen, typ = (p[1] + 1) * 8, p[2]
    known = _MH_TYPES.get(typ)
    if known is not None and mhlen < known[1]:
        return f"(header length {mhlen} is too small for type {typ}) [|mobility]", False
    parts = [f"mobility: {known[0] if known else f'type-#{typ}'}"]
    try:
        _mh_fields(p, typ, parts)
    except Cut:
        return "".join(parts) + " [|mobility]", False
    return "".join(parts), True


def _mh_fields(p: bytes, typ: int, parts: list[str]) -> None:
    """The fields tcpdump shows of each message type without -v."""
    if typ in (3, 4):  # home test, care-of test
        parts.append(f" nonce id=0x{uint(p, 6, 2):x}")
    elif typ == 5:  # binding update
        parts.append(f" seq#={uint(p, 6, 2)}")
        bits = uint(p, 8, 2) >> 12
        if bits:
            parts.append(" " + "".join(n for bit, n in _BU_BITS if bits & bit))
        parts.append(f" lifetime={uint(p, 10, 2) << 2}")
    elif typ == 6:  # binding acknowledgement
        parts.append(f" status={uint(p, 6)}")
        if uint(p, 7) & 0x80:
            parts.append(" K")
        parts.append(f" seq#={uint(p, 8, 2)}")
        parts.append(f" lifetime={uint(p, 10, 2) << 2}")
    elif typ == 7:  # binding error
        parts.append(f" status={uint(p, 6)}")
        parts.append(f" homeaddr {ip6(p, 8)}")
    elif typ not in _MH_TYPES:
        parts.append(f" len={p[1]}")
