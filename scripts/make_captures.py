#!/usr/bin/env python3
"""Record the ping replay fixtures in captures/ on a fresh namespace lab.

Each fixture is a pcap written by `rawtools ping --record` plus the text the
live run printed (`.txt`: the options on its first line, then the output,
then the exit code). The replay tests run `rawtools ping --replay` on the
pcap with those options and must print exactly that text, so regenerating a
fixture regenerates its expectation from a real run.

    sudo .venv/bin/python scripts/make_captures.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "captures"


def record(lab: Lab, name: str, *args: str) -> None:
    pcap = OUT / f"{name}.pcap"
    argv = [sys.executable, "-m", "rawtools", "ping", "--record", str(pcap), *args]
    r = lab.run("host", argv, timeout=120)
    (OUT / f"{name}.txt").write_text(f"args: {' '.join(args)}\n{r.stdout}exit {r.returncode}\n")
    print(f"{name}: exit {r.returncode}, {pcap.stat().st_size} bytes")


def main() -> int:
    with Lab(3, extra_dst4=["198.18.9.3", "198.18.9.9"]) as lab:
        record(lab, "ping-v4-raw", "-c", "4", "-i", "0.2", "--socket", "raw", lab.dst4)
        record(lab, "ping-v6-dgram", "-c", "4", "-i", "0.2", "--socket", "dgram", lab.dst6)
        record(lab, "ping-v4-ttl-errqueue", "-c", "3", "-i", "0.2", "-t", "2",
               "--socket", "dgram", lab.dst4)
        record(lab, "ping-v6-ttl-raw", "-c", "3", "-i", "0.2", "-t", "1", "--socket", "raw",
               lab.dst6)
        record(lab, "ping-sweep-v4", "-g", "198.18.9.0/28", "-W", "0.3", "--retries", "1",
               "--socket", "raw")
        # r1 sends every ICMP message towards the host twice: the (DUP!) path.
        lab.duplicate_to_host(1)
        record(lab, "ping-v4-dup", "-c", "3", "-i", "0.2", "--socket", "raw", lab.dst4)
    return 0


if __name__ == "__main__":
    sys.exit(main())
