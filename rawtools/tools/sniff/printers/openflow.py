"""OpenFlow (TCP ports 6633 and 6653): tcpdump names it and, without -v, says no more.

Its messages are decoded by tcpdump only from -v on, so the one-line form
is the name alone, whatever the segment holds (a whole message, several,
or a piece of one).
"""

from __future__ import annotations


def openflow(p: bytes, length: int) -> tuple[str, bool]:
    return "OpenFlow", True
