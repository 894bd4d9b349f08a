"""`rawtools trace --mda`: the multipath trace's lines, JSON records and DOT file.

`rawtools.tools.trace.cli` parses the flags and builds the configuration
for every kind of trace; it hands a configuration with `mda` set here.
"""

from __future__ import annotations

import argparse
import sys
from typing import IO

from rawtools.errors import RawtoolsError
from rawtools.io.stop import Stop
from rawtools.jsonout import JsonLines
from rawtools.net.resolve import ReverseNames
from rawtools.tools.trace.config import TraceConfig
from rawtools.tools.trace.mda import MdaHop
from rawtools.tools.trace.mdarender import (
    dot,
    footer,
    header,
    hop_lines,
    hop_record,
)
from rawtools.tools.trace.mdasession import MdaResult, execute_mda

_MECH_TEXT = {"raw": "answers read on raw sockets",
              "dgram": "answers read from the error queue (no privileges)"}


def run_mda(args: argparse.Namespace, cfg: TraceConfig, stop: Stop) -> int:
    """Trace every path; print each hop as it settles, write --dot at the end."""
    names = ReverseNames(enabled=not args.numeric)
    out = JsonLines("trace") if args.json else None
    dot_file: list[IO[str]] = []

    def on_start(result: MdaResult) -> None:
        # Opened once root is given up (the file is the user's, as --record's)
        # but before the first probe: a bad path must not cost a whole run.
        if cfg.dot:
            try:
                dot_file.append(open(cfg.dot, "w"))  # noqa: SIM115
            except OSError as e:
                raise RawtoolsError(f"--dot {cfg.dot}: {e.strerror}") from None
        if args.verbose:
            print(f"rawtools trace: {result.method} flows, {_MECH_TEXT[result.mechanism]}",
                  file=sys.stderr)
        if out is None:
            print(header(result, cfg.max_ttl), flush=True)

    def on_hop(hop: MdaHop) -> None:
        if out is not None:
            out.emit("hop", **hop_record(hop))
        else:
            print("\n".join(hop_lines(hop, names)), flush=True)

    try:
        result = execute_mda(cfg, on_start, on_hop, stop)
        for f in dot_file:
            f.write(dot(result, names))
    finally:
        for f in dot_file:
            f.close()
    if out is not None:
        out.write(result.to_dict())
    else:
        print(footer(result))
    return stop.exit_code() if result.interrupted and stop.requested else 0
