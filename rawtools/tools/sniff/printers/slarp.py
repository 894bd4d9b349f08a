"""Cisco's Serial Line ARP (Cisco HDLC protocol 0x8035): requests, replies and keepalives.

Cisco HDLC reuses Reverse ARP's number for it, so this is read in place of
ARP on that link type. tcpdump needs the 14 bytes of code and addresses (or
sequence numbers and reliability); a keepalive's uptime is optional, and
printed only when the frame says it holds it.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.reader import ip4

ETHERTYPE = 0x8035
_MIN_LEN, _WITH_UPTIME = 14, 18
_REQUEST, _REPLY, _KEEPALIVE = 0, 1, 2
_TRUNCATED = " [|chdlc_slarp]"


def _uptime(millis: int) -> str:
    """`49d12h52m33s`, from the milliseconds a keepalive counts."""
    minutes, sec = divmod(millis // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h{minutes}m{sec}s"


def slarp(p: bytes, length: int) -> tuple[str, bool]:
    """`SLARP (length: 18), keepalive: mineseen=0x..., yourseen=0x..., reliability=0x...`."""
    head = f"SLARP (length: {length}), "
    if length < _MIN_LEN or len(p) < _MIN_LEN:
        return head + _TRUNCATED, False
    code = int.from_bytes(p[0:4], "big")
    if code == _REQUEST:
        return head + "request", True
    if code == _REPLY:
        return f"{head}reply {ip4(p, 4)}/{ip4(p, 8)}", True
    if code != _KEEPALIVE:
        return f"{head}0x{code:02x} unknown", True
    text = (f"{head}keepalive: mineseen=0x{p[4:8].hex()}, yourseen=0x{p[8:12].hex()}, "
            f"reliability=0x{p[12:14].hex()}")
    if length < _WITH_UPTIME:
        return text, True
    if len(p) < _WITH_UPTIME:
        return text + _TRUNCATED, False
    return f"{text}, link uptime={_uptime(int.from_bytes(p[14:18], 'big'))}", True
