#!/usr/bin/env python3
"""Benchmark `rawtools trace` beside traceroute and mtr on namespace labs.

Whole-process wall time (interpreter start included), every tool measured in
the same run on the same lab:

- cold: one trace on an 8-router lab whose routers' ICMP budget is full;
- back to back: five traces in a row, while the routers' rate limits bite
  (each run's outcome says whether every hop was identified, and how many
  stars the rate limits left);
- hop 4 silent: r4 drops its time-exceeded (nftables);
- firewalled: the destination drops UDP: rawtools ends after the gap limit,
  traceroute runs to 30 hops, mtr to its --max-unknown;
- 50 ms: a 2-router path with 25 ms each way on the host's link (the lab's
  user-space delay line), and the same path with 10 % loss each way. For
  rawtools' cold run on the 50 ms path a timeline, from tcpdump's stamps:
  start to first probe, first probe to last answer, last answer to exit.

Between cases the lab rests so every budget (6 errors, one more a second) is
full again. Figures are printed, never asserted: the machine is shared and
timings are noisy, so run it a couple of times.

rawtools runs as an installed copy does: from a scratch virtual environment
that sees this checkout and its dependencies but not the editable install's
import hook (`pip install -e` adds one that alone costs 25-40 ms a start);
`--editable` runs the checkout's own interpreter instead.

    sudo .venv/bin/python scripts/bench/trace.py [--methods udp,icmp,tcp] [--rounds 2]
                                                 [--family 6] [--cases cold,...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import bench_env, installed_python, installed_script

from rawtools.testing.delayline import Impairment
from rawtools.testing.lab import Lab

REST = 7.0
FLAG = {"udp": [], "icmp": ["-I"], "tcp": ["-T"]}
MTR_FLAG = {"udp": ["-u"], "icmp": [], "tcp": ["-T"]}
LINE = re.compile(r"^\s*(\d+)\s+(.*)$")
CASES = ("cold", "back-to-back", "silent", "firewalled", "50ms")


def outcome(text: str, dst: str, silent: set[int]) -> str:
    """What a traceroute-style output shows: hops identified, stars, the end."""
    lines = [LINE.match(x) for x in text.splitlines()[1:]]
    hops = [(int(m.group(1)), m.group(2)) for m in lines if m]
    if not hops:
        return "no hops"
    unknown = [ttl for ttl, rest in hops if ttl not in silent and "ms" not in rest]
    stars = sum(rest.split().count("*") for _, rest in hops)
    end = "reached" if dst in hops[-1][1] else "not reached"
    if "not reached:" in text:
        end = "gap end"
    what = f"{len(hops)} hops, {stars} *, {end}"
    return what + (f", hop {unknown[0]} unknown" if unknown else "")


def mtr_outcome(text: str, dst: str) -> str:
    rows = [x.split() for x in text.splitlines() if re.match(r"^\s*\d+\.\|--", x)]
    if not rows:
        return "no hops"
    end = "reached" if rows[-1][1] == dst else "not reached"
    return f"{len(rows)} hops, {end}"


def timed(lab: Lab, argv: list[str], timeout: float = 300) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = lab.run("host", argv, timeout=timeout, env=bench_env())
    return time.perf_counter() - t0, r.stdout


class Tools:
    """The command lines of the three tools for one method."""

    def __init__(self, rawtools: list[str]) -> None:
        self.rawtools = rawtools

    def argv(self, method: str, extra: list[str] | None = None) -> dict[str, list[str]]:
        out = {"rawtools": [*self.rawtools, "trace", "-n", *FLAG[method],
                            *(extra or [])]}
        if shutil.which("traceroute"):
            out["traceroute"] = ["traceroute", "-n", *FLAG[method]]
        if shutil.which("mtr"):
            out["mtr"] = ["mtr", "-n", "-r", "-c", "1", *MTR_FLAG[method]]
        return out


def show(title: str, method: str, name: str, figures: list[str]) -> None:
    print(f"  {title:<13} {method:<4} {name:<10} " + " | ".join(figures), flush=True)


def case(lab: Lab, tools: Tools, title: str, method: str, runs: int, silent: set[int],
         family: int, only: tuple[str, ...] = ("rawtools", "traceroute")) -> None:
    dst = lab.dst4 if family == 4 else lab.dst6
    for name, argv in tools.argv(method).items():
        if name not in only:
            continue
        time.sleep(REST)
        figures = []
        for _ in range(runs):
            wall, text = timed(lab, [*argv, dst])
            shown = mtr_outcome(text, dst) if name == "mtr" else outcome(text, dst, silent)
            figures.append(f"{wall:6.3f} s {shown}")
        show(title, method, name, figures)


def timeline(lab: Lab, argv: list[str]) -> str:
    """Where a run's time goes: start to first probe, probes to last answer, to exit."""
    if shutil.which("tcpdump") is None:
        return "(no tcpdump)"
    import dpkt

    with tempfile.TemporaryDirectory() as tmp:
        with lab.tcpdump(Path(tmp) / "t.pcap") as pcap:
            start = time.time()
            lab.run("host", argv, timeout=120, env=bench_env())
            end = time.time()
        with open(pcap, "rb") as f:
            stamps = []
            for ts, buf in dpkt.pcap.Reader(f):
                ip = dpkt.ethernet.Ethernet(buf).data
                if isinstance(ip, dpkt.ip.IP):
                    stamps.append((ts, ip.src == socket.inet_aton(lab.host4)))
    sent = [ts for ts, mine in stamps if mine and start <= ts <= end]
    heard = [ts for ts, mine in stamps if not mine and start <= ts <= end]
    if not sent or not heard:
        return "(nothing captured)"
    return (f"start->first probe {1000 * (sent[0] - start):.0f} ms, probes->last answer "
            f"{1000 * (heard[-1] - sent[0]):.0f} ms, last answer->exit "
            f"{1000 * (end - heard[-1]):.0f} ms")


def firewalled(lab: Lab, tools: Tools, method: str, family: int) -> None:
    for name in ("rawtools", "traceroute", "mtr"):
        case(lab, tools, "firewalled", method, 1, set(), family, only=(name,))


def delayed(tools: Tools, methods: list[str], family: int) -> None:
    for loss in (0.0, 10.0):
        title = "50 ms" if not loss else "50 ms lossy"
        with Lab(2, impair={0: Impairment(delay_ms=25, loss_pct=loss, seed=13)}) as lab:
            dst = lab.dst4 if family == 4 else lab.dst6
            # Neighbours resolved first: whoever ran first would pay ARP's round trip.
            for _ in range(10):
                if lab.run("host", ["ping", "-n", "-c", "1", "-W", "2", dst]).returncode == 0:
                    break
            for m in methods:
                for name in ("rawtools", "traceroute", "mtr"):
                    case(lab, tools, title, m, 1, set(), family, only=(name,))
            if not loss:
                time.sleep(REST)
                line = timeline(lab, [*tools.argv("udp")["rawtools"], dst])
                print(f"  {'50 ms':<13} udp  rawtools   timeline: {line}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--methods", default="udp,icmp,tcp")
    p.add_argument("--rounds", type=int, default=1, help="repeat the whole benchmark")
    p.add_argument("--family", type=int, choices=[4, 6], default=4)
    p.add_argument("--cases", default=",".join(CASES), help=f"some of {','.join(CASES)}")
    p.add_argument("--editable", action="store_true",
                   help="run rawtools with this interpreter (the editable install)")
    args = p.parse_args()
    methods = args.methods.split(",")
    cases = args.cases.split(",")
    with tempfile.TemporaryDirectory(prefix="rawtools-bench-") as tmp:
        python = sys.executable if args.editable else installed_python(Path(tmp) / "venv")
        rawtools = [python, "-m", "rawtools"] if args.editable else installed_script(python)
        tools = Tools(rawtools)
        # One start to fill the bytecode cache before anything is timed.
        subprocess.run([*rawtools, "trace", "--help"], env=bench_env(),
                       capture_output=True, check=False)
        for rnd in range(args.rounds):
            print(f"round {rnd + 1}: IPv{args.family}, whole-process wall time")
            with Lab(8) as lab:
                for m in methods if "cold" in cases else []:
                    case(lab, tools, "cold", m, 1, set(), args.family)
                for m in methods if "back-to-back" in cases else []:
                    case(lab, tools, "back-to-back", m, 5, set(), args.family)
                if "firewalled" in cases:
                    lab.firewall_dst("udp")
                    firewalled(lab, tools, "udp", args.family)
                    lab.nft("dst", "delete table inet rtlab_fw\n")
                if "silent" in cases:
                    lab.silence(4)
                    for m in methods:
                        case(lab, tools, "hop 4 silent", m, 1, {4}, args.family)
            if "50ms" in cases:
                delayed(tools, methods, args.family)
    return 0


if __name__ == "__main__":
    sys.exit(main())
