"""tcpdump's -x, -X and -A views of a packet's bytes (after the link header)."""

from __future__ import annotations

from typing import Literal

# -x hex, -X hex and ASCII, -A ASCII.
DumpStyle = Literal["x", "X", "A"]
DUMP_STYLES: tuple[DumpStyle, ...] = ("x", "X", "A")


def dump(body: bytes, style: DumpStyle) -> str:
    """The lines to append to a packet's line, each starting with a newline."""
    if style == "A":
        # Line feeds are kept and carriage returns dropped, so text reads as text.
        return "\n" + "".join(chr(b) if 0x20 <= b < 0x7F or b == 0x0A else "."
                              for b in body if b != 0x0D)
    rows = []
    for i in range(0, len(body), 16):
        chunk = body[i:i + 16]
        words = " ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
        row = f"\n\t0x{i:04x}:  {words}"
        if style == "X":
            text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
            row = f"{row:<50}  {text}"
        rows.append(row)
    return "".join(rows)
