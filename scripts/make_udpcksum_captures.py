#!/usr/bin/env python3
"""Record the udpcksum replay fixtures in captures/ on a fresh namespace lab.

A one-router lab (host -> r1 -> dst) with `rawtools.testing.udpserver` in the
destination: port 53 answering with checksums, port 54 without (SO_NO_CHECK),
nothing on port 55, for IPv4 and IPv6. Each fixture is a pcap written by
`rawtools udpcksum --record` plus what the live run printed (`.txt`: the
options on its first line, then the output, then the exit code).
tests/test_udpcksum_replay.py replays each pcap with those options and
requires exactly that text, so regenerating a fixture regenerates its
expectation from a real run.

    sudo .venv/bin/python scripts/make_udpcksum_captures.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "captures"
SERVERS = (["--port", "53"], ["--port", "54", "--no-check"],
           ["--port", "53", "--family", "6"], ["--port", "54", "--family", "6", "--no-check"])


def record(lab: Lab, name: str, *args: str) -> None:
    pcap = OUT / f"{name}.pcap"
    argv = [sys.executable, "-m", "rawtools", "udpcksum", "--record", str(pcap), *args]
    r = lab.run("host", argv, timeout=120)
    if r.stderr:
        raise RuntimeError(f"{name}: {r.stderr.strip()}")
    (OUT / f"{name}.txt").write_text(f"args: {' '.join(args)}\n{r.stdout}exit {r.returncode}\n")
    print(f"{name}: exit {r.returncode}, {pcap.stat().st_size} bytes")


def offload(lab: Lab, on: bool) -> None:
    """Transmit checksum offload on the veths the answers take towards the host."""
    state = "on" if on else "off"
    for node, dev in (("dst", lab.dst_if), ("r1", lab.ifname(0, "right"))):
        lab.run(node, ["ethtool", "-K", dev, "tx", state], check=True)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with Lab(1) as lab:
        servers = [subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-m",
                                                          "rawtools.testing.udpserver", *a]),
                                    stdout=subprocess.PIPE, text=True) for a in SERVERS]
        try:
            for s in servers:
                assert s.stdout is not None and s.stdout.readline() == "ready\n"
            record(lab, "udpcksum-on4", lab.dst4, "domain")
            record(lab, "udpcksum-off4", lab.dst4, "54")
            record(lab, "udpcksum-noserver4", lab.dst4, "55")
            record(lab, "udpcksum-on6", lab.dst6, "domain")
            record(lab, "udpcksum-zero6", lab.dst6, "54")
            record(lab, "udpcksum-noserver6", lab.dst6, "55")
            record(lab, "udpcksum-ntp4", "--ntp", lab.dst4, "53")
            offload(lab, True)
            record(lab, "udpcksum-offload4", lab.dst4, "domain")
            offload(lab, False)
            lab.firewall_dst("udp")
            record(lab, "udpcksum-timeout4", "-w", "0.5", lab.dst4, "domain")
        finally:
            for s in servers:
                s.kill()
                s.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
