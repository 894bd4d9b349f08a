#!/usr/bin/env python3
"""Benchmark `rawtools trace` beside Debian's traceroute on an 8-router lab.

Whole-process wall time (interpreter start included) for the three cases of
issue 4, each tool measured in the same run on the same lab:

- cold: one trace on routers whose ICMP budget is full;
- back to back: five traces in a row, while the routers' rate limits bite;
- hop 4 silent: r4 drops its time-exceeded (nftables).

Between cases the lab rests so every router's budget (6 errors, one more a
second) is full again. Figures are printed, never asserted: the machine is
shared and timings are noisy, so run it a couple of times.

    sudo .venv/bin/python scripts/bench/trace.py [--methods udp,icmp,tcp] [--rounds 2]
                                                 [--family 6]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from rawtools.testing.lab import Lab

REST = 7.0
FLAG = {"udp": [], "icmp": ["-I"], "tcp": ["-T"]}
LINE = re.compile(r"^\s*(\d+)\s+(.*)$")


def outcome(text: str, dst: str, silent: set[int]) -> str:
    """'complete' if every hop answered (but the silent ones) and the destination did."""
    lines = [LINE.match(x) for x in text.splitlines()[1:]]
    hops = [(int(m.group(1)), m.group(2)) for m in lines if m]
    if not hops or dst not in hops[-1][1]:
        return "destination missing"
    stars = sum(rest.split().count("*") for ttl, rest in hops if ttl not in silent)
    wrong = [ttl for ttl, rest in hops if ttl in silent and rest.split().count("*") != 3]
    if wrong:
        return f"hop {wrong[0]} should be silent"
    return "complete" if stars == 0 else f"{stars} stars"


def bench_env() -> dict[str, str]:
    """The environment of an installed package: bytecode cached, never recompiled.

    With PYTHONDONTWRITEBYTECODE set (as in some shells and CI) every start
    would compile rawtools again, which no installed copy does; the cache goes
    to a directory of its own so the checkout stays clean.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "rawtools-bench-pycache")
    return env


def timed(lab: Lab, argv: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = lab.run("host", argv, timeout=300, env=bench_env())
    return time.perf_counter() - t0, r.stdout


def tools(method: str) -> dict[str, list[str]]:
    out = {"rawtools": [sys.executable, "-m", "rawtools", "trace", "-n", *FLAG[method]]}
    if shutil.which("traceroute"):
        out["traceroute"] = ["traceroute", "-n", *FLAG[method]]
    return out


def case(lab: Lab, title: str, method: str, runs: int, silent: set[int], family: int) -> None:
    dst = lab.dst4 if family == 4 else lab.dst6
    for name, argv in tools(method).items():
        time.sleep(REST)
        figures = []
        for _ in range(runs):
            wall, text = timed(lab, [*argv, dst])
            figures.append(f"{wall:6.3f} s {outcome(text, dst, silent)}")
        print(f"  {title:<13} {method:<4} {name:<10} " + " | ".join(figures), flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default="udp,icmp,tcp")
    p.add_argument("--rounds", type=int, default=1, help="repeat the whole benchmark")
    p.add_argument("--family", type=int, choices=[4, 6], default=4)
    args = p.parse_args()
    methods = args.methods.split(",")
    # One start to fill the bytecode cache before anything is timed.
    subprocess.run([sys.executable, "-m", "rawtools", "trace", "--help"], env=bench_env(),
                   capture_output=True, check=False)
    for rnd in range(args.rounds):
        print(f"round {rnd + 1}: 8-router lab, IPv{args.family}, whole-process wall time")
        with Lab(8) as lab:
            for m in methods:
                case(lab, "cold", m, 1, set(), args.family)
            for m in methods:
                case(lab, "back-to-back", m, 5, set(), args.family)
            lab.silence(4)
            for m in methods:
                case(lab, "hop 4 silent", m, 1, {4}, args.family)
    return 0


if __name__ == "__main__":
    sys.exit(main())
