"""Reading a message's fields where the capture may have cut it short.

A printer reads field after field and prints as it goes; the first field
the capture does not hold ends its line with the printer's own cut mark
(`[|igmp]`, `[|rt6]`...). Rather than check a length before every read,
it reads through these, which raise `Cut`, and catches that once, where it
adds its mark.
"""

from __future__ import annotations

import socket


class Cut(Exception):
    """The capture ended before the field being read."""


def uint(p: bytes, i: int, size: int = 1) -> int:
    """The big-endian unsigned number of `size` bytes at `i`."""
    if i + size > len(p):
        raise Cut
    return int.from_bytes(p[i:i + size], "big")


def take(p: bytes, i: int, size: int) -> bytes:
    """The `size` bytes at `i`."""
    if i + size > len(p):
        raise Cut
    return p[i:i + size]


def ip4(p: bytes, i: int) -> str:
    """The IPv4 address at `i`, dotted."""
    return socket.inet_ntop(socket.AF_INET, take(p, i, 4))


def ip6(p: bytes, i: int) -> str:
    """The IPv6 address at `i`, as tcpdump (and inet_ntop) shortens it."""
    return socket.inet_ntop(socket.AF_INET6, take(p, i, 16))
