"""The IPsec Authentication Header (RFC 4302) as tcpdump prints it before what it protects."""

from __future__ import annotations


def ah(p: bytes, verbose: int) -> tuple[str, int]:
    """(`AH(spi=0x00000001,seq=0x2,icv=0x..): `'s text without its trailing space, the
    header's length); a length of 0 when the header was cut and the line ends with it.

    tcpdump names the header before reading its length, so one cut after its
    first byte still says `AH`; with none of it captured only the mark is left.
    """
    if not p:
        return " [|ah]", 0
    if len(p) < 2:
        return "AH [|ah]", 0
    size = (p[1] + 2) * 4
    text = "AH(" + (f"length={p[1]}({size}-bytes)," if verbose else "")
    fields = (("reserved", 2, 2), ("spi", 4, 4), ("seq", 8, 4))
    for name, at, width in fields:
        if len(p) < at + width:
            return text + " [|ah]", 0
        value = int.from_bytes(p[at:at + width], "big")
        if name == "reserved":
            text += f"reserved=0x{value:x}[MustBeZero]," if value else ""
        else:
            text += f"{name}=0x{value:08x}," if name == "spi" else f"{name}=0x{value:x},"
    icv = p[12:size]
    text += f"icv=0x{icv.hex()}"
    if len(p) < size:
        return text + " [|ah]", 0
    return text + "):", size
