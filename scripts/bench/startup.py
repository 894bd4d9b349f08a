#!/usr/bin/env python3
"""Start-up cost: `rawtools ping -c 1` and `trace -q 1` beside iputils ping and traceroute.

A one-shot diagnostic is mostly start-up: on a lab link the probe's round
trip is tens of microseconds, so the wall time of `ping -c 1` is what the
interpreter and the imports cost. Each command runs `--runs` times on a
one-router lab (after one warm-up start that fills the bytecode cache and
the neighbour tables); the best and the median wall time are printed, and
for rawtools the difference to its peer. `python -c pass` is the floor no
Python tool goes under. rawtools runs as an installed copy does, through
pip's `rawtools` script (see installed.py); `--editable` runs `python -m
rawtools` with the checkout's interpreter instead.

Traces run to the router (hop 1, ICMP rate limits untouched by the runs
spaced `--rest` apart) so both tools make one round trip each.

    sudo .venv/bin/python scripts/bench/startup.py [--runs 15] [--family 4]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import bench_env, installed_python, installed_script

from rawtools.testing.lab import Lab


def walls(lab: Lab, argv: list[str], runs: int, rest: float) -> list[float]:
    """Wall times of `argv` run in the lab's host namespace; a failed run stops the bench."""
    out = []
    env = bench_env()
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(lab.exec_argv("host", argv), capture_output=True, text=True, env=env,
                           timeout=30)
        out.append(time.perf_counter() - t0)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
        time.sleep(rest)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--family", type=int, choices=[4, 6], default=4)
    p.add_argument("--rest", type=float, default=0.3, help="seconds between runs")
    p.add_argument("--editable", action="store_true")
    args = p.parse_args()
    fam = f"-{args.family}"
    with tempfile.TemporaryDirectory(prefix="rawtools-bench-") as tmp, Lab(1) as lab:
        python = sys.executable if args.editable else installed_python(Path(tmp) / "venv")
        hop = lab.router4(1) if args.family == 4 else lab.router6(1)
        rt = [python, "-m", "rawtools"] if args.editable else installed_script(python)
        cases = [
            ("python -c pass", [python, "-c", "pass"], None),
            ("rawtools --version", [*rt, "--version"], None),
            ("iputils ping -c 1", ["ping", fam, "-n", "-c", "1", hop], None),
            ("rawtools ping -c 1", [*rt, "ping", fam, "-n", "-c", "1", hop],
             "iputils ping -c 1"),
            ("traceroute -q 1", ["traceroute", fam, "-n", "-q", "1", "-m", "1", hop], None),
            ("rawtools trace -q 1", [*rt, "trace", fam, "-n", "-q", "1", "-m", "1", hop],
             "traceroute -q 1"),
        ]
        for _, argv, _ in cases:  # warm-up: bytecode cache, ARP/ND, page cache
            walls(lab, argv, 1, 0)
        best: dict[str, float] = {}
        print(f"IPv{args.family}, {args.runs} runs each, wall time (s)")
        print(f"  {'command':<22} {'best':>7} {'median':>7}  vs peer (best, median)")
        for name, argv, peer in cases:
            # The router refills its ICMP budget at about one error a second: traces
            # spaced closer would time its rate limit, not the tools.
            rest = max(args.rest, 1.1) if "trace" in name else args.rest
            w = walls(lab, argv, args.runs, rest)
            best[name] = min(w)
            extra = ""
            if peer:
                extra = (f"  +{(min(w) - best[peer]) * 1000:.0f} ms, "
                         f"+{(statistics.median(w) - best[peer]) * 1000:.0f} ms")
            print(f"  {name:<22} {min(w):7.3f} {statistics.median(w):7.3f}{extra}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
