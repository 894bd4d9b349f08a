"""VXLAN (UDP port 4789, RFC 7348): its header on the line, the inner frame on the next.

tcpdump ends VXLAN's line after the VNI and prints the encapsulated Ethernet
frame on a line of its own; the decoder does the same with its own link
layer, so the inner frame reads as any other frame would.
"""

from __future__ import annotations

HEADER_LEN = 8
_VALID_VNI = 0x08  # the I flag: the VNI field is valid
_VNI_END = 7  # the 24-bit VNI is bytes 4 to 6


def vxlan(p: bytes, length: int) -> tuple[str, bool]:
    """`VXLAN, flags [I] (0x08), vni 100`; the inner frame starts HEADER_LEN bytes in."""
    if length < HEADER_LEN:
        return "VXLAN (invalid)", False
    if not p:
        return "VXLAN [|vxlan]", False
    flags = p[0]
    head = f"VXLAN, flags [{'I' if flags & _VALID_VNI else 'invalid'}] (0x{flags:02x}), "
    if len(p) < _VNI_END:
        return head + " [|vxlan]", False
    return f"{head}vni {p[4] << 16 | p[5] << 8 | p[6]}", True
