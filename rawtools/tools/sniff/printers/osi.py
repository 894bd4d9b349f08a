"""OSI network-layer PDUs (Cisco HDLC's and Ethernet's type 0xFEFE, Frame Relay's NLPIDs).

The first byte, the NLPID, says which protocol follows. IS-IS gets its own
printer's line; an NLPID tcpdump does not know gets its `OSI NLPID 0x..
unknown` line; CLNP and ES-IS, which tcpdump decodes and this decoder does
not, are named with their length only, a shorter line that is still true.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers import isis

_NLPID_ISIS = 0x83
_NAMED = {0x00: "ISO NULLNS", 0x81: "CLNP", 0x82: "ES-IS"}


def osi(p: bytes, length: int) -> tuple[str, bool]:
    if not p:
        return "[|osi]", False
    nlpid = p[0]
    if nlpid == _NLPID_ISIS:
        return isis.isis(p, length)
    name = _NAMED.get(nlpid)
    if name is not None:
        return f"{name}, length {length}", True
    return f"OSI NLPID 0x{nlpid:02x} unknown, length: {length}", True
