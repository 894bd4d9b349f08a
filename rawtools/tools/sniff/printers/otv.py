"""OTV (UDP port 8472): Cisco's overlay header, then the inner frame on a line of its own.

Its 8 bytes are laid out as VXLAN's (flags, a 24-bit overlay id where VXLAN
has reserved bits, a 24-bit instance where it has the VNI), so the
decoder prints the carried frame after it the way it does after VXLAN.
tcpdump prints the fields as far as they were captured.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers import vxlan

HEADER_LEN = vxlan.HEADER_LEN
_VALID_INSTANCE = 0x08  # the I flag


def otv(p: bytes, length: int) -> tuple[str, bool]:
    if length < HEADER_LEN:
        return f"OTV, [length {length} < {HEADER_LEN}] (invalid)", False
    out = ["OTV, "]
    if p:
        flags = p[0]
        out.append(f"flags [{'I' if flags & _VALID_INSTANCE else '.'}] (0x{flags:02x}), ")
        if len(p) >= 4:
            out.append(f"overlay {int.from_bytes(p[1:4], 'big')}, ")
            if len(p) >= 7:
                return f"{''.join(out)}instance {int.from_bytes(p[4:7], 'big')}", True
    return "".join(out) + " [|otv]", False
