"""RSVP (IP protocol 46, RFC 2205) as tcpdump prints it without -v: version, message type,
and the length the IP header gives (not the RSVP header's own)."""

from __future__ import annotations

_HEADER = 8  # version and flags, type, checksum, TTL, reserved, length
_VERSION = 1
_TYPES = {1: "Path", 2: "Resv", 3: "PathErr", 4: "ResvErr", 5: "PathTear", 6: "ResvTear",
          7: "ResvConf", 12: "Bundle", 13: "Acknowledgement", 14: "Hello (Old)",
          15: "Refresh", 20: "Hello"}


def rsvp(p: bytes, length: int) -> tuple[str, bool]:
    """`RSVPv1 Path Message, length: 244`; tcpdump reads the whole common header first."""
    if len(p) < _HEADER:
        return " [|rsvp]", False
    version, typ = p[0] >> 4, p[1]
    if version != _VERSION:
        return f"ERROR: RSVP version {version} packet not supported", True
    return f"RSVPv{version} {_TYPES.get(typ, f'unknown ({typ})')} Message, length: {length}", True
