#!/usr/bin/env python3
"""Sweep a network and report who answered, fastest first; exit 1 if an expected host is down.

    sudo python3 scripts/examples/sweep_report.py 198.18.9.0/24 --expect 198.18.9.1,198.18.9.7
"""

from __future__ import annotations

import argparse
import sys

import rawtools
from rawtools.errors import RawtoolsError


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("cidr")
    p.add_argument("--expect", default="", help="comma-separated addresses that must answer")
    args = p.parse_args()
    try:
        result = rawtools.ping(sweep=args.cidr, timeout=0.5, retries=1)
    except RawtoolsError as e:
        print(f"sweep_report: {e}", file=sys.stderr)
        return 2
    alive = sorted((t for t in result.targets if t.received),
                   key=lambda t: min(t.rtts_ms))
    for t in alive:
        print(f"{t.addr:<18} {min(t.rtts_ms):8.3f} ms")
    print(f"{len(alive)} of {len(result.targets)} answered")
    missing = [a for a in args.expect.split(",") if a and a not in {t.addr for t in alive}]
    for a in missing:
        print(f"MISSING {a}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
