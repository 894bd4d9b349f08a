"""RPKI-RTR (TCP port 323, RFC 6810): tcpdump names it after the length and, without -v,
reads nothing of it, so no capture is too short for it."""

from __future__ import annotations

PORT = 323


def rpki_rtr(p: bytes, length: int) -> tuple[str, bool]:
    return ", RPKI-RTR", True
