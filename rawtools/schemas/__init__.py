"""The JSON Schemas (draft 2020-12) of every tool's `--json` lines, schema `rawtools/1`.

One file per tool, `<tool>.json`: a line's `type` picks its definition in
the file's `$defs` (an `if`/`then` per type), so a consumer validates any
line of a stream against one schema and a validator's message names the
line type that failed. Per tool rather than per line type because a
consumer reads one tool's stream, and the types shared within a tool
(trace's probe, ping's target) are defined once beside the lines that use
them. Objects admit unlisted properties: fields may be added within
`rawtools/1`; renaming or removing one changes the schema name.

A run reads no schema: the CLI imports this module on `--json` runs alone,
for `TOOLS`, which says whether a failure is also told as a JSON line.
"""

from __future__ import annotations

from typing import Any

TOOLS = ("ping", "trace", "udpcksum", "sniff", "inject", "icmpd", "ifaces", "doctor")
"""The tools that have `--json`, each with its schema file here."""


def load(tool: str) -> dict[str, Any]:
    """The schema of `tool`'s JSON lines, as a dict for any draft 2020-12 validator.

    Read with importlib.resources, so it works from a wheel or a zip too.
    """
    if tool not in TOOLS:
        raise ValueError(f"no JSON schema for {tool!r}: one of {', '.join(TOOLS)}")
    import json
    from importlib.resources import files

    schema: dict[str, Any] = json.loads(files(__name__).joinpath(f"{tool}.json").read_text())
    return schema
