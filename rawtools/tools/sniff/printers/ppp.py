"""PPP frames as tcpdump's ppp_print reads them inside PPPoE sessions and PPTP's GRE.

`header` finds the protocol after the optional HDLC address and control
bytes (and pppd's in/out marks) and a compressed (one-byte) protocol field;
the caller decodes IPv4 and IPv6 itself (`IP`, `IP6`) and hands the rest
to `payload`: the link control protocols' code, id and length (LCP, IPCP,
IPv6CP, CCP...), multilink's sequence number and flags, or the protocol's
name where tcpdump prints its bytes in hex on the lines after.
"""

from __future__ import annotations

# Protocol numbers (RFC 1661 and IANA's PPP DLL protocol numbers) by tcpdump's names.
NAMES = {
    0x0021: "IP", 0x0023: "OSI", 0x0025: "NS", 0x0027: "DECNET", 0x0029: "APPLE", 0x002B: "IPX",
    0x002D: "VJC IP", 0x002F: "VJNC IP", 0x0031: "BRPDU", 0x0033: "STII", 0x0035: "VINES",
    0x0281: "MPLS", 0x0283: "MPLS", 0x00FD: "Compressed", 0x003D: "MLPPP", 0x0057: "IP6",
    0x0201: "HELLO", 0x0231: "LUXCOM", 0x0233: "SNS", 0x8021: "IPCP", 0x8023: "OSICP",
    0x8025: "NSCP", 0x8027: "DECNETCP", 0x8029: "APPLECP", 0x802B: "IPXCP", 0x8033: "STIICP",
    0x8035: "VINESCP", 0x8057: "IP6CP", 0x8281: "MPLSCP", 0xC021: "LCP", 0xC023: "PAP",
    0xC025: "LQM", 0xC223: "CHAP", 0xC227: "EAP", 0xC027: "SPAP", 0xC123: "Old-SPAP",
    0xC02B: "BACP", 0xC02D: "BAP", 0xC03D: "MLPPP-CP", 0x80FD: "CCP",
}
# What the caller decodes as IP: PPP's numbers and the EtherTypes tcpdump also accepts.
IP = frozenset({0x0021, 0x002F, 0x0800})
IP6 = frozenset({0x0057, 0x86DD})
# The protocols whose packets are a code, an id and a length (RFC 1661 section 5).
_CONTROL = frozenset({0xC021, 0x8021, 0x8023, 0x8281, 0x8057, 0x80FD, 0xC02B})
_CODES = ("Vendor-Extension", "Conf-Request", "Conf-Ack", "Conf-Nack", "Conf-Reject",
          "Term-Request", "Term-Ack", "Code-Reject", "Prot-Reject", "Echo-Request",
          "Echo-Reply", "Disc-Req", "Ident", "Time-Rem", "Reset-Req", "Reset-Ack")
_MLPPP, _COMPRESSED = 0x003D, 0x00FD
# The two bytes before the protocol that tcpdump skips: HDLC's address and
# control, or pppd's marks for packets in and out.
_ADDRESS_CONTROL = frozenset({0xFF03, 0x0003, 0x0103})
# Protocols tcpdump decodes in ways this module does not (yet): the name alone
# would be a wrong line, so these are None from `payload`.
_UNDECODED = frozenset({0xC223, 0xC02D, 0x002B, 0x8137, 0x0023, 0x0281, 0x0283})
PAP = 0xC023
_PAP_CODES = {1: "Auth-Req", 2: "Auth-ACK", 3: "Auth-NACK"}
_PAP_REQ, _PAP_HEADER = 1, 4
_CUT_AFTER = " [|ppp]"   # tcpdump's mark for PAP's bytes missing from the capture
# What a PPP link's frame carries that `payload` reads as tcpdump does: the control
# protocols, multilink and PAP (the rest keeps the decoder's short line there).
ON_LINK = _CONTROL | {_MLPPP, PAP}
TRUNCATED = " [|ppp]"


def header(p: bytes, length: int) -> tuple[int, int] | None:
    """(protocol, where its packet starts in `p`); None when the frame ends before it."""
    if length < 2 or len(p) < 2:
        return None
    at = 0
    if p[0] << 8 | p[1] in _ADDRESS_CONTROL:
        at, length = 2, length - 2
        if length < 2 or len(p) < 3:
            return None
    if p[at] & 1:
        return p[at], at + 1  # the protocol field compressed to one byte (RFC 1661 6.5)
    if len(p) < at + 2:
        return None
    return p[at] << 8 | p[at + 1], at + 2


def payload(proto: int, p: bytes, length: int) -> tuple[str, bool] | None:
    """The text of a packet of `proto` other than IP; None for those not decoded here.

    `p` starts after the protocol field and `length` is what the frame says
    is left of it there.
    """
    if proto in _CONTROL:
        name = NAMES[proto]
        if length < 4 or len(p) < 2:
            return f"{name}, [|{name}]", False
        code = p[0]
        return (f"{name}, {_CODES[code] if code < len(_CODES) else 'Unknown Opcode'} "
                f"(0x{code:02x}), id {p[1]}, length {length + 2}"), True
    if proto == _MLPPP:
        if length < 2 or len(p) < 2:
            return "MLPPP, [|mlppp]", False
        flags = ", ".join(n for bit, n in ((0x80, "begin"), (0x40, "end")) if p[0] & bit)
        return (f"MLPPP, seq 0x{(p[0] << 8 | p[1]) & 0xFFF:03x}, Flags [{flags or 'none'}], "
                f"length {length}"), True
    if proto == _COMPRESSED:
        return "compressed PPP data", True
    if proto == PAP:
        return pap(p, length)
    if proto in _UNDECODED or (proto & 0xFF00) == 0x7E00:
        return None
    # tcpdump names the protocol and dumps its bytes in hex on the lines after.
    return NAMES.get(proto, f"unknown PPP protocol (0x{proto:04x})") + " ", True


def printable(raw: bytes) -> str:
    """Bytes as tcpdump's fn_print shows them: `M-` for the high bit, `^` for controls."""
    out = []
    for c in raw:
        if c & 0x80:
            out.append("M-")
            c &= 0x7F
        out.append(chr(c) if 0x20 <= c < 0x7F else "^" + chr(c ^ 0x40))
    return "".join(out)


def pap(p: bytes, length: int) -> tuple[str, bool]:
    """`PAP, Auth-Req (0x01), id 7, Peer user, Name pass`, as tcpdump prints without -v.

    `length` is the frame's and the PAP length field (`size`) how much of it
    is PAP; tcpdump stops quietly where a string would run past that, marks
    a packet whose header does not fit the frame, and marks with PPP's name
    the bytes the capture lacks.
    """
    if not p:
        return ("[|pap]" if length == 0 else _CUT_AFTER), False
    if length < _PAP_HEADER:
        return f"[|pap 0x{p[0]:02x}]", False
    text = f"PAP, {_PAP_CODES.get(p[0], 'unknown')} (0x{p[0]:02x})"
    if len(p) < 2:
        return text + _CUT_AFTER, False
    text += f", id {p[1]}"
    if len(p) < _PAP_HEADER:
        return text + _CUT_AFTER, False
    size = p[2] << 8 | p[3]
    if size < _PAP_HEADER:
        return f"{text}, length {size} < PAP header length", True
    if size > length:
        return f"{text}, length {size} > packet size", True
    if p[0] not in _PAP_CODES:
        return text, True
    if size == _PAP_HEADER:
        return text + "[|pap]", False
    names = (", Peer ", ", Name ") if p[0] == _PAP_REQ else (", Msg ",)
    return _pap_strings(p, size, text, names)


def _pap_strings(p: bytes, size: int, text: str, names: tuple[str, ...]) -> tuple[str, bool]:
    """The length-prefixed strings after PAP's header, each after its name."""
    at = _PAP_HEADER
    for name in names:
        if at >= size:
            return text, True
        if len(p) <= at:
            return text + _CUT_AFTER, False
        n = p[at]
        if at + 1 + n > size:
            return text, True
        chunk = p[at + 1:at + 1 + n]
        text += name + printable(chunk)
        if len(chunk) < n:
            return text + _CUT_AFTER, False
        at += 1 + n
    return text, True
