"""NTP (UDP port 123) as tcpdump prints it without -v: version, mode, length."""

from __future__ import annotations

# RFC 5905's association modes, in tcpdump's words.
_MODES = ("unspecified", "symmetric active", "symmetric passive", "Client", "Server",
          "Broadcast", "Control Message", "Reserved")


def ntp(p: bytes, length: int) -> tuple[str, bool]:
    """`NTPv4, Client, length 48`: all of it from the first byte (LI, VN, mode)."""
    if not p:
        return " [|ntp]", False
    return f"NTPv{p[0] >> 3 & 7}, {_MODES[p[0] & 7]}, length {length}", True
