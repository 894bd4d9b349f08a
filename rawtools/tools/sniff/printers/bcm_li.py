"""Broadcom's lawful-intercept shim (UDP from port 49152), as tcpdump's one line gives it.

Switches that mirror intercepted traffic to a mediation device put a
32-bit shim before the copied packet: direction (3 bits), packet type
(4 bits), subtype (3 bits) and the intercept id (22 bits). tcpdump names
the first three and prints the id; values it has no name for are `unknown`.
"""

from __future__ import annotations

PORT = 49152  # tcpdump picks the printer by this source port only
_DIRECTION = {1: "unused", 2: "egress", 3: "ingress"}
_TYPE = {4: "undecided", 5: "ipv4", 6: "ipv6", 7: "ethernet"}
_SUBTYPE = {1: "single VLAN tag", 2: "double VLAN tag", 3: "untagged"}


def bcm_li(p: bytes, length: int) -> tuple[str, bool]:
    if length < 4:
        return f" (length {length} < 4) (invalid)", False
    if len(p) < 4:
        return " [|bcm_li]", False
    shim = int.from_bytes(p[:4], "big")
    return (f"BCM-LI-SHIM: direction {_DIRECTION.get(shim >> 29, 'unknown')}, "
            f"pkt-type {_TYPE.get(shim >> 25 & 15, 'unknown')}, "
            f"pkt-subtype {_SUBTYPE.get(shim >> 22 & 7, 'unknown')}, "
            f"li-id {shim & 0x3FFFFF}"), True
