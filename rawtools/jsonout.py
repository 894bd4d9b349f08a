"""The one JSON convention every tool follows (schema `rawtools/1`).

A run writes JSON lines: zero or more event objects while it works, then one
summary object last. Every object carries `schema`, `tool` and `type`; the
summary's `type` is "summary". Consumers can stream events and still find the
totals in the last line; adding fields is backward compatible, renaming or
removing one bumps the schema.
"""

from __future__ import annotations

import importlib
import sys

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import IO, Any

SCHEMA = "rawtools/1"


def record(tool: str, kind: str, **fields: Any) -> dict[str, Any]:
    """One object of the convention, fields after the three fixed keys."""
    return {"schema": SCHEMA, "tool": tool, "type": kind, **fields}


def dumps(obj: dict[str, Any]) -> str:
    """One JSON line as every tool prints it (compact, no newline).

    json is imported here, not with the module: results import this module
    for their `to_dict()`, and a run that prints text never needs json (a
    live trace's start-up is measured without it).
    """
    import json

    return json.dumps(obj, separators=(",", ":"))


class JsonResult:
    """A result whose JSON is the summary line `--json` prints, built in one place.

    A subclass's `to_dict()` is that whole object (schema, tool and type
    first); the CLI writes it with `JsonLines.write`, so a script calling
    `to_dict()` or `to_json()` gets exactly the line the command prints.
    """

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        """`to_dict()` as the line `--json` prints, without its newline."""
        return dumps(self.to_dict())


class JsonLines:
    """Writes convention objects as JSON lines, flushed so pipes see them live."""

    def __init__(self, tool: str, out: IO[str] | None = None) -> None:
        # json loads here, before the tool opens its sockets and gives up
        # root: past that, the interpreter's own files may be out of reach.
        importlib.import_module("json")
        self.tool = tool
        self.out = out or sys.stdout

    def emit(self, kind: str, **fields: Any) -> None:
        self.write(record(self.tool, kind, **fields))

    def write(self, obj: dict[str, Any]) -> None:
        """An object already built with `record` (a result's `to_dict()`)."""
        self.out.write(dumps(obj) + "\n")
        self.out.flush()
