"""PIM (IP protocol 103) as tcpdump prints it without -v: version, message type, length."""

from __future__ import annotations

_TYPES = ("Hello", "Register", "Register Stop", "Join / Prune", "Bootstrap", "Assert", "Graft",
          "Graft Acknowledgement", "Candidate RP Advertisement", "Prune Refresh", "DF Election",
          "ECMP Redirect")


def pim(p: bytes, length: int) -> tuple[str, bool]:
    """`PIMv2, Hello, length 34`; other versions only `PIMv1, length N`."""
    if not p:
        return " [|pim]", False
    version, kind = p[0] >> 4, p[0] & 0x0F
    if version != 2:
        return f"PIMv{version}, length {length}", True
    name = _TYPES[kind] if kind < len(_TYPES) else "Unknown Type"
    return f"PIMv2, {name}, length {length}", True
