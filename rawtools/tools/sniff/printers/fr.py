"""Frame Relay (Q.922) frames that tcpdump shows by their header: bad addresses, unknown NLPIDs.

`rawtools.wire.link` decapsulates the frames that carry IP, OSI or an
EtherType; this reads the Q.922 address itself (two, three or four bytes,
RFC 2427 and Q.922 section 3.3) for the frames tcpdump cannot hand on: an
address it refuses, and an NLPID it has no printer for, where it prints the
header (`Q.922, hdr-len 2, DLCI 16, Flags [none], NLPID NULL (0x00), length
24: `) after its complaints about the control byte and the pad. Every other
frame is None here, for the decapsulation to read.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers import osi

_EA, _UI = 0x01, 0x03
# NLPIDs with a printer in tcpdump's fr_print: IPv4, IPv6, SNAP, Q.933, FRF.15 and
# PPP (left to the decapsulation), and the OSI ones, whose PDU starts at the NLPID.
_PRINTED = frozenset({0xCC, 0x8E, 0x80, 0x08, 0xB1, 0xCF})
_OSI = frozenset({0x81, 0x82, 0x83})
# tcpdump's names of the NLPIDs it has none of those printers for (the rest: "unknown").
NLPID_NAMES = {0x00: "NULL", 0x09: "LMI", 0x84: "CONS", 0x85: "IDRP", 0x8A: "X25 ES-IS",
               0xC1: "ISIS_SPB"}
# The EtherTypes tcpdump's ethertype_print takes after a control byte other than UI
# (Cisco's encapsulation); for any other it says "UI xx!" and reads on as RFC 2427's.
_ETHERTYPES_PRINTED = frozenset({
    0x0707, 0x0800, 0x0806, 0x1111, 0x3C12, 0x3C13, 0x6003, 0x8035, 0x809B, 0x80F3, 0x8137,
    0x86DD, 0x8808, 0x8809, 0x880B, 0x8847, 0x8848, 0x8863, 0x8864, 0x886F, 0x888E, 0x8899,
    0x88A2, 0x88CA, 0x88CC, 0x88F7, 0x8902, 0x8947, 0x894F, 0x9000, 0xABCD, 0xFEFE})
# The header's flag bits, in the order tcpdump names them: C/R (first byte), DE, BECN,
# FECN (second byte), and the DLCI/DL-core bit of a longer address's last byte.
_FLAG_NAMES = (("C!", 0, 0x02), ("DE", 1, 0x02), ("BECN", 1, 0x04), ("FECN", 1, 0x08))
INVALID = "Q.922, invalid address"
TRUNCATED = " [|fr]"
_LEAST = 4   # the bytes tcpdump wants captured before it reads any


class Address:
    """A Q.922 address read from the frame's start: its size, DLCI and flag names."""

    __slots__ = ("dlci", "flags", "size")

    def __init__(self, size: int, dlci: int, flags: str) -> None:
        self.size, self.dlci, self.flags = size, dlci, flags


def address(p: bytes) -> Address | str | None:
    """The address; INVALID where tcpdump refuses it; None where the frame ends inside it."""
    if not p:
        return None
    if p[0] & _EA:
        return INVALID
    if len(p) < 2:
        return None
    dlci = (p[0] & 0xFC) << 2 | (p[1] & 0xF0) >> 4
    names = [name for name, at, bit in _FLAG_NAMES if p[at] & bit]
    if p[1] & _EA:
        return Address(2, dlci, ", ".join(names) or "none")
    size = 3
    if len(p) < 3:
        return None
    if not p[2] & _EA:
        dlci, size = dlci << 7 | p[2] >> 1, 4
        if len(p) < 4:
            return None
    last = p[size - 1]
    if not last & _EA:
        return INVALID
    if last & 0x02:
        names.append("sdlcore")
    return Address(size, dlci << 6 | last >> 2, ", ".join(names) or "none")


def frame(p: bytes, length: int) -> tuple[str, bool] | None:
    """tcpdump's line for a frame it shows by its header; None for any other.

    A frame cut short inside the header gets what tcpdump printed before
    the cut and its mark, as does one cut right after the NLPID.
    """
    q = p[:length]
    found = address(q)
    if found is None or len(p) < _LEAST:
        return TRUNCATED, False
    if isinstance(found, str):
        return found, True
    at = found.size
    if len(q) < at + 1:
        return TRUNCATED, False
    text = ""
    if q[at] != _UI and found.dlci != 0:
        if len(q) >= at + 2 and (q[at] << 8 | q[at + 1]) in _ETHERTYPES_PRINTED:
            return None  # Cisco's encapsulation: the decapsulation's to read
        text = f"UI {q[at]:02x}! "
    if len(q) < at + 2:
        return text + TRUNCATED, False
    padded = q[at + 1] == 0
    text += ("" if at == 3 else "Pad! ") if padded else ("No pad! " if at == 3 else "")
    header = at + 3 if padded else at + 2
    if len(q) < header:
        return text + TRUNCATED, False
    nlpid = q[header - 1]
    if nlpid in _OSI:
        inner, ok = osi.osi(p[header - 1:], length - header + 1)
        return text + inner, ok
    if nlpid in _PRINTED:
        return None
    text += (f"Q.922, hdr-len {at}, DLCI {found.dlci}, Flags [{found.flags}], "
             f"NLPID {NLPID_NAMES.get(nlpid, 'unknown')} (0x{nlpid:02x}), length {length}: ")
    if len(q) == header < length:
        return text + TRUNCATED, False   # not a byte of the payload to show
    return text, True


# FRF.16 multilink Frame Relay (link type 182): a fragment's header, then a frame.
LINKTYPE_MFR = 182
_MFR_FLAGS = (("Begin", 0x80), ("End", 0x40), ("Control", 0x20))
_MFR_MASK, _MFR_FRAGMENT, _MFR_BEGIN = 0xE0, 0xC0, 0x80


def mfr(p: bytes, length: int) -> tuple[str, bool] | None:
    """`FRF.16 Frag, seq 693, Flags [Begin], ` and the frame inside, for a fragment
    that begins a frame (alone or whole) and a frame `frame` knows; a later
    fragment's header alone; None for a control message and any other frame."""
    if len(p) < _LEAST or (p[0] & _MFR_MASK == _MFR_MASK and p[1] == 0):
        return None
    seq = (p[0] & 0x1E) << 7 | p[1]
    flags = ", ".join(name for name, bit in _MFR_FLAGS if p[0] & bit) or "none"
    head = f"FRF.16 Frag, seq {seq}, Flags [{flags}]"
    if p[0] & _MFR_MASK not in (_MFR_FRAGMENT, _MFR_BEGIN):
        return head, True   # tcpdump shows the rest in hex
    inner = frame(p[2:], length - 2)
    if inner is None:
        return None
    return f"{head}, {inner[0]}", inner[1]
