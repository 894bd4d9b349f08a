"""RADIUS (UDP ports 1645/1646, 1812/1813, 1700, 3799): the code, identifier and length.

Without -v tcpdump names the packet's code (RFC 2865, 2866, 5176), gives
its identifier and the length (the header's, at most the datagram's), and
leaves the attributes for -v; a header not captured whole, or claiming less
than itself, is `[|radius]`.
"""

from __future__ import annotations

_HEADER_LEN = 20
_CODES = {
    1: "Access-Request", 2: "Access-Accept", 3: "Access-Reject", 4: "Accounting-Request",
    5: "Accounting-Response", 11: "Access-Challenge", 12: "Status-Server",
    13: "Status-Client", 40: "Disconnect-Request", 41: "Disconnect-ACK",
    42: "Disconnect-NAK", 43: "CoA-Request", 44: "CoA-ACK", 45: "CoA-NAK", 255: "Reserved"}


def radius(p: bytes, length: int) -> tuple[str, bool]:
    if len(p) < _HEADER_LEN:
        return " [|radius]", False
    code = p[0]
    # The header's own length, cut to the datagram's; below a header's it is a cut packet.
    size = p[2] << 8 | p[3]
    if size < _HEADER_LEN:
        return " [|radius]", False
    return (f"RADIUS, {_CODES.get(code, 'Unknown Command')} ({code}), id: 0x{p[1]:02x} "
            f"length: {min(size, length)}"), True
