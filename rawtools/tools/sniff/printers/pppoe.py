"""PPPoE (RFC 2516): discovery (EtherType 0x8863) and session (0x8864) headers.

Discovery packets are named by their code (PADI, PADO, PADR, PADS, PADT)
and their tags listed: a tag's value is quoted when most of its first 79
bytes are printable ASCII, else shown in hex. A session packet's code is 0,
whose name is empty, so its line starts `PPPoE  [ses 0x11] ` and the PPP
frame follows (the caller decodes it). A length beyond the frame is noted
and cut to it, as tcpdump does.
"""

from __future__ import annotations

import struct

HEADER_LEN = 6
_TAG = struct.Struct("!HH")
_CODES = {0x09: "PADI", 0x07: "PADO", 0x19: "PADR", 0x65: "PADS", 0xA7: "PADT", 0: ""}
_TAGS = {0: "EOL", 0x0101: "Service-Name", 0x0102: "AC-Name", 0x0103: "Host-Uniq",
         0x0104: "AC-Cookie", 0x0105: "Vendor-Specific", 0x0110: "Relay-Session-ID",
         0x0120: "PPP-Max-Payload", 0x0201: "Service-Name-Error", 0x0202: "AC-System-Error",
         0x0203: "Generic-Error"}
_PADI = 0x09
_MAX_PADI = 1484 - HEADER_LEN
_MAX_TAG_TEXT = 79  # tcpdump's buffer for a tag's text, less its NUL
_TRUNCATED = " [|pppoe]"


def pppoe(p: bytes, length: int) -> tuple[str, int, bool]:
    """(text, the PPP frame's length, ok) for the PPPoE packet `p`, `length` on the wire.

    The PPP frame's length is -1 for discovery packets and packets cut
    short, whose text is whole; for a session packet the text ends with the
    space before the PPP frame, which starts at HEADER_LEN.
    """
    if length < HEADER_LEN:
        return f" (length {length} < {HEADER_LEN}) (invalid)", -1, False
    if len(p) < HEADER_LEN:
        return _TRUNCATED, -1, False
    length -= HEADER_LEN
    version, kind, code = p[0] >> 4, p[0] & 15, p[1]
    session, size = struct.unpack_from("!HH", p, 2)
    parts = []
    if version != 1:
        parts.append(f" [ver {version}]")
    if kind != 1:
        parts.append(f" [type {kind}]")
    parts.append(f"PPPoE {_CODES.get(code, f'PAD-{code:x}')}")
    if code == _PADI and size > _MAX_PADI:
        parts.append(f" [len {size}!]")
    if size > length:
        parts.append(f" [len {size} > {length}!]")
        size = length
    if session:
        parts.append(f" [ses 0x{session:x}]")
    if code == 0:
        parts.append(" ")
        return "".join(parts), size, True
    text, ok = _tags(p, size)
    return "".join(parts) + text, -1, ok


def _tags(p: bytes, size: int) -> tuple[str, bool]:
    """The tags of a discovery packet, up to `size` bytes after the header or the EOL tag."""
    parts: list[str] = []
    at, end, tag = HEADER_LEN, HEADER_LEN + size, -1
    while tag and at < end:
        if len(p) < at + 4:
            return "".join(parts) + _TRUNCATED, False
        tag, tag_len = _TAG.unpack_from(p, at)
        at += 4
        name = _TAGS.get(tag, f"TAG-0x{tag:x}")
        if tag_len:
            value = p[at:at + tag_len]
            if len(value) < tag_len:
                return "".join(parts) + _TRUNCATED, False
            head = value[:_MAX_TAG_TEXT]
            text = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in head)
            printable = sum(1 for c in head if 0x20 <= c < 0x7F)
            if printable > len(head) - printable:
                parts.append(f' [{name} "{text}"]')
            else:
                parts.append(f" [{name} 0x{value.hex().upper()}]")
        else:
            parts.append(f" [{name}]")
        at += tag_len
    return "".join(parts), True
