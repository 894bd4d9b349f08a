"""tcpdump's -x, -X and -A views of a packet's bytes (after the link header)."""

from __future__ import annotations

from typing import Literal

# -x hex, -X hex and ASCII, -A ASCII.
DumpStyle = Literal["x", "X", "A"]
DUMP_STYLES: tuple[DumpStyle, ...] = ("x", "X", "A")


# Each byte as the dumps show it: printable ASCII as itself, the rest as "." (-A keeps
# line feeds). Tables, so that a dump costs a few calls per row, not one per byte:
# tcpdump also dumps every payload it cannot decode, and those can be many.
_SHOWN = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
_SHOWN_A = bytes(b if 0x20 <= b < 0x7F or b == 0x0A else 0x2E for b in range(256))


def dump(body: bytes, style: DumpStyle) -> str:
    """The lines to append to a packet's line, each starting with a newline."""
    if style == "A":
        # Line feeds are kept and carriage returns dropped, so text reads as text.
        return "\n" + body.replace(b"\r", b"").translate(_SHOWN_A).decode("ascii")
    rows = []
    for i in range(0, len(body), 16):
        chunk = body[i:i + 16]
        row = f"\n\t0x{i:04x}:  {chunk.hex(' ', -2)}"
        if style == "X":
            row = f"{row:<50}  {chunk.translate(_SHOWN).decode('ascii')}"
        rows.append(row)
    return "".join(rows)
