"""Apple's PKTAP header (link types 258 and 149): the frame inside, as tcpdump shows it.

Without -e tcpdump prints nothing of the header itself: it checks the
header's own length field against the frame, then prints the frame after it
with the printer of the link type the header names. The fields are
little-endian (Apple's machines all are).
"""

from __future__ import annotations

import struct

from rawtools.wire import link

LINKTYPE_PKTAP, LINKTYPE_USER2 = 258, 149
LINKTYPES = (LINKTYPE_PKTAP, LINKTYPE_USER2)
HEADER_LEN = 108
_FIELDS = struct.Struct("<III")   # the header's length, the record type, the inner DLT
_RECORD_NONE, _RECORD_PACKET = 0, 1
# The DLTs the header names (as on the capturing host) for which this decoder
# has the link type whose printer tcpdump would call: NULL, EN10MB and RAW.
_INNER = {0: link.LINKTYPE_NULL, 1: link.LINKTYPE_ETHERNET, 12: link.LINKTYPE_RAW}
TRUNCATED = " [|pktap]"


class Inner:
    """Where the inner frame starts and which link type it is, or the line instead of it."""

    __slots__ = ("linktype", "offset", "ok", "text")

    def __init__(self, linktype: int | None, offset: int, text: str | None = None,
                 ok: bool = True) -> None:
        self.linktype, self.offset, self.text, self.ok = linktype, offset, text, ok


def header(data: bytes, orig_len: int) -> Inner:
    """The inner frame of a PKTAP frame, or tcpdump's words when there is none to print.

    `linktype` and `text` both None mean a DLT this decoder has no link
    type for: the caller keeps its own short line.
    """
    if orig_len < HEADER_LEN:
        return Inner(None, 0, f" (packet too short, {orig_len} < {HEADER_LEN}) (invalid)", False)
    if len(data) < HEADER_LEN:
        return Inner(None, 0, TRUNCATED, False)
    size, record, dlt = _FIELDS.unpack_from(data)
    if size < HEADER_LEN:
        return Inner(None, 0, f" (pkt_len too small, {size} < {HEADER_LEN}) (invalid)", False)
    if size > orig_len:
        return Inner(None, 0, f" (pkt_len too big, {size} > {orig_len}) (invalid)", False)
    if len(data) < size:
        return Inner(None, 0, TRUNCATED, False)
    if record == _RECORD_NONE:
        return Inner(None, size, "no data")
    if record != _RECORD_PACKET:
        return Inner(None, size, "")
    inner = _INNER.get(dlt)
    if inner is None:
        return Inner(None, size)
    return Inner(inner, size)
