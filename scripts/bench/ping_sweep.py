#!/usr/bin/env python3
"""Sweep a /24 of the lab with `rawtools ping -g` and `fping -g`; time `--help`.

Prints whole-process wall times (median of a few runs) and the ratio, plus
whether both found the same live addresses. Run as root:

    sudo .venv/bin/python scripts/bench/ping_sweep.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent.parent
LIVE = [f"198.18.9.{i}" for i in (1, 2, 3, 10, 50, 77, 100, 128, 200, 254)]
NET = "198.18.9.0/24"


def timed(argv: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return time.perf_counter() - t, r.stdout


def alive(text: str) -> set[str]:
    return {ln.split()[0] for ln in text.splitlines() if ln.endswith(" is alive")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    helps = [timed([str(ROOT / ".venv/bin/rawtools"), "--help"])[0] for _ in range(7)]
    print(f"rawtools --help: {statistics.median(helps) * 1000:.0f} ms median of 7 "
          f"(goal < 150 ms)")

    if shutil.which("fping") is None:
        print("fping not installed (apt-get install fping): sweep comparison skipped")
        return 1
    with Lab(2, extra_dst4=LIVE) as lab:
        ours_t, theirs_t = [], []
        for _ in range(args.runs):
            # Each run starts with cold neighbour caches on the last router, so
            # neither tool profits from the other's ARP resolutions.
            lab.run("r2", ["ip", "neigh", "flush", "all"])
            t, out = timed(lab.exec_argv("host", [sys.executable, "-m", "rawtools", "ping",
                                                  "-g", NET]))
            ours_t.append(t)
            ours = alive(out)
            lab.run("r2", ["ip", "neigh", "flush", "all"])
            t, out = timed(lab.exec_argv("host", ["fping", "-g", NET]))
            theirs_t.append(t)
            theirs = alive(out)
        a, b = statistics.median(ours_t), statistics.median(theirs_t)
        print(f"sweep {NET} ({len(LIVE)} live of 254), median of {args.runs} runs:")
        print(f"  rawtools ping -g : {a:6.2f} s   alive {len(ours)}")
        print(f"  fping -g         : {b:6.2f} s   alive {len(theirs)}")
        print(f"  ratio rawtools/fping: {a / b:.2f} (goal <= 1.00); same live set: "
              f"{ours == theirs == set(LIVE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
