"""What the layers decoding one packet share: the JSON fields and the damage mark.

Each layer (link, IP, transport) writes its text and, for --json, its fields
into one dict; when it meets damage (a header cut short, a length that lies,
a bad checksum with -v) it marks the packet rather than raising, prints what
it could, and the decoder counts the packet as malformed.
"""

from __future__ import annotations

import struct
from typing import Any

# The fields of one packet's `--json` record, filled as the layers are read.
Fields = dict[str, Any]

# What reading past the end of a cut packet raises: the mark of damage
# where a fixed-offset read is cheaper than checking the length first.
TRUNCATED = (struct.error, IndexError, ValueError)


class Damage:
    """Whether the packet being decoded was found damaged (reset for each packet)."""

    __slots__ = ("bad",)

    def __init__(self) -> None:
        self.bad = False
