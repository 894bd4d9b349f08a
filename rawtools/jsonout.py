"""The one JSON convention every tool follows (schema `rawtools/1`).

A run writes JSON lines: zero or more event objects while it works, then one
summary object last. Every object carries `schema`, `tool` and `type`; the
summary's `type` is "summary". Consumers can stream events and still find the
totals in the last line; adding fields is backward compatible, renaming or
removing one bumps the schema.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

SCHEMA = "rawtools/1"


def record(tool: str, kind: str, **fields: Any) -> dict[str, Any]:
    """One object of the convention, fields after the three fixed keys."""
    return {"schema": SCHEMA, "tool": tool, "type": kind, **fields}


class JsonLines:
    """Writes convention objects as JSON lines, flushed so pipes see them live."""

    def __init__(self, tool: str, out: IO[str] | None = None) -> None:
        self.tool = tool
        self.out = out or sys.stdout

    def emit(self, kind: str, **fields: Any) -> None:
        self.out.write(json.dumps(record(self.tool, kind, **fields), separators=(",", ":")))
        self.out.write("\n")
        self.out.flush()
