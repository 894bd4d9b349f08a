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
# A row's 16 bytes in hex, as 8 groups of 4 digits each followed by a space:
# the 40 characters a row takes in the hex of the whole body (its last space dropped).
_ROW, _ROW_HEX = 16, 40
# Each row's start ("\n\t0x0010:  "), made once per offset ever dumped.
_HEADS: list[str] = []


def dump(body: bytes, style: DumpStyle) -> str:
    """The lines to append to a packet's line, each starting with a newline.

    The whole body is turned into hex (and into shown characters) in one call
    each, and the rows are slices of those: a dump of an undecoded 500-byte
    payload, which tcpdump prints at default verbosity, then costs about as
    much as the rest of the packet's line instead of ten times more.
    """
    if style == "A":
        # Line feeds are kept and carriage returns dropped, so text reads as text.
        return "\n" + body.replace(b"\r", b"").translate(_SHOWN_A).decode("ascii")
    size = len(body)
    rows = -(-size // _ROW)
    heads = _HEADS
    while len(heads) < rows:
        heads.append(f"\n\t0x{len(heads) * _ROW:04x}:  ")
    hexed = body.hex(" ", -2)
    if style == "x":
        return "".join([heads[r] + hexed[r * _ROW_HEX:r * _ROW_HEX + _ROW_HEX - 1]
                        for r in range(rows)])
    shown = body.translate(_SHOWN).decode("ascii")
    full = size // _ROW
    out = [f"{heads[r]}{hexed[r * _ROW_HEX:r * _ROW_HEX + _ROW_HEX - 1]}  "
           f"{shown[r * _ROW:r * _ROW + _ROW]}" for r in range(full)]
    if full < rows:
        # tcpdump pads a short last row's hex so that its characters line up with those above.
        out.append(f"{heads[full]}{hexed[full * _ROW_HEX:]:<{_ROW_HEX - 1}}  "
                   f"{shown[full * _ROW:]}")
    return "".join(out)
