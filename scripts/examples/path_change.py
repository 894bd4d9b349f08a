#!/usr/bin/env python3
"""Trace a host and say which hops changed since a saved baseline (exit 1 on a change).

    sudo python3 scripts/examples/path_change.py 198.18.3.2 --baseline path.json --save
    sudo python3 scripts/examples/path_change.py 198.18.3.2 --baseline path.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import rawtools
from rawtools.errors import RawtoolsError


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("host")
    p.add_argument("--baseline", required=True, help="JSON file of the known path")
    p.add_argument("--save", action="store_true", help="write the path as the new baseline")
    args = p.parse_args()
    try:
        result = rawtools.trace(args.host, nqueries=1)
    except RawtoolsError as e:
        print(f"path_change: {e}", file=sys.stderr)
        return 2
    # A hop is who answered at that TTL; a silent hop is "*".
    path = [h.addrs[0] if h.addrs else "*" for h in result.hops]
    if args.save:
        Path(args.baseline).write_text(json.dumps(path) + "\n")
        print(f"saved {len(path)} hops")
        return 0
    known = json.loads(Path(args.baseline).read_text())
    changed = [(ttl, old, new)
               for ttl, (old, new) in enumerate(zip(known, path, strict=False), start=1)
               if old != new]
    if len(known) != len(path):
        changed.append((min(len(known), len(path)) + 1, f"{len(known)} hops", f"{len(path)} hops"))
    for ttl, old, new in changed:
        print(f"hop {ttl}: {old} -> {new}")
    if not changed:
        print(f"unchanged: {len(path)} hops")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
