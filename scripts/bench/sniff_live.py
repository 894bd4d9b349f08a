#!/usr/bin/env python3
"""Live capture under load: does `rawtools sniff` keep up with 100,000 packets/s?

Builds a two-node lab (host -> dst), sends small UDP datagrams from host at a
fixed rate, and captures them on dst's interface with each backend, both
saving (`-w /dev/null`, no decoding) and decoding (`-n > /dev/null`), with
tcpdump as the reference. For each run it prints what was sent, what the
sniffer captured, and what the kernel dropped (from the statistics lines the
sniffer prints at the end). Needs root. CPU is shared, so figures are noisy:
run it more than once before drawing conclusions.

    sudo .venv/bin/python scripts/bench/sniff_live.py [--rate 100000] [--seconds 3]
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time

from rawtools.testing.lab import Lab

PORT = 9
# Paced sender: a burst every half millisecond brings the count up to what the
# rate allows so far, so the average rate is exact even though a Python loop
# (1-2 us per sendto) cannot space single packets 10 us apart.
SENDER = """
import socket, sys, time
dst, rate, seconds, port = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
payload = b"rawtools-bench-18b"
sent, start = 0, time.monotonic()
total = int(rate * seconds)
while sent < total:
    due = min(total, int((time.monotonic() - start) * rate) + 1)
    while sent < due:
        s.sendto(payload, (dst, port))
        sent += 1
    time.sleep(0.0005)
print(sent, round(time.monotonic() - start, 3))
"""

STAT = re.compile(r"^(\d+) packets? (captured|received by filter|dropped by kernel)$")


def parse_stats(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        m = STAT.match(line.strip())
        if m:
            out[m.group(2)] = int(m.group(1))
    return out


def run_one(lab: Lab, label: str, argv: list[str], rate: int, seconds: float) -> None:
    proc = subprocess.Popen(lab.exec_argv("dst", argv), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()
    if "verbose output suppressed" in first:  # tcpdump's extra line when decoding
        first = proc.stderr.readline()
    if "listening on" not in first:
        proc.kill()
        print(f"{label:28s} failed to start: {first.strip()} {proc.stderr.read().strip()}")
        return
    time.sleep(0.3)
    res = lab.run("host", [sys.executable, "-c", SENDER, lab.dst4, str(rate), str(seconds),
                              str(PORT)],
                  timeout=seconds * 10 + 30)
    sent, took = res.stdout.split() if res.returncode == 0 else ("?", "?")
    time.sleep(0.5)  # let the last ring block time out and be read
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    st = parse_stats(first + err)
    print(f"{label:28s} sent {sent:>8} in {took:>6}s  captured {st.get('captured', '?'):>8}  "
          f"received {st.get('received by filter', '?'):>8}  "
          f"dropped {st.get('dropped by kernel', '?'):>7}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=100_000, help="packets per second")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--buffer-kib", type=int, default=8192, help="-B for every sniffer")
    args = ap.parse_args()
    # A timeout's SIGTERM must still tear the lab down (Lab.__exit__).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rawtools = [sys.executable, "-m", "rawtools", "sniff"]
    flt = ["udp", "dst", "port", str(PORT)]
    with Lab(0) as lab:
        lab.firewall_dst("udp")  # no ICMP port-unreachable storm back to host
        iface = lab.dst_if
        b = ["-B", str(args.buffer_kib)]
        runs = [
            ("tcpdump -w /dev/null", ["tcpdump", "-i", iface, *b, "-w", "/dev/null", *flt]),
            ("sniff pcap -w /dev/null", [*rawtools, "-i", iface, *b, "--backend", "pcap",
                                         "-w", "/dev/null", *flt]),
            ("sniff packet -w /dev/null", [*rawtools, "-i", iface, *b, "--backend", "packet",
                                           "-w", "/dev/null", *flt]),
            ("tcpdump -n (decode)", ["tcpdump", "-i", iface, *b, "-n", *flt]),
            ("sniff pcap -n (decode)", [*rawtools, "-i", iface, *b, "--backend", "pcap", "-n",
                                        *flt]),
            ("sniff packet -n (decode)", [*rawtools, "-i", iface, *b, "--backend", "packet",
                                          "-n", *flt]),
        ]
        print(f"{args.rate} packets/s of {len('rawtools-bench-18b')}-byte UDP for "
              f"{args.seconds} s across a veth, -B {args.buffer_kib} KiB")
        for label, argv in runs:
            run_one(lab, label, argv, args.rate, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
