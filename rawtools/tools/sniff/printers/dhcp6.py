"""DHCPv6 (UDP ports 546 and 547) as tcpdump prints it without -v: the message type."""

from __future__ import annotations

_TYPES = {1: "solicit", 2: "advertise", 3: "request", 4: "confirm", 5: "renew", 6: "rebind",
          7: "reply", 8: "release", 9: "decline", 10: "reconfigure", 11: "inf-req",
          12: "relay-fwd", 13: "relay-reply", 14: "leasequery", 15: "leasequery-reply"}
_HEADER_LEN = 4  # the message type and the transaction id


def dhcp6(p: bytes, length: int) -> tuple[str, bool]:
    """`dhcp6 solicit`."""
    if len(p) < _HEADER_LEN:
        return "dhcp6 [|dhcp6]", False
    return f"dhcp6 {_TYPES.get(p[0], f'msgtype-{p[0]}')}", True
