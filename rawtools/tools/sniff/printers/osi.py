"""OSI network-layer PDUs (Cisco HDLC's and Ethernet's type 0xFEFE, Frame Relay's NLPIDs).

The first byte, the NLPID, says which protocol follows. IS-IS, CLNP and
ES-IS get their own lines; an NLPID tcpdump does not know gets its `OSI
NLPID 0x.. unknown` line.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers import isis

_NLPID_NULLNS, _NLPID_CLNP, _NLPID_ESIS, _NLPID_ISIS = 0x00, 0x81, 0x82, 0x83
# CLNP (ISO 8473): the fixed part of its header, the PDU type's bits in its fifth
# byte, the longest NSAP address tcpdump shows, and its PDU types by tcpdump's names.
_CLNP_FIXED, _CLNP_TYPE_MASK, _NSAP_MAX = 9, 0x1F, 20
_CLNP_TYPES = {1: "Error Report", 28: "Data", 29: "MD", 30: "Echo Request",
               31: "Echo Response"}
_CLNP_CUT = " [|clnp]"
_LI_SHORT = "li < size of fixed part of CLNP header and addresses"
# ES-IS (ISO 9542): its fixed header, the least length indicator tcpdump reads on
# from, and its PDU types by tcpdump's names.
_ESIS_FIXED, _ESIS_LEAST_LI = 9, 11
_ESIS_TYPES = {2: "ESH", 4: "ISH", 6: "redirect"}


def osi(p: bytes, length: int) -> tuple[str, bool]:
    if not p:
        return "[|osi]", False
    nlpid = p[0]
    if nlpid == _NLPID_ISIS:
        return isis.isis(p, length)
    if nlpid == _NLPID_CLNP:
        return clnp(p, length)
    if nlpid == _NLPID_NULLNS:
        return f", length: {length}", True
    if nlpid == _NLPID_ESIS:
        return esis(p, length)
    return f"OSI NLPID 0x{nlpid:02x} unknown, length: {length}", True


def nsap(raw: bytes) -> str:
    """`49.0001.0203`: the first byte, then pairs of bytes, dot-separated, as tcpdump
    writes an NSAP address; its own words for a length it will not show."""
    if not 0 < len(raw) <= _NSAP_MAX:
        return "isonsap_string: illegal length"
    rest = raw[1:].hex()
    return ".".join([raw[:1].hex()] + [rest[i:i + 4] for i in range(0, len(rest), 4)])


def clnp(p: bytes, length: int) -> tuple[str, bool]:
    """`CLNP, 49.0002 > 49.0001, Echo Request, length 26`, as tcpdump prints without -v.

    tcpdump checks the header in its order and stops at the first fault with
    its own words (glued to `CLNP` for some, as it prints them); only bytes
    missing from the capture mark the packet as cut.
    """
    if len(p) < _CLNP_FIXED:
        return _CLNP_CUT, False
    fault = _header_fault("CLNP", "CLNPversion", p, length, _CLNP_FIXED)
    if fault is not None:
        return fault, True
    addresses = _clnp_addresses(p, p[1])
    if addresses is None:
        return "CLNP" + _CLNP_CUT, False
    if isinstance(addresses, str):
        return "CLNP" + addresses, True
    dst, src = addresses
    kind = p[4] & _CLNP_TYPE_MASK
    return (f"CLNP, {nsap(src)} > {nsap(dst)}, "
            f"{_CLNP_TYPES.get(kind, f'unknown ({kind})')}, length {length}"), True


def _header_fault(name: str, version_words: str, p: bytes, length: int, least: int
                  ) -> str | None:
    """tcpdump's words for a CLNP or ES-IS header it will not read (a version other
    than 1, a length indicator past the PDU or below `least`), else None.

    Its two printers word the version fault apart (`CLNPversion 2`, `ES-IS
    version 2`): `version_words` is what comes before the number.
    """
    li, version = p[1], p[2]
    if version != 1:
        return f"{version_words} {version} packet not supported"
    if li > length:
        return f"{name} length indicator({li}) > PDU size ({length})!"
    if li < least:
        return f"{name} length indicator {li} < min PDU size:{p.hex().upper()}"
    return None


def _clnp_addresses(p: bytes, li: int) -> tuple[bytes, bytes] | str | None:
    """(destination, source) NSAPs after the fixed header; tcpdump's words when the
    header's length leaves no room for them; None when the capture ends first."""
    at, left = _CLNP_FIXED, li - _CLNP_FIXED
    found = []
    for _ in range(2):
        if left < 1:
            return _LI_SHORT
        if len(p) <= at:
            return None
        size = p[at]
        at, left = at + 1, left - 1
        if left < size:
            return _LI_SHORT
        if len(p) < at + size:
            return None
        found.append(p[at:at + size])
        at, left = at + size, left - size
    return found[0], found[1]


def esis(p: bytes, length: int) -> tuple[str, bool]:
    """`ES-IS, ESH, length 30`, as tcpdump prints without -v, or the header's fault.

    As for CLNP, tcpdump's words for a fault follow `ES-IS` directly, and
    only bytes missing from the capture mark the packet as cut.
    """
    if length <= 2:
        return "ES-ISno header at all!", True
    if len(p) < _ESIS_FIXED:
        return "ES-IS [|esis]", False
    fault = _header_fault("ES-IS", "ES-IS version", p, length, _ESIS_LEAST_LI)
    if fault is not None:
        return fault, True
    kind = p[4] & _CLNP_TYPE_MASK
    return f"ES-IS, {_ESIS_TYPES.get(kind, f'unknown type ({kind})')}, length {length}", True
